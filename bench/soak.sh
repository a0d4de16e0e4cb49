#!/usr/bin/env bash
# One-hour soak: join/leave churn, steady relay and TURN allocations coming and going against one release server,
# sampling its RssAnon and open file descriptors; fails unless both stay flat (see bench/soak.py).
# Usage: bench/soak.sh [SECONDS]     (default 3600; not part of CI)
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product switchboard >/dev/null 2>&1
[ -x .venv/bin/python ] || { python3 -m venv .venv && .venv/bin/pip install -q -r interop/requirements.txt; }
exec .venv/bin/python bench/soak.py --binary .build/release/switchboard --duration "${1:-3600}" --sample "${SOAK_SAMPLE:-30}"
