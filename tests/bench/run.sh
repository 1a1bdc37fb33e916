#!/usr/bin/env bash
# make bench: every figure beside its floor from the same run, written to BENCHMARKS.md.
# Builds the release binary, finds a Docker engine (the private test engine when
# $STACKWIZ_TEST_ENGINE_DIR/env.sh exists, else the machine's own), then runs
# tests/bench/bench.py, which fails on the first command that fails. HOME and XDG_* are
# replaced inside the benchmark, but DOCKER_CONFIG keeps pointing at the real docker config
# (where the Compose plugin lives), so `docker compose` is the real one.
# BENCH_RUNS (default 20) sets the runs per figure.
set -euo pipefail
cd "$(dirname "$0")/../.."

env_sh=${STACKWIZ_TEST_ENGINE_DIR:-/tmp/swd}/env.sh
if [ -f "$env_sh" ]; then
  # shellcheck disable=SC1090
  . "$env_sh"
  echo "bench: engine from $env_sh ($DOCKER_HOST)"
else
  echo "bench: no $env_sh; using the machine's own engine"
fi
export DOCKER_CONFIG=${DOCKER_CONFIG:-$HOME/.docker}
: "${STACKWIZ_TEST_IMAGE:?set STACKWIZ_TEST_IMAGE to a local image (make test-engine imports one)}"
export STACKWIZ_TEST_IMAGE

command -v docker >/dev/null || { echo "bench: FAILED: no docker CLI on PATH" >&2; exit 1; }
docker version --format '{{.Server.Version}}' >/dev/null \
  || { echo "bench: FAILED: no Docker engine answers (DOCKER_HOST=${DOCKER_HOST:-default})" >&2; exit 1; }
docker compose version >/dev/null \
  || { echo "bench: FAILED: \`docker compose\` does not run with DOCKER_CONFIG=$DOCKER_CONFIG" >&2; exit 1; }
docker image inspect "$STACKWIZ_TEST_IMAGE" >/dev/null \
  || { echo "bench: FAILED: image $STACKWIZ_TEST_IMAGE is not on the engine" >&2; exit 1; }
for tool in strace time; do # strace counts processes; GNU time measures peak RSS
  [ -x "/usr/bin/$tool" ] || apt-get install -y -qq "$tool" >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq "$tool" >/dev/null; }
done

cargo build --locked --release --quiet
python3 tests/bench/bench.py "$PWD/target/release/stackwiz" "$PWD/BENCHMARKS.md"
