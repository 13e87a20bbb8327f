#!/usr/bin/env bash
# The real CRDs of Gateway API, Envoy Gateway and Istio, from the Go module
# proxy, checksum-verified: the tests and the e2e install them into a real
# kube-apiserver. Pins: hack/tools/gatewaycrds (go.mod/go.sum) and, for the
# other Gateway API versions (a go.mod requires one version of a module; and
# v1.7.0's go.mod needs go >= 1.27, so no go.mod here may require it),
# hack/tools/gatewaycrds/gateway-api-<version>.sum. v1.5.1 is the last bundle
# with sessionPersistence.idleTimeout (GW-004).
#
#   hack/gateway-crds.sh list               the bundle names, one a line
#   hack/gateway-crds.sh paths BUNDLE...    the CRD files of the bundles, one a line
#   hack/gateway-crds.sh link DIR BUNDLE... DIR/<bundle>/ with a link to each CRD
#                                           file (for kubectl apply -f DIR/<bundle>)
#
# Only files that define CustomResourceDefinitions are listed: Gateway API's
# ValidatingAdmissionPolicy (safe-upgrades) and kustomization.yaml are not.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/hack/tools/gatewaycrds"

die() { printf 'gateway-crds: %s\n' "$*" >&2; exit 1; }

bundles() {
	cat <<'LIST'
gateway-api-v1.5.1-experimental
gateway-api-v1.6.3-standard
gateway-api-v1.6.3-experimental
gateway-api-v1.7.0-standard
gateway-api-v1.7.0-experimental
envoy-gateway-v1.9.1
istio-v1.32.0
LIST
}

# json_field FIELD reads one string field of `go mod download -json` on stdin.
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}$/\1/p" | head -1; }

# pinned MODULE VERSION: the module's directory, downloaded through the tools
# module, so go verifies it against hack/tools/gatewaycrds/go.sum; the
# version must be the one go.mod requires.
pinned() {
	local mod=$1 want=$2 out dir ver
	out=$(cd "$tools" && GOWORK=off GOFLAGS=-mod=readonly GOTOOLCHAIN=local go mod download -json "$mod") ||
		die "go mod download $mod: $(printf '%s' "$out" | json_field Error)"
	ver=$(printf '%s\n' "$out" | json_field Version)
	dir=$(printf '%s\n' "$out" | json_field Dir)
	[ "$ver" = "$want" ] || die "hack/tools/gatewaycrds requires $mod $ver, this script expects $want"
	[ -d "$dir" ] || die "$mod@$ver: no module directory ($out)"
	echo "$dir"
}

# other_gateway_api VERSION TOOLCHAIN: a Gateway API version that no go.mod
# here requires, fetched outside any module with the go toolchain its go.mod
# asks for (v1.7.0: go1.27.3) and compared with the pinned hashes.
other_gateway_api() {
	local version=$1 toolchain=$2 out dir sum modsum tmp pin="$tools/gateway-api-$1.sum"
	[ -f "$pin" ] || die "no pinned hashes for sigs.k8s.io/gateway-api@$version (${pin#"$root"/})"
	tmp=$(mktemp -d)
	out=$(cd "$tmp" && GOWORK=off GOFLAGS=-mod=mod GOTOOLCHAIN=$toolchain \
		go mod download -json "sigs.k8s.io/gateway-api@$version") || {
		rmdir "$tmp"
		die "go mod download sigs.k8s.io/gateway-api@$version: $(printf '%s' "$out" | json_field Error)"
	}
	rmdir "$tmp"
	sum=$(printf '%s\n' "$out" | json_field Sum)
	modsum=$(printf '%s\n' "$out" | json_field GoModSum)
	dir=$(printf '%s\n' "$out" | json_field Dir)
	grep -qxF "sigs.k8s.io/gateway-api $version $sum" "$pin" ||
		die "sigs.k8s.io/gateway-api@$version has hash $sum, not the one pinned in ${pin#"$root"/}"
	grep -qxF "sigs.k8s.io/gateway-api $version/go.mod $modsum" "$pin" ||
		die "sigs.k8s.io/gateway-api@$version/go.mod has hash $modsum, not the one pinned in ${pin#"$root"/}"
	[ -d "$dir" ] || die "sigs.k8s.io/gateway-api@$version: no module directory"
	echo "$dir"
}

# crd_files FILE...: those of FILE... that define a CustomResourceDefinition.
crd_files() {
	local f
	for f in "$@"; do
		grep -q '^kind: CustomResourceDefinition' "$f" && echo "$f"
	done
	return 0
}

# gateway_api DIR VERSION CHANNEL lists the bundle's CRDs and checks that they
# carry the bundle-version and channel annotations the version promises.
gateway_api() {
	local dir=$1 version=$2 channel=$3 files f
	files=$(crd_files "$dir"/config/crd/"$channel"/*.yaml)
	[ -n "$files" ] || die "no CRDs in $dir/config/crd/$channel"
	for f in $files; do
		grep -q "gateway.networking.k8s.io/bundle-version: $version\$" "$f" || die "$f is not bundle $version"
		grep -q "gateway.networking.k8s.io/channel: $channel\$" "$f" || die "$f is not channel $channel"
	done
	printf '%s\n' "$files"
}

paths() { # BUNDLE
	local dir
	case $1 in
	gateway-api-v1.6.3-standard | gateway-api-v1.6.3-experimental)
		dir=$(pinned sigs.k8s.io/gateway-api v1.6.3)
		gateway_api "$dir" v1.6.3 "${1##*-}"
		;;
	gateway-api-v1.5.1-experimental)
		dir=$(other_gateway_api v1.5.1 local)
		gateway_api "$dir" v1.5.1 experimental
		;;
	gateway-api-v1.7.0-standard | gateway-api-v1.7.0-experimental)
		dir=$(other_gateway_api v1.7.0 go1.27.3)
		gateway_api "$dir" v1.7.0 "${1##*-}"
		;;
	envoy-gateway-v1.9.1)
		# Envoy Gateway's own CRDs; its chart's copy of the Gateway API CRDs
		# (crds/gatewayapi-crds.yaml) is left out: pick a Gateway API bundle.
		dir=$(pinned github.com/envoyproxy/gateway v1.9.1)
		crd_files "$dir"/charts/gateway-helm/charts/crds/crds/generated/*.yaml
		;;
	istio-v1.32.0)
		dir=$(pinned istio.io/api v1.32.0)
		crd_files "$dir/kubernetes/customresourcedefinitions.gen.yaml"
		;;
	*) die "unknown bundle $1 (hack/gateway-crds.sh list)" ;;
	esac
}

link() { # DIR BUNDLE...
	local out=$1 b f
	shift
	for b in "$@"; do
		local files
		files=$(paths "$b")
		rm -rf "${out:?}/$b"
		mkdir -p "$out/$b"
		for f in $files; do
			ln -s "$f" "$out/$b/$(basename "$f")"
		done
		echo "$out/$b"
	done
}

case "${1:-}" in
list) bundles ;;
paths)
	shift
	[ $# -gt 0 ] || die "usage: $0 paths BUNDLE..."
	for b in "$@"; do paths "$b"; done
	;;
link)
	shift
	[ $# -gt 1 ] || die "usage: $0 link DIR BUNDLE..."
	link "$@"
	;;
*)
	echo "usage: $0 list | paths BUNDLE... | link DIR BUNDLE..." >&2
	exit 2
	;;
esac
