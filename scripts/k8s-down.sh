#!/usr/bin/env bash
# Stops the test cluster scripts/k8s-up.sh started, by the PIDs it recorded: the pods' containers (through the
# cluster's own containerd), kubelet, scheduler, controller-manager, API server, containerd, etcd. Then removes its
# network namespace and veth, its mounts, cgroups and state, and puts back the host sysctls the kubelet changed.
# Safe to run when nothing is up.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/common.sh"
[ "$(id -u)" = 0 ] || k8s_die "the test cluster is root's; run k8s-down as root."
if [ -z "${K8S_DOWN_LOCKED:-}" ]; then
  mkdir -p "$(dirname "$K8S_RUN")"
  exec 9>"$K8S_RUN.lock"
  # a cluster started by an older k8s-up may hold the lock through its daemons: do not wait for ever
  flock -w 60 9 || k8s_log "the lock $K8S_RUN.lock is held; going on without it"
fi

stop() { # NAME...: TERM to each, KILL to what is left after 10 s
  local pids=() name pid
  for name in "$@"; do
    if k8s_pid_alive "$name"; then pids+=("$(cat "$K8S_RUN/$name.pid")"); fi
  done
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null
  for pid in "${pids[@]}"; do
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    [ -d "/proc/$pid" ] && kill -KILL "$pid" 2>/dev/null
    for _ in $(seq 1 30); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
  done
  for name in "$@"; do rm -f "$K8S_RUN/$name.pid"; done
}

# the kubelet with the others: stopped, it cannot restart what is stopped under it
stop kubelet kube-scheduler kube-controller-manager
# the pods' containers, through the cluster's own containerd (never the Docker engine's)
if k8s_pid_alive containerd && [ -S "$K8S_CONTAINERD_SOCK" ]; then
  c=(ctr -a "$K8S_CONTAINERD_SOCK" -n k8s.io)
  # the ids of our sandboxes and containers: their CNI results are removed below
  our_ids="$(timeout 10 "${c[@]}" containers ls -q 2>/dev/null)"
  tasks="$(timeout 10 "${c[@]}" tasks ls -q 2>/dev/null)"
  for t in $tasks; do timeout 10 "${c[@]}" tasks kill -s KILL "$t" >/dev/null 2>&1; done
  # the CRI plugin deletes each task once it has exited; what is still listed after 5 s is deleted here
  for _ in $(seq 1 25); do [ -z "$(timeout 10 "${c[@]}" tasks ls -q 2>/dev/null)" ] && break; sleep 0.2; done
  for t in $(timeout 10 "${c[@]}" tasks ls -q 2>/dev/null); do timeout 10 "${c[@]}" tasks delete -f "$t" >/dev/null 2>&1; done
fi
stop kube-apiserver containerd
stop etcd
# the runc shims of this containerd: found by the socket address on their command line, ours alone
for d in /proc/[0-9]*; do
  cmd="$( { tr '\0' ' ' < "$d/cmdline"; } 2>/dev/null)" || continue
  case "$cmd" in *containerd-shim*"-address $K8S_CONTAINERD_SOCK "*) kill -KILL "${d#/proc/}" 2>/dev/null ;; esac
done
# containers a killed shim left behind are in our runc root
if [ -d "$K8S_RUN/runc" ]; then
  for ns in "$K8S_RUN"/runc/*/; do
    [ -d "$ns" ] || continue
    for id in $(runc --root "$ns" list -q 2>/dev/null); do runc --root "$ns" delete --force "$id" >/dev/null 2>&1; done
  done
fi

# mounts under our folders (pod volumes, pod netns, snapshots), deepest first
for dir in "$K8S_STATE" "$K8S_RUN"; do
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
  done
done

# network
[ -e "$K8S_NETNS_PATH" ] && ip netns del "$K8S_NETNS" 2>/dev/null
ip link show "$K8S_VETH_HOST" >/dev/null 2>&1 && ip link del "$K8S_VETH_HOST" 2>/dev/null

# host sysctls the kubelet changed
if [ -f "$K8S_RUN/sysctl.saved" ]; then
  while IFS= read -r kv; do [ -n "$kv" ] && sysctl -q -w "$kv" >/dev/null 2>&1; done < "$K8S_RUN/sysctl.saved"
fi

# the kubelet's cgroups, emptied now; deepest first (/kubepods: clusters started before the cgroup root of their own)
roots=("$K8S_CGROUP_ROOT")
[ "$K8S_INSTANCE" = 0 ] && roots+=(/kubepods)
for r in "${roots[@]}"; do
  for sub in /sys/fs/cgroup/*"$r"; do
    [ -d "$sub" ] || continue
    find "$sub" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
done
# what the kubelet made outside its folders, when nothing was there before
for other in /run/porthole-k8s*/kubelet.pid; do
  [ "$other" = "$K8S_RUN/kubelet.pid" ] && continue
  [ -f "$other" ] && keep_shared=1
done
if [ -z "${keep_shared:-}" ]; then
  [ -f "$K8S_RUN/made-var-lib-kubelet" ] && rm -rf --one-file-system /var/lib/kubelet
  [ -f "$K8S_RUN/made-var-log-containers" ] && rmdir /var/log/containers 2>/dev/null
fi

# the kubelet links each container's log into /var/log/containers (a fixed place); remove the links to ours
for l in /var/log/containers/*.log; do
  [ -L "$l" ] || continue
  case "$(readlink "$l")" in "$K8S_STATE"/*) rm -f "$l" ;; esac
done

# containerd's CNI result cache is a fixed place (/var/lib/cni/results, NETWORK-CONTAINERID-IFNAME): our network's
find /var/lib/cni/results -maxdepth 1 -type f -regextype posix-extended \
  -regex ".*/$K8S_NETNS-[0-9a-f]{64}-[a-z0-9]+" -delete 2>/dev/null
for id in ${our_ids:-}; do rm -f /var/lib/cni/results/*-"$id"-*; done
rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null

# state: only our own folders, never across a mount
[ -d "$K8S_STATE" ] && rm -rf --one-file-system "$K8S_STATE"
if [ -d "$K8S_RUN" ]; then
  find "$K8S_RUN" -mindepth 1 -maxdepth 1 ! -name '*.lock' -exec rm -rf --one-file-system {} +
  rmdir "$K8S_RUN" 2>/dev/null
fi
k8s_log "test cluster stopped"
exit 0
