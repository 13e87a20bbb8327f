#!/usr/bin/env bash
# Webhook control hooks for the e2e suite on a real cluster installed from
# manifests/overlays/cert-manager (E2E_WEBHOOK_CTL in hack/e2e-kind.sh).
#   stop           scale the Deployment to 0 and wait until no endpoint is left
#   start          scale back to 2 and wait for the rollout and endpoints
#   certs-rotate   have cert-manager re-issue the serving certificate (same CA)
#   policy FILE    replace the policy ConfigMap and roll the pods (PDB-safe)
set -euo pipefail
KUBECTL=${E2E_KUBECTL:-kubectl}
export KUBECONFIG=${E2E_KUBECONFIG:-${KUBECONFIG:-}}
NS=stickyguard-system
k() { "$KUBECTL" "$@"; }

ready_endpoints() {
	k -n "$NS" get endpointslices -l kubernetes.io/service-name=stickyguard-webhook \
		-o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | grep -c . || true
}

wait_endpoints() { # want-count-test ("-eq 0" or "-ge 1")
	local deadline=$((SECONDS + 180))
	until [ "$(ready_endpoints)" $1 ]; do
		[ $SECONDS -lt $deadline ] || { echo "timed out waiting for endpoints $1" >&2; exit 1; }
		sleep 1
	done
}

case "${1:-}" in
stop)
	k -n "$NS" scale deployment/stickyguard --replicas=0
	k -n "$NS" wait pod -l app.kubernetes.io/name=stickyguard --for=delete --timeout=120s 2>/dev/null || true
	wait_endpoints "-eq 0"
	;;
start)
	k -n "$NS" scale deployment/stickyguard --replicas=2
	k -n "$NS" rollout status deployment/stickyguard --timeout=180s
	wait_endpoints "-ge 1"
	;;
certs-rotate)
	# Deleting the Secret makes cert-manager issue a new key and certificate
	# from the same CA Issuer; the kubelet refreshes the volume and serve
	# reloads it, while the caBundle (the CA) stays the same.
	old=$(k -n "$NS" get secret stickyguard-webhook-tls -o jsonpath='{.data.tls\.crt}')
	k -n "$NS" delete secret stickyguard-webhook-tls
	deadline=$((SECONDS + 120))
	until new=$(k -n "$NS" get secret stickyguard-webhook-tls -o jsonpath='{.data.tls\.crt}' 2>/dev/null) && [ -n "$new" ] && [ "$new" != "$old" ]; do
		[ $SECONDS -lt $deadline ] || { echo "cert-manager did not re-issue the certificate" >&2; exit 1; }
		sleep 1
	done
	;;
policy)
	[ $# -eq 2 ] || { echo "usage: $0 policy FILE" >&2; exit 2; }
	k -n "$NS" create configmap stickyguard-policy --from-file=policy.yaml="$2" --dry-run=client -o yaml | k apply -f -
	# serve reloads the file once the kubelet updates the volume (up to about
	# a minute); a rolling restart makes it deterministic and, with
	# maxUnavailable 0 and the PDB, never drops below 2 ready replicas.
	k -n "$NS" rollout restart deployment/stickyguard
	k -n "$NS" rollout status deployment/stickyguard --timeout=180s
	;;
*)
	sed -n '2,8p' "$0" >&2
	exit 2
	;;
esac
