#!/usr/bin/env bash
# The local stack: a real Apache Kafka broker (KRaft, assembled from Maven Central), Debian's redis-server, and
# Debian's prometheus with the platform's lag exporter, all on 127.0.0.1, with data under $ASSIST_DATA_DIR.
# Usage: stack.sh up|down|status|install
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)

KAFKA_VERSION=${ASSIST_KAFKA_VERSION:-3.9.1}
KAFKA_PORT=${ASSIST_KAFKA_PORT:-9092}
CONTROLLER_PORT=${ASSIST_KAFKA_CONTROLLER_PORT:-9093}
REDIS_PORT=${ASSIST_REDIS_PORT:-6379}
DATA_DIR=${ASSIST_DATA_DIR:-$root/.data}
CACHE_DIR=${ASSIST_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/assist-platform}
KAFKA_LIBS=$CACHE_DIR/kafka-$KAFKA_VERSION/libs
KAFKA_HEAP=${ASSIST_KAFKA_HEAP:-512M}
PROMETHEUS_PORT=${ASSIST_PROMETHEUS_PORT:-9090}
LAG_EXPORTER_PORT=${ASSIST_LAG_EXPORTER_PORT:-9308}
RAW_FORWARDER_PORT=${ASSIST_RAW_FORWARDER_PORT:-8085}  # the demo's raw forwarder serves /healthz and /metrics here
PY=$root/.venv/bin/python

say() { printf '%s\n' "stack: $*"; }

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

install_kafka() {
  if [ -f "$KAFKA_LIBS/.complete" ]; then return; fi
  command -v mvn >/dev/null || { say "Maven is required to assemble Kafka"; exit 1; }
  say "assembling Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIBS"
  rm -rf "$KAFKA_LIBS"
  local mvn_args=(-B -f "$here/kafka-pom.xml" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS")
  if [ -x "$PY" ] && "$PY" -c "import rich" 2>/dev/null; then  # a progress bar (plain lines off a terminal) counting the jars against the expected list
    (cd "$root" && "$PY" -m services.core.maven_progress --expected "$here/kafka-$KAFKA_VERSION-jars.txt" \
      -- mvn "${mvn_args[@]}")
  else
    mvn -q "${mvn_args[@]}"
  fi
  touch "$KAFKA_LIBS/.complete"
}

install_redis() {
  if command -v redis-server >/dev/null; then return; fi
  say "installing redis-server from Debian packages"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
}

install_prometheus() {
  if command -v prometheus >/dev/null && command -v promtool >/dev/null; then return; fi
  say "installing prometheus (with promtool) from Debian packages"
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
      prometheus >/dev/null; } || say "prometheus could not be installed; the stack runs without it"
  # The package may start its own daemon on 9090 with the system's configuration; the stack runs its own instead.
  if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
    $sudo systemctl disable --now prometheus >/dev/null 2>&1 && say "stopped and disabled the packaged prometheus service"
  fi
}

answers() { curl -fsS -m 2 -o /dev/null "$1" 2>/dev/null; }

start_lag_exporter() {
  local pidf=$DATA_DIR/prometheus/lag-exporter.pid
  if pid_alive "$pidf"; then say "lag exporter already running (pid $(cat "$pidf"))"; return; fi
  if answers "http://127.0.0.1:$LAG_EXPORTER_PORT/healthz"; then
    say "port $LAG_EXPORTER_PORT answers already (another stack's exporter?): set ASSIST_LAG_EXPORTER_PORT"; return; fi
  mkdir -p "$DATA_DIR/prometheus"
  (cd "$root" && ASSIST_KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT" exec "$PY" -m services.operations lag-exporter \
    --port "$LAG_EXPORTER_PORT") </dev/null > "$DATA_DIR/prometheus/lag-exporter.log" 2>&1 &
  echo $! > "$pidf"
  for _ in $(seq 1 50); do
    if answers "http://127.0.0.1:$LAG_EXPORTER_PORT/healthz"; then
      say "lag exporter on http://127.0.0.1:$LAG_EXPORTER_PORT/metrics (pid $(cat "$pidf"))"; return; fi
    pid_alive "$pidf" || break
    sleep 0.2
  done
  say "lag exporter did not start; see $DATA_DIR/prometheus/lag-exporter.log"; tail -5 "$DATA_DIR/prometheus/lag-exporter.log"
}

start_prometheus() {
  local dir=$DATA_DIR/prometheus pidf=$DATA_DIR/prometheus/prometheus.pid
  if ! command -v prometheus >/dev/null; then say "prometheus is not installed; the stack runs without it"; return; fi
  if pid_alive "$pidf"; then say "prometheus already running (pid $(cat "$pidf"))"; return; fi
  if answers "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; then
    say "port $PROMETHEUS_PORT answers already (another stack's prometheus?): set ASSIST_PROMETHEUS_PORT"; return; fi
  mkdir -p "$dir/data"
  # The services' ports as the settings in this environment give them (ASSIST_*_PORT), on loopback.
  (cd "$root" && "$PY" -m services.operations scrape-config "$dir/prometheus.yml" --prometheus-port "$PROMETHEUS_PORT" \
    --lag-exporter-port "$LAG_EXPORTER_PORT" --raw-forwarder-port "$RAW_FORWARDER_PORT" \
    --rules "$root/deploy/prometheus/rules/*.yml")
  promtool check config --syntax-only "$dir/prometheus.yml" >/dev/null
  prometheus --config.file="$dir/prometheus.yml" --storage.tsdb.path="$dir/data" --storage.tsdb.retention.time=7d \
    --web.listen-address="127.0.0.1:$PROMETHEUS_PORT" --web.enable-lifecycle \
    --log.level=warn </dev/null > "$dir/prometheus.log" 2>&1 &  # info lines name the package builder's e-mail
  echo $! > "$pidf"
  for _ in $(seq 1 60); do
    if answers "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; then
      say "prometheus on http://127.0.0.1:$PROMETHEUS_PORT (pid $(cat "$pidf"))"; return; fi
    pid_alive "$pidf" || break
    sleep 0.5
  done
  say "prometheus did not become ready; the stack runs without it (see $dir/prometheus.log)"
  tail -5 "$dir/prometheus.log"
}

kafka_java() {
  exec java -Xmx"$KAFKA_HEAP" -Xms"$KAFKA_HEAP" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$here/log4j.properties" -Dkafka.logs.dir="$DATA_DIR/kafka/logs" \
    -cp "$KAFKA_LIBS/*" "$@"
}

kafka_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$KAFKA_PORT") 2>/dev/null && "$root/.venv/bin/python" - "$KAFKA_PORT" <<'PY'
import asyncio, sys
from aiokafka.admin import AIOKafkaAdminClient
async def main() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=f"127.0.0.1:{sys.argv[1]}", request_timeout_ms=3000)
    await admin.start()
    try:
        await admin.describe_cluster()
    finally:
        await admin.close()
asyncio.run(main())
PY
}

start_kafka() {
  local pidf=$DATA_DIR/kafka/kafka.pid
  if pid_alive "$pidf"; then say "kafka already running (pid $(cat "$pidf"))"; return; fi
  mkdir -p "$DATA_DIR/kafka/logs"
  sed -e "s#@KAFKA_PORT@#$KAFKA_PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@DATA_DIR@#$DATA_DIR#g" \
    "$here/server.properties.in" > "$DATA_DIR/kafka/server.properties"
  if [ ! -f "$DATA_DIR/kafka/data/meta.properties" ]; then
    local cluster_id; cluster_id=$( (kafka_java kafka.tools.StorageTool random-uuid) )
    (kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$DATA_DIR/kafka/server.properties") >/dev/null
    say "formatted KRaft storage (cluster $cluster_id)"
  fi
  (kafka_java kafka.Kafka "$DATA_DIR/kafka/server.properties") </dev/null \
    > "$DATA_DIR/kafka/logs/console.log" 2>&1 &
  echo $! > "$pidf"
  say "starting kafka $KAFKA_VERSION on 127.0.0.1:$KAFKA_PORT (pid $!)"
  for _ in $(seq 1 120); do
    if kafka_answers >/dev/null 2>&1; then say "kafka answers metadata requests"; return; fi
    pid_alive "$pidf" || { say "kafka exited; see $DATA_DIR/kafka/logs"; tail -20 "$DATA_DIR/kafka/logs/console.log"; exit 1; }
    sleep 1
  done
  say "kafka did not answer within 120 s"; exit 1
}

start_redis() {
  local pidf=$DATA_DIR/redis/redis.pid
  if pid_alive "$pidf"; then say "redis already running (pid $(cat "$pidf"))"; return; fi
  mkdir -p "$DATA_DIR/redis"
  redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$DATA_DIR/redis" --appendonly yes \
    --appendfsync everysec --daemonize yes --pidfile "$pidf" --logfile "$DATA_DIR/redis/redis.log" --save ''
  for _ in $(seq 1 50); do
    if redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then say "redis answers on 127.0.0.1:$REDIS_PORT"; return; fi
    sleep 0.2
  done
  say "redis did not answer"; exit 1
}

stop_pid() {
  local name=$1 pidf=$2
  if pid_alive "$pidf"; then
    local pid; pid=$(cat "$pidf"); kill "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    say "$name stopped"
  else
    say "$name not running"
  fi
  rm -f "$pidf"
}

status() {
  local rc=0  # Kafka and Redis make the stack; Prometheus and the lag exporter are reported, not required.
  if pid_alive "$DATA_DIR/kafka/kafka.pid" && kafka_answers >/dev/null 2>&1; then
    say "kafka   up   127.0.0.1:$KAFKA_PORT pid $(cat "$DATA_DIR/kafka/kafka.pid")"
  else say "kafka   down"; rc=1; fi
  if pid_alive "$DATA_DIR/redis/redis.pid" && redis-cli -p "$REDIS_PORT" ping 2>/dev/null | grep -q PONG; then
    say "redis   up   127.0.0.1:$REDIS_PORT pid $(cat "$DATA_DIR/redis/redis.pid")"
  else say "redis   down"; rc=1; fi
  if pid_alive "$DATA_DIR/prometheus/prometheus.pid" && answers "http://127.0.0.1:$PROMETHEUS_PORT/-/ready"; then
    say "prometheus up http://127.0.0.1:$PROMETHEUS_PORT pid $(cat "$DATA_DIR/prometheus/prometheus.pid")"
  else say "prometheus down (the stack works without it; \`up\` starts it)"; fi
  if pid_alive "$DATA_DIR/prometheus/lag-exporter.pid" && answers "http://127.0.0.1:$LAG_EXPORTER_PORT/healthz"; then
    say "lag     up   http://127.0.0.1:$LAG_EXPORTER_PORT/metrics pid $(cat "$DATA_DIR/prometheus/lag-exporter.pid")"
  else say "lag     down"; fi
  # The platform's processes (those the demo starts), at the ports the settings in this environment give.
  (cd "$root" && "$PY" -m services.operations services-status --raw-forwarder-port "$RAW_FORWARDER_PORT") \
    | sed 's/^/stack: service /' || true
  return $rc
}

case "${1:-}" in
  install) install_kafka; install_redis; install_prometheus ;;
  up)
    install_kafka; install_redis; install_prometheus; start_kafka; start_redis
    ASSIST_KAFKA_BOOTSTRAP="127.0.0.1:$KAFKA_PORT" "$PY" -m services.core create-topics
    start_lag_exporter; start_prometheus ;;
  down)
    stop_pid prometheus "$DATA_DIR/prometheus/prometheus.pid"; stop_pid "lag exporter" "$DATA_DIR/prometheus/lag-exporter.pid"
    stop_pid kafka "$DATA_DIR/kafka/kafka.pid"; stop_pid redis "$DATA_DIR/redis/redis.pid" ;;
  kafka-down) stop_pid kafka "$DATA_DIR/kafka/kafka.pid" ;;
  kafka-up) install_kafka; start_kafka ;;
  status) status ;;
  *) echo "usage: $0 up|down|status|install|kafka-up|kafka-down" >&2; exit 2 ;;
esac
