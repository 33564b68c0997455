#!/usr/bin/env bash
# Copies an image from the Docker engine into the test cluster's containerd (namespace k8s.io), where pods with
# imagePullPolicy: Never (or IfNotPresent) find it by the same reference. Usage: scripts/k8s-load.sh IMAGE...
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/common.sh"
[ $# -ge 1 ] || k8s_die "usage: scripts/k8s-load.sh IMAGE... (an image the Docker engine has)"
[ -S "$K8S_CONTAINERD_SOCK" ] || k8s_die "the test cluster is not up ($K8S_CONTAINERD_SOCK missing); run scripts/k8s-up.sh first."
for image in "$@"; do
  docker image inspect "$image" >/dev/null 2>&1 || k8s_die "the Docker engine has no image $image."
  docker save "$image" | ctr -a "$K8S_CONTAINERD_SOCK" -n k8s.io images import - >/dev/null ||
    k8s_die "could not import $image into the cluster's containerd."
  k8s_log "loaded $image"
done
