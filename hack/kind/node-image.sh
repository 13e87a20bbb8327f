#!/usr/bin/env bash
# Stage B of the registry-free kind cluster (docs/kind.md): the kind node
# image, without kindest/base or any registry.
#   1. a Debian bookworm rootfs (debootstrap minbase + systemd 252 and the
#      tools a node needs), cached by package list
#   2. the images kubeadm v1.37.1 deploys, each `docker import`ed FROM
#      nothing (a tar of its binary) under the name
#      `kubeadm config images list` gives it, saved as archives
#   3. rootfs + hack/kind/build.sh's binaries + hack/kind/node/ (systemd units,
#      containerd config, sg-cni, sg-preload) + kind's own entrypoint (from
#      the pinned kind module) + the image archives in /kind/images, which
#      sg-preload.service imports into containerd at the node's first boot
#      (unpacked layers live on the node's /var volume, which a committed
#      image cannot carry)
#   -> docker import as $KIND_NODE_IMAGE
#   hack/kind/node-image.sh [rootfs]   (rootfs: step 1 only)
# Rebuilt when any input changes (a hash of all of them is the image label
# sg.inputs). Settings: STICKYGUARD_CACHE, KIND_NODE_IMAGE, FORCE=1.
# Needs root (debootstrap, chroot) and a Docker engine.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=hack/kind/lib.sh
. "$root/hack/kind/lib.sh"

PACKAGES=systemd,systemd-sysv,dbus,ca-certificates,iptables,iproute2,conntrack,ethtool,socat,kmod,procps,libseccomp2,util-linux,mount
rootfs="$KIND_CACHE/rootfs-$(echo "$PACKAGES" | sha256sum | cut -c1-12)"
stage="$KIND_CACHE/stage-node"
images="$KIND_CACHE/images"

make_rootfs() {
	[ -x "$rootfs/lib/systemd/systemd" ] && return
	command -v debootstrap >/dev/null ||
		{ apt-get install -y -qq debootstrap >/dev/null || { apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }; }
	log "debootstrap bookworm (minbase + systemd + node tools) into $rootfs"
	local t0=$SECONDS
	rm -rf "$rootfs.tmp"
	debootstrap --variant=minbase --include="$PACKAGES" bookworm "$rootfs.tmp" >"$KIND_CACHE/debootstrap.log" 2>&1 ||
		{ tail -5 "$KIND_CACHE/debootstrap.log"; die "debootstrap failed ($KIND_CACHE/debootstrap.log)"; }
	chroot "$rootfs.tmp" apt-get clean
	mv "$rootfs.tmp" "$rootfs"
	log "debootstrap took $((SECONDS - t0))s"
}

# image_from_dir DIR NAME ENTRYPOINT_JSON: docker import DIR as NAME, then save.
image_from_dir() {
	local dir=$1 name=$2 ep=$3 out
	out="$images/$(echo "$name" | tr '/:' '__').tar"
	tar -C "$dir" --numeric-owner -c . | docker import \
		-c 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin' \
		${ep:+-c "ENTRYPOINT $ep"} - "$name" >/dev/null
	docker save "$name" -o "$out"
	echo "$out"
}

# one_binary_dir BIN DEST: a temp rootfs holding BIN at DEST (and /tmp).
one_binary_dir() {
	local d
	d=$(mktemp -d)
	mkdir -p "$d$(dirname "$2")" "$d/tmp" "$d/etc"
	chmod 1777 "$d/tmp"
	cp "$1" "$d$2"
	echo "$d"
}

# kube_proxy_dir: kube-proxy plus iptables (nft backend) and conntrack with
# their libraries, taken from the node rootfs.
kube_proxy_dir() {
	local d f lib l
	d=$(one_binary_dir "$KIND_BIN/kube-proxy" /usr/local/bin/kube-proxy)
	local xt=/usr/lib/x86_64-linux-gnu/xtables
	mkdir -p "$d/usr/sbin" "$d$(dirname "$xt")"
	cp -a "$rootfs/usr/sbin/xtables-nft-multi" "$rootfs/usr/sbin/conntrack" "$d/usr/sbin/"
	cp -a "$rootfs$xt" "$d$xt"
	# the libraries of both commands and of every xtables extension (e.g.
	# libxt_statistic needs libm: kube-proxy's load balancing)
	for f in /usr/sbin/xtables-nft-multi /usr/sbin/conntrack "$rootfs$xt"/*.so; do
		for lib in $(chroot "$rootfs" ldd "${f#"$rootfs"}" | grep -o '/[^ ]*'); do
			[ -e "$d$lib" ] && continue
			l=$(readlink -f "$rootfs$lib")
			mkdir -p "$d$(dirname "$lib")"
			cp "$l" "$d$lib"
		done
	done
	for f in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		ln -s xtables-nft-multi "$d/usr/sbin/$f"
	done
	cp "$rootfs/etc/protocols" "$rootfs/etc/services" "$rootfs/etc/ethertypes" "$d/etc/" 2>/dev/null || true
	echo "$d"
}

# make_images: the archives of every image kubeadm deploys, in $images.
make_images() {
	local list name base d
	rm -rf "$images"
	mkdir -p "$images"
	list=$("$KIND_BIN/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null)
	for name in $list; do
		base=${name%:*}
		base=${base##*/}
		case "$base" in
		kube-apiserver | kube-controller-manager | kube-scheduler)
			d=$(one_binary_dir "$root/bin/k8s/$base" "/usr/local/bin/$base") ;;
		etcd) d=$(one_binary_dir "$root/bin/k8s/etcd" /usr/local/bin/etcd) ;;
		kube-proxy) d=$(kube_proxy_dir) ;;
		coredns) d=$(one_binary_dir "$KIND_BIN/coredns" /coredns) ;;
		pause) d=$(one_binary_dir "$KIND_BIN/pause" /pause) ;;
		*) die "no local recipe for image $name" ;;
		esac
		case "$base" in
		coredns) image_from_dir "$d" "$name" '["/coredns"]' ;;
		pause) image_from_dir "$d" "$name" '["/pause"]' ;;
		*) image_from_dir "$d" "$name" "" ;;
		esac >/dev/null
		rm -rf "$d"
		log "image $name"
	done
}

install_bin() { # src dest
	install -D -m 0755 "$1" "$stage$2"
}

# make_stage: the node's filesystem in $stage.
make_stage() {
	local b kindmod
	rm -rf "$stage"
	cp -a "$rootfs" "$stage"
	for b in containerd ctr containerd-shim-runc-v2 crictl; do install_bin "$KIND_BIN/$b" "/usr/local/bin/$b"; done
	install_bin "$KIND_BIN/runc" /usr/local/sbin/runc
	for b in kubelet kubeadm; do install_bin "$KIND_BIN/$b" "/usr/bin/$b"; done
	install_bin "$root/bin/k8s/kubectl" /usr/bin/kubectl
	for b in bridge host-local loopback portmap; do install_bin "$KIND_BIN/cni-$b" "/opt/cni/bin/$b"; done
	kindmod=$(cd "$root/hack/tools/kind" && go mod download -json sigs.k8s.io/kind | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
	install_bin "$kindmod/images/base/files/usr/local/bin/entrypoint" /usr/local/bin/entrypoint
	for b in mount-product-files.sh undo-mount-hacks.sh create-kubelet-cgroup-v2.sh; do
		install_bin "$kindmod/images/base/files/kind/bin/$b" "/kind/bin/$b"
	done
	cp -a "$root/hack/kind/node/." "$stage/"
	mkdir -p "$stage/kind/images" "$stage/etc/systemd/system/multi-user.target.wants"
	cp "$images"/*.tar "$stage/kind/images/"
	echo "$K8S_VERSION" >"$stage/kind/version"
	for b in containerd sg-preload sg-cni kubelet; do
		ln -sf "/etc/systemd/system/$b.service" "$stage/etc/systemd/system/multi-user.target.wants/$b.service"
	done
	# a node needs no getty, and nothing may wait for a console
	rm -f "$stage"/etc/systemd/system/getty.target.wants/*
	echo "kind-node" >"$stage/etc/hostname"
}

inputs_hash() {
	{
		echo "$PACKAGES"
		cat "$KIND_BIN"/*.version "$root"/bin/k8s/*.version
		tar -C "$root/hack/kind" -c node | sha256sum
		sha256sum <"$0"
	} | sha256sum | cut -c1-16
}

main() {
	mkdir -p "$KIND_CACHE"
	[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot)"
	if [ "${1:-}" = rootfs ]; then
		make_rootfs
		return
	fi
	"$root/hack/kind/build.sh"
	local h t0=$SECONDS
	h=$(inputs_hash)
	if [ "${FORCE:-}" != 1 ] && [ "$(docker image inspect -f '{{index .Config.Labels "sg.inputs"}}' "$KIND_NODE_IMAGE" 2>/dev/null)" = "$h" ]; then
		log "$KIND_NODE_IMAGE is up to date ($h)"
		return
	fi
	make_rootfs
	make_images
	make_stage
	log "importing $KIND_NODE_IMAGE"
	tar -C "$stage" --numeric-owner -c . | docker import \
		-c 'ENV container=docker' -c "LABEL sg.inputs=$h" \
		-c 'ENTRYPOINT ["/usr/local/bin/sg-node-init", "/usr/local/bin/entrypoint", "/sbin/init"]' \
		- "$KIND_NODE_IMAGE" >/dev/null
	rm -rf "$stage"
	log "node image $KIND_NODE_IMAGE built in $((SECONDS - t0))s"
}

main "$@"
