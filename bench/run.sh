#!/usr/bin/env bash
# Benchmarks side by side: builds everything (Release), starts a real Kafka broker and
# segsim, runs the library floor, segworker, the Python baseline (and tries Redpanda Connect) on
# identical job sets, and writes docs/BENCHMARKS.md with its plots in docs/bench/.
#
#   bench/run.sh          quick mode: small job counts, a few minutes, for trying it
#   bench/run.sh --full   the report's numbers (about 15 minutes on 2 cores)
#
# Not part of ctest: it measures, it does not pass or fail on numbers. Work files (build, venv,
# broker, logs, callgrind outputs, results.json) stay in build/bench/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
MODE=quick
case "${1:-}" in
  --full) MODE=full ;;
  --quick | "") MODE=quick ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
    ;;
esac
ONLY=${BENCH_ONLY:-}

WORK=$ROOT/build/bench
RUN=$WORK/run-$MODE
mkdir -p "$WORK"
rm -rf "$RUN"
mkdir -p "$RUN"
log() { echo "[bench.sh $(date +%H:%M:%S)] $*" >&2; }

scripts/install-deps.sh

log "building (Release) in $WORK/cmake"
cmake -S . -B "$WORK/cmake" -DCMAKE_BUILD_TYPE=Release >"$RUN/cmake.log" 2>&1
cmake --build "$WORK/cmake" -j2 --target segworker segsim floor_kafka floor_http >>"$RUN/cmake.log" 2>&1

# The baseline's Python packages (pinned) from PyPI, into a venv of its own.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
REQ=bench/baselines/python/requirements.txt
if [ ! -f "$WORK/venv/.ok" ] || ! cmp -s "$REQ" "$WORK/venv/.ok"; then
  log "creating $WORK/venv"
  rm -rf "$WORK/venv"
  "$PY" -m venv "$WORK/venv"
  "$WORK/venv/bin/pip" install -q --disable-pip-version-check -r "$REQ" >"$RUN/pip.log" 2>&1 ||
    {
      tail -20 "$RUN/pip.log" >&2
      exit 1
    }
  cp "$REQ" "$WORK/venv/.ok"
fi
VPY=$WORK/venv/bin/python

# Redpanda Connect: one bounded attempt to build it from the Go module proxy, recorded as is.
RPCN_LOG=$RUN/rpcn-install.log
log "trying to build Redpanda Connect from the Go module proxy (120 s max per module)"
bench/rpcn-try.sh "$WORK" >"$RPCN_LOG" 2>&1 || true

KDIR=$WORK/kafka
SIM_PID=
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  tests/kafka/kafka.sh stop "$KDIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "starting Kafka"
BROKERS=$(tests/kafka/kafka.sh start "$KDIR" | tail -n 1)
# 5,000 jobs in flight hold 5,000 sockets in the worker and in segsim.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$WORK/cmake/tests/sim/segsim" --port-file "$RUN/sim.port" --threads 2 \
  --conn-limit 20000 \
  >"$RUN/segsim.log" 2>&1 &
SIM_PID=$!
for _ in $(seq 100); do
  [ -s "$RUN/sim.port" ] && break
  sleep 0.1
done
[ -s "$RUN/sim.port" ] || {
  echo "bench: segsim did not start" >&2
  exit 1
}
SIM_PORT=$(cat "$RUN/sim.port")
log "Kafka at $BROKERS, segsim at 127.0.0.1:$SIM_PORT; running the $MODE benchmarks"

"$VPY" bench/tools/bench.py --out "$RUN/results.json" --mode "$MODE" --brokers "$BROKERS" \
  --sim-port "$SIM_PORT" --bin "$WORK/cmake" --python "$VPY" --workdir "$RUN" --only "$ONLY"

log "writing docs/BENCHMARKS.md and docs/bench/*.png"
"$VPY" bench/tools/report.py --results "$RUN/results.json" --rpcn-log "$RPCN_LOG" \
  --workdir "$RUN" --doc docs/BENCHMARKS.md --plots docs/bench
log "done: docs/BENCHMARKS.md"
