#!/usr/bin/env bash
# Fuzzes every parser of network input with libFuzzer (fuzz/README.md).
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#
# Builds switchboard-fuzz once with libFuzzer and AddressSanitizer (in .build-fuzz), then runs each target
# (default: every folder of fuzz/corpus) for SECONDS_PER_TARGET (default 3600), FUZZ_JOBS (default 2) at a time.
# Each run starts from the committed seeds and regressions, which it only reads; what it learns and any crash go
# to a new folder under /tmp (FUZZ_OUTPUT names another). Exits 1 if a target crashed, after printing the input
# and the commands that reproduce and minimise it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

seconds=${1:-3600}
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for folder in fuzz/corpus/*/; do targets+=("$(basename "$folder")"); done
fi
jobs=${FUZZ_JOBS:-2}
out=${FUZZ_OUTPUT:-$(mktemp -d /tmp/switchboard-fuzz.XXXXXX)}
mkdir -p "$out"

# -DFUZZING makes main hand over to libFuzzer's driver. lld, because gold fails to link libFuzzer's archive beside
# the entry point SwiftPM renames.
build=(swift build -c release --build-path "$root/.build-fuzz" --product switchboard-fuzz
  -Xswiftc -DFUZZING -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld)
printf '== build (%s)\n' "${build[*]}"
start=$SECONDS
if ! "${build[@]}" >"$out/build.log" 2>&1; then
  grep -v "unhandled; explicitly declare them as resources" "$out/build.log"
  echo "fuzz build failed"
  exit 1
fi
binary="$("${build[@]}" --show-bin-path)/switchboard-fuzz"
echo "built in $((SECONDS - start)) s: $binary"

# Runs one target; its folder gets the log, the inputs it found (corpus/) and any crash (artifacts/).
fuzz_target() {
  local target=$1 dir="$out/$1"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  local inputs=("$dir/corpus" "fuzz/corpus/$target")
  [ -d "fuzz/regressions/$target" ] && inputs+=("fuzz/regressions/$target")
  local status=0
  # The first folder is the one libFuzzer writes to. SWIFT_BACKTRACE: Swift's backtracer can take minutes after a
  # trap; libFuzzer prints its own stack. timeout: the fuzzer stops itself, this only guards against a hang.
  SWIFT_BACKTRACE=enable=no SWITCHBOARD_FUZZ_TARGET="$target" timeout --kill-after=30 $((seconds + 300)) \
    "$binary" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/" "${inputs[@]}" >"$dir/log" 2>&1 || status=$?
  echo "$status" >"$dir/status"
}

printf '== fuzz %s for %s s each, %s at a time, into %s\n' "${targets[*]}" "$seconds" "$jobs" "$out"
start=$SECONDS
for target in "${targets[@]}"; do
  if [ ! -d "fuzz/corpus/$target" ]; then
    echo "no seed corpus fuzz/corpus/$target: unknown target"
    exit 2
  fi
  while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
  fuzz_target "$target" &
done
wait
echo "fuzzed in $((SECONDS - start)) s"

failed=0
for target in "${targets[@]}"; do
  dir="$out/$target"
  status=$(cat "$dir/status")
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/log" | grep -o '[0-9]*$' || echo '?')
  coverage=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -n 1 | grep -o '[0-9]*$' || echo '?')
  if [ "$status" = 0 ]; then
    printf '%-20s ok      %10s runs  coverage %s\n' "$target" "$runs" "$coverage"
    continue
  fi
  failed=1
  printf '%-20s FAILED  (exit %s) log: %s\n' "$target" "$status" "$dir/log"
  grep -E 'Fatal error|ERROR: |SUMMARY: ' "$dir/log" | head -n 5 | sed 's/^/    /'
  for artifact in "$dir"/artifacts/*; do
    [ -e "$artifact" ] || continue
    cat <<EOF
    input:      $artifact
    reproduce:  SWIFT_BACKTRACE=enable=no SWITCHBOARD_FUZZ_TARGET=$target $binary $artifact
    minimise:   SWIFT_BACKTRACE=enable=no SWITCHBOARD_FUZZ_TARGET=$target $binary -minimize_crash=1 -max_total_time=60 $artifact
    debug:      swift run switchboard-fuzz replay $target $artifact
    then keep:  cp <minimised input> fuzz/regressions/$target/<what-it-breaks>
EOF
  done
done
exit $failed
