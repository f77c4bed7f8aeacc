#!/usr/bin/env bash
# make test: install what the suite needs, start a private RabbitMQ node, run everything.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=$(scripts/ensure-uv.sh)
"$uv" sync --frozen --all-packages --quiet

# Browser journeys: Debian's Chromium (Playwright's own download does not work here) and
# axe-core from npm for the accessibility checks.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium..." >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >&2
  else
    echo "Chromium is needed for the browser tests: run 'sudo apt-get install chromium'" >&2
    exit 1
  fi
fi
if [ ! -f tests/browser/node_modules/axe-core/axe.min.js ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --silent)
fi

state=$(mktemp -d -t schoolgate-rabbitmq.XXXXXX)
trap 'scripts/rabbitmq.sh stop "$state"; rm -rf "$state"' EXIT
port=$("$uv" run python -c 'import schoolgate_kit.testing.infrastructure as i; print(i.free_port_pair())')
url=$(scripts/rabbitmq.sh start "$state" "$port")
echo "RabbitMQ test node: $url" >&2
export SCHOOLGATE_TEST_AMQP_URL="$url" SCHOOLGATE_REQUIRE_RABBITMQ=1
export SCHOOLGATE_TEST_RABBITMQ_NODE="$(cat "$state/nodename")" SCHOOLGATE_TEST_RABBITMQ_HOME="$state/home"
# Two test files at a time (a file's tests share its servers, so they stay on one worker):
# most of the suite waits on servers starting, browsers and the broker, not on a core.
workers=$(nproc); [ "$workers" -gt 4 ] && workers=4
"$uv" run pytest -n "${SCHOOLGATE_TEST_WORKERS:-$workers}" --dist loadfile "$@"
