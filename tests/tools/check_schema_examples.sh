#!/usr/bin/env bash
# Check the JSON Schemas in schemas/ against the examples in tests/data/schemas/:
# every file in valid/ must validate, every file in invalid/ must be rejected.
# The schema is named by the file's first dotted word: result.list-parts.ndjson -> result.schema.json.
# Ends with "N passed, M failed"; exit 0 only when nothing failed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${SW_PYTHON:-/usr/bin/python3}
V=$ROOT/tests/tools/validate_json.py
DATA=$ROOT/tests/data/schemas
pass=0
fail=0
check() {
  local want=$1 f=$2 out rc=0
  local schema
  schema=$ROOT/schemas/$(basename "$f" | cut -d. -f1).schema.json
  if [ ! -f "$schema" ]; then
    echo "FAIL $f: no schema $schema"
    fail=$((fail + 1))
    return
  fi
  out=$("$PY" "$V" "$schema" "$f" 2>&1) || rc=$?
  if { [ "$want" = valid ] && [ "$rc" -eq 0 ]; } || { [ "$want" = invalid ] && [ "$rc" -eq 1 ]; }; then
    pass=$((pass + 1))
    [ -z "${VERBOSE:-}" ] || printf 'ok   %s\n%s\n' "${f#"$ROOT"/}" "$out"
  else
    fail=$((fail + 1))
    printf 'FAIL %s (expected %s, exit %d)\n%s\n' "${f#"$ROOT"/}" "$want" "$rc" "$out"
  fi
}
for f in "$DATA"/valid/*; do check valid "$f"; done
for f in "$DATA"/invalid/*; do check invalid "$f"; done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
