#!/usr/bin/env bash
# The e2e suite on a real kind cluster (make test-e2e-kind), without any
# container registry (docs/kind.md):
#   hack/kind/cluster.sh up   node image made here (stages A+B, cached under
#                             ~/.cache/stickyguard/kind), 1 control plane +
#                             KIND_WORKERS workers, nodes Ready, CoreDNS up
#   make docker-build         the image from the shipped Dockerfile (local
#                             base images when none can be pulled)
#   kind load docker-image    into every node
#   stickyguard certs + kubectl apply -k of manifests/overlays/self-managed
#                             (cert-manager cannot run here: its commands
#                             are modules the proxy does not serve)
#   go test -tags e2e ./e2e/... with hack/kind/webhook-ctl.sh as the hooks
# Always deletes the cluster (E2E_KEEP_CLUSTER=1 keeps it).
#   KIND_CLUSTER (stickyguard-e2e)  KIND_WORKERS (3)  IMG (stickyguard:e2e)
#   E2E_RUN (go test -run)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=hack/kind/lib.sh
. "$root/hack/kind/lib.sh"

KIND_CLUSTER=${KIND_CLUSTER:-stickyguard-e2e}
# the spread scenarios run 3 replicas and want 3 distinct schedulable nodes
export KIND_WORKERS=${KIND_WORKERS:-3}
IMG=${IMG:-stickyguard:e2e}
KUBECTL="$root/bin/k8s/kubectl"
work="$root/.work/kind"
export KIND_KUBECONFIG="$work/kubeconfig"
export KUBECONFIG="$KIND_KUBECONFIG"
start=$SECONDS

k() { "$KUBECTL" "$@"; }

command -v docker >/dev/null 2>&1 || die "docker is not installed: the kind e2e needs a Docker engine (make test-e2e runs the kwok e2e)"
docker info >/dev/null 2>&1 || die "no Docker engine is reachable (docker info failed): use make test-e2e"
mkdir -p "$work"

cleanup() {
	local rc=$?
	if [ "${E2E_KEEP_CLUSTER:-}" = 1 ]; then
		log "keeping kind cluster $KIND_CLUSTER: eval \"\$(hack/kind/cluster.sh env)\""
	else
		"$root/hack/kind/cluster.sh" down "$KIND_CLUSTER" >/dev/null 2>&1 || true
	fi
	if [ $rc -eq 0 ]; then
		log "kind e2e passed in $((SECONDS - start))s"
	else
		printf '\033[31mkind e2e FAILED (exit %s) after %ss\033[0m\n' "$rc" "$((SECONDS - start))" >&2
	fi
	exit $rc
}
trap cleanup EXIT

make --no-print-directory build tools-e2e >/dev/null
"$root/hack/kind/cluster.sh" up "$KIND_CLUSTER"
eval "$("$root/hack/kind/cluster.sh" env)"

log "building $IMG (make docker-build) and loading it into kind"
t0=$SECONDS
make --no-print-directory docker-build IMG="$IMG" VERSION=e2e
"$KIND" load docker-image "$IMG" --name "$KIND_CLUSTER"
log "image built and loaded in $((SECONDS - t0))s"

# The shipped overlay, copied next to fresh certificates so that no file of
# the clone (and no key of the user's) is touched.
log "installing stickyguard (manifests/overlays/self-managed, image $IMG)"
overlay="$work/overlay"
rm -rf "$overlay"
mkdir -p "$overlay/self-managed" "$overlay/install"
sed "s#- \.\./\.\./base#- $(realpath --relative-to="$overlay/self-managed" "$root/manifests/base")#" \
	"$root/manifests/overlays/self-managed/kustomization.yaml" >"$overlay/self-managed/kustomization.yaml"
"$root/bin/stickyguard" certs --out-dir "$overlay/self-managed/certs" --hosts "" >/dev/null
cat >"$overlay/install/kustomization.yaml" <<KUST
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../self-managed
images:
  - name: stickyguard
    newName: ${IMG%:*}
    newTag: ${IMG##*:}
KUST
k apply -k "$overlay/install" >/dev/null
k -n stickyguard-system rollout status deployment/stickyguard --timeout=300s
deadline=$((SECONDS + 120))
until [ -n "$(k -n stickyguard-system get endpointslices -l kubernetes.io/service-name=stickyguard-webhook \
	-o jsonpath='{.items[*].endpoints[?(@.conditions.ready==true)].addresses[0]}')" ]; do
	[ $SECONDS -lt $deadline ] || die "no ready endpoints for service stickyguard-webhook"
	sleep 2
done
k -n stickyguard-system get pods -o wide

log "running the e2e suite"
export E2E_KUBECONFIG="$KUBECONFIG"
export E2E_KUBECTL="$KUBECTL"
export E2E_WEBHOOK_CTL="$root/hack/kind/webhook-ctl.sh"
export E2E_KIND_CERTS="$overlay/self-managed/certs"
export E2E_POLICY="$root/manifests/base/policy.yaml"
unset E2E_WEBHOOK_ADDR E2E_CERT_DIR E2E_METRICS_URL
go test -tags e2e -count=1 -timeout 20m ${E2E_RUN:+-run "$E2E_RUN"} -v ./e2e/...
