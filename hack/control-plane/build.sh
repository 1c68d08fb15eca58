#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kubectl) from source through the Go module
# proxy and caches it by version outside the repository, so a fresh clone on the same machine
# reuses it. Progress goes to stderr; the LAST line on stdout is the absolute path of the
# directory holding the three binaries (the contract `make control-plane` and the tests rely on).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The versions are whatever the tools modules pin; bump them there (and in go.sum) to upgrade.
module_version() { awk -v m="$2" '$1==m {print $2; exit}' "$here/$1/go.mod"; }
K8S_VERSION="$(module_version kubernetes k8s.io/kubernetes)"
ETCD_VERSION="$(module_version etcd go.etcd.io/etcd/server/v3)"
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

# Progress: go build -v names each package as it compiles it; print every 100th with a count.
progress() {
  local what="$1" n=0
  while IFS= read -r line; do
    n=$((n + 1))
    if ((n % 100 == 0)); then log "$what: $n packages compiled ($line)"; fi
    case "$line" in *.go:[0-9]*|*"cannot "*|go:\ *) log "$line" ;; esac
  done
  log "$what: done ($n packages)"
}

start=$SECONDS
log "building etcd ${ETCD_VERSION} (first build takes a few minutes)"
(cd "$here/etcd" && go build -v -trimpath -ldflags "-s -w" -o "$tmp/etcd" go.etcd.io/etcd/server/v3 2>&1) | progress etcd
[[ -x "$tmp/etcd" ]] || { log "etcd build failed"; exit 1; }

log "building kube-apiserver ${K8S_VERSION} (the first build takes 10-20 minutes on 2 cores)"
(cd "$here/kubernetes" && go build -v -trimpath -ldflags "$ldflags" -o "$tmp/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver 2>&1) | progress kube-apiserver
[[ -x "$tmp/kube-apiserver" ]] || { log "kube-apiserver build failed"; exit 1; }

log "building kubectl ${K8S_VERSION}"
(cd "$here/kubernetes" && go build -v -trimpath -ldflags "$ldflags" -o "$tmp/kubectl" k8s.io/kubernetes/cmd/kubectl 2>&1) | progress kubectl
[[ -x "$tmp/kubectl" ]] || { log "kubectl build failed"; exit 1; }

mv "$tmp/etcd" "$tmp/kube-apiserver" "$tmp/kubectl" "$dest/"
log "built in $((SECONDS - start)) s: $("$dest/kube-apiserver" --version 2>&1), etcd $("$dest/etcd" --version 2>&1 | head -1)"
echo "$dest"
