#!/bin/sh
# Builds continuum and the peer benchmark (bench/peers, a separate module)
# and runs `continuum bench --peers`, so both measure the same workload in
# one run and the report carries the ratios. Extra arguments go to
# `continuum bench`, e.g.: bench/run.sh --json --events 1000000
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
(cd "$root" && go build -o "$bin/continuum" ./cmd/continuum)
(cd "$root/bench/peers" && go build -o "$bin/peers" .)
"$bin/continuum" bench --peers "$bin/peers" "$@"
