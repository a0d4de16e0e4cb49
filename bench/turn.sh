#!/usr/bin/env bash
# TURN/STUN benchmark: coturn (Debian turnserver 4.6.1) and Switchboard, one at a time, driven by the
# same turnutils_peer echo peer and the same turnutils_uclient loads; prints a side-by-side table with
# ratios (Switchboard / coturn).
#
# Usage: bench/turn.sh [quick]
#   SWITCHBOARD_BIN     server binary (default .build/release/switchboard; not built by this script:
#                       `swift build -c release --product switchboard`). If it is missing, the
#                       Switchboard half is skipped with a message.
#   TURN_BENCH_SERVERS  which halves to run (default "coturn switchboard")
#   SB_EXTRA_ARGS       extra `switchboard serve` flags;  SB_BENCH_TURN_ARGS  extra `bench turn` flags
#
# Everything runs on 127.0.0.1 with free ports (a port free for both UDP and TCP is picked by binding
# port 0, then released), so another TURN server on 3478 does not matter. Each server gets a static
# user alice:secretpw, realm example.test, loopback peers allowed, no bandwidth cap and no quotas, and
# is stopped by PID before the next one starts. Switchboard also gets --rfc5766-channel-numbers
# (uclient draws channel numbers from 0x4000-0x7FFF) and no 401 rate limit (every uclient allocation
# starts with an unauthenticated Allocate, all from 127.0.0.1). The load generator, the echo peer and the server share the same
# cores: the figures are for this machine and this client, not a server's ceiling.
#
# Rows (turnutils_uclient 4.6.1; -m = allocations, -n = messages per allocation, -z = ms between
# messages per allocation (default 20), -l = bytes; all with -X -g, i.e. REQUESTED-ADDRESS-FAMILY IPv4
# and DONT-FRAGMENT; without -c the allocations come in EVEN-PORT/RESERVATION-TOKEN pairs):
#   paced-channels     -n 1000 -m 10 -l 170          ChannelData
#   paced-indications  -n 1000 -m 10 -l 170 -s       Send/Data indications
#   unpaced-m10        -n 30000 -m 10 -l 170 -z 0
#   unpaced-m50        -n 6000 -m 50 -l 170 -z 0
#   large-1000B        -n 15000 -m 10 -l 1000 -z 0
# (quick mode: tiny counts, a smoke test only.) Each allocation starts sending 1-6 s after the
# allocations are made (uclient's random stagger), so the unpaced runs carry enough messages (about
# 6-10 s of sending on coturn) for that not to dominate. Noise: an A/A run on the 2-core development box
# (coturn in both columns) gave ratios of 0.8-1.35 on the throughput rows and 0.6-0.95 on CPU per
# packet, so treat differences under about 40% as noise unless they repeat.
# Metrics per row:
#   msg/s      messages that made the round trip (client -> server -> peer -> server -> client), divided
#              by the active window: from the last progress sample before the first message was sent
#              to the first sample at which the received count reached its final value. uclient's own
#              "Total transmit time" is whole seconds and includes a random 1-6 s start per allocation
#              plus a 10 s wait when anything is lost, so it is logged but not used.
#   peak msg/s the best one-second interval of uclient's once-a-second progress lines.
#   loss %     uclient's "Total lost packets" percentage.
#   RTT ms     uclient's "Average round trip delay" (uclient measures in whole milliseconds, so loopback
#              runs mostly read 0).
#   errors     STUN error codes uclient printed ("error NNN"; "alloc" = Cannot complete Allocation,
#              "timeout" = killed after the time bound). 437 alone is benign when received = sent: on
#              437 uclient sleeps 1 s, reopens its socket and allocates again (seen with coturn at start-up).
#   CPU s/100k server utime+stime (/proc/PID/stat, all threads, divided by CLK_TCK) used during the run,
#              per 100,000 relayed packets, counting 2 relayed packets per received message (one each
#              way through the relay); includes the run's allocation/permission/refresh traffic.
# Also:
#   RSS/1k alloc  VmRSS while uclient -c -m N -z 1000 holds 2N allocations open, minus VmRSS before, in
#                 KiB per 1,000 allocations (max of 0.5 s samples). 2N because every uclient client first
#                 makes a "probe" allocation (coturn's load-balancing probe) on a socket it closes without
#                 deallocating; those stay until they expire (uclient asks for 777 s). The N real ones
#                 each have a permission and a channel. Runs after the relay rows, so the probes do not
#                 linger into them.
#   STUN Binding  bench/stun_binding_load.py: closed loop, 4 sockets x 32 outstanding requests; req/s and
#                 server CPU s per 100k requests.
# Results: printed and written to bench/results/turn-<timestamp>.txt; raw client output and server logs
# in bench/results/turn-<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=${1:-full}
case "$mode" in full | quick) ;; *) echo "usage: $0 [quick]" >&2; exit 2 ;; esac
SB=${SWITCHBOARD_BIN:-.build/release/switchboard}
servers=${TURN_BENCH_SERVERS:-coturn switchboard}
stamp=$(date +%Y%m%d-%H%M%S)
mkdir -p bench/results
results=bench/results/turn-$stamp.txt
rawdir=bench/results/turn-$stamp
mkdir -p "$rawdir"

if [ "$mode" = quick ]; then
  PACED_N=20 PACED_M=2 U10_N=300 U10_M=2 U50_N=100 U50_M=4 LARGE_N=200 LARGE_M=2
  RSS_ALLOCS=20 BIND_COUNT=2000
else
  PACED_N=1000 PACED_M=10 U10_N=30000 U10_M=10 U50_N=6000 U50_M=50 LARGE_N=15000 LARGE_M=10
  RSS_ALLOCS=500 BIND_COUNT=200000
fi
ROWS=(paced-channels paced-indications unpaced-m10 unpaced-m50 large-1000B)
declare -A ROWFLAGS=(
  [paced-channels]="-n $PACED_N -m $PACED_M -l 170"
  [paced-indications]="-n $PACED_N -m $PACED_M -l 170 -s"
  [unpaced-m10]="-n $U10_N -m $U10_M -l 170 -z 0"
  [unpaced-m50]="-n $U50_N -m $U50_M -l 170 -z 0"
  [large-1000B]="-n $LARGE_N -m $LARGE_M -l 1000 -z 0"
)
UCLIENT_TIMEOUT=180 # seconds, per run
START_TIMEOUT=30    # seconds for a server to become ready

declare -A R=() # R[server:row:metric]
PIDS=()
status=0
clk_tck=$(getconf CLK_TCK)

main() {
  trap cleanup EXIT
  trap 'exit 130' INT TERM
  ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"

  local t
  for t in turnserver turnutils_uclient turnutils_peer python3; do
    command -v "$t" >/dev/null || { echo "missing $t: install coturn (apt-get install coturn)" >&2; exit 1; }
  done
  echo "TURN benchmark ($mode), $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(turnserver --version 2>/dev/null | head -1 | tr -d '\n' || true)"
  echo "raw output: $rawdir/"
  if [ -x "$SB" ]; then echo "switchboard: $SB ($(stat -c '%s bytes, modified %y' "$SB"))"; fi

  peer_port=$(free_port pair)
  turnutils_peer -L 127.0.0.1 -p "$peer_port" >"$rawdir/peer.log" 2>&1 &
  PIDS+=($!)
  sleep 0.3
  kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "turnutils_peer did not start" >&2; exit 1; }
  echo "echo peer: turnutils_peer on 127.0.0.1:$peer_port (pid ${PIDS[-1]})"

  local s
  for s in $servers; do
    case "$s" in
      coturn) bench_server coturn ;;
      switchboard)
        if [ ! -x "$SB" ]; then
          echo
          echo "== switchboard: SKIPPED, no binary at $SB (swift build -c release --product switchboard, or set SWITCHBOARD_BIN)"
          continue
        fi
        bench_server switchboard ;;
      *) echo "unknown server '$s' in TURN_BENCH_SERVERS" >&2; exit 2 ;;
    esac
  done
  print_table
  echo
  echo "results: $results"
  return $status
}

cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null || continue
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  PIDS=()
}

stop_pid() { # stop one started PID and drop it from PIDS
  local pid=$1 p keep=()
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${PIDS[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  PIDS=("${keep[@]}")
}

free_port() { # a port P free for both UDP and TCP on 127.0.0.1; `free_port pair`: P and P+1 free for UDP
  python3 -c '
import socket, sys
pair = len(sys.argv) > 1
for _ in range(200):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", 0)); p = u.getsockname()[1]
    if pair:
        t, port2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM), p + 1
    else:
        t, port2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM), p
    try:
        if port2 < 65536:
            t.bind(("127.0.0.1", port2)); print(p); break
    except OSError:
        pass
    finally:
        u.close(); t.close()
else:
    raise SystemExit("no free port")' "$@"
}

cpu_ticks() { # utime+stime of all threads, in clock ticks (0 once the process is gone)
  local v
  v=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}') || true
  echo "${v:-0}"
}
rss_kib() { awk '/^VmRSS:/ {print $2} END {if (!NR) print 0}' "/proc/$1/status" 2>/dev/null || echo 0; }
stun_probe() { python3 bench/stun_binding_load.py --server "127.0.0.1:$1" --count 1 --timeout 0.3 >/dev/null 2>&1; }

# start_coturn / start_switchboard set: srv_pid, srv_port, srv_log
start_coturn() {
  local dir=$1
  srv_port=$(free_port)
  srv_log=$rawdir/coturn.log
  turnserver -n --log-file stdout --simple-log --listening-ip 127.0.0.1 --relay-ip 127.0.0.1 \
    --listening-port "$srv_port" --lt-cred-mech --user alice:secretpw --realm example.test --fingerprint \
    --allow-loopback-peers --no-cli --no-tls --no-dtls --userdb "$dir/turndb" --pidfile "$dir/turnserver.pid" \
    >"$srv_log" 2>&1 &
  srv_pid=$!
  PIDS+=("$srv_pid")
  local deadline=$((SECONDS + START_TIMEOUT))
  until stun_probe "$srv_port"; do
    if ! kill -0 "$srv_pid" 2>/dev/null; then tail -20 "$srv_log"; echo "coturn exited before answering STUN" >&2; return 1; fi
    [ $SECONDS -lt $deadline ] || { tail -20 "$srv_log"; echo "coturn not ready within ${START_TIMEOUT}s" >&2; return 1; }
    sleep 0.1
  done
}

start_switchboard() {
  local dir=$1 v
  srv_port=$(free_port)
  srv_log=$rawdir/switchboard.log
  # The server reads SWITCHBOARD_<OPTION> variables; keep ours (SWITCHBOARD_BIN) out of its configuration.
  local clean=(env)
  for v in $(compgen -e | grep '^SWITCHBOARD_' || true); do clean+=(-u "$v"); done
  # shellcheck disable=SC2086
  "${clean[@]}" "$SB" serve --host 127.0.0.1 --http-port 0 --data-dir "$dir/data" --turn-port "$srv_port" \
    --realm example.test --turn-user alice:secretpw --relay-ip 127.0.0.1 --allow-loopback-peers \
    --log-level warning --max-allocation-bps 0 --user-quota 0 --total-quota 0 --rfc5766-channel-numbers \
    --unauthorized-rate 1000000 --unauthorized-burst 1000000 --max-connections-per-address 0 ${SB_EXTRA_ARGS:-} \
    >"$srv_log" 2>&1 &
  srv_pid=$!
  PIDS+=("$srv_pid")
  local deadline=$((SECONDS + START_TIMEOUT))
  until grep -q 'STUN/TURN listening' "$srv_log"; do
    if ! kill -0 "$srv_pid" 2>/dev/null; then
      tail -20 "$srv_log"; echo "switchboard exited before logging 'STUN/TURN listening'" >&2; return 1
    fi
    if [ $SECONDS -ge $deadline ]; then
      if stun_probe "$srv_port"; then
        echo "warning: no 'STUN/TURN listening' line at --log-level warning, but STUN answers; going on"
        return 0
      fi
      tail -20 "$srv_log"; echo "switchboard did not log 'STUN/TURN listening' within ${START_TIMEOUT}s" >&2; return 1
    fi
    sleep 0.1
  done
}

# uclient NAME FLAGS...: runs turnutils_uclient against the current server and peer, each output line
# prefixed with a wall-clock timestamp, into $rawdir/<server>-NAME.out. Never fails the script.
# A run that fails during set-up (uclient exits before sending anything) is tried up to 3 times: uclient
# binds two random channel numbers per allocation and gives up when they collide (400 "same channel
# number with different peer" from coturn, about 1 in 16k allocations); a server that always refuses
# still fails 3 times and shows its error.
uclient() {
  local name=$1; shift
  local out=$rawdir/$cur-$name.out attempt
  for attempt in 1 2 3; do
    { timeout -k 5 "$UCLIENT_TIMEOUT" turnutils_uclient "$@" -X -g -e 127.0.0.1 -r "$peer_port" \
        -u alice -w secretpw -p "$srv_port" 127.0.0.1 2>&1 || echo "uclient exit code $?"; } |
      while IFS= read -r line; do printf '%s %s\n' "$EPOCHREALTIME" "$line"; done >"$out"
    setup_failed "$out" || return 0
    echo "  ($name: uclient failed during set-up, attempt $attempt of 3: $(grep -m1 -E 'error|Cannot' "$out" | cut -d' ' -f2- || true))"
    [ "$attempt" -eq 3 ] || mv "$out" "$out.failed$attempt"
  done
}

setup_failed() { # uclient exited with an error before sending a single message
  grep -q 'uclient exit code' "$1" && ! grep -q 'Total transmit time' "$1" && ! grep -q 'tot_send_msgs=[1-9]' "$1"
}

# parse_uclient FILE -> "sent recv loss% rtt_ms transmit_s rate peak errors"
parse_uclient() {
  awk '
    function num(s, key,   i, r) { i = index(s, key); if (!i) return ""; r = substr(s, i + length(key)); sub(/[^0-9.].*/, "", r); return r }
    /start_mclient: msz=/ { n++; T[n] = $1 + 0; S[n] = num($0, "tot_send_msgs=") + 0; Rv[n] = num($0, "tot_recv_msgs=") + 0; next }
    /start_mclient: tot_send_msgs=/ { final = 1; ft = $1 + 0; fs = num($0, "tot_send_msgs=") + 0; fr = num($0, "tot_recv_msgs=") + 0 }
    /Total transmit time is/ { tt = $NF }
    /Total lost packets/ { i = index($0, "("); loss = substr($0, i + 1); sub(/%.*/, "", loss) }
    /Average round trip delay/ { rtt = num($0, "delay ") }
    /error [0-9][0-9][0-9]/ { match($0, /error [0-9][0-9][0-9]/); e = substr($0, RSTART + 6, 3); if (!(e in E)) { E[e] = 1; errs = errs (errs ? "," : "") e } }
    /Cannot complete Allocation/ { if (!("alloc" in E)) { E["alloc"] = 1; errs = errs (errs ? "," : "") "alloc" } }
    /uclient exit code 124/ { errs = errs (errs ? "," : "") "timeout" }
    END {
      if (!final) { fs = S[n] + 0; fr = Rv[n] + 0; ft = T[n] + 0 }
      n++; T[n] = ft; S[n] = fs; Rv[n] = fr
      t0 = -1; for (i = 1; i <= n; i++) if (S[i] > 0) { t0 = (i > 1) ? T[i - 1] : T[i]; break }
      t1 = -1; for (i = 1; i <= n; i++) if (Rv[i] >= fr) { t1 = T[i]; break }
      rate = (t0 >= 0 && t1 > t0 && fr > 0) ? fr / (t1 - t0) : 0
      peak = 0; for (i = 2; i <= n; i++) { dt = T[i] - T[i - 1]; if (dt >= 0.5) { r = (Rv[i] - Rv[i - 1]) / dt; if (r > peak) peak = r } }
      if (loss == "") loss = (fs > 0) ? (fs - fr) * 100 / fs : 100
      printf "%d %d %.2f %s %s %.0f %.0f %s\n", fs, fr, loss, (rtt == "" ? "-" : sprintf("%.3f", rtt)), (tt == "" ? "-" : tt), rate, peak, (errs == "" ? "-" : errs)
    }' "$1"
}

bench_server() {
  cur=$1
  local dir
  dir=$(mktemp -d)
  echo
  echo "== $cur"
  if ! "start_$cur" "$dir"; then
    echo "!! $cur did not start; its results are missing" >&2
    status=1
    rm -rf "$dir"
    return 0
  fi
  echo "listening on 127.0.0.1:$srv_port (pid $srv_pid); log $srv_log"

  # Warm-up, and a check that relaying works at all.
  uclient warmup -c -n 5 -m 2 -l 170
  local w
  read -r -a w <<<"$(parse_uclient "$rawdir/$cur-warmup.out")"
  if [ "${w[1]}" -eq 0 ]; then
    echo "!! $cur relayed nothing in the warm-up (errors: ${w[7]}); see $rawdir/$cur-warmup.out" >&2
    status=1
    stop_pid "$srv_pid"
    rm -rf "$dir"
    return 0
  fi

  local step
  for step in measure_binding "${ROWS[@]/#/measure_row }" measure_rss bench_turn_hook; do
    # shellcheck disable=SC2086
    $step
    if ! kill -0 "$srv_pid" 2>/dev/null; then
      echo "!! $cur exited during '$step'; log tail:" >&2
      tail -20 "$srv_log" >&2
      status=1
      break
    fi
  done
  stop_pid "$srv_pid"
  rm -rf "$dir"
}

measure_row() {
  local row=$1 c0 c1 f
  # shellcheck disable=SC2086
  c0=$(cpu_ticks "$srv_pid")
  # shellcheck disable=SC2086
  uclient "$row" ${ROWFLAGS[$row]}
  c1=$(cpu_ticks "$srv_pid")
  read -r -a f <<<"$(parse_uclient "$rawdir/$cur-$row.out")"
  local cpu per100k
  cpu=$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b - a) / t}')
  per100k=$(awk -v c="$cpu" -v r="${f[1]}" 'BEGIN {if (r > 0) printf "%.3f", c / (2 * r) * 100000; else print "-"}')
  R[$cur:$row:sent]=${f[0]} R[$cur:$row:recv]=${f[1]} R[$cur:$row:loss]=${f[2]} R[$cur:$row:rtt]=${f[3]}
  R[$cur:$row:rate]=${f[5]} R[$cur:$row:peak]=${f[6]} R[$cur:$row:cpu]=$per100k R[$cur:$row:errors]=${f[7]}
  printf '  %-18s sent %-7s recv %-7s loss %-9s%% rtt %-9s ms  %7s msg/s (peak %s)  uclient time %ss  server CPU %ss = %s s/100k pkts  errors %s\n' \
    "$row" "${f[0]}" "${f[1]}" "${f[2]}" "${f[3]}" "${f[5]}" "${f[6]}" "${f[4]}" "$cpu" "$per100k" "${f[7]}"
}

measure_rss() {
  local out=$rawdir/$cur-rss.out base max=0 now pid deadline attempt
  base=$(rss_kib "$srv_pid")
  for attempt in 1 2 3; do
    timeout -k 5 120 turnutils_uclient -c -m "$RSS_ALLOCS" -n 3 -z 1000 -l 170 -X -e 127.0.0.1 -r "$peer_port" \
      -u alice -w secretpw -p "$srv_port" 127.0.0.1 >"$out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    deadline=$((SECONDS + 90))
    until grep -q 'Total connect time' "$out"; do # every allocation is made before this line
      kill -0 "$pid" 2>/dev/null || break
      [ $SECONDS -lt $deadline ] || break
      sleep 0.2
    done
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
      now=$(rss_kib "$srv_pid")
      [ "$now" -gt "$max" ] && max=$now
      sleep 0.5
    done
    stop_pid "$pid"
    grep -q 'Total connect time' "$out" && break
    echo "  (rss: uclient failed during set-up, attempt $attempt of 3: $(grep -m1 -E 'error|Cannot' "$out" || true))"
    [ "$attempt" -eq 3 ] || mv "$out" "$out.failed$attempt"
    base=$(rss_kib "$srv_pid") # the failed attempt's allocations stay until they expire
    max=0
  done
  local f
  read -r -a f <<<"$(parse_uclient "$out")"
  if grep -q 'Total connect time' "$out" && [ "${f[1]}" -gt 0 ]; then
    R[$cur:rss:kib]=$(awk -v a="$base" -v b="$max" -v n="$((2 * RSS_ALLOCS))" 'BEGIN {printf "%.0f", (b - a) * 1000 / n}')
  else
    R[$cur:rss:kib]="-"
  fi
  R[$cur:rss:base]=$base
  echo "  rss: $RSS_ALLOCS clients = $((2 * RSS_ALLOCS)) allocations held: VmRSS $base -> $max KiB = ${R[$cur:rss:kib]} KiB per 1000 allocations (messages $((f[1]))/$((f[0])), errors ${f[7]})"
}

measure_binding() {
  local c0 c1 line rps lost cpu per100k
  c0=$(cpu_ticks "$srv_pid")
  line=$(timeout -k 5 120 python3 bench/stun_binding_load.py --server "127.0.0.1:$srv_port" --count "$BIND_COUNT" \
    --sockets 4 --window 32 --max-seconds 90 2>&1 || true)
  c1=$(cpu_ticks "$srv_pid")
  echo "$line" >"$rawdir/$cur-binding.out"
  rps=$(sed -n 's/.*req_per_s=\([0-9.]*\).*/\1/p' <<<"$line")
  lost=$(sed -n 's/.* lost=\([0-9]*\).*/\1/p' <<<"$line")
  cpu=$(awk -v a="$c0" -v b="$c1" -v t="$clk_tck" 'BEGIN {printf "%.2f", (b - a) / t}')
  per100k=$(awk -v c="$cpu" -v n="$BIND_COUNT" -v l="${lost:-0}" 'BEGIN {if (n - l > 0) printf "%.3f", c / (n - l) * 100000; else print "-"}')
  R[$cur:binding:rps]=${rps:--} R[$cur:binding:lost]=${lost:--} R[$cur:binding:cpu]=$per100k
  echo "  binding: $line; server CPU ${cpu}s = $per100k s/100k requests"
}

# ---- Switchboard's own TURN load generator (`switchboard bench turn`) against whichever server is up. ----
# It drives BENCH_TURN_ALLOCATIONS allocations (default 20), each relaying ChannelData to a built-in UDP echo,
# at rising total rates (BENCH_TURN_RATES, packets/s, 5 s each; quick mode: one small run) and stops at the first
# rate with any loss. The highest rate with zero loss is the server's maximum sustained rate on this machine.
bench_turn_hook() {
  # ArgumentParser answers `bench <unknown> --help` with the parent's help and exit code 0, so look for
  # the subcommand's own usage line.
  local help=""
  [ -x "$SB" ] && help=$("$SB" bench turn --help 2>&1 || true)
  if ! grep -q 'USAGE: switchboard bench turn' <<<"$help"; then
    echo "  bench turn: skipped ($SB bench turn is not available)"
    return 0
  fi
  local allocations=${BENCH_TURN_ALLOCATIONS:-20} rates duration=5 out v clean=(env) rate best=0 best_line="" line loss
  if [ "$mode" = quick ]; then rates=${BENCH_TURN_RATES:-2000}; duration=2
  else rates=${BENCH_TURN_RATES:-"10000 20000 30000 40000 50000 60000 80000 100000"}; fi
  for v in $(compgen -e | grep '^SWITCHBOARD_' || true); do clean+=(-u "$v"); done
  for rate in $rates; do
    out=$rawdir/$cur-bench-turn-$rate.json
    # shellcheck disable=SC2086
    "${clean[@]}" timeout -k 5 300 "$SB" bench turn --server "127.0.0.1:$srv_port" --user alice --password secretpw \
      --allocations "$allocations" --rate "$(awk -v r="$rate" -v a="$allocations" 'BEGIN {printf "%.3f", r / a}')" \
      --duration "$duration" --server-pid "$srv_pid" --json ${SB_BENCH_TURN_ARGS:-} >"$out" 2>&1 || true
    line=$(python3 - "$out" <<'PY'
import json, sys
try:
    r = json.load(open(sys.argv[1]))
except Exception as error:
    print(f"error {error}")
    sys.exit(0)
print(f"{r['offered_rate']:.0f} {r['round_trips_per_second']:.0f} {r['loss_percent']:.3f} {r['rtt_ms']['p50']} "
      f"{r['rtt_ms']['p99']} {r['server_cpu_per_100k']:.3f}")
PY
)
    echo "  bench turn $allocations allocations, offered $rate pkt/s: round trips/s, loss %, p50 ms, p99 ms, CPU s/100k = ${line#* }"
    case "$line" in error*) break ;; esac
    loss=$(awk '{print $3}' <<<"$line")
    if awk -v l="$loss" 'BEGIN {exit !(l + 0 == 0)}'; then best=$rate; best_line=$line; else break; fi
  done
  R[$cur:bench-turn:max]=$best
  R[$cur:bench-turn:p99]=$(awk '{print $5}' <<<"$best_line")
  R[$cur:bench-turn:cpu]=$(awk '{print $6}' <<<"$best_line")
  echo "  bench turn: highest offered rate with zero loss = $best pkt/s"
}

ratio() { # switchboard / coturn, when both are numbers and coturn is not 0
  awk -v s="$2" -v c="$1" 'BEGIN {
    if (s ~ /^[0-9.]+$/ && c ~ /^[0-9.]+$/ && c + 0 > 0) printf "%.2f", s / c; else print "-" }'
}

print_table() {
  local row m c s label r
  echo
  echo "== TURN relay: coturn vs Switchboard ($mode; same peer, same uclient loads)"
  printf '%-18s %-24s %14s %14s %10s\n' row metric coturn switchboard sb/coturn
  printf '%-18s %-24s %14s %14s %10s\n' ------------------ ------------------------ -------------- -------------- ----------
  for row in "${ROWS[@]}"; do
    for m in rate peak loss rtt cpu errors; do
      case $m in
        rate) label="msg/s" ;; peak) label="peak msg/s (1 s)" ;; loss) label="loss %" ;;
        rtt) label="avg RTT ms" ;; cpu) label="CPU s / 100k pkts" ;; errors) label="STUN errors seen" ;;
      esac
      c=${R[coturn:$row:$m]:--} s=${R[switchboard:$row:$m]:--}
      case $m in rate | peak | cpu) r=$(ratio "$c" "$s") ;; *) r=- ;; esac # no ratio of losses, RTTs or errors
      printf '%-18s %-24s %14s %14s %10s\n' "$row" "$label" "$c" "$s" "$r"
    done
    printf '%-18s %-24s %14s %14s %10s\n' "$row" "received/sent" \
      "${R[coturn:$row:recv]:--}/${R[coturn:$row:sent]:--}" "${R[switchboard:$row:recv]:--}/${R[switchboard:$row:sent]:--}" "-"
  done
  c=${R[coturn:rss:kib]:--} s=${R[switchboard:rss:kib]:--}
  printf '%-18s %-24s %14s %14s %10s\n' "allocations" "RSS KiB / 1000 allocs" "$c" "$s" "$(ratio "$c" "$s")"
  printf '%-18s %-24s %14s %14s %10s\n' "allocations" "VmRSS before, KiB" "${R[coturn:rss:base]:--}" "${R[switchboard:rss:base]:--}" \
    "$(ratio "${R[coturn:rss:base]:--}" "${R[switchboard:rss:base]:--}")"
  c=${R[coturn:binding:rps]:--} s=${R[switchboard:binding:rps]:--}
  printf '%-18s %-24s %14s %14s %10s\n' "stun-binding" "requests/s" "$c" "$s" "$(ratio "$c" "$s")"
  c=${R[coturn:binding:cpu]:--} s=${R[switchboard:binding:cpu]:--}
  printf '%-18s %-24s %14s %14s %10s\n' "stun-binding" "CPU s / 100k requests" "$c" "$s" "$(ratio "$c" "$s")"
  printf '%-18s %-24s %14s %14s %10s\n' "stun-binding" "lost" "${R[coturn:binding:lost]:--}" "${R[switchboard:binding:lost]:--}" "-"
  c=${R[coturn:bench-turn:max]:--} s=${R[switchboard:bench-turn:max]:--}
  printf '%-18s %-24s %14s %14s %10s\n' "bench-turn" "max pkt/s at 0 loss" "$c" "$s" "$(ratio "$c" "$s")"
  c=${R[coturn:bench-turn:cpu]:--} s=${R[switchboard:bench-turn:cpu]:--}
  printf '%-18s %-24s %14s %14s %10s\n' "bench-turn" "CPU s / 100k pkts there" "$c" "$s" "$(ratio "$c" "$s")"
  printf '%-18s %-24s %14s %14s %10s\n' "bench-turn" "p99 RTT ms there" "${R[coturn:bench-turn:p99]:--}" "${R[switchboard:bench-turn:p99]:--}" "-"
  echo "(msg/s = round trips per second; each is 2 relayed packets. Lower is better for loss, RTT, CPU and RSS.)"
}

main "$@" 2>&1 | tee "$results"
exit "${PIPESTATUS[0]}"
