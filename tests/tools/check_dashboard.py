#!/usr/bin/env python3
"""check_dashboard.py DASHBOARD RULES [SCRAPE]: every query of the Grafana dashboard and every
expression of the alerting rules must parse (promtool check rules), and, given a scrape of a real
worker's /metrics, every metric they name must be one the worker exposes."""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

PROMTOOL = os.environ.get("PROMTOOL", "/usr/bin/promtool")
METRIC = re.compile(r"\b((?:segworker|process)_[a-z0-9_]+)")
HIST_SUFFIXES = ("_bucket", "_sum", "_count")


def dashboard_exprs(path):
    with open(path, encoding="utf-8") as f:
        dash = json.load(f)
    out = []
    for panel in dash.get("panels", []):
        for t in panel.get("targets", []):
            # Grafana's variables, as a Prometheus would see them.
            e = t["expr"].replace("$__rate_interval", "5m").replace('"$job"', '".*"')
            out.append((panel["title"], e))
    return out


def rule_exprs(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    return [(r["alert"], r["expr"]) for g in doc["groups"] for r in g["rules"]]


def parse_all(exprs):
    """One recording rule per query, checked by promtool: a query that does not parse fails."""
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": "dashboard:query_%d" % i, "expr": e} for i, (_, e) in enumerate(exprs)]}]}
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        yaml.safe_dump(rules, f)
        name = f.name
    try:
        r = subprocess.run([PROMTOOL, "check", "rules", name], capture_output=True, text=True,
                           check=False)
    finally:
        os.unlink(name)
    if r.returncode != 0:
        print(r.stdout + r.stderr)
    return r.returncode == 0


def exposed(scrape_path):
    with open(scrape_path, encoding="utf-8") as f:
        return {line.split()[2] for line in f if line.startswith("# TYPE ")}


def main(argv):
    if len(argv) not in (3, 4):
        print(__doc__)
        return 2
    exprs = dashboard_exprs(argv[1])
    alerts = rule_exprs(argv[2])
    failed = 0 if parse_all(exprs + alerts) else 1
    if len(argv) == 4:
        families = exposed(argv[3])
        for where, e in exprs + alerts:
            for name in METRIC.findall(e):
                base = name
                for s in HIST_SUFFIXES:
                    if name.endswith(s) and name[: -len(s)] in families:
                        base = name[: -len(s)]
                if base not in families:
                    print("FAIL: %s: metric %s is not in the scrape" % (where, name))
                    failed += 1
    print("%d queries and rules checked, %d failed" % (len(exprs) + len(alerts), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
