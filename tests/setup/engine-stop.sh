#!/usr/bin/env bash
# Stop the private dockerd (and the containerd it manages) started by engine.sh.
# Idempotent: does nothing if it isn't running.
#
#   bash tests/setup/engine-stop.sh           # stop; keep images, venv, netns, caches
#   bash tests/setup/engine-stop.sh --purge   # stop, then delete the netns and the
#                                             # whole engine dir (next engine.sh = fresh)
set -euo pipefail

DIR="${STACKWIZ_TEST_ENGINE_DIR:-/tmp/swd}"
DIR="${DIR%/}"
PIDFILE="$DIR/dockerd.pid"
# Netns name derived from the engine dir only (never from the environment, which may
# hold another engine's env.sh values): one engine per dir, one netns per engine.
NETNS="stackwiz-$(basename "$DIR" | cut -c1-12)-$(printf %s "$DIR" | sha256sum | cut -c1-6)"
CTRD_SOCK="$DIR/x/containerd/containerd.sock"

purge=0
case "${1:-}" in
  "") ;;
  --purge) purge=1 ;;
  *) echo "usage: $0 [--purge]" >&2; exit 2 ;;
esac

log() { echo "engine-stop.sh: $*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "must run as root"; exit 1; }
[ -d "$DIR" ] || { log "nothing to do ($DIR does not exist)"; exit 0; }

if [ "${_STACKWIZ_ENGINE_LOCKED:-}" != 1 ]; then
  exec 9>"$DIR/.engine.lock"
  flock -w 900 9 || { log "timed out waiting for $DIR/.engine.lock"; exit 1; }
fi

cmdline() { { tr "\0" " " < "/proc/$1/cmdline"; } 2>/dev/null || true; }

alive() {  # running and not a zombie
  local st
  st=$(sed -e 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
  [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Send TERM, wait up to $2 seconds, then KILL.
stop_pid() {
  local pid=$1 secs=$2 i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  log "pid $pid did not exit after ${secs}s; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "$pid" || return 0; sleep 0.1; done
  return 1
}

stopped=0
if [ -s "$PIDFILE" ]; then
  pid=$(cat "$PIDFILE")
  if [[ "$pid" =~ ^[0-9]+$ ]] && alive "$pid" && [[ "$(cmdline "$pid")" == dockerd*" --pidfile $PIDFILE "* ]]; then
    log "stopping dockerd (pid $pid)"
    # dockerd stops its containers (--shutdown-timeout 3) and its containerd.
    stop_pid "$pid" 60 || log "WARNING: dockerd pid $pid still alive"
    stopped=1
  fi
  rm -f "$PIDFILE"
fi

# Leftovers of a crashed/killed dockerd: its containerd, shims, container processes.
# Matched precisely by our own exec-root paths / container ids, never by name.
if [ -s "$DIR/x/containerd/containerd.pid" ]; then
  cpid=$(cat "$DIR/x/containerd/containerd.pid")
  if [[ "$cpid" =~ ^[0-9]+$ ]] && alive "$cpid" && [[ "$(cmdline "$cpid")" == *" $DIR/x/containerd/"* ]]; then
    log "stopping leftover containerd (pid $cpid)"
    stop_pid "$cpid" 15 || true
  fi
fi
for p in /proc/[0-9]*; do
  pid=${p#/proc/}
  case "$(cmdline "$pid")" in
    *containerd-shim*"-address $CTRD_SOCK "*)
      # kill the shim's containers first (cgroupfs: <ctrl>/docker/<container id>)
      if [ -d "$DIR/data/containers" ]; then
        for c in "$DIR"/data/containers/*/; do
          id=$(basename "$c")
          f="/sys/fs/cgroup/pids/docker/$id/cgroup.procs"
          [ -r "$f" ] || continue
          while read -r cp; do kill -KILL "$cp" 2>/dev/null || true; done < "$f"
        done
      fi
      log "stopping leftover containerd-shim (pid $pid)"
      stop_pid "$pid" 5 || true ;;
  esac
done

if [ $purge -eq 1 ]; then
  # Unmount anything dockerd left mounted under the engine dir, deepest first.
  findmnt -rn -o TARGET | awk -v d="$DIR/" 'index($0, d) == 1' | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  ip netns delete "$NETNS" 2>/dev/null || true
  rm -rf "$DIR"
  log "purged $DIR and netns $NETNS"
elif [ $stopped -eq 1 ]; then
  log "stopped"
else
  log "engine not running"
fi
