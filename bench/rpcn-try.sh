#!/usr/bin/env bash
# One bounded attempt to build Redpanda Connect (and its Benthos core) from the Go module proxy;
# everything it prints goes to stdout, which bench/run.sh records for docs/BENCHMARKS.md.
#   bench/rpcn-try.sh WORKDIR
set -uo pipefail
WORK=$(cd "${1:?usage: rpcn-try.sh WORKDIR}" && pwd)
if ! command -v go >/dev/null 2>&1; then
  echo "go: not installed"
  exit 0
fi
export GOPATH=$WORK/go GOMODCACHE=$WORK/go/mod GOFLAGS=-modcacherw
echo "\$ go version"
go version
echo "\$ go env GOPROXY"
go env GOPROXY
for mod in github.com/redpanda-data/connect/v4/cmd/redpanda-connect@latest \
  github.com/redpanda-data/benthos/v4/cmd/benthos@latest; do
  echo "\$ timeout 120 go install $mod"
  timeout 120 go install "$mod"
  echo "exit status: $?"
done
