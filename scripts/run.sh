#!/usr/bin/env bash
# make run: the whole pipeline on one machine. The embedded Kafka unless KAFKA_BOOTSTRAP_SERVERS is
# set, its topics, the ingress on INGRESS_PORT and one worker per lane. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-tools.sh

CONFIG=${CONFIG:-Release}
BIN=bin/$CONFIG/net10.0
RUN=artifacts/run
mkdir -p "$RUN"

echo "building ($CONFIG)..." >&2
dotnet build Streaming.sln -c "$CONFIG" --nologo -v q >&2

# Development defaults, overridable from the environment. Never use these in production.
export WHATSAPP_APP_SECRET=${WHATSAPP_APP_SECRET:-dev-app-secret}
export WHATSAPP_VERIFY_TOKEN=${WHATSAPP_VERIFY_TOKEN:-dev-verify-token}
export DELIVERY_SIGNING_SECRET=${DELIVERY_SIGNING_SECRET:-whsec_ZGV2LWRlbGl2ZXJ5LXNpZ25pbmcta2V5LTMyYnl0ZXMh}
export INGRESS_PORT=${INGRESS_PORT:-8080}
export TOPIC_PREFIX=${TOPIC_PREFIX:-whatsapp}

pids=()
broker_pid=""
stopping=""
# Services first, so workers can commit and leave their group; the broker last.
stop_all() {
  trap - INT TERM EXIT
  stopping=1
  echo >&2
  echo "stopping..." >&2
  for pid in "${pids[@]}"; do [ "$pid" = "$broker_pid" ] || kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do [ "$pid" = "$broker_pid" ] || wait "$pid" 2>/dev/null || true; done
  [ -z "$broker_pid" ] || { kill -TERM "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; }
}
trap stop_all INT TERM EXIT

start() { # name, command...
  local name=$1; shift
  ( exec "$@" ) > >(sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
}

if [ -z "${KAFKA_BOOTSTRAP_SERVERS:-}" ]; then
  rm -f "$RUN/broker.out"
  ( exec dotnet "services/Streaming.DevBroker/$BIN/Streaming.DevBroker.dll" ) > "$RUN/broker.out" 2> >(sed -u 's/^/[broker] /' >&2) &
  broker_pid=$!
  pids+=("$broker_pid")
  for _ in $(seq 1 300); do
    line=$(head -n 1 "$RUN/broker.out" 2>/dev/null || true)
    [[ "$line" == KAFKA_BOOTSTRAP_SERVERS=* ]] && break
    sleep 0.1
  done
  [[ "${line:-}" == KAFKA_BOOTSTRAP_SERVERS=* ]] || { echo "the embedded broker did not start" >&2; exit 1; }
  export "${line?}"
  # `make ctl` in another terminal picks the embedded broker's address up from here.
  printf '%s\nWORKER_METRICS_URLS=http://127.0.0.1:8081/metrics,http://127.0.0.1:8082/metrics\n' "$line" > "$RUN/kafka.env"
else
  echo "using KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS; provisioning topics" >&2
  dotnet "services/Streaming.Ctl/$BIN/streamctl.dll" topics create
fi

start ingress dotnet "services/Streaming.Ingress/$BIN/Streaming.Ingress.dll"

if [ -f "services/Streaming.Worker/$BIN/Streaming.Worker.dll" ]; then
  SINK_PORT=${SINK_PORT:-8090}
  if [ -z "${MESSAGES_DELIVERY_URL:-}" ] || [ -z "${STATUSES_DELIVERY_URL:-}" ]; then
    start sink dotnet "services/Streaming.DevBroker/$BIN/Streaming.DevBroker.dll" sink --port "$SINK_PORT"
  fi
  start messages-worker env WORKER_LANE=messages WORKER_PORT=8081 \
    DELIVERY_URL="${MESSAGES_DELIVERY_URL:-http://127.0.0.1:$SINK_PORT/messages}" \
    dotnet "services/Streaming.Worker/$BIN/Streaming.Worker.dll"
  start statuses-worker env WORKER_LANE=statuses WORKER_PORT=8082 \
    DELIVERY_URL="${STATUSES_DELIVERY_URL:-http://127.0.0.1:$SINK_PORT/statuses}" \
    dotnet "services/Streaming.Worker/$BIN/Streaming.Worker.dll"
fi

sample="$RUN/sample-webhook.json"
cp tests/fixtures/whatsapp/mixed-batch.json "$sample"
signature="sha256=$(openssl dgst -sha256 -hmac "$WHATSAPP_APP_SECRET" -hex < "$sample" | awk '{print $NF}')"
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$INGRESS_PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done

cat >&2 <<MSG

  pipeline up: ingress http://127.0.0.1:$INGRESS_PORT  (KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS)
  post a signed sample webhook:

    curl -i -X POST http://127.0.0.1:$INGRESS_PORT/webhook -H 'Content-Type: application/json' \\
      -H 'X-Hub-Signature-256: $signature' --data-binary @$sample

  in another terminal: make ctl ARGS="lag"   make ctl ARGS="dlq list --lane messages"
  or any Kafka tool:   kcat -b $KAFKA_BOOTSTRAP_SERVERS -C -t $TOPIC_PREFIX.messages -e
  watch retries and dead letters: SINK_FAIL_STATUS=503 make run  (or 404)
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}" || true
rm -f "$RUN/kafka.env"
[ -n "$stopping" ] || echo "a process exited; stopping the rest" >&2
