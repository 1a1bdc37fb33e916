#!/usr/bin/env bash
# Run a command with no network except loopback (+ the private engine's docker
# bridges), e.g. the test binaries:
#
#   tests/setup/netns.sh cargo test --locked --offline
#
# Modes (STACKWIZ_TEST_NETNS_MODE):
#   auto   (default) "engine" if the engine's netns ($STACKWIZ_TEST_NETNS, written
#          into env.sh by engine.sh) exists, else "fresh".
#   engine nsenter into the private dockerd's network namespace: lo + docker bridges,
#          no uplink. Ports that containers publish (-p 127.0.0.1:8080:80) are
#          reachable on 127.0.0.1 here, and container IPs are routable.
#   fresh  unshare -n: a brand-new netns with only lo (ip link set lo up).
#   none   no isolation (just exec); refused when CI=true.
# In every mode the docker unix socket (a filesystem object) keeps working, and any
# connection to a non-local address fails at once with ENETUNREACH.
set -euo pipefail

[ $# -gt 0 ] || { echo "usage: $0 COMMAND [ARGS...]" >&2; exit 2; }

mode="${STACKWIZ_TEST_NETNS_MODE:-auto}"
ns="${STACKWIZ_TEST_NETNS:-}"

fail() {
  echo "netns.sh: $*" >&2
  if [ "${CI:-}" = true ]; then exit 1; fi
  echo "netns.sh: WARNING: running WITHOUT network isolation" >&2
  exec "$@"
}

if [ "$mode" = auto ]; then
  if [ -n "$ns" ] && [ -e "/run/netns/$ns" ]; then mode=engine; else mode=fresh; fi
fi

case "$mode" in
  engine)
    [ -n "$ns" ] && [ -e "/run/netns/$ns" ] || { echo "netns.sh: engine netns '/run/netns/$ns' not found (run tests/setup/engine.sh)" >&2; exit 1; }
    nsenter --net="/run/netns/$ns" true 2>/dev/null || fail "cannot enter netns $ns (need root)" "$@"
    exec nsenter --net="/run/netns/$ns" -- "$@"
    ;;
  fresh)
    if [ "$(id -u)" -eq 0 ]; then un=(unshare --net); else un=(unshare --map-current-user --net); fi
    "${un[@]}" true 2>/dev/null || fail "'unshare -n' is not available here" "$@"
    exec "${un[@]}" -- sh -c 'ip link set lo up && exec "$@"' sh "$@"
    ;;
  none)
    [ "${CI:-}" != true ] || { echo "netns.sh: STACKWIZ_TEST_NETNS_MODE=none is not allowed in CI" >&2; exit 1; }
    exec "$@"
    ;;
  *)
    echo "netns.sh: unknown STACKWIZ_TEST_NETNS_MODE '$mode' (auto|engine|fresh|none)" >&2; exit 2 ;;
esac
