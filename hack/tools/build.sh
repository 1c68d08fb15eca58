#!/usr/bin/env bash
# Builds helm and promtool from source through the Go module proxy (the chart, alert and dashboard
# tests run the real tools) and caches them by version outside the repository, like the control
# plane. Progress goes to stderr; the LAST line on stdout is the absolute path of the directory
# holding both binaries (the contract `make tools` and the tests rely on).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The versions are whatever the tools modules pin; bump them there (and in go.sum) to upgrade.
module_version() { awk -v m="$2" '$1==m {print $2; exit}' "$here/$1/go.mod"; }
HELM_VERSION="$(module_version helm helm.sh/helm/v4)"
PROMETHEUS_MODULE_VERSION="$(module_version promtool github.com/prometheus/prometheus)"
[[ -n "$HELM_VERSION" && -n "$PROMETHEUS_MODULE_VERSION" ]] || { echo "cannot read the pinned versions from $here/*/go.mod" >&2; exit 1; }
# Prometheus tags release v3.M.P as Go module v0.3MM.P (v3.16.0 is v0.316.0).
prom_minor="${PROMETHEUS_MODULE_VERSION#v0.}"; prom_patch="${prom_minor#*.}"; prom_minor="${prom_minor%%.*}"
PROMTOOL_VERSION="v$((prom_minor / 100)).$((prom_minor % 100)).${prom_patch}"
cache_root="${LCS_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lambda-con-scaler-operator/tools}"
dest="$cache_root/helm-${HELM_VERSION}_promtool-${PROMTOOL_VERSION}"

log() { printf '[tools] %s\n' "$*" >&2; }

if [[ -x "$dest/helm" && -x "$dest/promtool" ]]; then
  log "cached: $dest"
  echo "$dest"
  exit 0
fi

command -v go >/dev/null || { log "go is required to build helm and promtool (Go >= 1.26.7)"; exit 1; }
mkdir -p "$dest"
tmp="$(mktemp -d "$cache_root/.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# The caller may add flags, e.g. GOFLAGS=-p=1 to leave cores to others.
export GOFLAGS="-mod=mod -buildvcs=false${GOFLAGS:+ $GOFLAGS}" CGO_ENABLED=0

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
if [[ ! -x "$dest/helm" ]]; then
  log "building helm ${HELM_VERSION} (the first build takes a few minutes)"
  helm_ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}"
  (cd "$here/helm" && go build -v -trimpath -ldflags "$helm_ldflags" -o "$tmp/helm" helm.sh/helm/v4/cmd/helm 2>&1) | progress helm
  [[ -x "$tmp/helm" ]] || { log "helm build failed"; exit 1; }
  mv "$tmp/helm" "$dest/"
fi

if [[ ! -x "$dest/promtool" ]]; then
  log "building promtool ${PROMTOOL_VERSION} (the first build takes a few minutes)"
  prom_ldflags="-s -w -X github.com/prometheus/common/version.Version=${PROMTOOL_VERSION#v}"
  (cd "$here/promtool" && go build -v -trimpath -ldflags "$prom_ldflags" -o "$tmp/promtool" github.com/prometheus/prometheus/cmd/promtool 2>&1) | progress promtool
  [[ -x "$tmp/promtool" ]] || { log "promtool build failed"; exit 1; }
  mv "$tmp/promtool" "$dest/"
fi

log "built in $((SECONDS - start)) s: $("$dest/helm" version --short 2>&1), $("$dest/promtool" --version 2>&1 | head -1)"
echo "$dest"
