#!/usr/bin/env bash
# make ctl ARGS="...": runs streamctl. Builds it first only when a source it is built from is newer
# than its dll, quietly: the build's output is shown only when the build fails. Without
# KAFKA_BOOTSTRAP_SERVERS it talks to the broker of a running `make run` (artifacts/run/kafka.env).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
CONFIG=${CONFIG:-Release}
dll="$root/services/Streaming.Ctl/bin/$CONFIG/net10.0/streamctl.dll"

# streamctl and every shared library (a superset of its references: a change there at worst costs
# one quiet build), plus the build settings every project imports.
stale() {
  [ -f "$dll" ] || return 0
  [ -n "$(find "$root/services/Streaming.Ctl" "$root/shared" \
      \( -name bin -o -name obj \) -prune -o \
      -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \) -newer "$dll" -print -quit)" ] && return 0
  [ -n "$(find "$root" -maxdepth 1 -type f \( -name 'Directory.*.props' -o -name 'Directory.*.targets' \) -newer "$dll" -print -quit)" ]
}

if stale; then
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if ! dotnet build "$root/services/Streaming.Ctl" -c "$CONFIG" --nologo -v q -clp:NoSummary > "$log" 2>&1; then
    cat "$log" >&2
    echo "make ctl: building streamctl failed" >&2
    exit 1
  fi
  # An up-to-date build leaves the dll's time alone; touch it so the next call skips the build.
  touch "$dll"
fi

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ] && [ -f "$root/artifacts/run/kafka.env" ]; then
  set -a
  # shellcheck disable=SC1091
  . "$root/artifacts/run/kafka.env"
  set +a
fi
exec dotnet "$dll" "$@"
