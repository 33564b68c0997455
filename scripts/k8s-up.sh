#!/usr/bin/env bash
# Brings up a real single-node Kubernetes for the tests on this machine, or returns at once when it is up.
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler, a containerd of its own (CRI) and the kubelet run
# in the network namespace porthole-k8s; a veth pair makes the API server reachable from the host at
# https://10.213.0.2:6443. The Docker engine and its containerd are never touched.
# Last two stdout lines: KUBECONFIG=PATH and CONTAINERD_ADDRESS=SOCKET (eval-able). Progress goes to stderr.
# Needs root. Binaries come from scripts/k8s-build.sh (cached); stop it all with scripts/k8s-down.sh.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/common.sh"

print_env() {
  echo "KUBECONFIG=$K8S_KUBECONFIG"
  echo "CONTAINERD_ADDRESS=$K8S_CONTAINERD_SOCK"
}
is_up() {
  for p in "${K8S_PROCS[@]}"; do k8s_pid_alive "$p" || return 1; done
  [ -f "$K8S_RUN/ready" ] || return 1
  curl -sf --max-time 3 --cacert "$K8S_PKI/ca.crt" -H "Authorization: Bearer $(cat "$K8S_RUN/admin.token")" \
    "$K8S_API/readyz" >/dev/null 2>&1
}

[ "$(id -u)" = 0 ] || k8s_die "the test cluster needs root (network namespace, containerd, kubelet); run as root."
mkdir -p "$K8S_RUN"
# one k8s-up at a time: CI and npm test may both ask
exec 9>"$K8S_RUN.lock"
flock 9
if is_up; then print_env; exit 0; fi

t0=$(date +%s.%N)
elapsed() { printf '%.1f s' "$(echo "$(date +%s.%N) - $t0" | bc)"; }

# ---- what it needs from Debian
need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v bc >/dev/null 2>&1 || need+=(bc)
[ -x /bin/busybox ] || need+=(busybox-static)
if [ ${#need[@]} -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || k8s_die "missing ${need[*]}; install them (Debian package names)."
  k8s_log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null; }
  # Debian's etcd-server package starts a system etcd where it can; the cluster runs its own
  (command -v systemctl >/dev/null && systemctl disable --now etcd) >/dev/null 2>&1 || true
fi

# ---- binaries (built once per version into the cache)
bash "$here/k8s-build.sh"

# ---- whatever is left of an earlier cluster goes first (a failed start leaves its logs for reading until then)
if [ -f "$K8S_RUN/etcd.pid" ] || [ -e "$K8S_NETNS_PATH" ] || [ -d "$K8S_STATE" ] ||
  ip link show "$K8S_VETH_HOST" >/dev/null 2>&1; then
  k8s_log "clearing what is left of an earlier cluster"
  K8S_DOWN_LOCKED=1 bash "$here/k8s-down.sh"
fi
k8s_log "starting the cluster (Kubernetes $K8S_VERSION)"
mkdir -p "$K8S_RUN" "$K8S_PKI" "$K8S_LOGS" "$K8S_STATE" "$K8S_RUN/cni"
chmod 700 "$K8S_RUN" "$K8S_STATE"

# ---- network: namespace, veth host 10.213.0.1 <-> node 10.213.0.2
ip netns add "$K8S_NETNS"
ip link add "$K8S_VETH_HOST" type veth peer name "$K8S_VETH_NODE"
ip link set "$K8S_VETH_NODE" netns "$K8S_NETNS"
ip addr add "$K8S_HOST_IP/30" dev "$K8S_VETH_HOST"
ip link set "$K8S_VETH_HOST" up
nsrun() { nsenter --net="$K8S_NETNS_PATH" "$@"; }
nsrun ip link set lo up
nsrun ip addr add "$K8S_NODE_IP/30" dev "$K8S_VETH_NODE"
nsrun ip link set "$K8S_VETH_NODE" up

# ---- certificates, tokens, kubeconfigs
cd "$K8S_PKI"
ossl() { openssl "$@" >/dev/null 2>&1 || { openssl "$@"; k8s_die "openssl $1 failed"; }; }
eckey() { ossl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1"; }
eckey ca.key
ossl req -x509 -new -key ca.key -out ca.crt -days 3650 -subj "/CN=porthole-k8s-ca"
sign() { # NAME SUBJECT [SAN] [EXTENDED_KEY_USAGE]
  eckey "$1.key"
  ossl req -new -key "$1.key" -out "$1.csr" -subj "$2"
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' \
    "${4:-serverAuth,clientAuth}" > "$1.ext"
  [ -z "${3:-}" ] || echo "subjectAltName=$3" >> "$1.ext"
  ossl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -out "$1.crt" -days 3650 -extfile "$1.ext"
  rm -f "$1.csr" "$1.ext"
}
sign apiserver "/CN=kube-apiserver" \
  "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:$K8S_NODE_IP,IP:127.0.0.1,IP:${K8S_SERVICE_CIDR%.0/*}.1" serverAuth
sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "" clientAuth
sign kubelet "/CN=$K8S_NODE_NAME" "DNS:$K8S_NODE_NAME,IP:$K8S_NODE_IP" serverAuth
ossl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key
ossl pkey -in sa.key -pubout -out sa.pub
chmod 600 ./*.key

token() { openssl rand -hex 24; }
: > "$K8S_RUN/tokens.csv"
: > "$K8S_RUN/users.tokens"
add_token() { # USER GROUPS -> prints the token
  local t; t="$(token)"
  echo "$t,$1,$1${2:+,\"$2\"}" >> "$K8S_RUN/tokens.csv"
  echo "$t"
}
kubeconfig() { # FILE USER TOKEN
  cat > "$1" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: porthole-k8s
  cluster:
    server: $K8S_API
    certificate-authority-data: $(base64 -w0 < "$K8S_PKI/ca.crt")
users:
- name: $2
  user:
    token: $3
contexts:
- name: $2@porthole-k8s
  context:
    cluster: porthole-k8s
    user: $2
    namespace: default
current-context: $2@porthole-k8s
YAML
  chmod 600 "$1"
}
for u in "${K8S_USERS[@]}"; do
  case "$u" in admin) groups="system:masters" ;; *) groups="" ;; esac
  t="$(add_token "$u" "$groups")"
  echo "$u $t" >> "$K8S_RUN/users.tokens"
  kubeconfig "$K8S_RUN/$u.kubeconfig" "$u" "$t"
done
head -1 "$K8S_RUN/users.tokens" | cut -d' ' -f2 > "$K8S_RUN/admin.token"
kubeconfig "$K8S_RUN/kubelet.kubeconfig" "system:node:$K8S_NODE_NAME" "$(add_token "system:node:$K8S_NODE_NAME" system:nodes)"
kubeconfig "$K8S_RUN/controller-manager.kubeconfig" system:kube-controller-manager "$(add_token system:kube-controller-manager)"
kubeconfig "$K8S_RUN/scheduler.kubeconfig" system:kube-scheduler "$(add_token system:kube-scheduler)"
chmod 600 "$K8S_RUN/tokens.csv" "$K8S_RUN/users.tokens" "$K8S_RUN/admin.token"

# ---- start helpers: setsid so a test run's Ctrl-C does not reach the cluster; the recorded PID is the process
# itself (setsid does not fork here, nsenter --net execs)
start() { # NAME CMD...
  local name="$1"; shift
  setsid nsenter --net="$K8S_NETNS_PATH" "$@" > "$K8S_LOGS/$name.log" 2>&1 < /dev/null 9>&- &
  local pid=$! comm=""
  echo "$pid" > "$K8S_RUN/$name.pid"
  # until the forked shell has become setsid, nsenter, then the program itself
  for _ in $(seq 1 100); do
    { read -r comm < "/proc/$pid/comm"; } 2>/dev/null || break
    [ "$comm" = "${name:0:15}" ] && break
    sleep 0.05
  done
}
wait_for() { # WHAT SECONDS CMD...
  local what="$1" secs="$2"; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null; do
    if [ "$(date +%s)" -ge "$end" ]; then k8s_die "$what not ready within $secs s; logs in $K8S_LOGS"; fi
    sleep 0.3
  done
}
check_alive() { k8s_pid_alive "$1" || { tail -30 "$K8S_LOGS/$1.log" >&2; k8s_die "$1 exited; log: $K8S_LOGS/$1.log"; }; }

# ---- etcd (Debian's 3.4), only on the namespace's loopback
start etcd etcd --name porthole-k8s --data-dir "$K8S_STATE/etcd" \
  --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
  --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
  --initial-cluster porthole-k8s=http://127.0.0.1:2380 --logger zap --log-level warn

# ---- containerd of its own: own root, state, socket, runc root; CRI per the notes
cat > "$K8S_RUN/cni/10-porthole.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$K8S_NETNS",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "phk8sbr0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "${K8S_POD_CIDR%.0.0/16}.0.0/24" }]],
        "routes": [{ "dst": "0.0.0.0/0" }],
        "dataDir": "$K8S_STATE/cni-ipam"
      }
    }
  ]
}
JSON
cat > "$K8S_RUN/containerd.toml" <<TOML
version = 2
root = "$K8S_STATE/containerd"
state = "$K8S_RUN/containerd-state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "$K8S_CONTAINERD_SOCK"
[ttrpc]
  address = "$K8S_RUN/containerd.sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$K8S_STATE/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "localhost/pause:local"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  disable_apparmor = true
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$K8S_RUN/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$K8S_RUN/cni"
TOML
start containerd containerd --config "$K8S_RUN/containerd.toml"

# ---- kube-apiserver
start kube-apiserver "$K8S_BIN/kube-apiserver" \
  --etcd-servers=http://127.0.0.1:2379 \
  --bind-address=0.0.0.0 --secure-port="$K8S_API_PORT" --advertise-address="$K8S_NODE_IP" \
  --tls-cert-file="$K8S_PKI/apiserver.crt" --tls-private-key-file="$K8S_PKI/apiserver.key" \
  --client-ca-file="$K8S_PKI/ca.crt" \
  --token-auth-file="$K8S_RUN/tokens.csv" \
  --authorization-mode=Node,RBAC \
  --service-account-key-file="$K8S_PKI/sa.pub" --service-account-signing-key-file="$K8S_PKI/sa.key" \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-cluster-ip-range="$K8S_SERVICE_CIDR" \
  --kubelet-client-certificate="$K8S_PKI/apiserver-kubelet-client.crt" \
  --kubelet-client-key="$K8S_PKI/apiserver-kubelet-client.key" \
  --kubelet-preferred-address-types=InternalIP \
  --allow-privileged=true --profiling=false --v=1

# ---- images for the cluster's containerd, built offline while the API server starts: pause (a static C
# program) and busybox, each a docker-save archive made here (no Docker engine needed), kept in the cache
img="$K8S_CACHE/images"; mkdir -p "$img"
image_tar() { # REF ROOTFS OUT CONFIG_JSON
  local work; work="$(mktemp -d)"
  tar -C "$2" --numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 -cf "$work/layer.tar" .
  local diff; diff="$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  printf '{"architecture":"amd64","os":"linux","created":"1970-01-01T00:00:00Z","config":%s,"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"porthole k8s-up"}]}' \
    "$4" "$diff" > "$work/config.json"
  local cfg; cfg="$(sha256sum "$work/config.json" | cut -d' ' -f1)"
  mv "$work/config.json" "$work/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["layer.tar"]}]' "$cfg" "$1" > "$work/manifest.json"
  tar -C "$work" -cf "$3.tmp" manifest.json "$cfg.json" layer.tar
  mv "$3.tmp" "$3"
  rm -rf "$work"
}
if [ ! -f "$img/pause.tar" ] || [ "$here/k8s/pause.c" -nt "$img/pause.tar" ]; then
  rootfs="$(mktemp -d)"
  mkdir -p "$rootfs/dev" "$rootfs/proc" "$rootfs/sys" "$rootfs/etc"
  gcc -static -O2 -s -o "$rootfs/pause" "$here/k8s/pause.c"
  image_tar localhost/pause:local "$rootfs" "$img/pause.tar" '{"Entrypoint":["/pause"]}'
  rm -rf "$rootfs"
fi
if [ ! -f "$img/busybox.tar" ] || [ /bin/busybox -nt "$img/busybox.tar" ]; then
  bb="$(mktemp -d)"
  mkdir -p "$bb/bin" "$bb/etc" "$bb/tmp" "$bb/root" "$bb/home/user" "$bb/dev" "$bb/proc" "$bb/sys"
  chmod 755 "$bb"; chmod 1777 "$bb/tmp"
  cp /bin/busybox "$bb/bin/busybox"
  for a in $(/bin/busybox --list); do [ -e "$bb/bin/$a" ] || ln -s busybox "$bb/bin/$a"; done
  printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' > "$bb/etc/passwd"
  printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' > "$bb/etc/group"
  chown 1000:1000 "$bb/home/user"
  image_tar localhost/busybox:local "$bb" "$img/busybox.tar" '{"Env":["PATH=/bin"],"Cmd":["sh"]}'
  rm -rf "$bb"
fi

containerd_ready() { check_alive containerd; ctr -a "$K8S_CONTAINERD_SOCK" -n k8s.io version 2>/dev/null; }
wait_for "containerd" 30 containerd_ready
for t in pause busybox; do
  ctr -a "$K8S_CONTAINERD_SOCK" -n k8s.io images import "$img/$t.tar" >/dev/null ||
    k8s_die "could not load the $t image into the cluster's containerd"
done
k8s_log "containerd up, images localhost/pause:local and localhost/busybox:local loaded ($(elapsed))"

api_ready() {
  check_alive kube-apiserver
  curl -sf --max-time 3 --cacert "$K8S_PKI/ca.crt" -H "Authorization: Bearer $(cat "$K8S_RUN/admin.token")" "$K8S_API/readyz" 2>/dev/null
}
wait_for "kube-apiserver" 120 api_ready
check_alive etcd
check_alive kube-apiserver
k8s_log "kube-apiserver ready at $K8S_API ($(elapsed))"

# ---- controller-manager (default ServiceAccount, Deployments/ReplicaSets, ...) and scheduler
start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
  --kubeconfig="$K8S_RUN/controller-manager.kubeconfig" \
  --authentication-kubeconfig="$K8S_RUN/controller-manager.kubeconfig" \
  --authorization-kubeconfig="$K8S_RUN/controller-manager.kubeconfig" \
  --service-account-private-key-file="$K8S_PKI/sa.key" --root-ca-file="$K8S_PKI/ca.crt" \
  --cluster-signing-cert-file="$K8S_PKI/ca.crt" --cluster-signing-key-file="$K8S_PKI/ca.key" \
  --use-service-account-credentials=true --leader-elect=false \
  --bind-address=127.0.0.1 --profiling=false --v=1
start kube-scheduler "$K8S_BIN/kube-scheduler" \
  --kubeconfig="$K8S_RUN/scheduler.kubeconfig" \
  --authentication-kubeconfig="$K8S_RUN/scheduler.kubeconfig" \
  --authorization-kubeconfig="$K8S_RUN/scheduler.kubeconfig" \
  --leader-elect=false --bind-address=127.0.0.1 --profiling=false --v=1

# ---- kubelet. It sets host-wide sysctls on start (kernel.panic and others): keep the values to restore.
if [ ! -f "$K8S_RUN/sysctl.saved" ]; then
  for s in "${K8S_SYSCTLS[@]}"; do echo "$s=$(sysctl -n "$s")"; done > "$K8S_RUN/sysctl.saved.tmp"
  mv "$K8S_RUN/sysctl.saved.tmp" "$K8S_RUN/sysctl.saved"
fi
: > "$K8S_RUN/resolv.conf"
mkdir -p "$K8S_STATE/kubelet" "$K8S_STATE/pod-logs"
cat > "$K8S_RUN/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
cgroupDriver: cgroupfs
cgroupRoot: $K8S_CGROUP_ROOT
failSwapOn: false
containerRuntimeEndpoint: unix://$K8S_CONTAINERD_SOCK
resolvConf: $K8S_RUN/resolv.conf
address: $K8S_NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $K8S_PKI/kubelet.crt
tlsPrivateKeyFile: $K8S_PKI/kubelet.key
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: $K8S_PKI/ca.crt
authorization:
  mode: Webhook
evictionHard:
  memory.available: "0%"
  nodefs.available: "0%"
  nodefs.inodesFree: "0%"
  imagefs.available: "0%"
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
podLogsDir: $K8S_STATE/pod-logs
protectKernelDefaults: false
serializeImagePulls: false
maxPods: 110
YAML
# a cgroup root of its own in every hierarchy (the kubelet wants it to exist); cpuset needs cpus and mems set
for h in /sys/fs/cgroup/*/; do
  [ -f "$h/cgroup.procs" ] || [ -f "$h/tasks" ] || continue
  mkdir -p "$h${K8S_CGROUP_ROOT#/}"
  if [ -f "$h/cpuset.cpus" ]; then
    cat "$h/cpuset.cpus" > "$h${K8S_CGROUP_ROOT#/}/cpuset.cpus"
    cat "$h/cpuset.mems" > "$h${K8S_CGROUP_ROOT#/}/cpuset.mems"
  fi
done
# the kubelet makes /var/lib/kubelet/device-plugins whatever its --root-dir: k8s-down removes it if it made it
[ -e /var/lib/kubelet ] || touch "$K8S_RUN/made-var-lib-kubelet"
[ -e /var/log/containers ] || touch "$K8S_RUN/made-var-log-containers"
start kubelet "$K8S_BIN/kubelet" \
  --config="$K8S_RUN/kubelet.yaml" --kubeconfig="$K8S_RUN/kubelet.kubeconfig" \
  --root-dir="$K8S_STATE/kubelet" --hostname-override="$K8S_NODE_NAME" --node-ip="$K8S_NODE_IP" --v=1

# ---- RBAC of the test users
k8s_kubectl apply -f - >/dev/null <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: porthole-viewer
  namespace: default
rules:
- apiGroups: [""]
  resources: ["pods", "pods/log"]
  verbs: ["get", "list", "watch"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: porthole-viewer
  namespace: default
subjects:
- kind: User
  name: porthole-viewer
  apiGroup: rbac.authorization.k8s.io
roleRef:
  kind: Role
  name: porthole-viewer
  apiGroup: rbac.authorization.k8s.io
YAML

# ---- ready: node Ready, default ServiceAccount there
node_ready() {
  [ "$(k8s_kubectl get node "$K8S_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}
end=$(( $(date +%s) + 180 ))
until node_ready; do
  for p in "${K8S_PROCS[@]}"; do check_alive "$p"; done
  [ "$(date +%s)" -lt "$end" ] || { tail -30 "$K8S_LOGS/kubelet.log" >&2; k8s_die "node not Ready within 180 s; logs in $K8S_LOGS"; }
  sleep 0.5
done
k8s_log "node $K8S_NODE_NAME Ready ($(elapsed))"
default_sa() { k8s_kubectl -n default get serviceaccount default 2>/dev/null; }
wait_for "default ServiceAccount" 60 default_sa
for p in "${K8S_PROCS[@]}"; do check_alive "$p"; done
date -u +%FT%TZ > "$K8S_RUN/ready"
k8s_log "cluster up in $(elapsed): kubectl --kubeconfig $K8S_KUBECONFIG; users in $K8S_RUN/users.tokens, kubeconfigs $K8S_RUN/<user>.kubeconfig"
print_env
