#!/usr/bin/env bash
# Builds the pinned control-plane binaries from the Go module proxy into bin/,
# once. Usage: hack/build-tools.sh [envtest|e2e]
#   envtest: kube-apiserver, etcd               -> bin/k8s  (KUBEBUILDER_ASSETS)
#   e2e:     envtest + kube-controller-manager, kube-scheduler, kubectl -> bin/k8s
#            kwok, kwokctl                       -> bin/kwok
# A binary is rebuilt only when it is missing or its stamp names another version.
set -euo pipefail

K8S_VERSION=v1.37.1
ETCD_VERSION=v3.7.3
KWOK_VERSION=v0.8.0

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
set_="${1:-envtest}"
mkdir -p "$bin/k8s" "$bin/kwok"

export CGO_ENABLED=0 GOFLAGS=-mod=mod

stamp_ok() { # path version
	[ -x "$1" ] && [ -f "$1.version" ] && [ "$(cat "$1.version")" = "$2" ]
}

ver_ldflags() {
	local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
	local l="-s -w"
	for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		l="$l -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
	done
	echo "$l"
}

build_k8s() { # name
	local out="$bin/k8s/$1"
	if stamp_ok "$out" "$K8S_VERSION"; then return; fi
	echo ">> building $1 $K8S_VERSION (first run only, a few minutes)..." >&2
	(cd "$root/hack/tools/k8s" && go build -trimpath -ldflags "$(ver_ldflags)" -o "$out" "k8s.io/kubernetes/cmd/$1")
	echo "$K8S_VERSION" >"$out.version"
}

build_etcd() {
	local out="$bin/k8s/etcd"
	if stamp_ok "$out" "$ETCD_VERSION"; then return; fi
	echo ">> building etcd $ETCD_VERSION (first run only, about a minute)..." >&2
	(cd "$root/hack/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$out" ./cmd/etcd)
	echo "$ETCD_VERSION" >"$out.version"
}

build_kwok() { # name
	local out="$bin/kwok/$1"
	if stamp_ok "$out" "$KWOK_VERSION"; then return; fi
	echo ">> building $1 $KWOK_VERSION (first run only)..." >&2
	(cd "$root/hack/tools/kwok" && go build -trimpath -ldflags "-s -w" -o "$out" "sigs.k8s.io/kwok/cmd/$1")
	echo "$KWOK_VERSION" >"$out.version"
}

build_k8s kube-apiserver
build_etcd
if [ "$set_" = "e2e" ]; then
	build_k8s kube-controller-manager
	build_k8s kube-scheduler
	build_k8s kubectl
	build_kwok kwok
	build_kwok kwokctl
fi
