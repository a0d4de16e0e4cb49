#!/usr/bin/env bash
# Signaling relay benchmark: rooms of two over /ws, each peer messaging its partner at a fixed rate.
# Each run starts a fresh release server on loopback (limits raised for load) and drives it with
# `switchboard bench signaling`: 1,000 and 10,000 connections at 1 msg/s per peer, then a rate sweep at
# 1,000 connections for the highest sustained rate: zero loss, no errors and p99 relay latency < 100 ms.
# The load generator runs on the same 2 cores as the server, so the figures are for the pair.
# Usage: bench/signaling.sh [quick]     (each run's JSON is written to bench/results/signaling-*.json)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

# SWITCHBOARD_BENCH_BIN runs another build (say, an earlier commit's) as server and load generator, for before/after.
if [ -n "${SWITCHBOARD_BENCH_BIN:-}" ]; then
  bin=$SWITCHBOARD_BENCH_BIN
else
  swift build -c release --product switchboard >/dev/null 2>&1
  bin=.build/release/switchboard
fi
mkdir -p bench/results
. bench/lib.sh
trap stop_server EXIT

# run NAME CONNECTIONS RATE DURATION: prints the JSON; succeeds when the run was sustained.
run() {
  local out=bench/results/signaling-$1.json
  echo "-- $1: $2 connections, $3 msg/s per peer, $4 s"
  start_switchboard bench/results/server.log
  $bin bench signaling --url "ws://127.0.0.1:$port/ws" --connections "$2" --rate "$3" --duration "$4" \
    --server-pid "$server" --room-prefix "$1" --json >"$out" || true
  stop_server
  cat "$out"; echo
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if r["lost"]==0 and r["errors"]==0 and r["latency_ms"]["p99"]<100 else 1)' "$out"
}

if [ "${1:-}" = quick ]; then
  run quick-100 100 10 3
  exit 0
fi
run c1000 1000 1 20 || true
run c10000 10000 1 20 || true
best=0
for rate in 2 4 6 8 10 12 16 20 24 32 40 48 64; do
  if run "sweep-r$rate" 1000 "$rate" 10; then best=$rate; else break; fi
done
echo "highest sustained rate at 1000 connections: $best msg/s per peer ($((best * 1000)) msg/s relayed)"
