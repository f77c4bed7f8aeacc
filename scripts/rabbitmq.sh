#!/usr/bin/env bash
# Start or stop a private RabbitMQ node for the test run: its own data, logs, ports and cookie
# under one directory, so it never touches a system broker.
#   scripts/rabbitmq.sh start DIR PORT   prints the AMQP URL once the node answers
# PORT and PORT+1 (Erlang distribution) must avoid 25672 and 35672-35682, which the
# rabbitmqctl tools take for their own distribution.
#   scripts/rabbitmq.sh stop DIR
set -euo pipefail
cmd=${1:?start or stop}
dir=${2:?state directory}

rabbit_env() {
  export HOME="$dir/home" RABBITMQ_MNESIA_BASE="$dir/mnesia" RABBITMQ_LOG_BASE="$dir/log"
  export RABBITMQ_ENABLED_PLUGINS_FILE="$dir/enabled_plugins" RABBITMQ_CONFIG_FILE="$dir/rabbitmq.conf"
  export RABBITMQ_PID_FILE="$dir/rabbit.pid"
}

case "$cmd" in
  start)
    port=${3:?AMQP port}
    if [ ! -x /usr/lib/rabbitmq/bin/rabbitmq-server ]; then
      if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Debian's rabbitmq-server..." >&2
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server) >&2
        # the package starts a system broker; the tests use their own node
        (service rabbitmq-server stop || true) >/dev/null 2>&1
      else
        echo "RabbitMQ is needed for the tests: run 'sudo apt-get install rabbitmq-server'" >&2
        exit 1
      fi
    fi
    mkdir -p "$dir/home" "$dir/mnesia" "$dir/log"
    rabbit_env
    echo "[]." > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    # loopback only, so test traffic never leaves this machine; a low disk limit, so a
    # crowded CI disk does not block publishers
    printf 'listeners.tcp.1 = 127.0.0.1:%s\ndisk_free_limit.absolute = 50MB\n' "$port" > "$dir/rabbitmq.conf"
    # one name per directory, so a restarted node finds its own queues again
    [ -f "$dir/nodename" ] || echo "schoolgate-test-$$@localhost" > "$dir/nodename"
    node=$(cat "$dir/nodename")
    # the ports go to the server alone: rabbitmqctl given them tries to take them itself
    RABBITMQ_NODENAME="$node" RABBITMQ_DIST_PORT=$((port + 1)) \
      nohup /usr/lib/rabbitmq/bin/rabbitmq-server > "$dir/log/console.log" 2>&1 &
    echo $! > "$dir/server.pid"
    # await_startup answers "not running" at once until the node has registered, so ask again
    deadline=$((SECONDS + 120))
    until /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" await_startup --timeout 60 >/dev/null 2>&1; do
      if [ $SECONDS -ge $deadline ] || ! kill -0 "$(cat "$dir/server.pid")" 2>/dev/null; then
        echo "RabbitMQ did not start; its log:" >&2
        tail -n 40 "$dir/log/console.log" >&2
        exit 1
      fi
      sleep 1
    done
    echo "amqp://guest:guest@127.0.0.1:$port/"
    ;;
  stop)
    rabbit_env
    node=$(cat "$dir/nodename" 2>/dev/null || true)
    if [ -n "$node" ]; then
      timeout 30 /usr/lib/rabbitmq/bin/rabbitmqctl -n "$node" stop >/dev/null 2>&1 || true
    fi
    if [ -f "$dir/server.pid" ]; then
      kill "$(cat "$dir/server.pid")" 2>/dev/null || true
    fi
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
