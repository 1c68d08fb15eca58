# Shared by hack/control-plane/build.sh and hack/tools/build.sh: building a Go program from a tools
# module through the Go module proxy, with progress on stderr. The caller defines log() and sets $tmp.

# The version a tools module pins: module_version DIR MODULE.
module_version() { awk -v m="$2" '$1==m {print $2; exit}' "$1/go.mod"; }

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

# go_build NAME MODULE_DIR PACKAGE LDFLAGS: builds PACKAGE in MODULE_DIR into $tmp/NAME, or exits.
go_build() {
  local name="$1" dir="$2" pkg="$3" ldflags="$4"
  (cd "$dir" && go build -v -trimpath -ldflags "$ldflags" -o "$tmp/$name" "$pkg" 2>&1) | progress "$name"
  [[ -x "$tmp/$name" ]] || { log "$name build failed"; exit 1; }
}
