#!/usr/bin/env bash
# make soak: every fault scenario SOAK_RUNS times (default 20) and the fuzzer with FUZZ_REQUESTS seeded
# mutations (default 10000), on the embedded Kafka. Not part of `make test`. Bounded by SOAK_MAX_MINUTES
# (default 240): when the budget is spent it stops and the table says how many runs each scenario had.
# Scenarios run in interleaved blocks of SOAK_BLOCK runs (default 5), so a partial table stays balanced.
# Output: artifacts/soak/table.md (one ledger row per scenario), fuzz.md, runs.jsonl, a log per block.
set -uo pipefail
cd "$(dirname "$0")/.."

runs=${SOAK_RUNS:-20}
block=${SOAK_BLOCK:-5}
fuzz=${FUZZ_REQUESTS:-10000}
budget_min=${SOAK_MAX_MINUTES:-240}
out=${SOAK_LEDGER_DIR:-$PWD/artifacts/soak}
project=tests/Streaming.FaultInjection.Tests
scenarios=(
  Broker_down_then_all_brokers_down_during_ingest
  Leader_changes_and_injected_fetch_and_commit_errors_mid_stream
  Injected_produce_errors_mid_stream
  Produce_errors_while_leaders_move
  Retries_and_dead_letters_while_produce_errors_and_leaders_move
  A_worker_process_killed_and_replicas_joining_and_leaving
  The_endpoint_down_for_a_while_then_back
  Poison_records_and_terminal_4xx_interleaved_with_good_traffic
)

scripts/install-tools.sh || exit 1
echo "soak: building $project" >&2
dotnet build "$project" -c Debug --nologo -v q -clp:NoSummary 1>&2 || exit 1
rm -rf "$out" && mkdir -p "$out"

start=$(date +%s)
deadline=$((start + budget_min * 60))
total=$((runs * ${#scenarios[@]}))
elapsed() { local s=$(( $(date +%s) - start )); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
booked() { if [ -f "$out/runs.jsonl" ]; then wc -l < "$out/runs.jsonl" | tr -d ' '; else echo 0; fi; }
status=0

# dotnet test prints nothing until a block ends: a heartbeat every minute says how far the soak is.
( while sleep 60; do echo "soak: $(booked)/$total scenario runs booked after $(elapsed)"; done ) &
heartbeat=$!
trap 'kill $heartbeat 2>/dev/null' EXIT

# runs one test filter with what is left of the budget; $1 = log name, the rest = environment
run_tests() {
  local log=$1 filter=$2; shift 2
  local left=$((deadline - $(date +%s)))
  if [ "$left" -le 0 ]; then
    echo "soak: time budget of ${budget_min} min spent; skipped $log"
    return 1
  fi
  env "$@" SOAK_LEDGER_DIR="$out" TEST_KAFKA=embedded \
    timeout --kill-after=30 "$left" dotnet test "$project" -c Debug --no-build --nologo \
    --filter "$filter" -- RunConfiguration.TestSessionTimeout=$((left * 1000)) > "$out/$log.log" 2>&1
}

echo "soak: fuzzer, $fuzz seeded mutations ($(elapsed))"
run_tests fuzz "FullyQualifiedName~FuzzedWebhookTests" FUZZ_REQUESTS="$fuzz" || status=1
cat "$out/fuzz.md" 2>/dev/null || echo "soak: the fuzzer wrote no summary (see $out/fuzz.log)"

first=1
while [ "$first" -le "$runs" ]; do
  n=$(( runs - first + 1 < block ? runs - first + 1 : block ))
  for s in "${scenarios[@]}"; do
    echo "soak: $s runs $first..$((first + n - 1)) of $runs ($(elapsed), $(booked)/$total booked)"
    run_tests "$s.$first" "FullyQualifiedName~FaultScenarioTests.$s" SOAK_RUNS="$n" SOAK_FIRST_RUN="$first" || status=1
    grep -E "Failed|Passed!" "$out/$s.$first.log" | tail -1
  done
  first=$((first + n))
done

kill $heartbeat 2>/dev/null
echo
echo "soak: $(booked)/$total scenario runs in $(elapsed) (N=$runs per scenario, fuzzer $fuzz)"
cat "$out/table.md" 2>/dev/null
cat "$out/fuzz.md" 2>/dev/null
if [ "$(booked)" -lt "$total" ]; then
  echo "soak: PARTIAL: $(booked) of $total runs completed"
  status=1
fi
if grep -q '"passed":false' "$out/runs.jsonl" 2>/dev/null; then
  echo "soak: some runs failed; their diagnosis is under the table"
  status=1
fi
exit $status
