#!/usr/bin/env bash
# Signaling relay benchmark: rooms of two over /ws, each peer messaging its partner at a fixed rate.
# Runs the release server on loopback with limits raised for load, then `switchboard bench signaling`
# at 1,000 and 10,000 connections and a rate sweep for the highest sustained rate with zero loss.
# Usage: bench/signaling.sh [quick]     (results also written to bench/results/signaling-*.json)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
echo "open files limit: $(ulimit -n)"

swift build -c release --product switchboard >/dev/null
bin=.build/release/switchboard
mkdir -p bench/results
data=$(mktemp -d)
log=bench/results/server.log

$bin serve --host 127.0.0.1 --http-port 0 --data-dir "$data" --log-level notice \
  --join-rate 1000000 --join-burst 1000000 --message-rate 1000000 --message-burst 1000000 \
  --outbound-queue 4096 --max-sessions 100000 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's/.*http.port=\([0-9]*\).*listening.*/\1/p' "$log" | head -1)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$log"; echo "server did not start"; exit 1; }
url="ws://127.0.0.1:$port/ws"

run() {  # name connections rate duration
  local name=$1 out=bench/results/signaling-$1.json
  echo "-- $name: $2 connections, $3 msg/s per peer, $4 s"
  if $bin bench signaling --url "$url" --connections "$2" --rate "$3" --duration "$4" \
      --server-pid $server --room-prefix "$name" --json >"$out"; then status=ok; else status=loss; fi
  cat "$out"; echo
  [ $status = ok ]
}

if [ "${1:-}" = quick ]; then
  run quick-100 100 10 3
  exit 0
fi
run c1000 1000 1 20 || true
run c10000 10000 1 20 || true
best=0
for rate in 5 10 20 40 80 160; do
  if run "sweep-r$rate" 1000 "$rate" 10; then best=$rate; else break; fi
done
echo "highest zero-loss rate at 1000 connections: $best msg/s per peer ($((best * 1000)) msg/s relayed)"
