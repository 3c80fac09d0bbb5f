#!/usr/bin/env bash
# Apache Kafka 4.1.1 single-node KRaft broker for integration tests (loopback only).
#
#   kafka.sh fetch                              cache the broker + tools jars (Maven Central)
#   kafka.sh start DIR [--sasl]                 fresh broker (new data) on free loopback ports;
#                                               prints and writes DIR/bootstrap (127.0.0.1:PORT)
#                                               --sasl adds a SASL_PLAINTEXT listener (below)
#   kafka.sh stop DIR                           SIGTERM, wait <= 30 s, then SIGKILL; idempotent
#   kafka.sh restart DIR                        stop, then start on the SAME ports and data
#   kafka.sh create-topic DIR NAME PARTITIONS   RF 1, --if-not-exists
#   kafka.sh bootstrap DIR                      print DIR/bootstrap
#   kafka.sh status DIR                         exit 0 when the broker of DIR runs
#
# SASL (--sasl): a second listener SASL_PLAINTEXT://127.0.0.1:S (DIR/bootstrap-sasl) accepting
# PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 for one user, `segworker`, with a password made up at
# start (DIR/sasl-password, mode 600; never in the repository). SCRAM credentials are written by
# `kafka-storage format --add-scram`, PLAIN is checked against the listener's JAAS entry. The
# PLAINTEXT listener stays (inter-broker traffic, tools, the test clients), so one broker serves
# both kinds of test.
#
# Environment:
#   SW_KAFKA_CACHE        jar cache (default <repo>/build/.kafka)
#   KAFKA_HEAP_OPTS       default "-Xmx512m -Xms128m"
#   KAFKA_JVM_PERFORMANCE_OPTS  default "-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true"
#   KAFKA_OPTS            extra JVM options
#   SW_KAFKA_START_TIMEOUT  seconds to wait for the broker (default 90)
#   SW_KAFKA_LOG_LEVEL    broker root log level (default WARN; kafka.log also gets startup lines)
#
# Storage: the config uses a static quorum (controller.quorum.voters=1@127.0.0.1:C, kraft.version 0),
# so 4.1.1's StorageTool formats it with plain `format -t ID -c FILE`; --standalone and
# --initial-controllers are only for dynamic quorums (controller.quorum.bootstrap.servers) and are
# refused when controller.quorum.voters is set.
set -euo pipefail

KAFKA_VERSION=4.1.1
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CACHE=${SW_KAFKA_CACHE:-$REPO/build/.kafka}
LIB=$CACHE/lib-$KAFKA_VERSION
MARKER=$CACHE/lib-$KAFKA_VERSION.complete
START_TIMEOUT=${SW_KAFKA_START_TIMEOUT:-90}
STOP_TIMEOUT=30

die() {
  echo "kafka.sh: $*" >&2
  exit 1
}

usage() {
  sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Absolute path of a state dir (created).
state_dir() {
  [ -n "${1:-}" ] || usage
  mkdir -p "$1"
  (cd "$1" && pwd)
}

pom_hash() {
  sha256sum "$HERE/pom.xml" | cut -d' ' -f1
}

cmd_fetch() {
  mkdir -p "$CACHE"
  local want
  want=$(pom_hash)
  if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$want" ]; then
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (scripts/install-deps.sh installs maven)"
  command -v java >/dev/null || die "java not found (scripts/install-deps.sh installs openjdk-17)"
  exec 8>"$CACHE/.fetch.lock"
  flock 8
  # Another caller may have finished while we waited for the lock.
  if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$want" ]; then
    exec 8>&-
    return 0
  fi
  echo "kafka.sh: fetching Apache Kafka $KAFKA_VERSION jars into $LIB" >&2
  local tmp=$LIB.tmp.$$
  rm -rf "$tmp"
  if ! mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$tmp" >"$CACHE/fetch.log" 2>&1; then
    tail -n 40 "$CACHE/fetch.log" >&2
    rm -rf "$tmp"
    die "maven fetch failed (full log: $CACHE/fetch.log)"
  fi
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || die "fetch did not produce kafka_2.13-$KAFKA_VERSION.jar"
  rm -rf "$LIB"
  mv "$tmp" "$LIB"
  echo "$want" >"$MARKER"
  exec 8>&-
}

# N (default 2) distinct free loopback TCP ports, "P C [S]".
free_ports() {
  python3 - "${1:-2}" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
}

port_in_use() {
  python3 - "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try:
    s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(0)
sys.exit(1)
EOF
}

# Kafka Uuid: 16 random bytes, base64url without padding, not starting with '-'.
cluster_id() {
  python3 -c '
import base64, uuid
while True:
    s = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    if not s.startswith("-"):
        print(s)
        break'
}

# write_config DIR PORT CPORT [SASL_PORT]: with SASL_PORT, DIR/sasl-password must exist.
write_config() {
  local dir=$1 port=$2 cport=$3 sport=${4:-}
  local listeners="PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport"
  local advertised="PLAINTEXT://127.0.0.1:$port"
  local protomap="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [ -n "$sport" ]; then
    listeners="$listeners,SASL_PLAINTEXT://127.0.0.1:$sport"
    advertised="$advertised,SASL_PLAINTEXT://127.0.0.1:$sport"
    protomap="$protomap,SASL_PLAINTEXT:SASL_PLAINTEXT"
  fi
  cat >"$dir/server.properties" <<EOF
# Generated by tests/kafka/kafka.sh: single-node KRaft (combined broker+controller), loopback only.
node.id=1
process.roles=broker,controller
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protomap
controller.quorum.voters=1@127.0.0.1:$cport
log.dirs=$dir/data
num.partitions=4
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=true
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
share.coordinator.state.topic.num.partitions=4
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=24
log.segment.bytes=67108864
EOF
  if [ -n "$sport" ]; then
    local pw
    pw=$(cat "$dir/sasl-password")
    # No authorizer: an authenticated user may do everything, which is what the tests need.
    cat >>"$dir/server.properties" <<EOF
listener.name.sasl_plaintext.sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_segworker="$pw";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
  fi
  cat >"$dir/log4j2.properties" <<EOF
# Generated by tests/kafka/kafka.sh: broker logs go to stdout, which is kafka.log.
status = error
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = ${SW_KAFKA_LOG_LEVEL:-WARN}
rootLogger.appenderRef.out.ref = OUT
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = INFO
EOF
}

tools_log4j() {
  local f=$CACHE/tools-log4j2.properties
  if [ ! -f "$f" ]; then
    cat >"$f.$$" <<'EOF'
status = error
appender.err.type = Console
appender.err.name = ERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.err.ref = ERR
EOF
    mv "$f.$$" "$f"
  fi
  echo "$f"
}

# Pid of the broker of DIR when it is alive (and really is that broker), else empty.
live_pid() {
  local dir=$1 pid
  [ -f "$dir/kafka.pid" ] || return 0
  pid=$(cat "$dir/kafka.pid" 2>/dev/null || true)
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir/server.properties"; then
    echo "$pid"
  fi
}

stop_dir() {
  local dir=$1 pid waited=0
  pid=$(live_pid "$dir")
  if [ -z "$pid" ]; then
    rm -f "$dir/kafka.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt $((STOP_TIMEOUT * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: broker $pid did not stop in ${STOP_TIMEOUT}s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$dir/kafka.pid"
}

broker_ready() {
  local bootstrap=$1 port=${1##*:}
  if command -v kcat >/dev/null; then
    kcat -b "$bootstrap" -L -m 2 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$port"
  else
    grep -q "Kafka Server started" "$2" 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

# launch DIR: format when needed, start the JVM, wait until ready.
launch() {
  local dir=$1 port cport sport
  read -r port cport sport <"$dir/ports"
  local bootstrap=127.0.0.1:$port
  local cp="$LIB/*"
  local p
  local -a scram=()
  if [ -n "${sport:-}" ]; then
    local pw m
    pw=$(cat "$dir/sasl-password")
    for m in SCRAM-SHA-256 SCRAM-SHA-512; do
      scram+=(--add-scram "$m=[name=segworker,password=$pw]")
    done
  fi
  for p in "$port" "$cport" ${sport:+"$sport"}; do
    if port_in_use "$p"; then
      die "port $p is already in use, cannot start the broker of $dir"
    fi
  done
  if [ ! -f "$dir/data/meta.properties" ]; then
    mkdir -p "$dir/data"
    java -Dlog4j2.configurationFile="$(tools_log4j)" -cp "$cp" kafka.tools.StorageTool \
      format -t "$(cluster_id)" -c "$dir/server.properties" "${scram[@]}" >"$dir/format.log" 2>&1 ||
      { cat "$dir/format.log" >&2; die "storage format failed"; }
  fi
  local heap=${KAFKA_HEAP_OPTS:--Xmx512m -Xms128m}
  local perf=${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true}
  local -a jvm
  # shellcheck disable=SC2206  # word splitting of the option strings is intended
  jvm=($heap $perf ${KAFKA_OPTS:-})
  echo "=== $(date -u +%FT%TZ) starting Kafka $KAFKA_VERSION on $bootstrap (controller $cport)" >>"$dir/kafka.log"
  # Fds >2 (e.g. a caller's lock) are closed so the JVM never holds them.
  (
    cd "$dir"
    exec java "${jvm[@]}" -Dlog4j2.configurationFile="$dir/log4j2.properties" \
      -Dkafka.logs.dir="$dir/logs" -cp "$cp" kafka.Kafka "$dir/server.properties" \
      </dev/null >>"$dir/kafka.log" 2>&1 8>&- 9>&-
  ) &
  local pid=$!
  echo "$pid" >"$dir/kafka.pid"
  local deadline=$((SECONDS + START_TIMEOUT))
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: broker exited during startup; tail of $dir/kafka.log:" >&2
      tail -n 40 "$dir/kafka.log" >&2
      rm -f "$dir/kafka.pid"
      exit 1
    fi
    if broker_ready "$bootstrap" "$dir/kafka.log"; then
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "kafka.sh: broker not ready after ${START_TIMEOUT}s; tail of $dir/kafka.log:" >&2
      tail -n 40 "$dir/kafka.log" >&2
      stop_dir "$dir"
      exit 1
    fi
    sleep 0.2
  done
  if [ -n "${sport:-}" ]; then
    echo "127.0.0.1:$sport" >"$dir/bootstrap-sasl"
  fi
  echo "$bootstrap" >"$dir/bootstrap"
  echo "$bootstrap"
}

lock_dir() {
  exec 9>"$1/.lock"
  flock 9
}

cmd_start() {
  local dir sasl=""
  case ${2:-} in
    "") ;;
    --sasl) sasl=1 ;;
    *) usage ;;
  esac
  dir=$(state_dir "${1:-}")
  cmd_fetch
  lock_dir "$dir"
  stop_dir "$dir"
  rm -rf "$dir/data" "$dir/logs" "$dir/bootstrap" "$dir/bootstrap-sasl" "$dir/sasl-password"
  : >"$dir/kafka.log"
  local port cport sport
  read -r port cport sport < <(free_ports "${sasl:+3}") || true
  [[ ${port:-} =~ ^[0-9]+$ && ${cport:-} =~ ^[0-9]+$ ]] || die "could not pick free loopback ports"
  if [ -n "$sasl" ]; then
    [[ ${sport:-} =~ ^[0-9]+$ ]] || die "could not pick free loopback ports"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(16))' >"$dir/sasl-password")
  else
    sport=""
  fi
  echo "$port $cport${sport:+ $sport}" >"$dir/ports"
  write_config "$dir" "$port" "$cport" "$sport"
  launch "$dir"
}

cmd_restart() {
  [ -n "${1:-}" ] || usage
  [ -d "$1" ] || die "$1 has no broker to restart (run start first)"
  local dir
  dir=$(state_dir "$1")
  if [ ! -f "$dir/ports" ] || [ ! -f "$dir/server.properties" ]; then
    die "$dir has no broker to restart (run start first)"
  fi
  cmd_fetch
  lock_dir "$dir"
  stop_dir "$dir"
  launch "$dir"
}

cmd_stop() {
  [ -n "${1:-}" ] || usage
  [ -d "$1" ] || return 0
  local dir
  dir=$(state_dir "$1")
  lock_dir "$dir"
  stop_dir "$dir"
}

cmd_create_topic() {
  [ $# -eq 3 ] || usage
  local dir name=$2 parts=$3
  [ -d "$1" ] || die "$1 has no running broker (run start first)"
  dir=$(state_dir "$1")
  [[ $parts =~ ^[1-9][0-9]*$ ]] || die "PARTITIONS must be a positive integer"
  [ -f "$dir/bootstrap" ] || die "$dir has no running broker (no bootstrap file)"
  cmd_fetch
  java -Dlog4j2.configurationFile="$(tools_log4j)" -Xmx256m -cp "$LIB/*" \
    org.apache.kafka.tools.TopicCommand --bootstrap-server "$(cat "$dir/bootstrap")" \
    --create --if-not-exists --topic "$name" --partitions "$parts" --replication-factor 1 >/dev/null
}

cmd_bootstrap() {
  if [ -z "${1:-}" ] || [ ! -f "$1/bootstrap" ]; then
    die "no bootstrap file in ${1:-DIR}"
  fi
  cat "$1/bootstrap"
}

cmd_status() {
  [ -n "${1:-}" ] && [ -d "$1" ] || exit 1
  local dir
  dir=$(state_dir "$1")
  [ -n "$(live_pid "$dir")" ]
}

main() {
  local cmd=${1:-}
  [ $# -gt 0 ] && shift
  case $cmd in
    fetch) cmd_fetch ;;
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    restart) cmd_restart "$@" ;;
    create-topic) cmd_create_topic "$@" ;;
    bootstrap) cmd_bootstrap "$@" ;;
    status) cmd_status "$@" ;;
    *) usage ;;
  esac
}

main "$@"
