#!/usr/bin/env python3
"""End to end with a real Conductor OSS server: deploy/conductor/ registered, workflows started,
each finished by its job's result through the Kafka event handlers. Manual (not in ctest): the
server jar is ~450 MB, needs Java 21+, starts in ~45 s on 2 cores, and a newly registered event
handler begins consuming only at the server's 60-second refresh, so one run takes ~2 minutes.

  tests/deploy/conductor_e2e.py build/worker/segworker build/tests/sim/segsim build/conductor-e2e

What it does:
1. a broker: SW_TEST_KAFKA_DIR if set, else `tests/kafka/kafka.sh start WORKDIR/kafka`;
   topics segment-jobs / segment-results (the names the workflow and handlers use);
2. segsim and `segworker run` with deploy/segworker.example.json (a group of its own);
3. Conductor: CONDUCTOR_URL if set, else org.conductoross:conductor-server:3.32.3 (boot jar from
   Maven Central, cached in build/.conductor) on a free loopback port with its default SQLite
   persistence and the Kafka event queue enabled (conductor.event-queues.kafka.*);
4. registers deploy/conductor/segment_job_workflow.json and event_handlers.json, starts three
   workflows (get → COMPLETED with the segment in the output, missing segment → FAILED with
   error.code not_found, raw list → COMPLETED with the last part), waits for each with a deadline.

Environment: CONDUCTOR_JAVA (a Java 21+ binary; default: the first /usr/lib/jvm/*/bin/java that
is 21 or newer), SW_CONDUCTOR_CACHE (jar cache, default build/.conductor).
SPDX-License-Identifier: Apache-2.0
"""
import glob
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

CONDUCTOR = "org.conductoross:conductor-server:3.32.3:jar:boot"
JAR = "conductor-server-3.32.3-boot.jar"
DEPLOY = os.path.join(itlib.ROOT, "deploy", "conductor")


def api(base, method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"Content-Type": "application/json",
                                          "Accept": "application/json, text/plain"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return text


def java21():
    if os.environ.get("CONDUCTOR_JAVA"):
        return os.environ["CONDUCTOR_JAVA"]
    for java in sorted(glob.glob("/usr/lib/jvm/*/bin/java")):
        out = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
        m = re.search(r'version "(\d+)', out)
        if m and int(m.group(1)) >= 21:
            return java
    sys.exit("conductor_e2e: no Java 21+ under /usr/lib/jvm (set CONDUCTOR_JAVA)")


def fetch_jar():
    cache = os.environ.get("SW_CONDUCTOR_CACHE", os.path.join(itlib.ROOT, "build", ".conductor"))
    jar = os.path.join(cache, JAR)
    if not os.path.isfile(jar):
        os.makedirs(cache, exist_ok=True)
        subprocess.run(["mvn", "-q", "-B", "dependency:copy", f"-Dartifact={CONDUCTOR}",
                        f"-DoutputDirectory={cache}"], check=True)
    return jar


def start_conductor(work, bootstrap):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = os.path.join(work, "conductor.log")
    argv = [java21(), "-Xmx768m", "-jar", fetch_jar(), f"--server.port={port}",
            "--server.address=127.0.0.1",
            f"--spring.datasource.url=jdbc:sqlite:{work}/conductor.db?busy_timeout=15000"
            "&journal_mode=WAL",
            "--conductor.event-queues.kafka.enabled=true",
            f"--conductor.event-queues.kafka.bootstrap-servers={bootstrap}",
            "--conductor.event-queues.kafka.consumer[auto.offset.reset]=earliest",
            "--conductor.default-event-queue.type=kafka",
            "--conductor.integrations.ai.enabled=false"]
    proc = itlib.spawn(argv, {}, log)
    base = f"http://127.0.0.1:{port}"
    end = itlib.deadline(180)
    while time.monotonic() < end:
        if proc.poll() is not None:
            sys.exit(f"conductor exited; see {log}")
        try:
            with urllib.request.urlopen(base + "/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            pass
        time.sleep(1)
    proc.kill()
    sys.exit("conductor did not start within 180 s")


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    worker, sim_bin, work = sys.argv[1:]
    work = os.path.abspath(work)
    os.makedirs(work, exist_ok=True)
    t = itlib.Checks("conductor_e2e")
    kdir = os.environ.get("SW_TEST_KAFKA_DIR")
    own_broker = not kdir
    if own_broker:
        kdir = os.path.join(work, "kafka")
        subprocess.run([os.path.join(itlib.ROOT, "tests", "kafka", "kafka.sh"), "start", kdir],
                       check=True, stdout=subprocess.DEVNULL)
    bootstrap = itlib.read_file(os.path.join(kdir, "bootstrap"))
    for topic in ("segment-jobs", "segment-results", "segment-jobs.dlq"):
        itlib.create_topic(kdir, topic, 4 if topic != "segment-jobs.dlq" else 1)
    procs = []
    cond = None
    try:
        sim, port = itlib.start_sim(sim_bin, work)
        procs.append(sim)
        accounts = os.path.join(work, "accounts.json")
        with open(accounts, "w") as f:
            json.dump({"accounts": {"acme-klaviyo": {
                "provider": "klaviyo", "base_url": f"http://127.0.0.1:{port}",
                "credentials": {"api_key": "env:E2E_KLAVIYO_KEY"}}}}, f)
        # The example configuration (result compression included: Conductor's Kafka client must
        # be able to read what the worker produces).
        w = itlib.spawn([worker, "run", "--config",
                         os.path.join(itlib.ROOT, "deploy", "segworker.example.json"),
                         "--brokers", bootstrap, "--accounts", accounts,
                         "--group", f"conductor-e2e-{os.getpid()}"],
                        {"E2E_KLAVIYO_KEY": "sim-klaviyo-key"}, os.path.join(work, "worker.log"))
        procs.append(w)

        if os.environ.get("CONDUCTOR_URL"):
            base = os.environ["CONDUCTOR_URL"].rstrip("/")
        else:
            started = time.monotonic()
            cond, base = start_conductor(work, bootstrap)
            print(f"conductor_e2e: server up after {time.monotonic() - started:.0f} s at {base}")
        with open(os.path.join(DEPLOY, "segment_job_workflow.json")) as f:
            api(base, "PUT", "/api/metadata/workflow", [json.load(f)])
        with open(os.path.join(DEPLOY, "event_handlers.json")) as f:
            for h in json.load(f):
                try:
                    api(base, "POST", "/api/event", h)
                except urllib.error.HTTPError:
                    api(base, "PUT", "/api/event", h)
        seg = itlib.klaviyo_segment_id(port)
        inputs = {
            "get": ({"operation": "segments.get", "params": {"id": seg}}, "COMPLETED"),
            "missing": ({"operation": "segments.get", "params": {"id": "no-such-segment"}},
                        "FAILED"),
            "raw-list": ({"operation": "segments.list", "options": {"response_format": "raw"}},
                         "COMPLETED"),
        }
        wfids = {}
        for name, (inp, _) in inputs.items():
            body = dict(inp, provider="klaviyo", account="acme-klaviyo",
                        bootstrapServers=bootstrap)
            wfids[name] = api(base, "POST", "/api/workflow/segment_job", body)
            print(f"conductor_e2e: {name}: workflow {wfids[name]}")
        # A new handler is picked up at the server's 60 s refresh; then results flow at once.
        end = itlib.deadline(150)
        done = {}
        while len(done) < len(wfids) and time.monotonic() < end:
            for name, wfid in wfids.items():
                if name in done:
                    continue
                wf = api(base, "GET", f"/api/workflow/{wfid}?includeTasks=true")
                if wf["status"] in ("COMPLETED", "FAILED", "TIMED_OUT", "TERMINATED"):
                    done[name] = wf
            time.sleep(1)
        for name, (_, want) in inputs.items():
            wf = done.get(name)
            if not t.check(wf is not None, f"{name}: the workflow finished within the deadline"):
                continue
            t.check(wf["status"] == want, f"{name}: workflow {wf['status']}, expected {want}")
            wait = [x for x in wf["tasks"] if x["referenceTaskName"] == "await_segment_result"][0]
            out = wait.get("outputData", {})
            print(f"conductor_e2e: {name}: {wf['status']}, WAIT task {wait['status']}, output "
                  f"{json.dumps(out)[:200]}")
            if name == "get":
                t.check(out.get("result", {}).get("id") == seg, "get: the segment in the output")
            if name == "missing":
                t.check((out.get("error") or {}).get("code") == "not_found",
                        "missing: error.code not_found in the output")
            if name == "raw-list":
                t.check(out.get("part", {}).get("last") is True, "raw list: the last part")
    finally:
        for p in procs:
            itlib.stop(p, 60)
        if cond:
            itlib.stop(cond, 60)
        if own_broker:
            subprocess.run([os.path.join(itlib.ROOT, "tests", "kafka", "kafka.sh"), "stop", kdir])
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
