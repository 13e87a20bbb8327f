#!/usr/bin/env bash
# Webhook control hooks for the e2e suite on the registry-free kind cluster
# (E2E_WEBHOOK_CTL in hack/e2e-kind.sh), installed from
# manifests/overlays/self-managed. certs-rotate makes a new serving
# certificate from the same CA with `stickyguard certs --force` and replaces
# the Secret (the caBundle stays valid); uninstall does what the README's
# "Uninstall" says: delete the two webhook configurations, then `kubectl
# delete -k` of what was installed (E2E_KIND_INSTALL), and waits until the
# namespace is gone; stop, start and policy are those of
# hack/webhook-ctl-kind.sh.
#   E2E_KIND_CERTS: the certs directory of the generated overlay
#   E2E_KIND_INSTALL: the kustomization hack/e2e-kind.sh applied
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
KUBECTL=${E2E_KUBECTL:-kubectl}
export KUBECONFIG=${E2E_KUBECONFIG:-${KUBECONFIG:-}}
NS=stickyguard-system

case "${1:-}" in
certs-rotate)
	certs=${E2E_KIND_CERTS:?E2E_KIND_CERTS is not set}
	"$root/bin/stickyguard" certs --out-dir "$certs" --hosts "" --force >/dev/null
	"$KUBECTL" -n "$NS" create secret generic stickyguard-webhook-tls --type=kubernetes.io/tls \
		--from-file=tls.crt="$certs/tls.crt" --from-file=tls.key="$certs/tls.key" \
		--from-file=ca.crt="$certs/ca.crt" --dry-run=client -o yaml | "$KUBECTL" apply -f - >/dev/null
	;;
uninstall)
	install=${E2E_KIND_INSTALL:?E2E_KIND_INSTALL is not set}
	"$KUBECTL" delete validatingwebhookconfiguration stickyguard
	"$KUBECTL" delete mutatingwebhookconfiguration stickyguard
	# The two configurations are gone already: without --ignore-not-found
	# the README's third command reports them as errors and exits 1.
	"$KUBECTL" delete -k "$install" --ignore-not-found --timeout=4m
	;;
*) exec "$root/hack/webhook-ctl-kind.sh" "$@" ;;
esac
