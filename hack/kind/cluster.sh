#!/usr/bin/env bash
# Stage C of the registry-free kind cluster (docs/kind.md).
#   hack/kind/cluster.sh up [NAME]     node image (stage A+B, cached), then
#                                      kind create cluster: 1 control plane +
#                                      KIND_WORKERS workers, waits for Ready
#                                      nodes and CoreDNS
#   hack/kind/cluster.sh down [NAME]
#   hack/kind/cluster.sh env           prints PATH/KIND/KUBECONFIG exports
# Settings: KIND_WORKERS (2), KIND_DOCKER_SHIM (auto | 1 | 0: put
# hack/kind/docker-shim first in PATH; auto = when `docker run --privileged`
# cannot start a container here), KIND_KUBECONFIG (.work/kind/kubeconfig),
# KIND_REUSE=1 (up: keep a cluster of that name if one exists).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=hack/kind/lib.sh
. "$root/hack/kind/lib.sh"
KIND_WORKERS=${KIND_WORKERS:-2}
KIND_KUBECONFIG=${KIND_KUBECONFIG:-$root/.work/kind/kubeconfig}
KIND="$KIND_BIN/kind"
KUBECTL="$root/bin/k8s/kubectl"

# needs_shim: true when the engine refuses --privileged (see docker-shim).
needs_shim() {
	case "${KIND_DOCKER_SHIM:-auto}" in
	1) return 0 ;;
	0) return 1 ;;
	esac
	local out
	out=$(docker run --rm --privileged --entrypoint /bin/true "$KIND_NODE_IMAGE" 2>&1) && return 1
	case "$out" in
	*"unable to apply caps"* | *"operation not permitted"*) return 0 ;;
	esac
	die "docker run --privileged failed for another reason: $out"
}

setup_path() {
	if needs_shim; then
		export PATH="$root/hack/kind/docker-shim:$PATH"
		log "docker run --privileged is refused here: kind runs through hack/kind/docker-shim"
	fi
}

cluster_config() {
	local i
	printf 'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nnodes:\n  - role: control-plane\n'
	for ((i = 0; i < KIND_WORKERS; i++)); do printf '  - role: worker\n'; done
	# kubelet v1.35+ refuses cgroup v1 unless told otherwise; harmless on v2
	cat <<-'EOF'
		kubeadmConfigPatches:
		  - |
		    kind: KubeletConfiguration
		    failCgroupV1: false
	EOF
}

up() {
	local name=$1 t0
	if [ "${KIND_REUSE:-}" = 1 ] && "$KIND" get clusters 2>/dev/null | grep -qx "$name"; then
		log "KIND_REUSE=1: using the existing cluster $name"
		return
	fi
	"$root/hack/kind/node-image.sh"
	setup_path
	mkdir -p "$(dirname "$KIND_KUBECONFIG")"
	cluster_config >"$(dirname "$KIND_KUBECONFIG")/kind-config.yaml"
	"$KIND" delete cluster --name "$name" >/dev/null 2>&1 || true
	t0=$SECONDS
	log "kind create cluster $name (1 control plane, $KIND_WORKERS workers, image $KIND_NODE_IMAGE)"
	"$KIND" create cluster --name "$name" --image "$KIND_NODE_IMAGE" --retain \
		--config "$(dirname "$KIND_KUBECONFIG")/kind-config.yaml" --kubeconfig "$KIND_KUBECONFIG" --wait 0s
	log "kind create cluster returned after $((SECONDS - t0))s; waiting for nodes and CoreDNS"
	"$KUBECTL" --kubeconfig "$KIND_KUBECONFIG" wait node --all --for=condition=Ready --timeout=300s
	"$KUBECTL" --kubeconfig "$KIND_KUBECONFIG" -n kube-system rollout status deployment/coredns --timeout=300s
	log "cluster $name ready in $((SECONDS - t0))s"
	"$KUBECTL" --kubeconfig "$KIND_KUBECONFIG" get nodes -o wide
}

down() {
	setup_path
	"$KIND" delete cluster --name "$1"
}

case "${1:-}" in
up) up "${2:-stickyguard-e2e}" ;;
down) down "${2:-stickyguard-e2e}" ;;
env)
	needs_shim && echo "export PATH=$root/hack/kind/docker-shim:\$PATH"
	echo "export KIND=$KIND KUBECONFIG=$KIND_KUBECONFIG"
	;;
*) die "usage: $0 up|down|env [NAME]" ;;
esac
