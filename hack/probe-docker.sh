#!/usr/bin/env bash
# What this machine's Docker engine can do for a kind-like cluster, printed as
# facts (issue 12, item 1). Reruns cheaply: the rootfs and images it makes are
# cached. Nothing here needs a registry.
#   1. engine: version, storage driver, cgroup driver and version, BuildKit
#   2. capabilities: the bounding set, and whether --privileged starts at all
#   3. a Debian bookworm rootfs (debootstrap minbase + systemd 252), imported
#      as stickyguard-local/bookworm-systemd:252, run with systemd as PID 1:
#      first exactly as kind runs a node, then without --privileged
#   4. whether a container reaches the Go module proxy (go env GOPROXY)
# Settings: STICKYGUARD_CACHE (~/.cache/stickyguard). Needs root (debootstrap).
set -uo pipefail

cache=${STICKYGUARD_CACHE:-$HOME/.cache/stickyguard}
rootfs="$cache/rootfs-bookworm"
NODE_IMG=stickyguard-local/bookworm-systemd:252
NAME=sg-probe-node

section() { printf '\n## %s\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@" 2>&1; printf '(exit %d)\n' "$?"; }

probe_engine() {
	section "engine"
	docker version --format 'client {{.Client.Version}} (API {{.Client.APIVersion}}), engine {{.Server.Version}} (API {{.Server.APIVersion}})' 2>&1
	docker info --format 'storage driver {{.Driver}}, cgroup driver {{.CgroupDriver}}, cgroup version {{.CgroupVersion}}, kernel {{.KernelVersion}}, {{.NCPU}} CPUs, runc {{.RuncCommit.ID}}' 2>&1
	printf 'filesystem under the engine root: %s\n' "$(findmnt -no FSTYPE -T "$(docker info --format '{{.DockerRootDir}}')" 2>&1)"
	run docker buildx version
	local c
	for c in $(type -ap docker | xargs -r -n1 readlink -f | awk '!seen[$0]++'); do
		printf 'docker client %s: %s\n' "$c" "$("$c" version --format '{{.Client.Version}}' 2>/dev/null)"
	done
}

probe_caps() {
	section "capabilities"
	grep -E '^Cap(Bnd|Eff)' /proc/self/status
	printf 'kernel cap_last_cap: %s\n' "$(cat /proc/sys/kernel/cap_last_cap)"
	if command -v capsh >/dev/null; then
		printf 'missing from the bounding set: %s\n' "$(missing_caps)"
	fi
}

# missing_caps lists the capabilities the kernel has but this process may not.
missing_caps() {
	local last bnd i out=()
	last=$(cat /proc/sys/kernel/cap_last_cap)
	bnd=$((16#$(awk '/^CapBnd/ {print $2}' /proc/self/status)))
	for ((i = 0; i <= last; i++)); do
		((bnd >> i & 1)) || out+=("$(capsh --decode="$(printf '%x' $((1 << i)))" | cut -d= -f2)")
	done
	echo "${out[*]:-none}"
}

make_node_image() {
	section "node image ($NODE_IMG)"
	if docker image inspect "$NODE_IMG" >/dev/null 2>&1; then
		echo "present (cached); docker rmi $NODE_IMG to rebuild"
		return
	fi
	if [ ! -x "$rootfs/lib/systemd/systemd" ]; then
		command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap >/dev/null ||
			{ apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null; }
		echo "debootstrap bookworm (minbase + systemd) into $rootfs ..."
		local t0=$SECONDS
		rm -rf "$rootfs"
		debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus,ca-certificates \
			bookworm "$rootfs" >"$cache/debootstrap.log" 2>&1 || { tail -5 "$cache/debootstrap.log"; return 1; }
		echo "debootstrap took $((SECONDS - t0))s"
	fi
	# shellcheck disable=SC2016 # dpkg-query's format, not a shell expansion
	printf 'systemd in the rootfs: %s\n' "$(chroot "$rootfs" dpkg-query -W -f '${Version}' systemd)"
	tar -C "$rootfs" --numeric-owner -c . | docker import -c 'ENV container=docker' \
		-c 'CMD ["/sbin/init"]' - "$NODE_IMG" >/dev/null && echo "imported"
}

# wait_systemd prints systemctl is-system-running until it settles (30 s).
wait_systemd() {
	local i s=""
	for ((i = 0; i < 60; i++)); do
		s=$(docker exec "$NAME" systemctl is-system-running 2>&1)
		case "$s" in running | degraded) break ;; esac
		docker inspect -f '{{.State.Running}}' "$NAME" 2>/dev/null | grep -q true || break
		sleep 0.5
	done
	echo "systemctl is-system-running: $s"
}

probe_node() {
	# The flags kind gives a node container (docker provider), cgroup v1 host.
	local kind_flags=(--privileged --security-opt seccomp=unconfined --security-opt apparmor=unconfined
		--tmpfs /tmp --tmpfs /run --volume /var -e container=docker)
	# kind also mounts /lib/modules read-only; a bind mount of a missing host
	# path makes the engine create it, so only when the host has it.
	[ -d /lib/modules ] && kind_flags+=(--volume /lib/modules:/lib/modules:ro)
	section "systemd as PID 1, exactly as kind runs a node (--privileged)"
	docker rm -fv "$NAME" >/dev/null 2>&1
	run docker run -d --name "$NAME" "${kind_flags[@]}" "$NODE_IMG"
	docker rm -fv "$NAME" >/dev/null 2>&1

	# Everything --privileged gives but the one capability the host lacks.
	local alt_flags=(--cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined
		--security-opt apparmor=unconfined --security-opt systempaths=unconfined
		--device-cgroup-rule 'a *:* rwm' --device /dev/kmsg --device /dev/fuse
		-v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /tmp --tmpfs /run --volume /var -e container=docker)
	section "systemd as PID 1 without --privileged (all capabilities but SYS_RESOURCE, host cgroups rw)"
	printf 'flags: %s\n' "${alt_flags[*]}"
	run docker run -d --name "$NAME" "${alt_flags[@]}" "$NODE_IMG" >/dev/null
	wait_systemd
	node_checks
	docker rm -fv "$NAME" >/dev/null 2>&1
}

# node_checks: what a kubelet and containerd in the node will need.
node_checks() {
	docker exec "$NAME" sh -c '
		echo "PID 1: $(cat /proc/1/comm), $(systemctl --version | head -1)"
		echo "failed units: $(systemctl --failed --no-legend | wc -l)"
		systemd-run --wait --quiet true && echo "systemd-run transient unit: ok"
		d=/sys/fs/cgroup/memory/sg-probe; mkdir "$d" && rmdir "$d" && echo "cgroup v1 memory: writable"
		echo 1 > /proc/sys/net/ipv4/ip_forward && echo "/proc/sys: writable"
		mkdir -p /var/ov/l /var/ov/u /var/ov/w /var/ov/m &&
			mount -t overlay overlay -o lowerdir=/var/ov/l,upperdir=/var/ov/u,workdir=/var/ov/w /var/ov/m &&
			umount /var/ov/m && echo "overlay mount in /var ($(findmnt -no FSTYPE -T /var)): ok"
		[ -c /dev/kmsg ] && echo "/dev/kmsg: present"
		echo "filesystems: $(grep -wE "overlay|fuse|fuseblk" /proc/filesystems | tr -s "\t\n" "  ")"
	' 2>&1
}

# probe_proxy: a static Go client in an otherwise empty image asks the proxy.
probe_proxy() {
	section "Go module proxy from a container (bridge network)"
	local tmp proxy
	proxy=$(go env GOPROXY | cut -d, -f1)
	case "$proxy" in http*) ;; *) echo "GOPROXY has no proxy URL first ($proxy): skipped"; return ;; esac
	tmp=$(mktemp -d)
	mkdir -p "$tmp/ctx/etc/ssl/certs"
	cp /etc/ssl/certs/ca-certificates.crt "$tmp/ctx/etc/ssl/certs/"
	cat >"$tmp/main.go" <<-'EOF'
		package main

		import (
			"fmt"
			"net/http"
			"os"
			"time"
		)

		func main() {
			c := &http.Client{Timeout: 20 * time.Second}
			resp, err := c.Get(os.Args[1] + "/github.com/google/uuid/@v/list")
			if err != nil {
				fmt.Println("unreachable:", err)
				os.Exit(1)
			}
			fmt.Println("reachable: HTTP", resp.StatusCode)
		}
	EOF
	printf 'module probe\n\ngo 1.21\n' >"$tmp/go.mod"
	(cd "$tmp" && CGO_ENABLED=0 go build -o ctx/get .) || return 1
	tar -C "$tmp/ctx" -c . | docker import - stickyguard-local/proxyprobe:latest >/dev/null
	printf 'the GOPROXY of go env, from a container: '
	docker run --rm stickyguard-local/proxyprobe:latest /get "$proxy" 2>&1
	docker rmi stickyguard-local/proxyprobe:latest >/dev/null
	rm -rf "$tmp"
}

mkdir -p "$cache"
probe_engine
probe_caps
make_node_image && probe_node
probe_proxy
