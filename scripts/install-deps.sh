#!/bin/sh
# Install the Debian 12 packages segworker needs to build, lint and test. Idempotent: installs only
# what is missing (apt-get update runs only then), quiet when everything is already there.
# Runs as root, or through sudo when not root and sudo exists.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    list what is missing, exit 1 if anything is
set -eu

PKGS="build-essential cmake pkg-config librdkafka-dev libcurl4-openssl-dev libcjson-dev
libmicrohttpd-dev kcat python3-jsonschema clang-14 clang-format-14 clang-tools-14 iproute2
shellcheck valgrind gnuplot-nox python3-venv"

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=""
for p in $PKGS; do
  installed "$p" || missing="$missing $p"
done
# Java and Maven run the Kafka broker used by the integration tests (tests/kafka/kafka.sh);
# any java/mvn already on PATH is fine.
if ! command -v java >/dev/null 2>&1 && ! installed openjdk-17-jre-headless; then
  missing="$missing openjdk-17-jre-headless"
fi
if ! command -v mvn >/dev/null 2>&1 && ! installed maven; then
  missing="$missing maven"
fi

[ -z "$missing" ] && exit 0

if [ "${1:-}" = "--check" ]; then
  echo "missing:$missing"
  exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root() { "$@"; }
elif command -v sudo >/dev/null 2>&1; then
  as_root() { sudo "$@"; }
else
  echo "install-deps.sh: not root and no sudo; please install:$missing" >&2
  exit 1
fi

echo "install-deps.sh: installing:$missing"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086  # $missing is a word list
if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1 ||
  ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold $missing >>"$log" 2>&1; then
  tail -n 30 "$log" >&2
  echo "install-deps.sh: apt-get failed" >&2
  exit 1
fi

still=""
for p in $missing; do
  installed "$p" || still="$still $p"
done
if [ -n "$still" ]; then
  echo "install-deps.sh: still missing after install:$still" >&2
  exit 1
fi
