#!/usr/bin/python3
"""Validate JSON documents against a segworker JSON Schema (draft 2020-12).

usage: /usr/bin/python3 validate_json.py [-q] SCHEMA FILE...

Each FILE ("-" is stdin) holds either one JSON document (possibly spread over several lines) or
NDJSON (one document a line; blank lines are skipped). Every document is validated with
jsonschema.Draft202012Validator. `$ref`s resolve against every *.json schema in SCHEMA's directory
(by `$id`, so "segment.schema.json" from ".../result.schema.json" works, and by file URI).
`format` is checked, including date-time (RFC 3339, strict: upper or lower case T/Z, offset
required), which Debian 12's jsonschema 4.10 cannot check by itself (it needs rfc3339-validator,
not packaged in Debian 12).

Prints each failure (FILE:LINE, JSON path, message) and then "N valid, M invalid".
Exit 0 only when every document is valid and at least one was read; 1 otherwise; 2 on usage or
schema errors. Written for Debian's python3-jsonschema 4.10 (RefResolver API), and also runs with
newer versions (RefResolver is deprecated there but still present).
"""

import datetime
import json
import os
import re
import sys
import warnings

import jsonschema
from jsonschema import Draft202012Validator, FormatChecker

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    _REF_ERRORS = (jsonschema.exceptions.RefResolutionError, LookupError)
try:
    import referencing.exceptions

    _REF_ERRORS += (referencing.exceptions.Unresolvable,)
except ImportError:
    pass

_RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$"
)


def is_rfc3339_datetime(value):
    """RFC 3339 §5.6 date-time. Non-strings pass (format only applies to strings)."""
    if not isinstance(value, str):
        return True
    m = _RFC3339.match(value)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(m.group(i)) for i in range(1, 7))
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    if hour > 23 or minute > 59 or second > 60:  # 60: leap second
        return False
    if m.group(9) is not None and (int(m.group(9)) > 23 or int(m.group(10)) > 59):
        return False
    return True


def make_format_checker():
    checker = FormatChecker()
    checker.checks("date-time")(is_rfc3339_datetime)
    return checker


def load_store(schema_dir):
    """Every *.json schema in schema_dir, keyed by its $id and by its file URI."""
    store = {}
    for name in sorted(os.listdir(schema_dir)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(schema_dir, name)
        try:
            with open(path, encoding="utf-8") as f:
                doc = json.load(f)
        except (OSError, ValueError) as e:
            raise SystemExit("validate_json: cannot load schema %s: %s" % (path, e)) from None
        if isinstance(doc, dict) and isinstance(doc.get("$id"), str):
            store[doc["$id"]] = doc
        store["file://" + os.path.abspath(path)] = doc
    return store


def _no_remote(uri):
    raise jsonschema.exceptions.RefResolutionError(
        "$ref %s is not a schema in the schema directory (no remote fetches)" % uri)


def make_validator(schema_path):
    schema_path = os.path.abspath(schema_path)
    try:
        with open(schema_path, encoding="utf-8") as f:
            schema = json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("validate_json: cannot load schema %s: %s" % (schema_path, e)) from None
    try:
        Draft202012Validator.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        raise SystemExit("validate_json: %s is not a valid 2020-12 schema: %s" % (schema_path, e.message)) from None
    store = load_store(os.path.dirname(schema_path))
    base_uri = schema.get("$id") if isinstance(schema.get("$id"), str) else "file://" + schema_path
    try:  # jsonschema >= 4.18 (PyPI): the referencing library; RefResolver is deprecated there.
        import referencing
        import referencing.jsonschema
    except ImportError:  # Debian 12's jsonschema 4.10: RefResolver.
        referencing = None
    if referencing is not None:
        def no_remote(uri):
            raise referencing.exceptions.NoSuchResource(ref=uri)

        registry = referencing.Registry(retrieve=no_remote).with_resources(
            (uri, referencing.Resource.from_contents(doc, default_specification=referencing.jsonschema.DRAFT202012))
            for uri, doc in store.items()
        )
        if "$id" not in schema:
            schema = dict(schema, **{"$id": base_uri})
        return Draft202012Validator(schema, registry=registry, format_checker=make_format_checker())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        resolver = jsonschema.RefResolver(
            base_uri=base_uri, referrer=schema, store=store,
            # Never fetch a $ref over the network: everything must be in schema_dir.
            handlers={scheme: _no_remote for scheme in ("http", "https", "ftp", "file")},
        )
        return Draft202012Validator(schema, resolver=resolver, format_checker=make_format_checker())


def documents(path):
    """Yield (line, document or ValueError) for one file."""
    if path == "-":
        text = sys.stdin.read()
    else:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    if not text.strip():
        return
    try:
        yield 1, json.loads(text)
        return
    except ValueError:
        pass
    lines = text.splitlines()
    if sum(1 for ln in lines if ln.strip()) <= 1:
        # One document that does not parse: report it once.
        try:
            json.loads(text)
        except ValueError as e:
            yield 1, e
        return
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except ValueError as e:
            yield n, e


def json_path(error):
    p = getattr(error, "json_path", None)
    if p is not None:
        return p
    return "$" + "".join("[%r]" % x if isinstance(x, int) else ".%s" % x for x in error.absolute_path)


def main(argv):
    args = argv[1:]
    quiet = False
    if args and args[0] == "-q":
        quiet = True
        args = args[1:]
    if len(args) < 2:
        sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
        return 2
    validator = make_validator(args[0])
    valid = invalid = 0
    for path in args[1:]:
        try:
            docs = list(documents(path))
        except (OSError, UnicodeDecodeError) as e:
            print("%s: cannot read: %s" % (path, e))
            invalid += 1
            continue
        if not docs:
            print("%s: no JSON documents" % path)
        for line, doc in docs:
            if isinstance(doc, ValueError):
                invalid += 1
                print("%s:%d: not JSON: %s" % (path, line, doc))
                continue
            try:
                errors = sorted(validator.iter_errors(doc), key=lambda e: [str(x) for x in e.absolute_path])
            except _REF_ERRORS as e:
                print("validate_json: schema error: %s" % e, file=sys.stderr)
                return 2
            if not errors:
                valid += 1
                continue
            invalid += 1
            if quiet:
                continue
            for e in errors[:20]:
                msg = e.message if len(e.message) <= 300 else e.message[:300] + "..."
                print("%s:%d: %s: %s" % (path, line, json_path(e), msg))
            if len(errors) > 20:
                print("%s:%d: ... %d more errors" % (path, line, len(errors) - 20))
    print("%d valid, %d invalid" % (valid, invalid))
    return 0 if invalid == 0 and valid > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
