#!/usr/bin/env bash
# The e2e suite on kind (make test-e2e-kind): for machines with a Docker
# engine and registry access. It does NOT run on the project's dev/CI
# machines (no Docker engine, no registry): there the same suite runs on a
# local kwok cluster (make test-e2e).
#
# kind cluster (1 control plane + 3 workers) -> docker build + kind load ->
# cert-manager (pinned) -> kubectl apply -k manifests/overlays/cert-manager
# -> wait for the caBundle and endpoints -> go test -tags e2e ./e2e/... with
# hack/webhook-ctl-kind.sh as the webhook control hooks. Always deletes the
# cluster (E2E_KEEP_CLUSTER=1 keeps it).
#   KIND_CLUSTER (stickyguard-e2e)  KIND_NODE_IMAGE (kindest/node:v1.37.1 if published)
#   CERT_MANAGER_VERSION (v1.19.2)  IMG (stickyguard:e2e)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

KIND_CLUSTER=${KIND_CLUSTER:-stickyguard-e2e}
CERT_MANAGER_VERSION=${CERT_MANAGER_VERSION:-v1.19.2}
IMG=${IMG:-stickyguard:e2e}
KUBECTL=${KUBECTL:-$(command -v kubectl || echo "$root/bin/k8s/kubectl")}
work="$root/.work/kind"
export KUBECONFIG="$work/kubeconfig"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }
k() { "$KUBECTL" "$@"; }

command -v docker >/dev/null 2>&1 || die "docker is not installed: the kind e2e needs a Docker engine (use 'make test-e2e' for the local kwok cluster)"
docker info >/dev/null 2>&1 || die "no Docker engine is reachable (docker info failed): the kind e2e needs one (use 'make test-e2e' for the local kwok cluster)"
command -v kind >/dev/null 2>&1 || die "kind is not installed (go install sigs.k8s.io/kind@latest); or use 'make test-e2e'"
[ -x "$KUBECTL" ] || die "kubectl not found (make tools-e2e builds bin/k8s/kubectl)"
mkdir -p "$work"

cleanup() {
	local rc=$?
	if [ "${E2E_KEEP_CLUSTER:-}" = 1 ]; then
		log "keeping kind cluster $KIND_CLUSTER: export KUBECONFIG=$KUBECONFIG"
	else
		kind delete cluster --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
	fi
	[ $rc -eq 0 ] && log "kind e2e passed" || printf '\033[31mkind e2e FAILED (exit %s)\033[0m\n' "$rc" >&2
	exit $rc
}
trap cleanup EXIT

log "creating kind cluster $KIND_CLUSTER (1 control plane, 3 workers)"
kind delete cluster --name "$KIND_CLUSTER" >/dev/null 2>&1 || true
cat >"$work/kind.yaml" <<KIND
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
  - role: worker
  - role: worker
  - role: worker
KIND
kind create cluster --name "$KIND_CLUSTER" --config "$work/kind.yaml" --kubeconfig "$KUBECONFIG" --wait 180s \
	${KIND_NODE_IMAGE:+--image "$KIND_NODE_IMAGE"}

log "building $IMG and loading it into kind"
docker build -t "$IMG" --build-arg VERSION="e2e" "$root"
kind load docker-image "$IMG" --name "$KIND_CLUSTER"

log "installing cert-manager $CERT_MANAGER_VERSION"
k apply -f "https://github.com/cert-manager/cert-manager/releases/download/$CERT_MANAGER_VERSION/cert-manager.yaml" >/dev/null
k -n cert-manager rollout status deployment/cert-manager deployment/cert-manager-cainjector deployment/cert-manager-webhook --timeout=180s

log "installing stickyguard (manifests/overlays/cert-manager, image $IMG)"
overlay="$work/overlay"
mkdir -p "$overlay"
rel=$(realpath --relative-to="$overlay" "$root/manifests/overlays/cert-manager")
cat >"$overlay/kustomization.yaml" <<KUST
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $rel
images:
  - name: stickyguard
    newName: ${IMG%:*}
    newTag: ${IMG##*:}
KUST
# cert-manager's own webhook may need a moment before it accepts Issuers.
deadline=$((SECONDS + 120))
until k apply -k "$overlay" >/dev/null 2>"$work/apply.err"; do
	[ $SECONDS -lt $deadline ] || { cat "$work/apply.err" >&2; die "kubectl apply -k failed"; }
	sleep 3
done
k -n stickyguard-system wait certificate/stickyguard-webhook --for=condition=Ready --timeout=120s
k -n stickyguard-system rollout status deployment/stickyguard --timeout=180s

log "waiting for cainjector to fill in the caBundle and for endpoints"
deadline=$((SECONDS + 120))
for kind_ in mutatingwebhookconfiguration validatingwebhookconfiguration; do
	until [ -n "$(k get "$kind_" stickyguard -o jsonpath='{.webhooks[*].clientConfig.caBundle}')" ]; do
		[ $SECONDS -lt $deadline ] || die "no caBundle injected into $kind_/stickyguard"
		sleep 2
	done
done
until [ -n "$(k -n stickyguard-system get endpointslices -l kubernetes.io/service-name=stickyguard-webhook \
	-o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}')" ]; do
	[ $SECONDS -lt $deadline ] || die "no ready endpoints for service stickyguard-webhook"
	sleep 2
done

log "running the e2e suite"
export E2E_KUBECONFIG="$KUBECONFIG"
export E2E_KUBECTL="$KUBECTL"
export E2E_WEBHOOK_CTL="$root/hack/webhook-ctl-kind.sh"
export E2E_POLICY="$root/manifests/base/policy.yaml"
unset E2E_WEBHOOK_ADDR E2E_CERT_DIR
go test -tags e2e -count=1 -timeout 20m -v ./e2e/...
