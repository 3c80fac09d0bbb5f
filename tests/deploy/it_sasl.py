#!/usr/bin/env python3
"""segworker against a real broker's SASL_PLAINTEXT listener (tests/kafka/kafka.sh start --sasl).

1. SASL/PLAIN with the right password, given the way an operator would: `kafka.security.protocol`,
   `kafka.sasl.mechanisms`, `kafka.sasl.username`, `kafka.sasl.password` in the config file. The
   worker's only broker address is the SASL listener, so results prove it authenticated. Jobs get
   their results, SIGTERM drains with exit 0, and the password appears in no output.
2. A wrong password: the worker logs the broker's authentication error within a deadline,
   publishes nothing, and SIGTERM still stops it with exit 0 (no hang; under ASan, no leak).
3. SCRAM-SHA-512 with the right password: librdkafka before 2.6.1 (Debian 12 has 2.0.2) sends a
   SCRAM proof that Kafka 4.x brokers reject (a nonce bug fixed in librdkafka 2.6.1), so with an
   older librdkafka the expectation is the clean authentication failure of case 2; with 2.6.1 or
   newer it is case 1's success.

usage: it_sasl.py SEGWORKER SEGSIM WORKDIR   (ctest passes them; SW_TEST_KAFKA_DIR names the broker)
SPDX-License-Identifier: Apache-2.0
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

KLAVIYO_KEY = "sim-klaviyo-key"


def write_config(path, sasl_bootstrap, run, group, mechanism, password):
    cfg = {
        "brokers": sasl_bootstrap,
        "group": group,
        "topics": {"jobs": f"{run}-jobs", "results": f"{run}-results", "dlq": f"{run}-dlq"},
        "retry": {"base_ms": 100},
        "kafka": {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanisms": mechanism,
                  "sasl.username": "segworker", "sasl.password": password},
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(cfg, f)


def librdkafka_version(worker):
    out = subprocess.run([worker, "version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"librdkafka (\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(x) for x in m.groups()) if m else (0, 0, 0)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    worker, sim_bin, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    t = itlib.Checks("it_sasl")
    kdir = itlib.kafka_dir()
    plain = itlib.read_file(os.path.join(kdir, "bootstrap"))
    sasl_file = os.path.join(kdir, "bootstrap-sasl")
    if not t.check(os.path.isfile(sasl_file), "the broker has a SASL listener (kafka.sh --sasl)"):
        return t.done()
    sasl = itlib.read_file(sasl_file)
    password = itlib.read_file(os.path.join(kdir, "sasl-password"))
    run = f"sasl{os.getpid()}"
    results = f"{run}-results"
    for topic, parts in ((f"{run}-jobs", 2), (results, 2), (f"{run}-dlq", 1)):
        itlib.create_topic(kdir, topic, parts)

    sim, port = itlib.start_sim(sim_bin, work)
    accounts = os.path.join(work, "accounts.json")
    with open(accounts, "w") as f:
        json.dump({"accounts": {"acme-klaviyo": {
            "provider": "klaviyo", "base_url": f"http://127.0.0.1:{port}",
            "credentials": {"api_key": "env:SASL_TEST_KLAVIYO_KEY"},
            "settings": {"revision": "2025-04-15"}}}}, f)
    env = {"SASL_TEST_KLAVIYO_KEY": KLAVIYO_KEY, "SEGWORKER_LOG_LEVEL": "info"}
    seg = itlib.klaviyo_segment_id(port)
    kl = {"provider": "klaviyo", "account": "acme-klaviyo"}
    jobs = {
        f"{run}-get": dict(kl, job_id=f"{run}-get", operation="segments.get", params={"id": seg}),
        f"{run}-list": dict(kl, job_id=f"{run}-list", operation="segments.list",
                            options={"ignore_remote_data": True}),
        f"{run}-missing": dict(kl, job_id=f"{run}-missing", operation="segments.get",
                               params={"id": "no-such-segment"}),
    }
    want_status = {f"{run}-get": "succeeded", f"{run}-list": "succeeded",
                   f"{run}-missing": "failed"}
    itlib.produce(plain, f"{run}-jobs",
                  [(j, json.dumps(v), None) for j, v in jobs.items()])

    # 1. PLAIN, right password.
    cfg = os.path.join(work, "plain.json")
    write_config(cfg, sasl, run, f"{run}-plain", "PLAIN", password)
    log = os.path.join(work, "worker-plain.log")
    w = itlib.spawn([worker, "run", "--config", cfg, "--accounts", accounts], env, log)
    by_job = itlib.await_finals(plain, results, jobs, 60)
    for j, status in want_status.items():
        finals = [r for r in by_job.get(j, []) if r["part"]["last"]]
        t.check(len(finals) == 1, f"{j}: one final result over SASL/PLAIN (got {len(finals)})")
        if finals:
            t.check(finals[0]["status"] == status, f"{j}: status {finals[0]['status']} != {status}")
    if f"{run}-missing" in by_job:
        t.check(by_job[f"{run}-missing"][-1]["error"]["code"] == "not_found",
                "missing segment: not_found")
    t.check(itlib.stop(w, 60) == 0, "SASL/PLAIN worker drains on SIGTERM with exit 0")
    n_results = len(itlib.read_topic(plain, results))

    # 2. Wrong password: a clean, logged authentication failure and no output.
    wrong = "wrong-" + password
    cfg_bad = os.path.join(work, "wrong.json")
    write_config(cfg_bad, sasl, run, f"{run}-wrong", "PLAIN", wrong)
    log_bad = os.path.join(work, "worker-wrong.log")
    w = itlib.spawn([worker, "run", "--config", cfg_bad, "--accounts", accounts], env, log_bad)
    t.check(itlib.wait_for_log(log_bad, "Authentication failed", 30, w),
            "wrong password: the broker's authentication error is logged")
    t.check(w.poll() is None or w.returncode != 0, "wrong password: no successful exit")
    t.check(len(itlib.read_topic(plain, results)) == n_results,
            "wrong password: nothing published")
    code = itlib.stop(w, 30)
    t.check(code == 0, f"wrong password: SIGTERM stops the worker cleanly (exit {code}; None: hang)")

    # 3. SCRAM-SHA-512, right password: outcome depends on librdkafka (see the docstring).
    cfg_scram = os.path.join(work, "scram.json")
    write_config(cfg_scram, sasl, run, f"{run}-scram", "SCRAM-SHA-512", password)
    log_scram = os.path.join(work, "worker-scram.log")
    w = itlib.spawn([worker, "run", "--config", cfg_scram, "--accounts", accounts], env, log_scram)
    version = librdkafka_version(worker)
    if version >= (2, 6, 1):
        by_job = itlib.await_finals(plain, results, jobs, 60)
        n_final = sum(1 for rs in by_job.values() for r in rs if r["part"]["last"])
        t.check(n_final == 2 * len(jobs), f"SCRAM-SHA-512: results again (finals {n_final})")
        t.check(itlib.stop(w, 60) == 0, "SCRAM-SHA-512 worker drains with exit 0")
    else:
        print(f"it_sasl: librdkafka {version} < 2.6.1: SCRAM against Kafka 4.x is expected to fail")
        t.check(itlib.wait_for_log(log_scram, "Authentication failed", 30, w),
                "SCRAM with old librdkafka: authentication error logged")
        code = itlib.stop(w, 30)
        t.check(code == 0, f"SCRAM with old librdkafka: SIGTERM stops it cleanly (exit {code})")

    # No output of any run carries a password.
    for path in (log, log_bad, log_scram):
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        t.check(password not in text, f"{os.path.basename(path)}: no SASL password in the log")
        t.check(KLAVIYO_KEY not in text, f"{os.path.basename(path)}: no API key in the log")
    t.check(not any(password in (m["value"] or "") for m in itlib.read_topic(plain, results)),
            "no SASL password in any result")
    sim.terminate()
    sim.wait(timeout=10)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
