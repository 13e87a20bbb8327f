#!/usr/bin/env bash
# The e2e suite on a local kwok cluster (make test-e2e). Builds nothing: make
# has built bin/stickyguard and the control plane in bin/. Brings up the
# cluster (kube-apiserver, etcd, controller-manager, scheduler and kwok as
# local processes on 127.0.0.1, 3 fake nodes), installs the Gateway API
# experimental CRDs (hack/gateway-crds.sh), runs `stickyguard serve` as a
# local process with certificates from `stickyguard certs`, installs the
# webhook configurations rendered from manifests/ with a url: client config,
# runs `go test -tags e2e ./e2e/...`, and always tears everything down.
#   E2E_KEEP_CLUSTER=1  leave the cluster and webhook running afterwards
#   E2E_RUN=regexp      passed to go test -run
set -euo pipefail
export SG_CLUSTER=${SG_CLUSTER:-stickyguard-e2e}
# shellcheck source=hack/lib.sh
. "$(dirname "$0")/lib.sh"

start=$SECONDS
require_bins

cleanup() {
	local rc=$?
	if [ "${E2E_KEEP_CLUSTER:-}" = 1 ]; then
		log "leaving the cluster running: export KUBECONFIG=$KUBECONFIG; hack/webhook-ctl.sh status"
	else
		webhook_stop || true
		cluster_down || true
	fi
	if [ $rc -eq 0 ]; then
		log "e2e passed in $((SECONDS - start))s"
	else
		warn "e2e FAILED (exit $rc) after $((SECONDS - start))s; webhook log: ${SG_LOG#"$SG_ROOT"/}"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A fresh cluster and a fresh webhook state for every run.
webhook_stop
cluster_down
rm -rf "$SG_WORK"
cluster_up
# The real Gateway API CRDs (experimental channel, for sessionPersistence),
# before the webhook starts so it watches the routes from the start.
log "installing the Gateway API CRDs (gateway-api-v1.6.3-experimental)"
mapfile -t crds < <("$SG_ROOT/hack/gateway-crds.sh" paths gateway-api-v1.6.3-experimental)
k apply --server-side --force-conflicts --field-manager=stickyguard-e2e "${crds[@]/#/--filename=}" >/dev/null
k wait --for=condition=Established --timeout=60s crd/httproutes.gateway.networking.k8s.io >/dev/null
webhook_start
webhook_install

export E2E_KUBECONFIG="$KUBECONFIG"
export E2E_KUBECTL="$KUBECTL"
export E2E_WEBHOOK_CTL="$SG_ROOT/hack/webhook-ctl.sh"
export E2E_WEBHOOK_ADDR="127.0.0.1:$SG_WEBHOOK_PORT"
export E2E_CERT_DIR="$SG_CERTS"
export E2E_METRICS_URL="http://127.0.0.1:$SG_METRICS_PORT/metrics"
export E2E_POLICY="$SG_ROOT/manifests/base/policy.yaml"

log "running the e2e suite (go test -tags e2e ./e2e/...)"
cd "$SG_ROOT"
set +e
go test -tags e2e -count=1 -timeout 8m ${E2E_RUN:+-run "$E2E_RUN"} -v ./e2e/... 2>&1 | tee "$SG_WORK/e2e.log" |
	grep --line-buffered -vE '^=== (RUN|PAUSE|CONT)'
rc=${PIPESTATUS[0]}
set -e
exit "$rc"
