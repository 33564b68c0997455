#!/usr/bin/env bash
# Checks the test swarm with the docker CLI: every node Ready, a 3-replica service spread over the 3 nodes and
# running, its logs through the manager; removes the service. Brings the swarm up first if needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/swarm/common.sh"
bash "$here/swarm-up.sh" >/dev/null
t0=$(date +%s.%N)
m() { swarm_docker 1 "$@"; }
svc="swarm-smoke-$$"
trap 'm service rm "$svc" >/dev/null 2>&1 || true' EXIT
ready="$(m node ls --format '{{.Status}}' | grep -c '^Ready$')"
[ "$ready" = "$SWARM_NODES" ] || swarm_die "smoke: $ready of $SWARM_NODES nodes Ready"
m service create -q --detach --name "$svc" --replicas "$SWARM_NODES" --no-resolve-image \
  porthole-fixture/busybox:1 sh -c 'echo hello from $(hostname); sleep 3600' >/dev/null
end=$(( $(date +%s) + 60 ))
until [ "$(m service ps "$svc" --filter desired-state=running --format '{{.CurrentState}}' | grep -c '^Running')" = "$SWARM_NODES" ]; do
  [ "$(date +%s)" -lt "$end" ] || { m service ps --no-trunc "$svc" >&2; swarm_die "smoke: replicas not running within 60 s"; }
  sleep 0.3
done
nodes="$(m service ps "$svc" --filter desired-state=running --format '{{.Node}}' | sort -u | wc -l)"
[ "$nodes" = "$SWARM_NODES" ] || swarm_die "smoke: the replicas run on $nodes nodes, not $SWARM_NODES"
end=$(( $(date +%s) + 30 ))
until [ "$(m service logs --raw "$svc" 2>/dev/null | grep -c '^hello from')" = "$SWARM_NODES" ]; do
  [ "$(date +%s)" -lt "$end" ] || swarm_die "smoke: service logs incomplete"
  sleep 0.3
done
swarm_log "smoke ok: $SWARM_NODES nodes Ready, $SWARM_NODES replicas on $nodes nodes, logs through the manager ($(printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"))"
