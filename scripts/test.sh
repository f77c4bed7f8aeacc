#!/usr/bin/env bash
# make test: install what the suite needs, start a private RabbitMQ node, run everything.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=$(scripts/ensure-uv.sh)
"$uv" sync --frozen --all-packages --quiet

state=$(mktemp -d -t schoolgate-rabbitmq.XXXXXX)
trap 'scripts/rabbitmq.sh stop "$state"; rm -rf "$state"' EXIT
port=$("$uv" run python -c 'import schoolgate_kit.testing.infrastructure as i; print(i.free_port_pair())')
url=$(scripts/rabbitmq.sh start "$state" "$port")
echo "RabbitMQ test node: $url" >&2
export SCHOOLGATE_TEST_AMQP_URL="$url" SCHOOLGATE_REQUIRE_RABBITMQ=1
export SCHOOLGATE_TEST_RABBITMQ_NODE="$(cat "$state/nodename")" SCHOOLGATE_TEST_RABBITMQ_HOME="$state/home"
"$uv" run pytest "$@"
