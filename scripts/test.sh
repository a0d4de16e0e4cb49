#!/usr/bin/env bash
# Runs the whole test suite on a fresh Debian machine with Swift installed:
# provisions what it needs (Debian and PyPI packages), checks formatting, builds once (debug) with no
# warnings allowed in our own code, runs the Swift tests, then the interop tests against the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s\n' "$*"; }

step "provision"
need_apt=()
command -v python3 >/dev/null || need_apt+=(python3)
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
# coturn's own clients (turnutils_uclient, _peer, _stunclient) drive the TURN interop tests.
command -v turnutils_uclient >/dev/null || need_apt+=(coturn)
command -v openssl >/dev/null || need_apt+=(openssl)
# The browser tests: Debian's Chromium and its driver, run inside a network namespace of their own.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
command -v ip >/dev/null || need_apt+=(iproute2)
command -v unshare >/dev/null || need_apt+=(util-linux)
# The Store contract suite and the PostgreSQL end-to-end tests run against a throwaway cluster.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
# GRDB builds against the system SQLite.
[ -f /usr/include/sqlite3.h ] || need_apt+=(libsqlite3-dev)
if [ ${#need_apt[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 "${need_apt[@]}"
fi
venv="$root/.venv"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r interop/requirements.txt

step "format"
swift format lint --strict -r Sources Tests

step "build (debug, tests included)"
log=$(mktemp)
set +e
swift build --build-tests >"$log" 2>&1
status=$?
set -e
if [ $status -ne 0 ]; then
  cat "$log"; echo "build failed"; exit 1
fi
tail -n 1 "$log"
if grep -E "^$root/(Sources|Tests)/.*warning:" "$log"; then
  echo "warnings in project code are errors"; exit 1
fi

step "throwaway PostgreSQL on loopback"
pg_dir=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
trap 'scripts/postgres-test-cluster.sh stop "$pg_dir"' EXIT
SWITCHBOARD_TEST_POSTGRES=$(scripts/postgres-test-cluster.sh start "$pg_dir")
export SWITCHBOARD_TEST_POSTGRES
echo "$SWITCHBOARD_TEST_POSTGRES"

step "swift test"
timeout 1200 swift test --skip-build

step "interop (third-party clients against the real binary)"
SWITCHBOARD_BIN="$root/.build/debug/switchboard" SWITCHBOARD_FIXTURE_BIN="$root/.build/debug/socketio-conformance-fixture" \
  timeout 1200 "$venv/bin/python" -m pytest interop -q --ignore=interop/browser

step "fuzz smoke run (libFuzzer + ASan, 60 s per target, two at a time; about 8 min on 2 cores; fuzz/README.md)"
timeout 1200 bash scripts/fuzz.sh 60

step "browser calls (headless Chromium in a private network namespace; screenshots in interop/artifacts/screenshots)"
# Only loopback exists in the namespace, so ICE candidates and media stay on 127.0.0.1 and no port collides.
SWITCHBOARD_BIN="$root/.build/debug/switchboard" timeout 900 unshare -n -- sh -c \
  'ip link set lo up && exec "$0" -m pytest interop/browser -q' "$venv/bin/python"
