# Shared settings of the test swarm scripts (swarm-up, swarm-down, swarm-load, swarm-smoke). Sourced.
# Three extra dockerd engines, each in a network and UTS namespace of its own (porthole-swarm-1..3, hostnames the
# same), joined by veths to a bridge that lives in a fourth namespace (porthole-swarm-hub): nothing is added to the
# host's own network, and the main engine (/var/run/docker.sock, docker0) is never touched.
SWARM_NODES="${PORTHOLE_SWARM_SIZE:-3}"
SWARM_RUN="${PORTHOLE_SWARM_RUN:-/run/porthole-swarm}"
SWARM_STATE="${PORTHOLE_SWARM_STATE:-/var/lib/porthole-swarm}"
SWARM_CACHE="${PORTHOLE_SWARM_CACHE:-/var/cache/porthole/swarm}"
SWARM_LOGS="$SWARM_RUN/logs"
SWARM_HUB_NS="porthole-swarm-hub"
SWARM_BRIDGE="phswbr0"                 # inside the hub namespace only
SWARM_SUBNET_PREFIX="10.216.0"         # 10.216.0.0/24: not docker0's 172.17/16, not the k8s cluster's 10.213-215
SWARM_CGROUP_PARENT_PREFIX="porthole-swarm"
# images every node gets: docker save from the main engine when it has them, else built offline here
SWARM_IMAGES=(${PORTHOLE_SWARM_IMAGES:-porthole-fixture/busybox:1})

swarm_log() { echo "swarm: $*" >&2; }
swarm_die() { echo "swarm: $*" >&2; exit 1; }
swarm_name() { echo "porthole-swarm-$1"; }                # namespace and hostname of node N
swarm_addr() { echo "$SWARM_SUBNET_PREFIX.$(( 10 + $1 ))"; } # node N's address
swarm_sock() { echo "$SWARM_RUN/node$1.sock"; }
swarm_host() { echo "unix://$SWARM_RUN/node$1.sock"; }
swarm_veth_hub() { echo "phsw$1h"; }                       # hub end (in the hub namespace)
swarm_veth_node() { echo "phsw$1n"; }                      # node end (in the node's namespace, renamed eth0)
swarm_docker() { local n="$1"; shift; docker -H "$(swarm_host "$n")" "$@"; }

swarm_pid_alive() { # N: node N's pidfile names a live dockerd
  local pid comm
  { read -r pid < "$SWARM_RUN/node$1.pid"; } 2>/dev/null || return 1
  [ -n "$pid" ] || return 1
  { read -r comm < "/proc/$pid/comm"; } 2>/dev/null || return 1
  [ "$comm" = dockerd ]
}

# Starts node N's engine. setsid: a test run's Ctrl-C does not reach them; nsenter --net (not ip netns exec, which remounts
# /sys and hides the cgroup mounts); unshare --uts so that each engine has its own hostname. All of it execs, so
# the recorded PID is dockerd's own.
swarm_start_node() { # N
  local n="$1" ns; ns="$(swarm_name "$n")"
  echo '{}' > "$SWARM_RUN/node$n.json"   # not /etc/docker/daemon.json: nothing of the main engine's settings
  mkdir -p "$SWARM_STATE/node$n" "$SWARM_RUN/node$n"
  setsid nsenter --net="/var/run/netns/$ns" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$ns" \
    dockerd --config-file "$SWARM_RUN/node$n.json" \
      --data-root "$SWARM_STATE/node$n" --exec-root "$SWARM_RUN/node$n" \
      --pidfile "$SWARM_RUN/node$n/dockerd.pid" -H "$(swarm_host "$n")" \
      --bip "172.30.$n.1/24" --default-address-pool "base=172.31.0.0/16,size=24" \
      --cgroup-parent "/$SWARM_CGROUP_PARENT_PREFIX-$n" --storage-driver overlay2 \
      --userland-proxy=false --log-level warn \
    >> "$SWARM_LOGS/node$n.log" 2>&1 < /dev/null 9>&- &
  local pid=$! comm=""
  echo "$pid" > "$SWARM_RUN/node$n.pid"
  for _ in $(seq 1 100); do
    { read -r comm < "/proc/$pid/comm"; } 2>/dev/null || break
    [ "$comm" = dockerd ] && break
    sleep 0.05
  done
}
