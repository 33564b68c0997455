#!/usr/bin/env bash
# A few real checks of the test cluster with kubectl: node Ready, default ServiceAccount, a pod running from the
# local busybox image with its logs and an exec in it, a Deployment's pod (controller-manager and scheduler at
# work), and the test users: viewer allowed in default and forbidden elsewhere, nobody forbidden, a wrong token
# unauthorized. Exits non-zero on the first failed check; removes what it made.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/common.sh"
kc() { "$K8S_BIN/kubectl" --kubeconfig "$K8S_KUBECONFIG" --request-timeout=20s "$@"; }
as() { local u="$1"; shift; "$K8S_BIN/kubectl" --kubeconfig "$K8S_RUN/$u.kubeconfig" --request-timeout=20s "$@"; }
[ -f "$K8S_KUBECONFIG" ] || k8s_die "the test cluster is not up; run scripts/k8s-up.sh first."

id="k8s-smoke-$$"
passed=0
total=0
cleanup() {
  kc delete pod "$id" --wait=false --ignore-not-found >/dev/null 2>&1
  kc delete deployment "$id" --wait=false --ignore-not-found >/dev/null 2>&1
}
trap cleanup EXIT
check() { # NAME CMD...: passes when CMD succeeds
  local name="$1"; shift
  total=$((total + 1))
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1)); echo "ok   $name" >&2
  else
    echo "FAIL $name: $(echo "$out" | tail -3)" >&2
    echo "k8s-smoke: $passed/$total passed" >&2
    exit 1
  fi
}
node_ready() { [ "$(kc get node "$K8S_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
pod_logs() {
  kc wait --for=condition=Ready "pod/$id" --timeout=90s >/dev/null || { kc describe pod "$id"; return 1; }
  kc logs "$id" | grep -qx "hello from $id"
}
pod_exec() { [ "$(kc exec "$id" -- sh -c 'echo $((6*7)) $(id -u)')" = "42 0" ]; }
deploy_runs() {
  kc apply -f - >/dev/null <<YAML &&
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $id
spec:
  replicas: 1
  selector:
    matchLabels: {app: $id}
  template:
    metadata:
      labels: {app: $id}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: localhost/busybox:local
        imagePullPolicy: Never
        command: ["sleep", "3600"]
YAML
    kc rollout status "deployment/$id" --timeout=90s >/dev/null
}
viewer_allowed() { as porthole-viewer get pods -n default >/dev/null && as porthole-viewer logs "$id" | grep -q hello; }
# kubectl fails there, as it should: look at what it said
viewer_forbidden() { local out; out="$(as porthole-viewer get pods -n kube-system 2>&1)"; grep -q Forbidden <<< "$out"; }
nobody_forbidden() { local out; out="$(as porthole-nobody get pods -n default 2>&1)"; grep -q Forbidden <<< "$out"; }
bad_token_unauthorized() {
  local out
  out="$("$K8S_BIN/kubectl" --server "$K8S_API" --certificate-authority "$K8S_PKI/ca.crt" --token not-a-token \
    --kubeconfig /dev/null get pods 2>&1)"
  grep -q Unauthorized <<< "$out"
}

check "node $K8S_NODE_NAME Ready" node_ready
check "default ServiceAccount in default" kc get serviceaccount default -n default
check "pod from localhost/busybox:local runs" kc run "$id" --image=localhost/busybox:local --image-pull-policy=Never \
  --restart=Never --overrides='{"spec":{"terminationGracePeriodSeconds":1}}' --command -- sh -c "echo hello from $id; exec sleep 3600"
check "pod Ready and its logs read" pod_logs
check "exec in the pod" pod_exec
check "Deployment rolls out (controller-manager, scheduler)" deploy_runs
check "porthole-viewer reads pods and logs in default" viewer_allowed
check "porthole-viewer forbidden in kube-system" viewer_forbidden
check "porthole-nobody forbidden" nobody_forbidden
check "a wrong token is unauthorized" bad_token_unauthorized
echo "k8s-smoke: $passed/$total passed" >&2
