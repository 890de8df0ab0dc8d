#!/usr/bin/env bash
# make bench: builds and runs the benchmarks (tests/Streaming.Benchmarks). Prints markdown tables and
# writes docs/benchmarks/<name>.json and docs/benchmarks/results.md. Exits non-zero only when the build
# fails or a benchmark crashes, never because of a number. Arguments pass through, e.g.
#   scripts/bench.sh --quick                  a short smoke run (results under artifacts/bench-quick/)
#   scripts/bench.sh ingress-http priority    a subset
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh || exit 1

# The HTTP load generator is wrk (Debian's package); without it the benchmarks use their .NET client
# and say so in every table's machine line.
if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    if [ ! -f /tmp/.streaming-apt-updated ]; then
      DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 && touch /tmp/.streaming-apt-updated
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1 \
      || echo "bench: could not install wrk; using the .NET load client" >&2
  else
    echo "bench: wrk is not installed (and this is not root); using the .NET load client" >&2
  fi
fi

# The benchmark project builds everything it runs (ingress, worker, embedded Kafka, test hosts).
dotnet build tests/Streaming.Benchmarks -c Release --nologo -v q || exit 1
exec dotnet tests/Streaming.Benchmarks/bin/Release/net10.0/Streaming.Benchmarks.dll "$@"
