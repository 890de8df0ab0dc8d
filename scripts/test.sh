#!/usr/bin/env bash
# make test: builds and runs every test project, then prints one "N passed, N failed" line.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh || exit 1

mkdir -p artifacts
log=artifacts/test.log
dotnet build Streaming.sln -c Debug --nologo -v q || exit 1
# Test projects run one after another: on two cores that is faster and quieter than in parallel.
dotnet test Streaming.sln -c Debug --no-build --nologo -m:1 -- RunConfiguration.TestSessionTimeout=1200000 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

passed=$(grep -oE 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -oE 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -oE 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
echo
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
