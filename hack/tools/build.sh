#!/usr/bin/env bash
# Builds helm and promtool from source through the Go module proxy (the chart, alert and dashboard
# tests run the real tools) and caches them by version outside the repository, like the control
# plane. Progress goes to stderr; the LAST line on stdout is the absolute path of the directory
# holding both binaries (the contract `make tools` and the tests rely on).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# The versions are whatever the tools modules pin; bump them there (and in go.sum) to upgrade.
# shellcheck source=../lib/go-build.sh
source "$here/../lib/go-build.sh"
HELM_VERSION="$(module_version "$here/helm" helm.sh/helm/v4)"
PROMETHEUS_MODULE_VERSION="$(module_version "$here/promtool" github.com/prometheus/prometheus)"
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

start=$SECONDS
if [[ ! -x "$dest/helm" ]]; then
  log "building helm ${HELM_VERSION} (the first build takes a few minutes)"
  helm_ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=${HELM_VERSION}"
  go_build helm "$here/helm" helm.sh/helm/v4/cmd/helm "$helm_ldflags"
  mv "$tmp/helm" "$dest/"
fi

if [[ ! -x "$dest/promtool" ]]; then
  log "building promtool ${PROMTOOL_VERSION} (the first build takes a few minutes)"
  prom_ldflags="-s -w -X github.com/prometheus/common/version.Version=${PROMTOOL_VERSION#v}"
  go_build promtool "$here/promtool" github.com/prometheus/prometheus/cmd/promtool "$prom_ldflags"
  mv "$tmp/promtool" "$dest/"
fi

log "built in $((SECONDS - start)) s: $("$dest/helm" version --short 2>&1), $("$dest/promtool" --version 2>&1 | head -1)"
echo "$dest"
