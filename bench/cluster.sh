#!/usr/bin/env bash
# Cross-node signaling: the same relay load (rooms of two over /ws, each peer messaging its partner) on
#   standalone  one node on SQLite (no cluster): the baseline;
#   same-node   a node of a two-node cluster, both peers of every room on it (what clustering costs a node's
#               own rooms);
#   cross-node  the same cluster, every room's second peer on the other node (each message crosses the
#               PostgreSQL bus).
# Each row reports delivered msg/s, loss, p50/p99 relay latency and the server CPU (utime+stime of every node,
# from /proc) per relayed message. The load generator, both nodes and PostgreSQL share the machine's 2 cores.
# Usage: bench/cluster.sh [CONNECTIONS RATE DURATION]   (default 200 connections x 10 msg/s for 20 s = 2,000 msg/s)
set -euo pipefail
cd "$(dirname "$0")/.."
connections=${1:-200} rate=${2:-10} duration=${3:-20}
swift build -c release --product switchboard >/dev/null 2>&1
bin=.build/release/switchboard
stamp=$(date -u +%Y%m%d-%H%M%S)
results=bench/results/cluster-$stamp
mkdir -p "$results"

pg_dir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
nodes=()
cleanup() {
  for pid in "${nodes[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  scripts/postgres-test-cluster.sh stop "$pg_dir"
}
trap cleanup EXIT
base=$(scripts/postgres-test-cluster.sh start "$pg_dir")

# start_node NAME LOG [OPTIONS...]: a release node with load limits raised; prints "PID PORT".
start_node() {
  local name=$1 log=$2; shift 2
  local data; data=$(mktemp -d)
  $bin serve --host 127.0.0.1 --http-port 0 --turn-port 0 --data-dir "$data" --log-level info --drain-period 0 \
    --node-name "$name" --join-rate 1000000 --join-burst 1000000 --message-rate 1000000 --message-burst 1000000 \
    --outbound-queue 4096 --max-sessions 100000 --max-connections-per-address 0 "$@" >"$log" 2>&1 &
  local pid=$! port=""
  for _ in $(seq 1 150); do
    port=$(sed -n 's/.*http\.port=\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$log"; echo "node $name did not start"; exit 1; }
  echo "$pid $port"
}

ready() {  # ready PORT PEERS: waits until /readyz lists PEERS live peers
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$1/readyz" | grep -q ": $2 peer(s) alive" && return 0
    sleep 0.2
  done
  echo "node on $1 not ready"; exit 1
}

cpu_ticks() {
  local total=0 ticks
  for pid in "$@"; do
    ticks=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null || echo 0)
    total=$((total + ticks))
  done
  echo $total
}

# run NAME URL [SECOND_URL] -- PIDS...: one load; writes NAME.json and a row.
run() {
  local name=$1 url=$2 second=$3; shift 3
  local before after pg_before pg_after
  before=$(cpu_ticks "$@")
  pg_before=$(cpu_ticks $(pgrep -x postgres))
  $bin bench signaling --url "$url" ${second:+--second-url "$second"} --connections "$connections" --rate "$rate" \
    --duration "$duration" --room-prefix "$name" --json >"$results/$name.json" || true
  after=$(cpu_ticks "$@")
  pg_after=$(cpu_ticks $(pgrep -x postgres))
  python3 - "$results/$name.json" "$name" $((after - before)) $((pg_after - pg_before)) "$(getconf CLK_TCK)" <<'PY'
import json, sys
result, name, ticks, pg_ticks, hz = json.load(open(sys.argv[1])), sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
per = lambda t: t / hz * 1e6 / max(result["received"], 1)
json.dump({**result, "server_cpu_us_per_message": round(per(ticks), 1), "postgres_cpu_us_per_message": round(per(pg_ticks), 1)},
          open(sys.argv[1], "w"))
print(f"| {name} | {result['messages_per_s']:.0f} | {result['lost']} | {result['out_of_order']} | {result['errors']} | "
      f"{result['latency_ms']['p50']} | {result['latency_ms']['p99']} | {per(ticks):.1f} | {per(pg_ticks):.1f} |")
PY
}

{
  echo "$connections connections in rooms of two, $rate msg/s per peer, $duration s; release build; $(nproc) cores shared"
  echo
  echo "| run | delivered msg/s | lost | out of order | errors | p50 ms | p99 ms | nodes' CPU µs/msg | PostgreSQL CPU µs/msg |"
  echo "|---|---|---|---|---|---|---|---|---|"
  read -r pid port < <(start_node solo "$results/solo.log")
  nodes+=("$pid")
  run standalone "ws://127.0.0.1:$port/ws" "" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true; nodes=()

  psql "$base" -q -c "CREATE DATABASE sb_bench_cluster"
  database=${base/\/postgres\?/\/sb_bench_cluster?}
  read -r pid_a port_a < <(start_node alpha "$results/alpha.log" --database "$database")
  read -r pid_b port_b < <(start_node beta "$results/beta.log" --database "$database")
  nodes+=("$pid_a" "$pid_b")
  ready "$port_a" 1; ready "$port_b" 1
  run same-node "ws://127.0.0.1:$port_a/ws" "" "$pid_a" "$pid_b"
  run cross-node "ws://127.0.0.1:$port_a/ws" "ws://127.0.0.1:$port_b/ws" "$pid_a" "$pid_b"
  echo
  echo "node logs and JSON in $results"
} | tee "$results/summary.md"
