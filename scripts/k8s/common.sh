# Shared settings of the test cluster scripts (k8s-build, k8s-up, k8s-down, k8s-load, k8s-smoke). Sourced.
K8S_VERSION="${K8S_VERSION:-v1.36.3}"
# staging modules k8s.io/X carry v0.MINOR.PATCH for Kubernetes v1.MINOR.PATCH
K8S_STAGING_VERSION="v0.${K8S_VERSION#v1.}"
K8S_CACHE="${PORTHOLE_K8S_CACHE:-/var/cache/porthole/k8s}"
K8S_BIN="$K8S_CACHE/$K8S_VERSION/bin"
K8S_GO_CACHE="${PORTHOLE_GO_CACHE:-/var/cache/porthole/go}"
# PORTHOLE_K8S_INSTANCE=N (default 0) runs another cluster beside the first: its own namespace, addresses,
# folders and cgroup root (used to time a start without stopping the cluster others are testing against)
K8S_INSTANCE="${PORTHOLE_K8S_INSTANCE:-0}"
case "$K8S_INSTANCE" in [0-9]|[1-5][0-9]|6[0-3]) ;; *) echo "k8s: PORTHOLE_K8S_INSTANCE must be 0-63" >&2; exit 1 ;; esac
if [ "$K8S_INSTANCE" = 0 ]; then k8s_suffix=""; else k8s_suffix="-$K8S_INSTANCE"; fi
K8S_RUN="${PORTHOLE_K8S_RUN:-/run/porthole-k8s$k8s_suffix}"
K8S_NETNS="porthole-k8s$k8s_suffix"
K8S_NETNS_PATH="/var/run/netns/$K8S_NETNS"
if [ "$K8S_INSTANCE" = 0 ]; then
  K8S_VETH_HOST="phk8s0"    # host end of the veth pair
  K8S_VETH_NODE="phk8s1"    # node end, moved into the namespace
else
  K8S_VETH_HOST="phk8s${K8S_INSTANCE}h"
  K8S_VETH_NODE="phk8s${K8S_INSTANCE}n"
fi
K8S_HOST_IP="10.213.0.$(( K8S_INSTANCE * 4 + 1 ))"
K8S_NODE_IP="10.213.0.$(( K8S_INSTANCE * 4 + 2 ))"
K8S_POD_CIDR="10.214.0.0/16"       # inside the namespace only
K8S_SERVICE_CIDR="10.215.0.0/16"
K8S_API_PORT=6443
K8S_API="https://$K8S_NODE_IP:$K8S_API_PORT"
K8S_CGROUP_ROOT="/porthole-k8s$k8s_suffix"   # the kubelet's pods go under /sys/fs/cgroup/*/porthole-k8s/kubepods
K8S_NODE_NAME="porthole-node"
K8S_CONTAINERD_SOCK="$K8S_RUN/containerd.sock"
K8S_KUBECONFIG="$K8S_RUN/admin.kubeconfig"
K8S_BINARIES=(kube-apiserver kubelet kube-controller-manager kube-scheduler kubectl)

k8s_log() { echo "k8s: $*" >&2; }
k8s_die() { echo "k8s: $*" >&2; exit 1; }
k8s_kubectl() { "$K8S_BIN/kubectl" --kubeconfig "$K8S_KUBECONFIG" "$@"; }
K8S_STATE="${PORTHOLE_K8S_STATE:-/var/lib/porthole-k8s$k8s_suffix}"
K8S_PKI="$K8S_RUN/pki"
K8S_LOGS="$K8S_RUN/logs"
# started in this order, stopped in the reverse one
K8S_PROCS=(etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet)
# host-wide sysctls the kubelet sets on start; k8s-up saves them, k8s-down puts them back
K8S_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
# test users: admin is in system:masters, porthole-viewer may get/list pods and read their logs in namespace
# default only, porthole-nobody has no RBAC at all
K8S_USERS=(admin porthole-viewer porthole-nobody)

k8s_pid_alive() { # NAME: its pidfile names a live process that is NAME
  local pid comm
  { read -r pid < "$K8S_RUN/$1.pid"; } 2>/dev/null || return 1
  [ -n "$pid" ] || return 1
  { read -r comm < "/proc/$pid/comm"; } 2>/dev/null || return 1
  [ "$comm" = "${1:0:15}" ]
}
