#!/usr/bin/env bash
# Socket.IO relay benchmark, side by side: Switchboard's /socket.io/ against python-socketio's AsyncServer
# (aiohttp; bench/sio_reference_server.py), driven by the same load generator, `switchboard bench socketio`:
# rooms of two over the WebSocket transport, join(room) with an ack, then each peer sends
# message(room, data) to its partner at a fixed rate; the receiver checks order and measures latency.
# For each load, each server is started fresh on a free loopback port, measured, and stopped by PID.
# Reports messages/s, p50/p99 latency, server CPU per message and RSS per connection (idle and loaded)
# for both, and Switchboard / python-socketio.
# "Sustained" = zero loss, no errors, p99 < 100 ms. The load generator shares the machine's cores.
# Usage: bench/socketio.sh [quick]      (JSON per run and the table go to bench/results/socketio-*)
set -euo pipefail
cd "$(dirname "$0")/.."
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

python=${PYTHON:-.venv/bin/python}
"$python" -c 'import socketio, aiohttp' 2>/dev/null || {
  echo "python-socketio and aiohttp are needed: pip install -r interop/requirements.txt (or set PYTHON)"; exit 1; }
# SWITCHBOARD_BENCH_BIN runs another build (say, an earlier commit's) as server and load generator, for before/after.
if [ -n "${SWITCHBOARD_BENCH_BIN:-}" ]; then
  bin=$SWITCHBOARD_BENCH_BIN
else
  swift build -c release --product switchboard >/dev/null 2>&1
  bin=.build/release/switchboard
fi
stamp=$(date +%Y%m%d-%H%M%S)
out=bench/results/socketio-$stamp
mkdir -p "$out"
. bench/lib.sh
trap stop_server EXIT
switchboard_log="$out/switchboard.log"
start_switchboard_target() { start_switchboard "$switchboard_log"; }

start_python() {
  data=""
  "$python" bench/sio_reference_server.py --host 127.0.0.1 --port 0 >"$out/python-socketio.log" 2>&1 &
  server=$!
  wait_port "$out/python-socketio.log" "listening port="
}

# run TARGET NAME CONNECTIONS RATE DURATION
run() {
  local json="$out/$1-$2.json"
  if [ "$1" = switchboard ]; then start_switchboard_target; else start_python; fi
  $bin bench socketio --url "ws://127.0.0.1:$port" --connections "$3" --rate "$4" --duration "$5" \
    --server-pid "$server" --room-prefix "$2" --json >"$json" 2>"$out/$1-$2.err" || true
  stop_server
  [ -s "$json" ] || echo '{"error":"no result"}' >"$json"
}

if [ "${1:-}" = quick ]; then
  loads=("q 50 5 3")
else
  loads=("c1000-r1 1000 1 10" "c1000-r4 1000 4 10" "c1000-r8 1000 8 10" "c1000-r16 1000 16 10" "c4000-r1 4000 1 10")
fi
for load in "${loads[@]}"; do
  read -r name connections rate duration <<<"$load"
  echo "-- $name: $connections connections, $rate msg/s per peer, $duration s"
  run python "$name" "$connections" "$rate" "$duration"
  run switchboard "$name" "$connections" "$rate" "$duration"
done

"$python" - "$out" "${loads[@]}" <<'PY' | tee "$out/table.md"
import json, sys
out, loads = sys.argv[1], sys.argv[2:]
def load(target, name):
    try:
        return json.load(open(f"{out}/{target}-{name}.json"))
    except Exception:
        return {}
def cell(r, key):
    if not r or "messages_per_s" not in r: return "failed"
    if key == "rate": return f"{r['messages_per_s']:,.0f}"
    if key == "lost": return f"{r['lost']} lost, {r['errors']} errors"
    if key == "rss": return f"{r.get('server_rss_per_connection_bytes', 0) / 1024:,.0f} KiB"
    if key == "idle": return f"{r.get('server_idle_rss_per_connection_bytes', 0) / 1024:,.0f} KiB"
    if key == "cpu": return f"{r.get('server_cpu_us_per_message', 0):,.1f} µs"
    return f"{r['latency_ms'][key]:,.2f} ms"
def ratio(a, b, key, invert=False):
    try:
        if key == "rate": x, y = a["messages_per_s"], b["messages_per_s"]
        elif key == "rss": x, y = a["server_rss_per_connection_bytes"], b["server_rss_per_connection_bytes"]
        elif key == "idle": x, y = a["server_idle_rss_per_connection_bytes"], b["server_idle_rss_per_connection_bytes"]
        elif key == "cpu": x, y = a["server_cpu_us_per_message"], b["server_cpu_us_per_message"]
        else: x, y = a["latency_ms"][key], b["latency_ms"][key]
        return f"{x / y:.2f}" if y else "-"
    except Exception:
        return "-"
def sustained(r):
    return bool(r) and r.get("lost") == 0 and r.get("errors") == 0 and r["latency_ms"]["p99"] < 100
print("| load | metric | python-socketio | Switchboard | Switchboard / python-socketio |")
print("|---|---|---|---|---|")
best = {"python": 0, "switchboard": 0}
for entry in loads:
    name, connections, rate, duration = entry.split()
    py, sb = load("python", name), load("switchboard", name)
    label = f"{connections} conns × {rate} msg/s"
    for key, title in [("rate", "messages/s"), ("p50", "p50"), ("p99", "p99"), ("cpu", "server CPU per message"),
                       ("idle", "RSS per idle connection"), ("rss", "RSS per connection"), ("lost", "loss")]:
        r = ratio(sb, py, key) if key != "lost" else ""
        print(f"| {label} | {title} | {cell(py, key)} | {cell(sb, key)} | {r} |")
    for target, r in (("python", py), ("switchboard", sb)):
        if sustained(r): best[target] = max(best[target], int(connections) * float(rate))
print()
print(f"Highest offered load sustained (zero loss, p99 < 100 ms): python-socketio {best['python']:,.0f} msg/s, "
      f"Switchboard {best['switchboard']:,.0f} msg/s"
      + (f" (ratio {best['switchboard'] / best['python']:.2f})" if best["python"] else ""))
PY
echo "results: $out"
