"""Helpers for the Python integration tests (SASL, deploy wiring, Conductor handlers).

Everything runs on loopback: the test broker of the ctest fixture `kafka` (tests/kafka/kafka.sh),
segsim and segworker as child processes. Kafka is reached with kcat over the broker's PLAINTEXT
listener; only segworker itself uses the SASL listener. Every wait has a deadline (multiplied by
SW_TEST_TIMEOUT_MULT, like the C kit), never a bare sleep in place of a condition.
SPDX-License-Identifier: Apache-2.0
"""
import json
import os
import signal
import subprocess
import sys
import time

MULT = float(os.environ.get("SW_TEST_TIMEOUT_MULT", "1") or "1")
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def deadline(seconds):
    return time.monotonic() + seconds * MULT


class Checks:
    """CHECK()-style assertions: record and go on; `done()` prints the closing line."""

    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"{self.name}: CHECK failed: {what}", file=sys.stderr, flush=True)
        return cond

    def done(self):
        print(f"{self.passed} passed, {self.failed} failed")
        return 1 if self.failed else 0


def kafka_dir():
    d = os.environ.get("SW_TEST_KAFKA_DIR")
    if not d or not os.path.isfile(os.path.join(d, "bootstrap")):
        sys.exit("no broker: set SW_TEST_KAFKA_DIR (ctest does, via the kafka fixture)")
    return d


def read_file(path):
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def create_topic(kdir, name, partitions):
    subprocess.run([os.path.join(ROOT, "tests", "kafka", "kafka.sh"), "create-topic", kdir, name,
                    str(partitions)], check=True)


def produce(bootstrap, topic, records):
    """records: (key, value, headers dict or None); one kcat call per record keeps headers exact."""
    for key, value, headers in records:
        cmd = ["kcat", "-P", "-b", bootstrap, "-t", topic, "-k", key]
        for k, v in (headers or {}).items():
            cmd += ["-H", f"{k}={v}"]
        subprocess.run(cmd, input=value.encode(), check=True, timeout=30 * MULT)


def read_topic(bootstrap, topic):
    """Every message of a topic so far: list of {key, headers, value(str)}."""
    out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-o", "beginning",
                          "-J"], capture_output=True, text=True, timeout=60 * MULT)
    msgs = []
    for line in out.stdout.splitlines():
        m = json.loads(line)
        hdrs = m.get("headers") or []
        msgs.append({"key": m.get("key"), "value": m.get("payload"),
                     "headers": dict(zip(hdrs[0::2], hdrs[1::2]))})
    return msgs


def await_finals(bootstrap, topic, job_ids, seconds):
    """Wait until each job id has a final result (part.last); returns {job_id: [messages]}."""
    want = set(job_ids)
    end = deadline(seconds)
    while True:
        by_job = {}
        for m in read_topic(bootstrap, topic):
            r = json.loads(m["value"])
            r["_headers"] = m["headers"]
            by_job.setdefault(r["job_id"], []).append(r)
        by_job = {j: rs for j, rs in by_job.items() if j in want}
        finals = {j for j, rs in by_job.items() if any(r["part"]["last"] for r in rs)}
        if want <= finals or time.monotonic() > end:
            return by_job
        time.sleep(0.2)


def start_sim(sim_bin, work):
    port_file = os.path.join(work, "sim.port")
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(work, "sim.log"), "w")
    p = subprocess.Popen([sim_bin, "--port", "0", "--port-file", port_file], stdout=log,
                         stderr=subprocess.STDOUT)
    end = deadline(10)
    while time.monotonic() < end:
        if os.path.exists(port_file) and os.path.getsize(port_file) > 0:
            return p, int(read_file(port_file))
        if p.poll() is not None:
            break
        time.sleep(0.05)
    p.kill()
    sys.exit("segsim did not start")


def spawn(argv, env_extra, log_path):
    env = dict(os.environ)
    env.update(env_extra)
    log = open(log_path, "w")
    return subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_log(path, needle, seconds, proc=None):
    """True once `needle` is in the file; False at the deadline or when proc exited without it."""
    end = deadline(seconds)
    while time.monotonic() < end:
        with open(path, encoding="utf-8", errors="replace") as f:
            if needle in f.read():
                return True
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.1)
    with open(path, encoding="utf-8", errors="replace") as f:
        return needle in f.read()


def stop(proc, seconds):
    """SIGTERM and wait; returns the exit code, or None if it had to be killed (a hang)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=seconds * MULT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None


def klaviyo_segment_id(sim_port, key="sim-klaviyo-key"):
    """The first segment id the simulator serves (its data is deterministic)."""
    import urllib.request
    req = urllib.request.Request(f"http://127.0.0.1:{sim_port}/api/segments",
                                 headers={"Authorization": f"Klaviyo-API-Key {key}",
                                          "revision": "2025-04-15"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["data"][0]["id"]
