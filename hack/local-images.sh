#!/usr/bin/env bash
# The stickyguard image from the one Dockerfile, on machines with or without a
# container registry.
#
#   hack/local-images.sh build        docker build IMG (make docker-build)
#   hack/local-images.sh bases        make the local base images if missing
#   hack/local-images.sh check [IMG]  assert what the image promises (the
#                                     version too when WANT_VERSION is set)
#   hack/local-images.sh test         build + check when a Docker engine is
#                                     reachable; otherwise say why it skipped
#
# Base images: the Dockerfile's defaults (ARG BUILDER_IMAGE / RUNTIME_IMAGE)
# when they are present or can be pulled; otherwise local equivalents made
# here without any registry:
#   stickyguard-local/golang:<go version>  busybox (Debian's busybox-static)
#       + this machine's Go toolchain at /usr/local/go + CA certificates
#   stickyguard-local/static:nonroot       FROM scratch: /etc/passwd and
#       /etc/group (nonroot = 65532), CA certificates, /tmp, /home/nonroot
# Settings (environment):
#   IMG (stickyguard:dev)  VERSION (dev)  LOCAL_BASES (auto | 1 | 0)
#   FORCE=1 remakes the local base images
#   STICKYGUARD_CACHE (~/.cache/stickyguard): downloads and staging trees
# BuildKit (RUN --mount caches) is used through buildx when the docker client
# has it, else through a docker client older than 23.0 (BuildKit built in,
# e.g. Debian's docker.io at /usr/bin/docker) with DOCKER_BUILDKIT=1.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
IMG=${IMG:-stickyguard:dev}
VERSION=${VERSION:-dev}
LOCAL_BASES=${LOCAL_BASES:-auto}
cache=${STICKYGUARD_CACHE:-$HOME/.cache/stickyguard}
RUNTIME_LOCAL=stickyguard-local/static:nonroot

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# default_base NAME: the default of ARG NAME in the Dockerfile (one source).
default_base() { sed -n "s/^ARG $1=//p" "$root/Dockerfile"; }

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

# buildkit_docker prints a docker client that builds with BuildKit.
buildkit_docker() {
	if docker buildx version >/dev/null 2>&1; then
		echo docker
		return
	fi
	local c v
	while read -r c; do
		v=$("$c" version --format '{{.Client.Version}}' 2>/dev/null) || continue
		if [[ $v =~ ^([0-9]+)\. ]] && [ "${BASH_REMATCH[1]}" -lt 23 ]; then
			echo "$c"
			return
		fi
	done < <(type -ap docker | xargs -r -n1 readlink -f | awk '!seen[$0]++')
	die "no docker client can build with BuildKit (the Dockerfile uses RUN --mount caches): install the docker buildx plugin, or use a docker client older than 23.0 (Debian bookworm's docker.io)"
}

dbuild() {
	local c
	c=$(buildkit_docker)
	DOCKER_BUILDKIT=1 "$c" build "$@"
}

builder_local() { echo "stickyguard-local/golang:$(go env GOVERSION)"; }

# busybox_bin prints a static busybox from Debian's package (downloaded once).
busybox_bin() {
	local dir="$cache/busybox-static"
	if [ ! -x "$dir/bin/busybox" ]; then
		mkdir -p "$dir/deb"
		(cd "$dir/deb" && { apt-get download busybox-static >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null && apt-get download busybox-static >/dev/null; }; }) ||
			die "apt-get download busybox-static failed"
		dpkg-deb -x "$dir"/deb/busybox-static_*.deb "$dir"
	fi
	echo "$dir/bin/busybox"
}

ca_bundle() {
	local f=/etc/ssl/certs/ca-certificates.crt
	[ -s "$f" ] || die "$f is missing: apt-get install ca-certificates"
	echo "$f"
}

# make_builder: busybox + the host's Go toolchain, imported (no registry).
make_builder() {
	local img stage goroot bb
	img=$(builder_local)
	goroot=$(go env GOROOT)
	bb=$(busybox_bin)
	stage="$cache/stage/builder"
	rm -rf "$stage"
	mkdir -p "$stage"/{bin,etc/ssl/certs,root,go,usr/local}
	install -m 0755 -d "$stage/tmp" && chmod 1777 "$stage/tmp"
	cp "$bb" "$stage/bin/busybox"
	local a
	for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$stage/bin/$a"; done
	cp "$(ca_bundle)" "$stage/etc/ssl/certs/ca-certificates.crt"
	printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
	printf 'root:x:0:\n' >"$stage/etc/group"
	# Hard links when the cache shares the toolchain's filesystem: no copy.
	cp -al "$goroot" "$stage/usr/local/go" 2>/dev/null || cp -a "$goroot" "$stage/usr/local/go"
	log "importing $img (Go $(go env GOVERSION) from $goroot)"
	tar -C "$stage" --numeric-owner --owner=0 --group=0 -c . | docker import \
		-c 'ENV PATH=/usr/local/go/bin:/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		-c 'ENV GOPATH=/go' -c 'ENV GOTOOLCHAIN=local' -c 'ENV HOME=/root' \
		-c 'WORKDIR /go' -c 'CMD ["/bin/sh"]' - "$img" >/dev/null
	rm -rf "$stage"
}

# make_runtime: FROM scratch with what distroless/static:nonroot provides
# that stickyguard uses (users, CA certificates, /tmp, a home).
make_runtime() {
	local ctx
	ctx=$(mktemp -d)
	mkdir -p "$ctx"/rootfs/etc/ssl/certs "$ctx"/home/nonroot
	install -m 0755 -d "$ctx/rootfs/tmp" && chmod 1777 "$ctx/rootfs/tmp"
	cp "$(ca_bundle)" "$ctx/rootfs/etc/ssl/certs/ca-certificates.crt"
	printf '%s\n' 'root:x:0:0:root:/root:/sbin/nologin' 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin' \
		'nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin' >"$ctx/rootfs/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nobody:x:65534:' 'nonroot:x:65532:' >"$ctx/rootfs/etc/group"
	cat >"$ctx/Dockerfile" <<-'EOF'
		FROM scratch
		COPY rootfs/ /
		COPY --chown=65532:65532 home/ /home/
		ENV PATH=/usr/local/bin:/usr/bin:/bin SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
		USER 65532:65532
		WORKDIR /home/nonroot
	EOF
	log "building $RUNTIME_LOCAL (scratch, uid 65532, CA certificates)"
	dbuild -q -t "$RUNTIME_LOCAL" "$ctx" >/dev/null
	rm -rf "$ctx"
}

cmd_bases() {
	command -v go >/dev/null || die "go is not on PATH: the local builder image carries this machine's Go toolchain"
	if [ "${FORCE:-}" = 1 ] || ! have_image "$(builder_local)"; then make_builder; fi
	if [ "${FORCE:-}" = 1 ] || ! have_image "$RUNTIME_LOCAL"; then make_runtime; fi
	echo "BUILDER_IMAGE=$(builder_local) RUNTIME_IMAGE=$RUNTIME_LOCAL"
}

# use_defaults: the Dockerfile's base images are here or can be pulled.
use_defaults() {
	local b
	for b in "$(default_base BUILDER_IMAGE)" "$(default_base RUNTIME_IMAGE)"; do
		have_image "$b" || docker pull -q "$b" >/dev/null 2>&1 || return 1
	done
}

cmd_build() {
	local args=(-t "$IMG" --build-arg "VERSION=$VERSION")
	command -v go >/dev/null && args+=(--build-arg "GOPROXY=$(go env GOPROXY)")
	case "$LOCAL_BASES" in
	1) ;;
	0) use_defaults || die "the default base images cannot be had (LOCAL_BASES=0)" ;;
	auto) if use_defaults; then LOCAL_BASES=0; else log "default base images unavailable (no registry?): using local ones"; fi ;;
	*) die "LOCAL_BASES must be auto, 1 or 0" ;;
	esac
	if [ "$LOCAL_BASES" != 0 ]; then
		cmd_bases >/dev/null
		args+=(--build-arg "BUILDER_IMAGE=$(builder_local)" --build-arg "RUNTIME_IMAGE=$RUNTIME_LOCAL")
	fi
	log "docker build ${args[*]} ."
	local t0=$SECONDS
	dbuild "${args[@]}" "$root"
	log "built $IMG in $((SECONDS - t0))s"
}

# ---------------------------------------------------------------------------
# check: what the image promises, each assertion able to fail.

passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
bad() { failed=$((failed + 1)); echo "FAIL $*"; }
expect() { # DESCRIPTION WANT GOT
	if [ "$2" = "$3" ]; then ok "$1: $3"; else bad "$1: want '$2', got '$3'"; fi
}

# check_runs: the binary starts, from the entrypoint and directly.
check_runs() {
	local out
	if out=$(docker run --rm "$IMG" --help 2>&1) && [[ $out == *"usage: stickyguard serve"* ]]; then
		ok "docker run IMG --help: serve's usage, exit 0"
	else
		bad "docker run IMG --help: $out"
	fi
	out=$(docker run --rm --entrypoint /stickyguard "$IMG" version 2>&1) || true
	if [ -n "${WANT_VERSION:-}" ]; then
		expect "stickyguard version" "stickyguard $WANT_VERSION" "$out"
	elif [[ $out =~ ^stickyguard\ [^[:space:]]+$ ]]; then
		ok "stickyguard version: $out"
	else
		bad "stickyguard version: $out"
	fi
	expect "entrypoint" '[/stickyguard serve]' "$(docker image inspect -f '{{json .Config.Entrypoint}}' "$IMG" | tr -d '"' | tr ',' ' ')"
}

# check_uid: the running process's real, effective, saved uid and gid, read
# from /proc of the host (the process waits on stdin meanwhile).
check_uid() {
	local cid pid uid gid
	cid=$(docker run -d -i --entrypoint /stickyguard "$IMG" check -)
	pid=$(docker inspect -f '{{.State.Pid}}' "$cid")
	uid=$(awk '/^Uid:/ {print $2, $3, $4, $5}' "/proc/$pid/status" 2>/dev/null || echo "process gone")
	gid=$(awk '/^Gid:/ {print $2, $3, $4, $5}' "/proc/$pid/status" 2>/dev/null || echo "process gone")
	docker rm -f "$cid" >/dev/null
	expect "process uid (real effective saved fs)" "65532 65532 65532 65532" "$uid"
	expect "process gid (real effective saved fs)" "65532 65532 65532 65532" "$gid"
}

# check_files: no shell anywhere in the filesystem, and a static binary.
check_files() {
	local cid tmp shells
	tmp=$(mktemp -d)
	cid=$(docker create "$IMG")
	docker export "$cid" | tar -t >"$tmp/files"
	docker cp -q "$cid:/stickyguard" "$tmp/stickyguard"
	docker rm "$cid" >/dev/null
	shells=$(grep -E '(^|/)(sh|bash|ash|dash|zsh|busybox|toybox)$' "$tmp/files" || true)
	if [ -z "$shells" ]; then ok "no shell among $(wc -l <"$tmp/files") paths"; else bad "shells in the image: $shells"; fi
	if readelf -lW "$tmp/stickyguard" | grep -q 'Requesting program interpreter'; then
		bad "/stickyguard asks for a program interpreter (dynamically linked)"
	elif ! readelf -h "$tmp/stickyguard" >/dev/null 2>&1; then
		bad "/stickyguard is not an ELF file readelf can read"
	elif readelf -dW "$tmp/stickyguard" | grep -q NEEDED; then
		bad "/stickyguard needs shared libraries"
	else
		ok "/stickyguard is static (no interpreter, no shared libraries)"
	fi
	expect "CGO_ENABLED in the build info" "CGO_ENABLED=0" "$(go version -m "$tmp/stickyguard" | awk '$2 ~ /^CGO_ENABLED=/ {print $2}')"
	rm -rf "$tmp"
}

cmd_check() {
	have_image "$IMG" || die "image $IMG not found: run make docker-build IMG=$IMG"
	command -v readelf >/dev/null || die "readelf (binutils) is needed to check the binary"
	echo "checking image $IMG"
	check_runs
	check_uid
	check_files
	echo "image checks: $passed passed, $failed failed"
	[ "$failed" = 0 ]
}

# cmd_test: build and check when a Docker engine answers, or say why not.
cmd_test() {
	local why
	if ! command -v docker >/dev/null; then
		why="docker is not installed"
	elif ! why=$(docker info 2>&1 >/dev/null); then
		why="no Docker engine reachable: ${why%%$'\n'*}"
	else
		cmd_build
		WANT_VERSION=$VERSION cmd_check
		return
	fi
	echo "SKIPPED image build and checks: $why"
}

case "${1:-}" in
bases) cmd_bases ;;
build) cmd_build ;;
check) IMG=${2:-$IMG} cmd_check ;;
test) cmd_test ;;
*) die "usage: $0 build | bases | check [IMG] | test" ;;
esac
