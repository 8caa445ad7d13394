#!/usr/bin/env bash
# Makes the sandbox usable on a fresh machine; idempotent, for .ci/run:
#  1. a Go at least as new as go.mod's `go` line: the one on PATH (or
#     /usr/local/go) if new enough, else a pinned toolchain fetched from the
#     Go module proxy (checksum-verified) into a cache dir outside the repo;
#  2. the control-plane and kwok binaries, built once and cached by
#     build.sh (~15 min cold on 2 cores, instant when cached).
# Prints progress; the last stdout line is the binary directory.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE_BASE="${XDG_CACHE_HOME:-$HOME/.cache}/k3s-lab-runbooks"

# The toolchain fetched when none is found, and its zip's sha256 (as served
# by the module proxy: golang.org/toolchain@v0.0.1-go<ver>.linux-amd64).
FALLBACK_GO="1.26.8"
FALLBACK_SHA256_linux_amd64="30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7"
GOPROXY_URL="${GOPROXY_URL:-https://proxy.golang.org}"

need="$(awk '/^go /{print $2; exit}' "$HERE/go.mod")"
say() { echo "ci-install: $*" >&2; }

new_enough() { # $1 = path to a go binary
  local have
  have="$("$1" env GOVERSION 2>/dev/null)" || return 1
  have="${have#go}"
  [[ "$(printf '%s\n%s\n' "$need" "$have" | sort -V | head -1)" == "$need" ]]
}

find_go() {
  local candidates=()
  command -v go >/dev/null && candidates+=("$(command -v go)")
  candidates+=(/usr/local/go/bin/go "$CACHE_BASE/go/go$FALLBACK_GO/bin/go")
  for g in "${candidates[@]}"; do
    if [[ -x "$g" ]] && new_enough "$g"; then echo "$g"; return 0; fi
  done
  return 1
}

fetch_go() {
  local arch sum dest zip url
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    *) say "no Go >= $need found and no pinned toolchain for $(uname -m); install Go >= $need"; exit 1 ;;
  esac
  sum_var="FALLBACK_SHA256_linux_${arch}"; sum="${!sum_var}"
  dest="$CACHE_BASE/go/go$FALLBACK_GO"
  url="$GOPROXY_URL/golang.org/toolchain/@v/v0.0.1-go$FALLBACK_GO.linux-$arch.zip"
  say "no Go >= $need found; fetching go$FALLBACK_GO from the Go module proxy into $dest"
  mkdir -p "$CACHE_BASE/go"
  zip="$(mktemp "$CACHE_BASE/go/.download-XXXXXX.zip")"
  trap 'rm -f "$zip"; rm -rf "$dest.tmp"' EXIT
  curl -fsSL --retry 3 -o "$zip" "$url"
  echo "$sum  $zip" | sha256sum -c --quiet - || { say "checksum mismatch for $url"; exit 1; }
  rm -rf "$dest.tmp"; mkdir -p "$dest.tmp"
  unzip -q "$zip" -d "$dest.tmp"
  # Module zips keep no file modes: make the tools executable again.
  chmod -R a+x "$dest.tmp"/golang.org/toolchain@*/bin "$dest.tmp"/golang.org/toolchain@*/pkg/tool
  rm -rf "$dest"
  mv "$dest.tmp"/golang.org/toolchain@* "$dest"
  rm -rf "$dest.tmp" "$zip"
  trap - EXIT
}

if ! gobin="$(find_go)"; then
  fetch_go
  gobin="$(find_go)" || { say "the fetched Go does not run"; exit 1; }
fi
say "using $("$gobin" version) ($gobin)"
export PATH="$(dirname "$gobin"):$PATH"
exec "$HERE/build.sh"
