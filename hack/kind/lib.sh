# shellcheck shell=bash
# Shared settings of hack/kind/*.sh (sourced; $root is the clone).
# shellcheck disable=SC2034,SC2154 # used by the scripts that source this; they set $root
K8S_VERSION=v1.37.1
cache=${STICKYGUARD_CACHE:-$HOME/.cache/stickyguard}
KIND_CACHE="$cache/kind"
KIND_BIN="$KIND_CACHE/bin"
# The node image hack/kind/node-image.sh makes (local only, never pushed).
KIND_NODE_IMAGE=${KIND_NODE_IMAGE:-stickyguard-local/kind-node:$K8S_VERSION}

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

# k8s_src: the pinned Kubernetes module's source in the module cache.
k8s_src() {
	(cd "$root/hack/tools/kubenode" && go mod download -json k8s.io/kubernetes | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')
}
