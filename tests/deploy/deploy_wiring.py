#!/usr/bin/env python3
"""The wiring of deploy/ run for real, without a container engine (CI has none).

compose: the segworker service of deploy/compose.yaml is started as a process with exactly its
  command, environment, mounted files and secret (container paths mapped to the repository files
  they mount), next to segsim started with the segsim service's command, on the test broker with
  the topics the `topics` service creates. Two things must differ and only they do: the broker
  address (SEGWORKER_BROKERS: the test broker instead of kafka:9092) and loopback ports (the
  simulator's port in the account store's base_url, the metrics listener), so parallel tests
  cannot collide. Jobs submitted as the Conductor workflow in deploy/conductor/ renders them get
  their results.
kubernetes: the Deployment's container is started the same way: args, env (secretKeyRef values
  are the simulator's keys), the ConfigMap's files and the Secret's items written where the
  volumeMounts put them. Its account store targets the real providers, so the test adds
  `base_url` (the operator-only override) pointing at the simulator, and nothing else.
conductor: every result message of the jobs the workflow published is wrapped the way Conductor's
  Kafka event queue hands it to handlers ({key, headers, payload}); the JavaScript conditions of
  deploy/conductor/event_handlers.json are evaluated with Node.js: exactly the succeeded handler
  matches the last part of a succeeded job, exactly the failed handler the last part of a failed
  one, none an earlier part or a job without correlation; the actions' ${payload...} references
  resolve to the workflow id and the WAIT task's reference name.
static: ConfigMap files equal deploy/segworker.example.json and deploy/accounts.example.json;
  the ScaledObject targets the Deployment, the config's group and jobs topic, the Deployment's
  brokers, with maxReplicaCount = the jobs topic's partitions; the PDB selects the pods; the
  probes use the metrics port of SEGWORKER_HTTP_ADDR; grace periods exceed shutdown.grace_ms;
  the pod's uid is the image's USER; every env:/file: reference of both account stores is
  provided by the environment or a mounted secret; the Dockerfile's runtime stages install the
  Debian package of every shared library segworker and segsim link directly (readelf + dpkg).
/healthz and /readyz: checked when the worker serves them (the listener comes with the
  observability work; until then the worker logs that it is not implemented and this part says
  so on stdout).

usage: deploy_wiring.py SEGWORKER SEGSIM WORKDIR   (SW_TEST_KAFKA_DIR names the broker)
SPDX-License-Identifier: Apache-2.0
"""
import copy
import glob
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import itlib  # noqa: E402

DEPLOY = os.path.join(itlib.ROOT, "deploy")
SIM_KEYS = {"klaviyo": "sim-klaviyo-key", "sendgrid": "sim-sendgrid-key"}
WAIT_REF = "await_segment_result"


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def account_refs(accounts):
    """Every credential reference of an account store: [(kind, target)]."""
    refs = []
    for a in accounts["accounts"].values():
        for ref in a.get("credentials", {}).values():
            kind, _, target = ref.partition(":")
            refs.append((kind, target))
    return refs


def write_accounts(src_text, path, sim_port, file_map, add_base_url):
    """The account store with base_url → the simulator and file: refs → the mapped host files."""
    acc = json.loads(src_text)
    for a in acc["accounts"].values():
        if add_base_url or "base_url" in a:
            a["base_url"] = f"http://127.0.0.1:{sim_port}"
        for k, ref in a.get("credentials", {}).items():
            if ref.startswith("file:"):
                a["credentials"][k] = "file:" + file_map[ref[5:]]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(acc, f)


def http_get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return -1


# ---- Conductor: render the workflow's KAFKA_PUBLISH value, evaluate the handlers ----

def render(template, ctx):
    """Conductor-style ${a.b.c} references: a whole-string reference keeps the value's type."""
    if isinstance(template, dict):
        return {k: render(v, ctx) for k, v in template.items()}
    if isinstance(template, list):
        return [render(v, ctx) for v in template]
    if isinstance(template, str):
        whole = re.fullmatch(r"\$\{([^}]+)\}", template)
        if whole:
            return lookup(ctx, whole.group(1))
        return re.sub(r"\$\{([^}]+)\}", lambda m: str(lookup(ctx, m.group(1))), template)
    return template


def lookup(ctx, path):
    cur = ctx
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def eval_conditions(conditions, events):
    """[[bool per condition] per event], evaluated by Node.js as JavaScript with `$` bound."""
    js = ("const inp = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
          "const fns = inp.conditions.map(c => new Function('$', 'return (' + c + ');'));"
          "console.log(JSON.stringify(inp.events.map(e => fns.map(f => f(e) === true))));")
    out = subprocess.run(["node", "-e", js], input=json.dumps(
        {"conditions": conditions, "events": events}), capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


class Stack:
    """segsim + segworker started from one deployment description."""

    def __init__(self, t, worker, sim_bin, work, name):
        self.t, self.worker, self.sim_bin, self.name = t, worker, sim_bin, name
        self.work = os.path.join(work, name)
        shutil.rmtree(self.work, ignore_errors=True)
        os.makedirs(self.work)
        self.sim = self.proc = None
        self.http_port = None

    def start_sim(self, sim_args):
        """segsim with the deployment's own arguments, the port replaced by an ephemeral one."""
        args = list(sim_args)
        if "--port" in args:
            i = args.index("--port")
            del args[i:i + 2]
        port_file = os.path.join(self.work, "sim.port")
        log = open(os.path.join(self.work, "sim.log"), "w")
        self.sim = subprocess.Popen([self.sim_bin, "--port", "0", "--port-file", port_file] + args,
                                    stdout=log, stderr=subprocess.STDOUT)
        end = itlib.deadline(10)
        while not (os.path.exists(port_file) and os.path.getsize(port_file)):
            if time.monotonic() > end or self.sim.poll() is not None:
                sys.exit("segsim did not start")
            time.sleep(0.05)
        return int(itlib.read_file(port_file))

    def start_worker(self, argv, env):
        self.log = os.path.join(self.work, "worker.log")
        addr = env.get("SEGWORKER_HTTP_ADDR")
        if addr:
            self.http_port = free_port()
            env["SEGWORKER_HTTP_ADDR"] = f"127.0.0.1:{self.http_port}"
        self.proc = itlib.spawn([self.worker] + argv, env, self.log)

    def probes(self, paths):
        """/healthz and /readyz answer 200 once the worker consumes (when it serves them)."""
        with open(self.log, encoding="utf-8", errors="replace") as f:
            if "not implemented yet" in f.read():
                print(f"deploy_wiring: {self.name}: the worker has no metrics/health listener yet;"
                      " probe paths not exercised")
                return
        for p in paths:
            end = itlib.deadline(20)
            code = http_get(self.http_port, p)
            while code != 200 and time.monotonic() < end:
                time.sleep(0.2)
                code = http_get(self.http_port, p)
            self.t.check(code == 200, f"{self.name}: GET {p} -> {code}, expected 200")

    def stop(self):
        if self.proc:
            self.t.check(itlib.stop(self.proc, 60) == 0, f"{self.name}: SIGTERM drain, exit 0")
        if self.sim:
            self.sim.terminate()
            self.sim.wait(timeout=10)
        with open(self.log, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for key in SIM_KEYS.values():
            self.t.check(key not in text, f"{self.name}: no provider key in the worker log")


def submit_and_check(t, stack, bootstrap, config, jobs, want):
    topics = config["topics"]
    itlib.produce(bootstrap, topics["jobs"], [(k, json.dumps(v), None) for k, v in jobs])
    ids = [v["job_id"] for _, v in jobs]
    by_job = itlib.await_finals(bootstrap, topics["results"], ids, 60)
    for job_id in ids:
        finals = [r for r in by_job.get(job_id, []) if r["part"]["last"]]
        t.check(len(finals) == 1, f"{stack.name}: {job_id}: one final result (got {len(finals)})")
        if finals:
            t.check(finals[0]["status"] == want[job_id],
                    f"{stack.name}: {job_id}: {finals[0]['status']}, expected {want[job_id]}")
    return by_job


def worker_topics(worker, config):
    """Every topic a worker with this configuration uses: the config's topics over the defaults
    of the topics.* keys (segworker --dump-config=reference), so a topic the config leaves to its default
    (the retry topic) is not forgotten. reply_allowed lists topics, it is not one."""
    ref = subprocess.run([worker, "--dump-config=reference"], capture_output=True, text=True,
                         check=True)
    used = {k: v for k, v in re.findall(r"^\| `topics\.(\w+)` \|[^|]*\|[^|]*\| `([^`]*)` \|",
                                        ref.stdout, re.M) if k != "reply_allowed"}
    used.update(config.get("topics", {}))
    return {k: v for k, v in used.items() if v}


def run_compose(t, args, bootstrap, kdir, config_ex):
    compose = yaml.safe_load(open(os.path.join(DEPLOY, "compose.yaml"), encoding="utf-8"))
    svc = compose["services"]["segworker"]
    st = Stack(t, args.worker, args.sim, args.work, "compose")

    # Topics exactly as the one-shot `topics` service creates them.
    topic_cmd = " ".join(compose["services"]["topics"]["command"])
    topics = dict(re.findall(r"([A-Za-z0-9._-]+):(\d+)", topic_cmd.split(" do ")[0]))
    used = worker_topics(args.worker, config_ex)
    t.check(set(topics) == set(used.values()),
            f"compose creates {sorted(topics)}, the worker uses {sorted(used.values())}")
    for name, parts in topics.items():
        itlib.create_topic(kdir, name, int(parts))

    # Container path → host file, from the volumes and the secrets.
    mounts = {}
    for v in svc.get("volumes", []):
        host, container = v.split(":")[:2]
        mounts[container] = os.path.normpath(os.path.join(DEPLOY, host))
    for s in svc.get("secrets", []):
        mounts[f"/run/secrets/{s}"] = os.path.normpath(
            os.path.join(DEPLOY, compose["secrets"][s]["file"]))

    sim_port = st.start_sim(compose["services"]["segsim"]["command"])
    env = {k: str(v) for k, v in svc.get("environment", {}).items()}
    acc_container = [a for a in svc["command"] if a.endswith("accounts.json")][0]
    acc_host = os.path.join(st.work, "accounts.json")
    with open(mounts[acc_container], encoding="utf-8") as f:
        write_accounts(f.read(), acc_host, sim_port, mounts, add_base_url=False)
    mounts[acc_container] = acc_host
    for k, v in env.items():
        env[k] = mounts.get(v, v)
    t.check(env.get("SEGWORKER_BROKERS") == "kafka:9092", "compose: worker points at kafka:9092")
    env["SEGWORKER_BROKERS"] = bootstrap
    argv = [mounts.get(a, a) for a in svc["command"]]
    t.check(load_json(env["SEGWORKER_CONFIG"]) == config_ex,
            "compose: the worker's config is deploy/segworker.example.json")
    for kind, target in account_refs(load_json(mounts[acc_container])):
        if kind == "env":
            t.check(target in env, f"compose: env:{target} is set for the worker")
    st.start_worker(argv, env)
    return st, sim_port


def conductor_jobs(run):
    """Jobs as the workflow's KAFKA_PUBLISH task renders them, for three workflow runs."""
    wf = load_json(os.path.join(DEPLOY, "conductor", "segment_job_workflow.json"))
    pub = [x for x in wf["tasks"] if x["type"] == "KAFKA_PUBLISH"][0]["inputParameters"]
    wait = [x for x in wf["tasks"] if x["type"] == "WAIT"]
    inputs = {
        "get": {"operation": "segments.get", "provider": "klaviyo", "account": "acme-klaviyo",
                "params": {"id": None}},
        "missing": {"operation": "segments.get", "provider": "klaviyo", "account": "acme-klaviyo",
                    "params": {"id": "no-such-segment"}},
        "raw-list": {"operation": "segments.list", "provider": "klaviyo",
                     "account": "acme-klaviyo", "options": {"response_format": "raw"}},
    }
    return wf, pub["kafka_request"], wait, inputs


def run_conductor(t, st, bootstrap, config, run, sim_port):
    wf, req, wait, inputs = conductor_jobs(run)
    t.check(len(wait) == 1 and wait[0]["taskReferenceName"] == WAIT_REF,
            "conductor: the workflow waits in a WAIT task named " + WAIT_REF)
    t.check(req["topic"] == config["topics"]["jobs"], "conductor: publishes to the jobs topic")
    handlers = load_json(os.path.join(DEPLOY, "conductor", "event_handlers.json"))
    for h in handlers:
        t.check(h["event"] == "kafka:" + config["topics"]["results"],
                f"conductor: {h['name']} listens on the results topic")
    seg = itlib.klaviyo_segment_id(sim_port)
    jobs, want, wfids = [], {}, {}
    for name, inp in inputs.items():
        inp = copy.deepcopy(inp)
        if name == "get":
            inp["params"]["id"] = seg
        wf_input = dict(wf.get("inputTemplate", {}), **inp, bootstrapServers=bootstrap)
        wfid = f"{run}-wf-{name}"
        job = render(req["value"], {"workflow": {"input": wf_input, "workflowId": wfid}})
        key = render(req["key"], {"workflow": {"input": wf_input, "workflowId": wfid}})
        jobs.append((key, job))
        want[job["job_id"]] = "failed" if name == "missing" else "succeeded"
        wfids[job["job_id"]] = wfid
    # A job without correlation: no handler may touch any workflow for it.
    plain = {"job_id": f"{run}-no-correlation", "operation": "segments.get",
             "provider": "klaviyo", "account": "acme-klaviyo", "params": {"id": seg}}
    jobs.append(("acme-klaviyo", plain))
    want[plain["job_id"]] = "succeeded"
    jobs_file = os.path.join(st.work, "conductor-jobs.ndjson")
    with open(jobs_file, "w", encoding="utf-8") as f:
        for _, j in jobs:
            f.write(json.dumps(j) + "\n")
    rc = subprocess.run(["/usr/bin/python3", os.path.join(itlib.ROOT, "tests", "tools",
                                                          "validate_json.py"), "-q",
                         os.path.join(itlib.ROOT, "schemas", "job.schema.json"), jobs_file]).returncode
    t.check(rc == 0, "conductor: the rendered jobs follow schemas/job.schema.json")

    by_job = submit_and_check(t, st, bootstrap, config, jobs, want)
    raw_parts = by_job.get(f"{run}-wf-raw-list", [])
    t.check(len(raw_parts) >= 2, f"conductor: the raw list has several parts ({len(raw_parts)})")

    events, expect = [], []
    for job_id, results in by_job.items():
        for r in results:
            headers = r.pop("_headers")
            events.append({"key": job_id, "headers": headers, "payload": r})
            if not r["part"]["last"] or job_id not in wfids:
                expect.append((None, job_id))
            else:
                expect.append((r["status"], job_id))
    matches = eval_conditions([h["condition"] for h in handlers], events)
    names = {"succeeded": "segment_result_succeeded", "failed": "segment_result_failed"}
    for (status, job_id), m, ev in zip(expect, matches, events):
        hit = [h["name"] for h, yes in zip(handlers, m) if yes]
        want_hit = [names[status]] if status else []
        t.check(hit == want_hit, f"conductor: {job_id} part {ev['payload']['part']['index']}: "
                f"handlers {hit}, expected {want_hit}")
        for h in handlers:
            if h["name"] not in hit:
                continue
            action = h["actions"][0]
            params = render(action[action["action"]], ev)
            t.check(params["workflowId"] == wfids.get(job_id) and params["taskRefName"] == WAIT_REF,
                    f"conductor: {h['name']} targets {params['workflowId']}/{params['taskRefName']}")
            if status == "failed":
                t.check((params["output"].get("error") or {}).get("code") == "not_found",
                        "conductor: the failed task's output carries the error code")
            else:
                t.check(params["output"].get("result") is not None,
                        "conductor: the completed task's output carries the result")


def k8s_docs():
    docs = {}
    for path in sorted(glob.glob(os.path.join(DEPLOY, "k8s", "*.yaml"))):
        with open(path, encoding="utf-8") as f:
            for d in yaml.safe_load_all(f):
                if d:
                    docs[d["kind"]] = d
    return docs


def runtime_packages():
    """{stage name: apt packages its RUN apt-get install line names} of deploy/Dockerfile."""
    with open(os.path.join(DEPLOY, "Dockerfile"), encoding="utf-8") as f:
        text = f.read()
    stages = {}
    for m in re.finditer(r"^FROM\s+\S+\s+AS\s+(\S+)\n(.*?)(?=^FROM|\Z)", text, re.M | re.S):
        body = m.group(2).replace("\\\n", " ")
        inst = re.search(r"apt-get install -y --no-install-recommends ([^&]*)", body)
        stages[m.group(1)] = set(inst.group(1).split()) if inst else set()
    return stages


def needed_packages(binary):
    """Debian packages providing the binary's direct (NEEDED) shared libraries, less libc6."""
    dyn = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True,
                         check=True).stdout
    ldd = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    paths = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
    pkgs = set()
    for soname in re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dyn):
        owner = ""
        # dpkg knows a file by the path its package installed, /lib/... or /usr/lib/...
        for cand in (paths[soname], os.path.realpath(paths[soname])):
            for path in (cand, cand.replace("/usr/lib/", "/lib/", 1)):
                owner = owner or subprocess.run(["dpkg", "-S", path], capture_output=True,
                                                text=True).stdout
        pkgs.add(owner.split(":")[0] if owner else f"?{soname}")
    # libc6 is in the base image; sanitizer runtimes only in the ASan build of the tests.
    return {p for p in pkgs - {"libc6"} if not re.match(r"lib(asan|ubsan|lsan|tsan)\d", p)}


def image_uid():
    with open(os.path.join(DEPLOY, "Dockerfile"), encoding="utf-8") as f:
        users = re.findall(r"^USER\s+(\d+)", f.read(), re.M)
    return int(users[-1])


def check_k8s_static(t, docs, config_ex, accounts_ex, topics_partitions):
    cm, dep = docs["ConfigMap"], docs["Deployment"]
    pdb, so = docs["PodDisruptionBudget"], docs["ScaledObject"]
    t.check(json.loads(cm["data"]["segworker.json"]) == config_ex,
            "k8s: ConfigMap segworker.json == deploy/segworker.example.json")
    t.check(json.loads(cm["data"]["accounts.json"]) == accounts_ex,
            "k8s: ConfigMap accounts.json == deploy/accounts.example.json")
    pod = dep["spec"]["template"]
    c = pod["spec"]["containers"][0]
    env = {e["name"]: e for e in c.get("env", [])}
    labels = pod["metadata"]["labels"]
    t.check(all(labels.get(k) == v for k, v in dep["spec"]["selector"]["matchLabels"].items()),
            "k8s: the Deployment selects its pods")
    t.check(all(labels.get(k) == v for k, v in pdb["spec"]["selector"]["matchLabels"].items()),
            "k8s: the PodDisruptionBudget selects the pods")
    trig = so["spec"]["triggers"][0]["metadata"]
    t.check(so["spec"]["scaleTargetRef"]["name"] == dep["metadata"]["name"],
            "k8s: the ScaledObject scales the Deployment")
    t.check(trig["consumerGroup"] == config_ex["group"], "k8s: KEDA watches the config's group")
    t.check(trig["topic"] == config_ex["topics"]["jobs"], "k8s: KEDA watches the jobs topic")
    t.check(trig["bootstrapServers"] == env["SEGWORKER_BROKERS"]["value"],
            "k8s: KEDA and the worker use the same brokers")
    t.check(so["spec"]["maxReplicaCount"] == topics_partitions,
            f"k8s: maxReplicaCount {so['spec']['maxReplicaCount']} == jobs partitions "
            f"{topics_partitions}")
    t.check(1 <= so["spec"]["minReplicaCount"] <= so["spec"]["maxReplicaCount"],
            "k8s: 1 <= minReplicaCount <= maxReplicaCount")
    t.check(int(trig["lagThreshold"]) > 0, "k8s: a positive lagThreshold")
    port = int(env["SEGWORKER_HTTP_ADDR"]["value"].rsplit(":", 1)[1])
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    t.check(ports.get("metrics") == port, "k8s: containerPort metrics == SEGWORKER_HTTP_ADDR port")
    probes = {k: c[k]["httpGet"] for k in ("livenessProbe", "readinessProbe", "startupProbe")}
    t.check(probes["livenessProbe"]["path"] == "/healthz" and
            probes["readinessProbe"]["path"] == "/readyz", "k8s: /healthz liveness, /readyz readiness")
    t.check(all(p["port"] == "metrics" for p in probes.values()), "k8s: probes on the metrics port")
    grace_s = config_ex["shutdown"]["grace_ms"] / 1000
    t.check(pod["spec"]["terminationGracePeriodSeconds"] > grace_s,
            "k8s: terminationGracePeriodSeconds > shutdown.grace_ms")
    t.check(pod["spec"]["securityContext"]["runAsUser"] == image_uid(),
            "k8s: runAsUser is the image's USER")
    t.check(pod["spec"]["securityContext"]["runAsNonRoot"] is True, "k8s: runAsNonRoot")
    t.check(all(k in c["resources"].get(x, {}) for x in ("requests", "limits")
                for k in ("cpu", "memory")), "k8s: cpu and memory requests and limits")
    return probes


def check_image_libs(t, args):
    """The runtime stages install the packages of every library the binaries link directly."""
    stages = runtime_packages()
    for binary, stage in ((args.worker, "runtime"), (args.sim, "segsim")):
        missing = needed_packages(binary) - stages.get(stage, set())
        t.check(not missing, f"image: stage {stage} lacks {sorted(missing)} for "
                f"{os.path.basename(binary)}")


def run_k8s(t, args, bootstrap, docs):
    st = Stack(t, args.worker, args.sim, args.work, "k8s")
    dep = docs["Deployment"]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    volumes = {v["name"]: v for v in pod["volumes"]}
    secret_values = {"klaviyo_api_key": SIM_KEYS["klaviyo"],
                     "sendgrid_api_key": SIM_KEYS["sendgrid"] + "\n"}
    root = os.path.join(st.work, "root")
    file_map = {}
    for m in c["volumeMounts"]:
        v = volumes[m["name"]]
        host_dir = os.path.join(root, m["mountPath"].lstrip("/"))
        os.makedirs(host_dir, exist_ok=True)
        if "configMap" in v:
            items = {k: (k, val) for k, val in docs["ConfigMap"]["data"].items()}
        else:
            items = {i["key"]: (i["path"], secret_values[i["key"]]) for i in v["secret"]["items"]}
        for path, content in items.values():
            with open(os.path.join(host_dir, path), "w", encoding="utf-8") as f:
                f.write(content)
            file_map[m["mountPath"].rstrip("/") + "/" + path] = os.path.join(host_dir, path)
    env = {}
    for e in c["env"]:
        if "value" in e:
            env[e["name"]] = file_map.get(e["value"], e["value"])
        else:
            env[e["name"]] = secret_values[e["valueFrom"]["secretKeyRef"]["key"]]
    env["SEGWORKER_BROKERS"] = bootstrap
    accounts = load_json(env["SEGWORKER_ACCOUNTS"])
    for kind, target in account_refs(accounts):
        if kind == "env":
            t.check(target in env, f"k8s: env:{target} is set from the Deployment")
        else:
            t.check(target in file_map, f"k8s: file:{target} is mounted from the Secret")
    sim_port = st.start_sim(["--key", f"klaviyo={SIM_KEYS['klaviyo']}",
                             "--key", f"sendgrid={SIM_KEYS['sendgrid']}"])
    acc_host = os.path.join(st.work, "accounts.json")
    with open(env["SEGWORKER_ACCOUNTS"], encoding="utf-8") as f:
        write_accounts(f.read(), acc_host, sim_port, file_map, add_base_url=True)
    env["SEGWORKER_ACCOUNTS"] = acc_host
    st.start_worker(list(c.get("args", [])), env)
    return st, sim_port


class Args:
    def __init__(self, argv):
        self.worker, self.sim, self.work = argv


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    args = Args(sys.argv[1:])
    os.makedirs(args.work, exist_ok=True)
    t = itlib.Checks("deploy_wiring")
    kdir = itlib.kafka_dir()
    bootstrap = itlib.read_file(os.path.join(kdir, "bootstrap"))
    config_ex = load_json(os.path.join(DEPLOY, "segworker.example.json"))
    accounts_ex = load_json(os.path.join(DEPLOY, "accounts.example.json"))
    run = f"dw{os.getpid()}"

    # Conductor OSS 3.32.3's server jar has zstd-jni and snappy-java but not lz4-java: its Kafka
    # event queue cannot read lz4 batches (NoClassDefFoundError net/jpountz/lz4/LZ4Exception, seen
    # with tests/deploy/conductor_e2e.py), and the handlers would never fire.
    compression = config_ex.get("kafka", {}).get("producer", {}).get("compression.type", "none")
    t.check(compression in ("none", "gzip", "snappy", "zstd"),
            f"results compression {compression} is readable by Conductor's Kafka client")

    st, sim_port = run_compose(t, args, bootstrap, kdir, config_ex)
    try:
        run_conductor(t, st, bootstrap, config_ex, run, sim_port)
        st.probes(["/healthz", "/readyz"])
    finally:
        st.stop()

    docs = k8s_docs()
    compose = yaml.safe_load(open(os.path.join(DEPLOY, "compose.yaml"), encoding="utf-8"))
    topic_cmd = " ".join(compose["services"]["topics"]["command"])
    parts = int(re.search(re.escape(config_ex["topics"]["jobs"]) + r":(\d+)", topic_cmd).group(1))
    probes = check_k8s_static(t, docs, config_ex, accounts_ex, parts)
    check_image_libs(t, args)

    st, sim_port = run_k8s(t, args, bootstrap, docs)
    try:
        seg = itlib.klaviyo_segment_id(sim_port)
        kl = {"provider": "klaviyo", "account": "acme-klaviyo"}
        sg = {"provider": "sendgrid", "account": "acme-sendgrid"}
        jobs = [("k8s", dict(kl, job_id=f"{run}-k8s-get", operation="segments.get",
                             params={"id": seg})),
                ("k8s", dict(sg, job_id=f"{run}-k8s-sg-list", operation="segments.list"))]
        submit_and_check(t, st, bootstrap, config_ex, jobs,
                         {f"{run}-k8s-get": "succeeded", f"{run}-k8s-sg-list": "succeeded"})
        st.probes([probes["livenessProbe"]["path"], probes["readinessProbe"]["path"]])
    finally:
        st.stop()
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
