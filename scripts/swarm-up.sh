#!/usr/bin/env bash
# Brings up a real three-node Docker Swarm for the tests on this machine, or returns at once when it is up.
# Three extra dockerd engines, each in its own network and UTS namespace (porthole-swarm-1..3, which is also its
# hostname), with its own address on 10.216.0.0/24 (a bridge in the namespace porthole-swarm-hub links them), data
# root, exec root (its own managed containerd), pidfile and socket /run/porthole-swarm/nodeN.sock. Node 1 is the
# manager, 2 and 3 join as workers. The test images are loaded into every node (no registry here).
# The main engine is never touched beyond `docker save` of the test images: no flag of these engines reaches the
# host's network (no `--bridge none`, their docker0 and iptables live in their own namespaces).
# Last stdout lines: MANAGER=unix://... and NODE_<hostname>=unix://... per node. Progress on stderr.
# Needs root. Stop it all with scripts/swarm-down.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/swarm/common.sh"

print_env() {
  echo "MANAGER=$(swarm_host 1)"
  local n
  for n in $(seq 1 "$SWARM_NODES"); do echo "NODE_$(swarm_name "$n")=$(swarm_host "$n")"; done
}
is_up() {
  local n
  [ -f "$SWARM_RUN/ready" ] || return 1
  for n in $(seq 1 "$SWARM_NODES"); do swarm_pid_alive "$n" || return 1; done
  # every node Ready in the manager's eyes, in one call
  local ready
  ready="$(timeout 10 docker -H "$(swarm_host 1)" node ls --format '{{.Status}}' 2>/dev/null | grep -c '^Ready$')" || return 1
  [ "$ready" = "$SWARM_NODES" ]
}

[ "$(id -u)" = 0 ] || swarm_die "the test swarm needs root (network namespaces, dockerd); run as root."
mkdir -p "$(dirname "$SWARM_RUN")"
exec 9>"$SWARM_RUN.lock"
flock 9
if is_up; then print_env; exit 0; fi

t0=$(date +%s.%N)
elapsed() { printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"; }
command -v dockerd >/dev/null || swarm_die "dockerd is missing (Debian: apt-get install docker.io)."
command -v bc >/dev/null || swarm_die "bc is missing (Debian: apt-get install bc)."
# dockerd uses a system containerd when this socket exists: the nodes would share it (and the namespace moby)
[ -S /run/containerd/containerd.sock ] &&
  swarm_log "warning: /run/containerd/containerd.sock exists: the nodes' dockerd use that containerd instead of one each"

# ---- whatever is left of an earlier swarm goes first
if ls "$SWARM_RUN"/node*.pid >/dev/null 2>&1 || [ -e "/var/run/netns/$SWARM_HUB_NS" ] || [ -d "$SWARM_STATE" ]; then
  swarm_log "clearing what is left of an earlier swarm"
  SWARM_DOWN_LOCKED=1 bash "$here/swarm-down.sh"
fi
swarm_log "starting $SWARM_NODES engines"
mkdir -p "$SWARM_RUN" "$SWARM_LOGS" "$SWARM_STATE" "$SWARM_CACHE"
chmod 700 "$SWARM_RUN" "$SWARM_STATE"

# ---- network: a bridge in the hub namespace, one veth per node (node end named eth0 in the node's namespace)
ip netns add "$SWARM_HUB_NS"
hub() { nsenter --net="/var/run/netns/$SWARM_HUB_NS" "$@"; }
hub ip link set lo up
hub ip link add "$SWARM_BRIDGE" type bridge
hub ip link set "$SWARM_BRIDGE" up
for n in $(seq 1 "$SWARM_NODES"); do
  ns="$(swarm_name "$n")"
  ip netns add "$ns"
  hub ip link add "$(swarm_veth_hub "$n")" type veth peer name "$(swarm_veth_node "$n")"
  hub ip link set "$(swarm_veth_node "$n")" netns "$ns"
  hub ip link set "$(swarm_veth_hub "$n")" master "$SWARM_BRIDGE" up
  nsn() { nsenter --net="/var/run/netns/$ns" "$@"; }
  nsn ip link set lo up
  nsn ip link set "$(swarm_veth_node "$n")" name eth0
  nsn ip addr add "$(swarm_addr "$n")/24" dev eth0
  nsn ip link set eth0 up
  # no default route on purpose: the nodes' agents try a registry pull before using a local image, and a lookup
  # that cannot leave fails at once instead of a 20 s DNS timeout per task (swarm gets its addresses as flags)
done

check_alive() { swarm_pid_alive "$1" || { tail -20 "$SWARM_LOGS/node$1.log" >&2; swarm_die "node $1's dockerd exited; log: $SWARM_LOGS/node$1.log"; }; }
wait_for() { # WHAT SECONDS CMD...
  local what="$1" secs="$2"; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || swarm_die "$what not ready within $secs s; logs in $SWARM_LOGS"
    sleep 0.2
  done
}
for n in $(seq 1 "$SWARM_NODES"); do swarm_start_node "$n"; done

# ---- test images: docker save from the main engine while the engines start (an offline build when it lacks one)
img_dir="$SWARM_CACHE/images"; mkdir -p "$img_dir"
image_archive() { # REF -> prints the path of a docker-save archive of it
  local ref="$1" file="$img_dir/$(echo "$1" | tr '/:' '__').tar"
  if docker image inspect "$ref" >/dev/null 2>&1; then
    docker save -o "$file.tmp" "$ref" && mv "$file.tmp" "$file"
  elif [ ! -f "$file" ] && [ "$ref" = porthole-fixture/busybox:1 ]; then
    build_busybox "$ref" "$file"
  fi
  [ -f "$file" ] || swarm_die "no image $ref in the main engine nor in $img_dir"
  echo "$file"
}
build_busybox() { # REF OUT: the same root as test/support/docker.ts ensureBusyboxImage, without the main engine
  local work bb diff cfg
  work="$(mktemp -d)"; bb="$work/root"
  mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/root" "$bb/home/user" "$bb/dev" "$bb/proc" "$bb/sys"
  chmod 755 "$bb"; chmod 1777 "$bb/tmp"
  cp /bin/busybox "$bb/bin/busybox"
  for a in $(/bin/busybox --list); do [ -e "$bb/bin/$a" ] || ln -s busybox "$bb/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > "$bb/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\n' > "$bb/etc/group"
  tar -C "$bb" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf "$work/layer.tar" .
  diff="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$diff" > "$work/config.json"
  cfg="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  mv "$work/config.json" "$work/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cfg" "$1" > "$work/manifest.json"
  tar -C "$work" -cf "$2.tmp" manifest.json "$cfg.json" layer.tar && mv "$2.tmp" "$2"
  rm -rf "$work"
}
archives=()
for ref in "${SWARM_IMAGES[@]}"; do archives+=("$(image_archive "$ref")"); done

engine_ready() { check_alive "$1"; swarm_docker "$1" version --format '{{.Server.Version}}'; }
for n in $(seq 1 "$SWARM_NODES"); do wait_for "node $n's engine" 60 engine_ready "$n"; done
swarm_log "engines answer ($(elapsed))"
# `wait` on these PIDs alone: a bare wait would wait for the engines too
loads=()
for n in $(seq 1 "$SWARM_NODES"); do
  for a in "${archives[@]}"; do swarm_docker "$n" load -q -i "$a" >/dev/null & loads+=($!); done
done
for p in "${loads[@]}"; do wait "$p" || swarm_die "loading the test images into a node failed"; done
swarm_log "images ${SWARM_IMAGES[*]} loaded on every node ($(elapsed))"

# ---- the swarm: node 1 manager, the others workers, over the bridge addresses
swarm_docker 1 swarm init --advertise-addr "$(swarm_addr 1)" --listen-addr "$(swarm_addr 1):2377" \
  --task-history-limit 5 >/dev/null
token="$(swarm_docker 1 swarm join-token -q worker)"
joins=()
for n in $(seq 2 "$SWARM_NODES"); do
  swarm_docker "$n" swarm join --token "$token" --advertise-addr "$(swarm_addr "$n")" \
    --listen-addr "$(swarm_addr "$n"):2377" "$(swarm_addr 1):2377" >/dev/null & joins+=($!)
done
for p in "${joins[@]}"; do wait "$p" || swarm_die "a node could not join the swarm; logs in $SWARM_LOGS"; done
all_ready() { [ "$(swarm_docker 1 node ls --format '{{.Status}}' | grep -c '^Ready$')" = "$SWARM_NODES" ]; }
wait_for "the swarm's $SWARM_NODES nodes" 60 all_ready
for n in $(seq 1 "$SWARM_NODES"); do check_alive "$n"; done
date -u +%FT%TZ > "$SWARM_RUN/ready"
swarm_log "swarm of $SWARM_NODES nodes up in $(elapsed): docker -H $(swarm_host 1) node ls"
print_env
