#!/usr/bin/env bash
# Stops the test swarm scripts/swarm-up.sh started, by the PIDs it recorded (each node's dockerd, which stops its
# own containerd), then the container shims of those containerds (found by their socket, under our exec roots),
# unmounts and removes the nodes' data and exec roots, namespaces, veths and cgroups. Safe to run when nothing is up.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/swarm/common.sh"
[ "$(id -u)" = 0 ] || swarm_die "the test swarm is root's; run swarm-down as root."
if [ -z "${SWARM_DOWN_LOCKED:-}" ]; then
  mkdir -p "$(dirname "$SWARM_RUN")"
  exec 9>"$SWARM_RUN.lock"
  flock -w 60 9 || swarm_log "the lock $SWARM_RUN.lock is held; going on without it"
fi
t0=$(date +%s.%N)

# the engines, all at once: TERM, then KILL what is left after 15 s
pids=()
for f in "$SWARM_RUN"/node*.pid; do
  [ -f "$f" ] || continue
  n="${f##*/node}"; n="${n%.pid}"
  if swarm_pid_alive "$n"; then pids+=("$(cat "$f")"); fi
done
[ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
for pid in "${pids[@]}"; do
  for _ in $(seq 1 150); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
done
rm -f "$SWARM_RUN"/node*.pid
# what the engines started and left: their containerd (if dockerd was killed) and the shims, found by the
# containerd socket under our exec roots on their command line, ours alone
for d in /proc/[0-9]*; do
  cmd="$( { tr '\0' ' ' < "$d/cmdline"; } 2>/dev/null)" || continue
  case "$cmd" in
    *"$SWARM_RUN/node"*/containerd/*) kill -KILL "${d#/proc/}" 2>/dev/null ;;
  esac
done
# containers a killed shim left behind are in our runc roots
for root in "$SWARM_RUN"/node*/runtime-runc/*/; do
  [ -d "$root" ] || continue
  for id in $(runc --root "$root" list -q 2>/dev/null); do runc --root "$root" delete --force "$id" >/dev/null 2>&1; done
done

# mounts under our folders (overlays, netns of containers, shm), deepest first
for dir in "$SWARM_STATE" "$SWARM_RUN"; do
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
done

# network: the namespaces take their veths and bridges with them
for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do
  case "$ns" in porthole-swarm-hub|porthole-swarm-[0-9]*) ip netns del "$ns" 2>/dev/null ;; esac
done

# cgroups of the nodes' containers (emptied now), deepest first
for sub in /sys/fs/cgroup/*/"$SWARM_CGROUP_PARENT_PREFIX"-* /sys/fs/cgroup/"$SWARM_CGROUP_PARENT_PREFIX"-*; do
  [ -d "$sub" ] || continue
  find "$sub" -depth -type d -exec rmdir {} \; 2>/dev/null
done

rm -rf "$SWARM_STATE" "$SWARM_RUN"
swarm_log "swarm down in $(printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)")"
