#!/usr/bin/env bash
# make worker LANE=messages|statuses: one more worker replica of a lane, in the foreground, against a
# running broker: KAFKA_BOOTSTRAP_SERVERS, or the embedded broker of a running `make run`
# (artifacts/run/kafka.env). It joins the lane's consumer group (<prefix>-<lane>-worker) and takes its
# share of the main topic and of each retry tier. Run it once per extra replica, each in its own
# terminal; Ctrl-C stops it (the group hands its partitions back to the others).
#   WORKER_PORT    its /healthz /readyz /metrics port (default: the first free one from 8083)
#   DELIVERY_URL   where it delivers (default: <LANE>_DELIVERY_URL, else make run's local sink on SINK_PORT)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
CONFIG=${CONFIG:-Release}
dll="$root/services/Streaming.Worker/bin/$CONFIG/net10.0/Streaming.Worker.dll"

fail() { echo "make worker: $*" >&2; exit 1; }

lane=${LANE:-${WORKER_LANE:-}}
case "$lane" in
  messages|statuses) ;;
  "") fail "which lane? make worker LANE=messages (or LANE=statuses)" ;;
  *) fail "LANE must be messages or statuses (got '$lane')" ;;
esac

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  env_file="$root/artifacts/run/kafka.env"
  [ -f "$env_file" ] || fail "no broker: start \`make run\` (or \`make dev-broker\` and set KAFKA_BOOTSTRAP_SERVERS from its first line), or set KAFKA_BOOTSTRAP_SERVERS"
  KAFKA_BOOTSTRAP_SERVERS=$(sed -n 's/^KAFKA_BOOTSTRAP_SERVERS=//p' "$env_file")
  [ -n "$KAFKA_BOOTSTRAP_SERVERS" ] || fail "$env_file names no KAFKA_BOOTSTRAP_SERVERS"
  # As make run's workers on its embedded broker (see scripts/run.sh): short rebalances there.
  export WORKER_SESSION_TIMEOUT_MS=${WORKER_SESSION_TIMEOUT_MS:-6000}
fi
export KAFKA_BOOTSTRAP_SERVERS

port_taken() { # port: something listens on it (any address), or answers on loopback
  if command -v ss >/dev/null && [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; then return 0; fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
if [ -z "${WORKER_PORT:-}" ]; then
  WORKER_PORT=8083
  while port_taken "$WORKER_PORT"; do WORKER_PORT=$((WORKER_PORT + 1)); done
elif port_taken "$WORKER_PORT"; then
  fail "port $WORKER_PORT (WORKER_PORT) is already in use; pick another or leave WORKER_PORT unset"
fi

lane_url_var="$(tr '[:lower:]' '[:upper:]' <<< "$lane")_DELIVERY_URL"
DELIVERY_URL=${DELIVERY_URL:-${!lane_url_var:-http://127.0.0.1:${SINK_PORT:-8090}/$lane}}

# Built only when a source it is built from is newer than its dll, quietly (as scripts/ctl.sh).
stale() {
  [ -f "$dll" ] || return 0
  [ -n "$(find "$root/services/Streaming.Worker" "$root/shared" \( -name bin -o -name obj \) -prune -o \
      -type f \( -name '*.cs' -o -name '*.csproj' -o -name '*.json' \) -newer "$dll" -print -quit)" ]
}
if stale; then
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  if ! dotnet build "$root/services/Streaming.Worker" -c "$CONFIG" --nologo -v q -clp:NoSummary > "$log" 2>&1; then
    cat "$log" >&2
    fail "building the worker failed"
  fi
  touch "$dll"
  rm -f "$log"
  trap - EXIT
fi

# make run's development defaults, so the replica reads the same topics and signs like its workers.
export WORKER_LANE=$lane WORKER_PORT DELIVERY_URL
export DELIVERY_SIGNING_SECRET=${DELIVERY_SIGNING_SECRET:-whsec_ZGV2LWRlbGl2ZXJ5LXNpZ25pbmcta2V5LTMyYnl0ZXMh}
export TOPIC_PREFIX=${TOPIC_PREFIX:-whatsapp}
echo "make worker: one more $lane worker in group $TOPIC_PREFIX-$lane-worker: http://127.0.0.1:$WORKER_PORT (/readyz, /metrics), delivering to $DELIVERY_URL, broker $KAFKA_BOOTSTRAP_SERVERS; Ctrl-C stops it" >&2
exec dotnet "$dll"
