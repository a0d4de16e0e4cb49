#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on a free loopback port, for the tests.
#   scripts/postgres-test-cluster.sh start DIR   prints the URL to pass as SWITCHBOARD_TEST_POSTGRES
#   scripts/postgres-test-cluster.sh stop DIR
#   scripts/postgres-test-cluster.sh halt DIR     stops the server but keeps its data (an outage)
#   scripts/postgres-test-cluster.sh resume DIR   starts it again on the same port
# initdb refuses to run as root, so as root it runs as the 'postgres' user Debian's package creates.
set -euo pipefail
action=$1 dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bin/initdb" ] || { echo "PostgreSQL is not installed: apt-get install postgresql" >&2; exit 1; }
as_owner() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
case $action in
start)
  mkdir -p "$dir"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync -E UTF8 >"$dir/initdb.log"
  for _ in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null; then
      echo "$port" >"$dir/port"
      echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
      exit 0
    fi
  done
  echo "PostgreSQL did not start; see $dir/server.log" >&2; exit 1 ;;
halt)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
resume)
  port=$(cat "$dir/port")
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null || true
  rm -rf "$dir" ;;
*) echo "usage: $0 start|stop|halt|resume DIR" >&2; exit 2 ;;
esac
