#!/usr/bin/env bash
# Real node loss on the test swarm, for tests: `stop N` stops node N's dockerd by its PID (its containers stop with
# it), `start N` starts it again with the same settings and waits until the manager sees it Ready; `cut N` takes
# node N's link down (the engine keeps running, unreachable to the others), `mend N` puts it back.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/swarm/common.sh"
[ "$(id -u)" = 0 ] || swarm_die "the test swarm is root's; run swarm-node as root."
action="${1:-}"; n="${2:-}"
case "$n" in [1-9]) [ "$n" -le "$SWARM_NODES" ] || swarm_die "no node $n" ;; *) swarm_die "usage: swarm-node.sh stop|start|cut|mend N" ;; esac
[ -f "$SWARM_RUN/ready" ] || swarm_die "the test swarm is not up (scripts/swarm-up.sh)"
node_state() { swarm_docker 1 node inspect --format '{{.Status.State}}' "$(swarm_name "$n")" 2>/dev/null; }
wait_state() { # STATE SECONDS
  local end=$(( $(date +%s) + $2 ))
  until [ "$(node_state)" = "$1" ]; do
    [ "$(date +%s)" -lt "$end" ] || swarm_die "node $n not $1 within $2 s"
    sleep 0.2
  done
}
case "$action" in
  stop)
    if swarm_pid_alive "$n"; then
      pid="$(cat "$SWARM_RUN/node$n.pid")"
      kill -TERM "$pid"
      for _ in $(seq 1 150); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
      [ -d "/proc/$pid" ] && kill -KILL "$pid"
    fi
    swarm_log "node $n's engine stopped"
    ;;
  start)
    swarm_pid_alive "$n" || swarm_start_node "$n"
    end=$(( $(date +%s) + 60 ))
    until swarm_docker "$n" version >/dev/null 2>&1; do
      swarm_pid_alive "$n" || swarm_die "node $n's dockerd exited; log: $SWARM_LOGS/node$n.log"
      [ "$(date +%s)" -lt "$end" ] || swarm_die "node $n's engine not answering within 60 s"
      sleep 0.2
    done
    [ "$n" = 1 ] || wait_state ready 60
    swarm_log "node $n's engine up and Ready"
    ;;
  cut) nsenter --net="/var/run/netns/$SWARM_HUB_NS" ip link set "$(swarm_veth_hub "$n")" down; swarm_log "node $n's link cut" ;;
  mend)
    nsenter --net="/var/run/netns/$SWARM_HUB_NS" ip link set "$(swarm_veth_hub "$n")" up
    [ "$n" = 1 ] || wait_state ready 60
    swarm_log "node $n's link back"
    ;;
  *) swarm_die "usage: swarm-node.sh stop|start|cut|mend N" ;;
esac
