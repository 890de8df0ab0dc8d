#!/usr/bin/env bash
# make run: the whole pipeline on one machine. The embedded Kafka unless KAFKA_BOOTSTRAP_SERVERS is
# set, its topics, the ingress on INGRESS_PORT, one worker per lane and (unless both *_DELIVERY_URLs
# are set) the local sink. "pipeline up" is printed only once every process it started answers
# /readyz; if one exits or is not ready within RUN_READY_SECONDS, the rest are stopped, the process
# is named with its last log lines, and the exit code is non-zero. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

CONFIG=${CONFIG:-Release}
BIN=bin/$CONFIG/net10.0
RUN=artifacts/run

export INGRESS_PORT=${INGRESS_PORT:-8080}
MESSAGES_WORKER_PORT=${MESSAGES_WORKER_PORT:-8081}
STATUSES_WORKER_PORT=${STATUSES_WORKER_PORT:-8082}
SINK_PORT=${SINK_PORT:-8090}
RUN_READY_SECONDS=${RUN_READY_SECONDS:-120}
need_sink=""
if [ -z "${MESSAGES_DELIVERY_URL:-}" ] || [ -z "${STATUSES_DELIVERY_URL:-}" ]; then need_sink=1; fi

fail() { echo "make run: $*" >&2; exit 1; }

# --- Ports, before anything starts (a worker that cannot listen used to die behind "pipeline up").
port_taken() { # port: something listens on it (any address), or answers on loopback
  if command -v ss >/dev/null && [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]; then return 0; fi
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}
claimed="" # " port=NAME" for each port checked so far (no associative arrays: macOS has bash 3)
check_port() { # variable name
  local name=$1 port=${!1} owner
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || fail "$name=$port is not a TCP port (1-65535)"
  owner=$(tr ' ' '\n' <<< "$claimed" | sed -n "s/^$port=//p")
  [ -z "$owner" ] || fail "$name and $owner are both $port; give each its own port"
  claimed="$claimed $port=$name"
  if port_taken "$port"; then
    fail "port $port ($name) is already in use; stop what listens there (ss -ltnp 'sport = :$port') or set $name to a free port"
  fi
}
check_port INGRESS_PORT
check_port MESSAGES_WORKER_PORT
check_port STATUSES_WORKER_PORT
[ -z "$need_sink" ] || check_port SINK_PORT
[[ "$RUN_READY_SECONDS" =~ ^[0-9]+$ ]] && [ "$RUN_READY_SECONDS" -ge 1 ] || fail "RUN_READY_SECONDS=$RUN_READY_SECONDS is not a positive number of seconds"

scripts/install-tools.sh
mkdir -p "$RUN"

echo "building ($CONFIG)..." >&2
build_log="$RUN/build.log"
if ! dotnet build scripts/run.slnf -c "$CONFIG" --nologo -v q -clp:NoSummary > "$build_log" 2>&1; then
  cat "$build_log" >&2
  fail "the build failed"
fi

# Development defaults, overridable from the environment. Never use these in production.
export WHATSAPP_APP_SECRET=${WHATSAPP_APP_SECRET:-dev-app-secret}
export WHATSAPP_VERIFY_TOKEN=${WHATSAPP_VERIFY_TOKEN:-dev-verify-token}
export DELIVERY_SIGNING_SECRET=${DELIVERY_SIGNING_SECRET:-whsec_ZGV2LWRlbGl2ZXJ5LXNpZ25pbmcta2V5LTMyYnl0ZXMh}
export TOPIC_PREFIX=${TOPIC_PREFIX:-whatsapp}

# Parallel arrays: what was started, its pid, and the /readyz it must answer ("" for the broker).
names=()
pids=()
ready_urls=()
broker_pid=""

# Services first, so workers can commit and leave their group; the broker last.
stop_all() {
  trap - INT TERM EXIT
  echo >&2
  echo "stopping..." >&2
  for pid in "${pids[@]}"; do [ "$pid" = "$broker_pid" ] || kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do [ "$pid" = "$broker_pid" ] || wait "$pid" 2>/dev/null || true; done
  [ -z "$broker_pid" ] || { kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; }
  rm -f "$RUN/kafka.env"
}
# Ctrl-C (or a TERM) is the normal way to stop: everything stops and the run ends with 0.
trap stop_all EXIT
trap 'stop_all; exit 0' INT TERM

# Each process's output goes to the terminal, prefixed, and to artifacts/run/<name>.log for the
# failure report.
start() { # name, readyz URL, command...
  local name=$1 url=$2; shift 2
  : > "$RUN/$name.log"
  ( exec "$@" ) > >(sed -u "s/^/[$name] /" | tee -a "$RUN/$name.log") 2>&1 &
  names+=("$name")
  pids+=($!)
  ready_urls+=("$url")
}

# Names the process, shows its last lines, and exits non-zero (the EXIT trap stops the rest).
report_failure() { # index, what happened
  local i=$1 what=$2 log="$RUN/${names[$1]}.log"
  sleep 0.5 # let its last lines reach the log
  {
    echo
    echo "make run: ${names[$i]} $what; stopping the rest. Its last log lines ($log):"
    if [ -s "$log" ]; then tail -n 20 "$log" | sed 's/^/    /'; else echo "    (nothing logged yet)"; fi
  } >&2
  exit 1
}

# Not in $(...): only this shell can wait for its children.
exited() { # index: when the process is gone, reports it with its exit code (and exits)
  kill -0 "${pids[$1]}" 2>/dev/null && return 0
  local code=0
  wait "${pids[$1]}" 2>/dev/null || code=$?
  report_failure "$1" "exited with code $code$2"
}

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  rm -f "$RUN/broker.out"
  : > "$RUN/broker.log"
  ( exec dotnet "services/Streaming.DevBroker/$BIN/Streaming.DevBroker.dll" ) > "$RUN/broker.out" \
    2> >(sed -u 's/^/[broker] /' | tee -a "$RUN/broker.log" >&2) &
  broker_pid=$!
  names+=(broker); pids+=("$broker_pid"); ready_urls+=("")
  line=""
  for _ in $(seq 1 $((RUN_READY_SECONDS * 10))); do
    line=$(head -n 1 "$RUN/broker.out" 2>/dev/null || true)
    [[ "$line" == KAFKA_BOOTSTRAP_SERVERS=* ]] && break
    exited 0 " before printing its address"
    sleep 0.1
  done
  [[ "$line" == KAFKA_BOOTSTRAP_SERVERS=* ]] || report_failure 0 "printed no address within ${RUN_READY_SECONDS}s"
  export "${line?}"
  # The embedded broker holds each rebalance open for the group's session timeout minus 1 s, and a replica
  # joining takes two (cooperative): 6 s (what the tests use) gets a `make worker` its share in ~10 s, not ~28 s.
  export WORKER_SESSION_TIMEOUT_MS=${WORKER_SESSION_TIMEOUT_MS:-6000}
  # `make ctl` in another terminal picks the embedded broker's address up from here.
  printf '%s\nWORKER_METRICS_URLS=http://127.0.0.1:%s/metrics,http://127.0.0.1:%s/metrics\n' \
    "$line" "$MESSAGES_WORKER_PORT" "$STATUSES_WORKER_PORT" > "$RUN/kafka.env"
else
  echo "using KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS; provisioning topics" >&2
  dotnet "services/Streaming.Ctl/$BIN/streamctl.dll" topics create
fi

start ingress "http://127.0.0.1:$INGRESS_PORT/readyz" dotnet "services/Streaming.Ingress/$BIN/Streaming.Ingress.dll"
if [ -n "$need_sink" ]; then
  start sink "http://127.0.0.1:$SINK_PORT/readyz" dotnet "services/Streaming.DevBroker/$BIN/Streaming.DevBroker.dll" sink --port "$SINK_PORT"
fi
start messages-worker "http://127.0.0.1:$MESSAGES_WORKER_PORT/readyz" env WORKER_LANE=messages WORKER_PORT="$MESSAGES_WORKER_PORT" \
  DELIVERY_URL="${MESSAGES_DELIVERY_URL:-http://127.0.0.1:$SINK_PORT/messages}" \
  dotnet "services/Streaming.Worker/$BIN/Streaming.Worker.dll"
start statuses-worker "http://127.0.0.1:$STATUSES_WORKER_PORT/readyz" env WORKER_LANE=statuses WORKER_PORT="$STATUSES_WORKER_PORT" \
  DELIVERY_URL="${STATUSES_DELIVERY_URL:-http://127.0.0.1:$SINK_PORT/statuses}" \
  dotnet "services/Streaming.Worker/$BIN/Streaming.Worker.dll"

# --- Every process answers /readyz, or the run stops and says which did not.
deadline=$((SECONDS + RUN_READY_SECONDS))
ready=()
while :; do
  waiting=0
  for i in "${!names[@]}"; do
    exited "$i" " before it was ready"
    [ -n "${ready_urls[$i]}" ] && [ -z "${ready[$i]:-}" ] || continue
    if curl -fsS -m 2 "${ready_urls[$i]}" >/dev/null 2>&1; then ready[$i]=1; else waiting=$((waiting + 1)); fi
  done
  [ "$waiting" -gt 0 ] || break
  if [ "$SECONDS" -ge "$deadline" ]; then
    for i in "${!names[@]}"; do
      if [ -n "${ready_urls[$i]}" ] && [ -z "${ready[$i]:-}" ]; then
        report_failure "$i" "did not answer ${ready_urls[$i]} within ${RUN_READY_SECONDS}s (RUN_READY_SECONDS)"
      fi
    done
  fi
  sleep 0.5
done

sample="$RUN/sample-webhook.json"
cp tests/fixtures/whatsapp/mixed-batch.json "$sample"
signature="sha256=$(openssl dgst -sha256 -hmac "$WHATSAPP_APP_SECRET" -hex < "$sample" | awk '{print $NF}')"
sink_line=""
[ -z "$need_sink" ] || sink_line="  local sink http://127.0.0.1:$SINK_PORT"

cat >&2 <<MSG

  pipeline up: ingress http://127.0.0.1:$INGRESS_PORT  (KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS)
  workers: messages http://127.0.0.1:$MESSAGES_WORKER_PORT  statuses http://127.0.0.1:$STATUSES_WORKER_PORT$sink_line
  post a signed sample webhook:

    curl -i -X POST http://127.0.0.1:$INGRESS_PORT/webhook -H 'Content-Type: application/json' \\
      -H 'X-Hub-Signature-256: $signature' --data-binary @$sample

  in another terminal: make ctl ARGS="lag"   make ctl ARGS="dlq list --lane messages"
  or any Kafka tool:   kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $TOPIC_PREFIX.messages -e
  watch retries and dead letters: SINK_FAIL_STATUS=503 make run  (or 404)
  Ctrl-C stops everything.

MSG

# Runs until Ctrl-C or until a process exits: polled, because `wait -n` on a process that has
# already been reaped fails ("no such job") instead of returning.
while :; do
  for i in "${!names[@]}"; do
    exited "$i" ""
  done
  sleep 1
done
