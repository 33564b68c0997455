#!/usr/bin/env bash
# Builds kube-apiserver, kubelet, kube-controller-manager, kube-scheduler and kubectl of the pinned version from
# the k8s.io/kubernetes Go module (through the Go module proxy) into a cache folder outside the checkout, once:
# a stamp file marks a finished build and later runs return at once. Cold: about half an hour on 2 cores.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
. "$here/k8s/common.sh"

stamp="$K8S_CACHE/$K8S_VERSION/.built"
all_built() {
  [ -f "$stamp" ] || return 1
  for b in "${K8S_BINARIES[@]}"; do [ -x "$K8S_BIN/$b" ] || return 1; done
}
if all_built; then exit 0; fi
command -v go >/dev/null 2>&1 || k8s_die "no Go toolchain; install Go 1.26 or newer (the build needs the Go module proxy)."

export GOMODCACHE="$K8S_GO_CACHE/mod" GOCACHE="$K8S_GO_CACHE/build" GOPATH="$K8S_GO_CACHE/path"
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
mod="$K8S_CACHE/$K8S_VERSION/module"
mkdir -p "$mod" "$K8S_BIN" "$GOMODCACHE" "$GOCACHE"
cd "$mod"

if [ ! -f go.sum ] || ! grep -q "^k8s.io/kubernetes $K8S_VERSION" go.sum; then
  k8s_log "preparing the build module for Kubernetes $K8S_VERSION in $mod"
  rm -f go.mod go.sum
  cat > tools.go <<GO
//go:build tools

// Package tools pins the Kubernetes commands the porthole test cluster builds.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
GO
  go mod init porthole.local/k8s-build >/dev/null 2>&1
  go mod edit -require="k8s.io/kubernetes@$K8S_VERSION"
  # k8s.io/kubernetes replaces its staging modules with ./staging/...; a module requiring it must point each one at
  # the published version instead.
  go mod download -json "k8s.io/kubernetes@$K8S_VERSION" >/dev/null
  kmod="$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
  [ -f "$kmod" ] || k8s_die "could not fetch k8s.io/kubernetes@$K8S_VERSION's go.mod"
  for m in $(sed -n 's#^[[:space:]]*\(k8s\.io/[^ ]*\) => \./staging/.*#\1#p' "$kmod"); do
    go mod edit -replace="$m=$m@$K8S_STAGING_VERSION"
  done
  GOFLAGS=-mod=mod go mod tidy -e >&2 || k8s_die "go mod tidy failed for Kubernetes $K8S_VERSION"
fi

minor="${K8S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1"
ldflags="$ldflags -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean"
ldflags="$ldflags -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
# one binary at a time, -p 2: the links of kube-apiserver and kubelet take a few GB each
for b in "${K8S_BINARIES[@]}"; do
  [ -x "$K8S_BIN/$b" ] && [ "$K8S_BIN/$b" -nt go.sum ] && continue
  k8s_log "building $b $K8S_VERSION (cold: minutes)"
  start=$(date +%s)
  go build -p "${K8S_BUILD_JOBS:-2}" -trimpath -ldflags "$ldflags" -o "$K8S_BIN/$b.tmp" "k8s.io/kubernetes/cmd/$b"
  mv "$K8S_BIN/$b.tmp" "$K8S_BIN/$b"
  k8s_log "built $b in $(( $(date +%s) - start )) s"
done
date -u +%FT%TZ > "$stamp"
k8s_log "Kubernetes $K8S_VERSION binaries in $K8S_BIN"
