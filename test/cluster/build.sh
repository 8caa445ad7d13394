#!/usr/bin/env bash
# Builds the sandbox binaries once and caches them outside the repo:
#   $CACHE/<key>/kube-sandbox   etcd, kube-apiserver, kube-controller-manager,
#                               kube-scheduler, kubectl, certs (multi-call)
#   $CACHE/<key>/kubectl, etcd, ... symlinks to kube-sandbox
#   $CACHE/<key>/kwok           simulated kubelets
# <key> hashes everything that decides the output (go.mod, go.sum, *.go, this
# script), so a change rebuilds and an unchanged checkout never does.
# Prints progress on stderr and the binary directory as the last stdout line.
# Usage: test/cluster/build.sh [--print-dir]   (--print-dir: no build, just the path)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# The version /version reports: the example lab's K3s release. The Kubernetes
# modules in go.mod are that same minor and patch (update-deps.sh v1.34.3).
K3S_VERSION="v1.34.3+k3s1"
# kwok v0.7.0: its go.mod needs the same Go as Kubernetes 1.34 (1.24), unlike
# v0.8.0 (Go 1.26); it talks to the API with client-go 0.33, inside skew.
KWOK_VERSION="v0.7.0"

CACHE_ROOT="${K3S_LAB_SANDBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/k3s-lab-runbooks/cluster}"
key="$(cd "$HERE" && cat go.mod go.sum ./*.go build.sh | sha256sum | cut -c1-16)"
OUT="$CACHE_ROOT/$key"
if [[ "${1:-}" == "--print-dir" ]]; then echo "$OUT"; exit 0; fi
if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

if ! command -v go >/dev/null; then # also look where Go is usually put, and where ci-install.sh puts it
  for d in /usr/local/go/bin "${XDG_CACHE_HOME:-$HOME/.cache}"/k3s-lab-runbooks/go/go*/bin; do
    if [[ -x "$d/go" ]]; then PATH="$d:$PATH"; break; fi
  done
fi
command -v go >/dev/null || { echo "build.sh: Go not found; install Go >= $(awk '/^go /{print $2}' "$HERE/go.mod") or run test/cluster/ci-install.sh" >&2; exit 1; }
mkdir -p "$CACHE_ROOT"
# One build at a time per cache (parallel test suites may all ask at once).
exec 9>"$CACHE_ROOT/.build.lock"
if ! flock -n 9; then
  echo "waiting for another build of the sandbox to finish…" >&2
  flock 9
fi
if [[ -f "$OUT/.complete" ]]; then echo "$OUT"; exit 0; fi

tmp="$CACHE_ROOT/.tmp-$key-$$"
rm -rf "$tmp"; mkdir -p "$tmp"
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM  # so the EXIT trap cleans up on Ctrl-C/kill too
start=$SECONDS
export CGO_ENABLED=0 GOFLAGS="-mod=readonly -trimpath -buildvcs=false" GOTOOLCHAIN=local

minor="${K3S_VERSION#v1.}"; minor="${minor%%.*}"
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$K3S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.gitCommit=0000000000000000000000000000000000000000"
  ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

echo "building control plane (first time, ~15 min on 2 cores) into $OUT …" >&2
echo "  [1/2] kube-sandbox: etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kubectl ($(go version | cut -d' ' -f3))" >&2
(cd "$HERE" && go build -ldflags "$ldflags" -o "$tmp/kube-sandbox" .) >&2
echo "  [1/2] done after $((SECONDS - start))s" >&2
echo "  [2/2] kwok $KWOK_VERSION (simulated kubelets)" >&2
(cd "$tmp" && GOFLAGS="-trimpath -buildvcs=false" GOBIN="$tmp" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION") >&2
for name in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl; do
  ln -s kube-sandbox "$tmp/$name"
done
echo "$K3S_VERSION" > "$tmp/VERSION"
echo "kwok $KWOK_VERSION" >> "$tmp/VERSION"
touch "$tmp/.complete"
rm -rf "$OUT"
mv "$tmp" "$OUT"
trap - EXIT
echo "built in $((SECONDS - start))s" >&2
echo "$OUT"
