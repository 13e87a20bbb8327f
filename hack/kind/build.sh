#!/usr/bin/env bash
# Stage A of the registry-free kind cluster (docs/kind.md): builds every
# binary a kind node needs, and kind itself, from the Go module proxy (one
# tools module per upstream under hack/tools, versions in their go.mod,
# checksums in their go.sum) and pause from its C source in the Kubernetes
# module. Outputs are cached outside the clone, one file per binary with a
# stamp naming its version; a binary is rebuilt only when its stamp differs.
#   hack/kind/build.sh [name...]   (default: all)
# Settings: STICKYGUARD_CACHE (~/.cache/stickyguard) -> $cache/kind/bin
# Needs: go, gcc and libseccomp-dev (runc is cgo + seccomp, linked static).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=hack/kind/lib.sh
. "$root/hack/kind/lib.sh"
tools="$root/hack/tools"
mkdir -p "$KIND_BIN"
export GOFLAGS=-mod=readonly

# modver DIR MODULE: the version DIR's go.mod pins MODULE at.
modver() { (cd "$tools/$1" && go list -m -f '{{.Version}}' "$2"); }

stamp_ok() { [ -x "$KIND_BIN/$1" ] && [ "$(cat "$KIND_BIN/$1.version" 2>/dev/null)" = "$2" ]; }

# gobuild NAME DIR PKG VERSION [go build flags...]: CGO off unless CGO=1.
gobuild() {
	local name=$1 dir=$2 pkg=$3 ver=$4 t0=$SECONDS
	shift 4
	stamp_ok "$name" "$ver" && return
	log "building $name $ver"
	(cd "$tools/$dir" && CGO_ENABLED=${CGO:-0} go build -trimpath -o "$KIND_BIN/$name" "$@" "$pkg")
	echo "$ver" >"$KIND_BIN/$name.version"
	log "built $name in $((SECONDS - t0))s"
}

k8s_ldflags() {
	local minor l="-s -w" p
	minor=$(echo "$K8S_VERSION" | cut -d. -f2)
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		l="$l -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
	done
	echo "$l"
}

build_kind() {
	local v; v=$(modver kind sigs.k8s.io/kind)
	gobuild kind kind sigs.k8s.io/kind "$v" -ldflags "-s -w"
}

build_containerd() {
	local v m=github.com/containerd/containerd/v2 c
	v=$(modver containerd $m)
	local ld="-s -w -X $m/version.Version=$v -X $m/version.Package=github.com/containerd/containerd"
	for c in containerd ctr containerd-shim-runc-v2; do
		gobuild "$c" containerd "$m/cmd/$c" "$v" -tags "no_btrfs no_devmapper no_zfs" -ldflags "$ld"
	done
}

build_runc() {
	local v; v=$(modver runc github.com/opencontainers/runc)
	stamp_ok runc "$v" && return
	dpkg -s libseccomp-dev >/dev/null 2>&1 || apt-get install -y -qq libseccomp-dev >/dev/null ||
		{ apt-get update -qq && apt-get install -y -qq libseccomp-dev >/dev/null; } || die "runc needs libseccomp-dev"
	CGO=1 gobuild runc runc github.com/opencontainers/runc "$v" -tags "seccomp netgo osusergo urfave_cli_no_docs" \
		-ldflags "-s -w -X main.version=${v#v} -extldflags -static"
}

build_crictl() {
	local v; v=$(modver crictl sigs.k8s.io/cri-tools)
	gobuild crictl crictl sigs.k8s.io/cri-tools/cmd/crictl "$v" -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$v"
}

build_cni() {
	local v m=github.com/containernetworking/plugins p
	v=$(modver cni $m)
	for p in main/bridge ipam/host-local main/loopback meta/portmap; do
		gobuild "cni-${p#*/}" cni "$m/plugins/$p" "$v" -ldflags "-s -w"
	done
}

build_coredns() {
	local v; v=$(modver coredns github.com/coredns/coredns)
	gobuild coredns coredns github.com/coredns/coredns "$v" -ldflags "-s -w"
}

build_kubenode() {
	local c
	for c in kubelet kubeadm kube-proxy; do
		gobuild "$c" kubenode "k8s.io/kubernetes/cmd/$c" "$K8S_VERSION" -ldflags "$(k8s_ldflags)"
	done
}

# build_pause: gcc -static from build/pause/linux/pause.c of the pinned module.
build_pause() {
	local ver src
	ver=$(sed -n 's/^\s*PauseVersion = "\(.*\)"/\1/p' "$(k8s_src)/cmd/kubeadm/app/constants/constants.go")
	stamp_ok pause "$ver" && return
	src="$(k8s_src)/build/pause/linux/pause.c"
	log "building pause $ver (gcc -static)"
	gcc -Os -Wall -Werror -static -DVERSION="v$ver" -o "$KIND_BIN/pause" "$src"
	strip "$KIND_BIN/pause"
	echo "$ver" >"$KIND_BIN/pause.version"
}

# control-plane binaries: hack/build-tools.sh (bin/k8s), shared with envtest.
build_controlplane() { "$root/hack/build-tools.sh" e2e; }

all=(controlplane kubenode containerd runc crictl cni coredns pause kind)
t0=$SECONDS
for n in "${@:-${all[@]}}"; do "build_$n"; done
log "stage A done in $((SECONDS - t0))s: $KIND_BIN"
