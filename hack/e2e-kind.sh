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
#                             are modules the proxy does not serve) and
#                             manifests/policyreport, with the periodic
#                             audit on (--audit-interval=KIND_AUDIT_INTERVAL)
#   go test -tags e2e ./e2e/... with hack/kind/webhook-ctl.sh as the hooks,
#                             then TestKindUninstall alone: the README's
#                             uninstall, after which nothing may block writes
# Always deletes the cluster (E2E_KEEP_CLUSTER=1 keeps it).
#   KIND_CLUSTER (stickyguard-e2e)  KIND_WORKERS (3)  IMG (stickyguard:e2e)
#   KIND_AUDIT_INTERVAL (1m, the least serve accepts)
#   E2E_RUN (go test -run; the uninstall step then runs only if E2E_RUN
#   matches "Uninstall")  E2E_LOAD_RATE (requests/s of the load scenarios, 20)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# shellcheck source=hack/kind/lib.sh
. "$root/hack/kind/lib.sh"

KIND_CLUSTER=${KIND_CLUSTER:-stickyguard-e2e}
# the spread scenarios run 3 replicas and want 3 distinct schedulable nodes
export KIND_WORKERS=${KIND_WORKERS:-3}
IMG=${IMG:-stickyguard:e2e}
KIND_AUDIT_INTERVAL=${KIND_AUDIT_INTERVAL:-1m}
KUBECTL="$root/bin/k8s/kubectl"
work="$root/.work/kind"
export KIND_KUBECONFIG="$work/kubeconfig"
export KUBECONFIG="$KIND_KUBECONFIG"
start=$SECONDS
# phase timings, printed at the end (docs/kind.md records them)
timings=()
phase() { timings+=("$1 $(($SECONDS - $2))s"); }

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
	[ ${#timings[@]} -eq 0 ] || log "timings: ${timings[*]}"
	if [ $rc -eq 0 ]; then
		log "kind e2e passed in $((SECONDS - start))s"
	else
		printf '\033[31mkind e2e FAILED (exit %s) after %ss\033[0m\n' "$rc" "$((SECONDS - start))" >&2
	fi
	exit $rc
}
trap cleanup EXIT

t0=$SECONDS
make --no-print-directory build tools-e2e >/dev/null
phase "make-build" $t0
t0=$SECONDS
"$root/hack/kind/cluster.sh" up "$KIND_CLUSTER"
eval "$("$root/hack/kind/cluster.sh" env)"
phase "cluster(node-image+create)" $t0

log "building $IMG (make docker-build) and loading it into kind"
t0=$SECONDS
make --no-print-directory docker-build IMG="$IMG" VERSION=e2e
"$KIND" load docker-image "$IMG" --name "$KIND_CLUSTER"
log "image built and loaded in $((SECONDS - t0))s"
phase "image" $t0

# The shipped overlay, copied next to fresh certificates so that no file of
# the clone (and no key of the user's) is touched, plus the PolicyReport
# component and the periodic audit turned on: what a user who wants the
# continuous audit installs. Nothing else is changed (the restricted Pod
# Security label, the PDB, the probes are the shipped ones).
log "installing stickyguard (manifests/overlays/self-managed + manifests/policyreport, image $IMG, audit every $KIND_AUDIT_INTERVAL)"
t0=$SECONDS
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
  - $(realpath --relative-to="$overlay/install" "$root/manifests/policyreport")
images:
  - name: stickyguard
    newName: ${IMG%:*}
    newTag: ${IMG##*:}
patches:
  - target:
      kind: Deployment
      name: stickyguard
    patch: |
      - op: add
        path: /spec/template/spec/containers/0/args/-
        value: --audit-interval=$KIND_AUDIT_INTERVAL
KUST
k apply -k "$overlay/install" >/dev/null
k -n stickyguard-system rollout status deployment/stickyguard --timeout=300s
deadline=$((SECONDS + 120))
until [ "$(k -n stickyguard-system get endpointslices -l kubernetes.io/service-name=stickyguard-webhook \
	-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c .)" -ge 2 ]; do
	[ $SECONDS -lt $deadline ] || die "the service stickyguard-webhook does not have 2 ready endpoints"
	sleep 2
done
k -n stickyguard-system get pods -o wide
phase "install" $t0

log "running the e2e suite"
export E2E_KUBECONFIG="$KUBECONFIG"
export E2E_KUBECTL="$KUBECTL"
export E2E_WEBHOOK_CTL="$root/hack/kind/webhook-ctl.sh"
export E2E_KIND_CERTS="$overlay/self-managed/certs"
export E2E_POLICY="$root/manifests/base/policy.yaml"
export E2E_KIND_INSTALL="$overlay/install"
unset E2E_WEBHOOK_ADDR E2E_CERT_DIR E2E_METRICS_URL E2E_KIND_UNINSTALL
t0=$SECONDS
# TestKindUninstall destroys the install: never in this run.
go test -tags e2e -count=1 -timeout 30m ${E2E_RUN:+-run "$E2E_RUN"} -skip '^TestKindUninstall$' -v ./e2e/...
phase "suite" $t0
if [ -z "${E2E_RUN:-}" ] || [[ "$E2E_RUN" == *Uninstall* ]]; then
	log "uninstalling as the README says; then nothing may block writes (TestKindUninstall)"
	t0=$SECONDS
	E2E_KIND_UNINSTALL=1 go test -tags e2e -count=1 -timeout 10m -run '^TestKindUninstall$' -v ./e2e/...
	phase "uninstall" $t0
fi
