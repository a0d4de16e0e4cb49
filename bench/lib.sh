# Shared by the signaling benchmarks (bench/signaling.sh, bench/socketio.sh); source it after setting $bin.
# start_switchboard LOG: a fresh `serve` on a free loopback port with the per-session and per-IP limits raised
# for load, TURN off and no drain; sets $server (PID), $port and $data. stop_server stops it by PID.
server=""
data=""
port=""

stop_server() {
  if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
  [ -z "$data" ] || rm -rf "$data"
  server=""
  data=""
}

# wait_port LOG PATTERN: sets $port from the first "PATTERN<digits>" in LOG.
wait_port() {
  for _ in $(seq 1 150); do
    port=$(sed -n "s/.*$2\([0-9]*\).*/\1/p" "$1" | head -1)
    [ -n "$port" ] && return 0
    sleep 0.1
  done
  cat "$1"; echo "server did not start"; exit 1
}

start_switchboard() {
  data=$(mktemp -d)
  $bin serve --host 127.0.0.1 --http-port 0 --turn-port 0 --data-dir "$data" --log-level info --drain-period 0 \
    --join-rate 1000000 --join-burst 1000000 --message-rate 1000000 --message-burst 1000000 \
    --outbound-queue 4096 --max-sessions 100000 --max-connections-per-address 0 2>"$1" &
  server=$!
  wait_port "$1" "http.port="
}
