#!/usr/bin/env bash
# The main job, end to end on this machine: installs what is missing, builds segworker, starts a
# single-node Apache Kafka broker (KRaft) and the provider simulator on loopback, runs the worker,
# submits sample jobs (get, list-all and delete on Klaviyo and SendGrid, plus failing ones),
# prints each job's result, and stops everything.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=$ROOT/build
RUN=$BUILD/demo
SIM_PID=""
WORKER_PID=""

say() { printf '\n==> %s\n' "$*"; }

cleanup() {
  [ -n "$WORKER_PID" ] && kill -TERM "$WORKER_PID" 2>/dev/null && wait "$WORKER_PID" 2>/dev/null
  [ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  tests/kafka/kafka.sh stop "$RUN/kafka" >/dev/null 2>&1 || true
}
trap cleanup EXIT

say "dependencies"
scripts/install-deps.sh

say "build"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target segworker segsim >/dev/null

rm -rf "$RUN"
mkdir -p "$RUN"

say "Apache Kafka (single-node KRaft on loopback)"
BROKERS=$(tests/kafka/kafka.sh start "$RUN/kafka" | tail -n 1)
echo "broker at $BROKERS"
for t in segment-jobs:4 segment-results:4 segment-jobs.dlq:1 segment-jobs.retry:4; do
  tests/kafka/kafka.sh create-topic "$RUN/kafka" "${t%%:*}" "${t##*:}" >/dev/null
done

say "provider simulator"
"$BUILD/tests/sim/segsim" --port 0 --port-file "$RUN/sim.port" >"$RUN/sim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do [ -s "$RUN/sim.port" ] && break; sleep 0.1; done
[ -s "$RUN/sim.port" ] || { echo "the simulator did not start" >&2; exit 1; }
SIM="http://127.0.0.1:$(cat "$RUN/sim.port")"
echo "simulator at $SIM (Klaviyo and SendGrid segment APIs)"

# Credentials are references to the environment; the store itself holds no secret.
cat >"$RUN/accounts.json" <<JSON
{"accounts": {
  "acme-klaviyo": {"provider": "klaviyo", "base_url": "$SIM",
                   "credentials": {"api_key": "env:DEMO_KLAVIYO_KEY"},
                   "settings": {"revision": "2025-04-15"}},
  "acme-sendgrid": {"provider": "sendgrid", "base_url": "$SIM",
                    "credentials": {"api_key": "env:DEMO_SENDGRID_KEY"}}}}
JSON
export DEMO_KLAVIYO_KEY=sim-klaviyo-key DEMO_SENDGRID_KEY=sim-sendgrid-key

say "segworker run"
"$BUILD/worker/segworker" run --brokers "$BROKERS" --accounts "$RUN/accounts.json" \
  2>"$RUN/worker.log" &
WORKER_PID=$!

say "submitting sample jobs to segment-jobs"
KL='"provider":"klaviyo","account":"acme-klaviyo"'
SG='"provider":"sendgrid","account":"acme-sendgrid"'
K1=$(curl -s "$SIM/api/segments?page%5Bsize%5D=1" -H 'Authorization: Klaviyo-API-Key sim-klaviyo-key' \
  -H 'revision: 2025-04-15' | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["id"])')
S1=$(curl -s "$SIM/v3/marketing/segments/2.0" -H 'Authorization: Bearer sim-sendgrid-key' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["id"])')
cat >"$RUN/jobs.ndjson" <<JOBS
{"job_id":"demo-1","operation":"segments.get","params":{"id":"$K1","with_member_count":true},$KL}
{"job_id":"demo-2","operation":"segments.list",$KL,"options":{"ignore_remote_data":true}}
{"job_id":"demo-3","operation":"segments.delete","params":{"id":"$K1"},$KL}
{"job_id":"demo-4","operation":"segments.get","params":{"id":"$S1"},$SG,"options":{"exclude_fields":["remote_data"]}}
{"job_id":"demo-5","operation":"segments.list",$SG,"options":{"ignore_remote_data":true}}
{"job_id":"demo-6","operation":"segments.delete","params":{"id":"$S1"},$SG}
{"job_id":"demo-7","operation":"segments.get","params":{"id":"no-such-segment"},$KL}
{"job_id":"demo-8","operation":"segments.get","params":{"id":"sim-flaky-2-demo"},$KL,"options":{"ignore_remote_data":true}}
{"job_id":"demo-9","operation":"segments.refresh","params":{"id":"$K1"},$KL}
JOBS
sed 's/^/demo\t/' "$RUN/jobs.ndjson" | kcat -P -b "$BROKERS" -t segment-jobs -K '\t'
cat "$RUN/jobs.ndjson"

say "results from segment-results (one final message per job)"
python3 - "$BROKERS" <<'PY'
import json, subprocess, sys, time
brokers = sys.argv[1]
want = {f"demo-{i}" for i in range(1, 10)}
seen, deadline = {}, time.time() + 60
while want - seen.keys() and time.time() < deadline:
    out = subprocess.run(["kcat", "-C", "-b", brokers, "-t", "segment-results", "-e", "-q",
                          "-f", "%s\n"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        r = json.loads(line)
        if r["part"]["last"]:
            seen[r["job_id"]] = r
    time.sleep(0.3)
for job_id in sorted(seen, key=lambda j: int(j.split("-")[1])):
    r = seen[job_id]
    if r["status"] == "succeeded":
        res = r["result"]
        what = (f'{len(res)} segments' if isinstance(res, list) else json.dumps(res)[:160])
    else:
        what = f'{r["error"]["code"]}: {r["error"]["message"]}'
    print(f'{job_id:7} {r["operation"]:16} {r["provider"]:9} {r["status"]:9} '
          f'attempts={r["attempts"]} {what}')
print("\nfull result of demo-1:")
print(json.dumps(seen.get("demo-1"), indent=2))
missing = want - seen.keys()
if missing:
    sys.exit(f"no result for {sorted(missing)}")
PY

say "dead letters (bad input, with the reason in headers)"
kcat -C -b "$BROKERS" -t segment-jobs.dlq -e -q -f '%h\n  %s\n' || true
say "done; the worker's JSON log is in $RUN/worker.log"
