#!/usr/bin/env bash
# make bench: speed and memory of stackwiz's hot paths, measured, never asserted.
#   - create: one stack (validation, render, atomic write)
#   - list: 1000 stack folders, with a stub docker (stackwiz's own cost) and, when the test
#     engine is up (tests/setup/engine.sh), with the real one
#   - mcp: process start + initialize + tools/list + EOF
# Prints mean wall time over N runs and the peak RSS (GNU time) of one run; with a real
# engine the RSS is the largest process in the tree (docker compose itself, not stackwiz).
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --locked --release --quiet
bin=$PWD/target/release/stackwiz
for tool in time bc; do
  [ -x /usr/bin/$tool ] || apt-get install -y -qq $tool >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq $tool >/dev/null; }
done

work=$(mktemp -d /tmp/swbench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export HOME=$work/home XDG_CONFIG_HOME=$work/cfg XDG_CACHE_HOME=$work/cache
export STACKWIZ_BASE_DIR=$work/stacks STACKWIZ_CF_API_URL=http://127.0.0.1:9 STACKWIZ_IP_SERVICES=http://127.0.0.1:9
mkdir -p "$HOME" "$STACKWIZ_BASE_DIR"

# A docker stand-in that answers `compose ls` at once: measures stackwiz, not the engine.
cat > "$work/docker" <<'STUB'
#!/bin/sh
case "$*" in
  "compose version"*) echo "Docker Compose version v2.40.0" ;;
  *"compose ls"*) echo "[]" ;;
  *) exit 0 ;;
esac
STUB
chmod +x "$work/docker"

measure() { # name runs command...
  local name=$1 runs=$2; shift 2
  local start end
  start=$(date +%s%N)
  for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1; done
  end=$(date +%s%N)
  local rss="-"
  if [ "$(type -t "$1")" = file ]; then
    /usr/bin/time -o "$work/rss" -f %M "$@" >/dev/null 2>&1 || true
    rss=$(tail -1 "$work/rss")
  fi
  printf '%-44s %8.2f ms/run  (%d runs)  peak RSS %s KiB\n' "$name" \
    "$(echo "($end - $start) / $runs / 1000000" | bc -l)" "$runs" "$rss"
}

n=0
create_one() { n=$((n + 1)); "$bin" create "bench-$n" --image nginx:alpine --port 80; }
measure "create (generic stack)" 200 create_one
measure "create --dry-run (peak RSS of one create)" 20 "$bin" create rss-probe --image nginx:alpine --port 80 --dry-run

for i in $(seq 201 1000); do
  mkdir -p "$STACKWIZ_BASE_DIR/bench-$i"
  cp "$STACKWIZ_BASE_DIR/bench-1/docker-compose.yml" "$STACKWIZ_BASE_DIR/bench-$i/"
done
measure "list, 1000 stacks, stub docker" 20 env STACKWIZ_DOCKER="$work/docker" "$bin" list --json
if [ -n "${DOCKER_HOST:-}" ] && docker version >/dev/null 2>&1; then
  measure "list, 1000 stacks, real engine" 10 "$bin" list --json
  measure "docker compose ls alone (for comparison)" 10 docker compose ls -a --format json
fi

mcp_session() {
  printf '%s\n' \
    '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' \
    '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
    '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' | "$bin" mcp
}
measure "mcp: start, initialize, tools/list, exit" 50 mcp_session
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"1"}}}' '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' > "$work/session.jsonl"
/usr/bin/time -o "$work/rss" -f %M "$bin" mcp < "$work/session.jsonl" >/dev/null 2>&1 || true
echo "mcp session peak RSS: $(tail -1 "$work/rss") KiB"
bytes=$(mcp_session 2>/dev/null | tail -1 | wc -c)
echo "tools/list answer: $bytes bytes (about $((bytes / 4)) tokens of agent context)"
