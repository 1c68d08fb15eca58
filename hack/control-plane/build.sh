#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kubectl) from source through the Go module
# proxy and caches it by version outside the repository, so a fresh clone on the same machine
# reuses it. Progress goes to stderr; the LAST line on stdout is the absolute path of the
# directory holding the three binaries (the contract `make control-plane` and the tests rely on).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The versions are whatever the tools modules pin; bump them there (and in go.sum) to upgrade.
# shellcheck source=../lib/go-build.sh
source "$here/../lib/go-build.sh"
K8S_VERSION="$(module_version "$here/kubernetes" k8s.io/kubernetes)"
ETCD_VERSION="$(module_version "$here/etcd" go.etcd.io/etcd/server/v3)"
[[ -n "$K8S_VERSION" && -n "$ETCD_VERSION" ]] || { echo "cannot read the pinned versions from $here/*/go.mod" >&2; exit 1; }
cache_root="${LCS_CONTROL_PLANE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-con-scaler-operator/control-plane}"
dest="$cache_root/kubernetes-${K8S_VERSION}_etcd-${ETCD_VERSION}"

log() { printf '[control-plane] %s\n' "$*" >&2; }

if [[ -x "$dest/kube-apiserver" && -x "$dest/etcd" && -x "$dest/kubectl" ]]; then
  log "cached: $dest"
  echo "$dest"
  exit 0
fi

command -v go >/dev/null || { log "go is required to build the test control plane (Go >= 1.25)"; exit 1; }
mkdir -p "$dest"
tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

major="${K8S_VERSION#v}"; major="${major%%.*}"
minor="${K8S_VERSION#v*.}"; minor="${minor%%.*}"
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=${K8S_VERSION} \
-X k8s.io/component-base/version.gitMajor=${major} -X k8s.io/component-base/version.gitMinor=${minor} \
-X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/client-go/pkg/version.gitVersion=${K8S_VERSION}"
export GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0

start=$SECONDS
log "building etcd ${ETCD_VERSION} (first build takes a few minutes)"
go_build etcd "$here/etcd" go.etcd.io/etcd/server/v3 "-s -w"

log "building kube-apiserver ${K8S_VERSION} (the first build takes 10-20 minutes on 2 cores)"
go_build kube-apiserver "$here/kubernetes" k8s.io/kubernetes/cmd/kube-apiserver "$ldflags"

log "building kubectl ${K8S_VERSION}"
go_build kubectl "$here/kubernetes" k8s.io/kubernetes/cmd/kubectl "$ldflags"

mv "$tmp/etcd" "$tmp/kube-apiserver" "$tmp/kubectl" "$dest/"
log "built in $((SECONDS - start)) s: $("$dest/kube-apiserver" --version 2>&1), etcd $("$dest/etcd" --version 2>&1 | head -1)"
echo "$dest"
