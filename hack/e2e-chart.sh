#!/usr/bin/env bash
# The Helm chart on a local kwok cluster (make test-e2e-chart): install,
# upgrade and uninstall as Helm would, on a real API server.
#
# kwok runs no containers, so hook Jobs cannot run on its fake nodes. Instead
# `chart run-hooks` (hack/tools/helm) runs each hook Job's containers here as
# processes, in Helm's order, with kubectl authenticated as the hook's
# ServiceAccount (so the hook RBAC is exercised) and /stickyguard = bin/stickyguard.
#   install    render (certs.mode=selfSigned) -> pre-install hooks (the
#              certificate Secrets) -> apply the release objects ->
#              post-install hooks (caBundle) -> the caBundle is the Secret's CA
#   answers    the installed webhook configurations, pointed at the local serve
#              process (url: + its CA, as the shared e2e does), deny a broken
#              Service in an enforce namespace and fill a default
#   upgrade    render again with lookups against the cluster: the caBundle is
#              rendered from the Secret; pre-upgrade hooks keep the Secret
#   uninstall  pre-delete hook -> no webhook configuration is left and the same
#              broken Service is admitted; then the release objects are deleted
#   E2E_KEEP_CLUSTER=1  leave the cluster and webhook running afterwards
set -euo pipefail
export SG_CLUSTER=${SG_CLUSTER:-stickyguard-chart-e2e}
# shellcheck source=hack/lib.sh
. "$(dirname "$0")/lib.sh"

start=$SECONDS
NS=stickyguard-system
REL=stickyguard
CHART_BIN="$SG_ROOT/bin/chart"
OUT="$SG_WORK/chart"
require_bins

cleanup() {
	local rc=$?
	if [ "${E2E_KEEP_CLUSTER:-}" = 1 ]; then
		log "leaving the cluster running: export KUBECONFIG=$KUBECONFIG"
	else
		webhook_stop || true
		cluster_down || true
	fi
	if [ $rc -eq 0 ]; then
		log "chart e2e passed in $((SECONDS - start))s"
	else
		warn "chart e2e FAILED (exit $rc) after $((SECONDS - start))s"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { die "chart e2e: $*"; }

render() { # render OUTDIR [extra flags]: the chart as helm would, selfSigned certificates
	local dir=$1
	shift
	"$CHART_BIN" render -namespace "$NS" -release "$REL" -set certs.mode=selfSigned -out-dir "$dir" "$@"
}

hooks() { # hooks DIR EVENT: run that event's hooks, if the chart has any
	[ -f "$1/$2.yaml" ] || fail "the chart renders no $2 hook"
	log "running the $2 hooks"
	"$CHART_BIN" run-hooks -file "$1/$2.yaml" -kubeconfig "$KUBECONFIG" -kubectl-dir "$SG_ROOT/bin/k8s" \
		-stickyguard "$SG_BIN" -work "$SG_WORK/hook-work"
}

secret_ca() { k -n "$NS" get secret "$REL-webhook-tls" -o 'jsonpath={.data.ca\.crt}'; }

# every_cabundle KIND: the distinct caBundles of the entries, one per line.
every_cabundle() { k get "$1" "$REL" -o 'jsonpath={range .webhooks[*]}{.clientConfig.caBundle}{"\n"}{end}' | sort -u; }

broken_service() { # a Service whose sessionAffinity landed in spec.selector: SVC-001 denies it
	cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: broken, namespace: $1}
spec:
  selector: {app: web, sessionAffinity: ClientIP}
  ports: [{port: 80}]
EOF
}

sticky_lb() { # an AWS NLB with source_ip stickiness pins clients to nodes: SVC-005 fills externalTrafficPolicy Local
	cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: sticky
  namespace: $1
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: "external"
    service.beta.kubernetes.io/aws-load-balancer-target-group-attributes: "stickiness.enabled=true,stickiness.type=source_ip"
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 80}]
EOF
}

svc001_denied() {
	local out
	out=$(broken_service chart-e2e | k apply --dry-run=server -f - 2>&1) && return 1
	grep -q "SVC-001" <<<"$out"
}

install() {
	render "$OUT/install"
	k create namespace "$NS" --dry-run=client -o yaml | k apply -f - >/dev/null # helm --create-namespace
	hooks "$OUT/install" pre-install
	[ -n "$(secret_ca)" ] || fail "pre-install made no Secret $NS/$REL-webhook-tls with a ca.crt"
	k -n "$NS" get secret "$REL-ca" >/dev/null || fail "pre-install made no CA Secret $NS/$REL-ca"
	! k get serviceaccount -n "$NS" "$REL-hooks" >/dev/null 2>&1 || fail "hook-succeeded objects were not deleted"
	log "applying the release objects"
	k apply --server-side -f "$OUT/install/manifests.yaml" >/dev/null
	hooks "$OUT/install" post-install
	local kind want
	want=$(secret_ca)
	for kind in mutatingwebhookconfiguration validatingwebhookconfiguration; do
		[ "$(every_cabundle $kind)" = "$want" ] || fail "$kind $REL: not every caBundle is the Secret's ca.crt"
	done
	log "installed: every webhook entry trusts the CA of the serving Secret"
}

answers() {
	local dir="$SG_WORK/chart/live"
	mkdir -p "$dir"
	k get mutatingwebhookconfiguration "$REL" -o yaml >"$dir/mutating.yaml"
	k get validatingwebhookconfiguration "$REL" -o yaml >"$dir/validating.yaml"
	"$SG_BIN" certs --out-dir "$SG_CERTS" --patch "$dir/mutating.yaml" "$dir/validating.yaml" \
		--url "https://127.0.0.1:$SG_WEBHOOK_PORT" -o "$dir/local.yaml" >/dev/null
	k replace -f "$dir/local.yaml" >/dev/null
	k create namespace chart-e2e --dry-run=client -o yaml | k apply -f - >/dev/null
	k label namespace chart-e2e stickyguard.io/mode=enforce --overwrite >/dev/null
	wait_for "SVC-001 denied through the chart's webhook configurations" 30 svc001_denied ||
		fail "the broken Service was not denied with SVC-001: $(broken_service chart-e2e | k apply --dry-run=server -f - 2>&1)"
	local etp
	etp=$(sticky_lb chart-e2e | k apply --dry-run=server -o 'jsonpath={.spec.externalTrafficPolicy}' -f -)
	[ "$etp" = Local ] || fail "no default filled: externalTrafficPolicy=$etp"
	log "the chart's webhook configurations reach the webhook: SVC-001 denied, externalTrafficPolicy Local filled"
}

upgrade() {
	local before after
	before=$(k -n "$NS" get secret "$REL-webhook-tls" -o 'jsonpath={.metadata.resourceVersion}')
	render "$OUT/upgrade" -upgrade -kubeconfig "$KUBECONFIG"
	local entries rendered
	entries=$(k get mutatingwebhookconfiguration,validatingwebhookconfiguration "$REL" -o 'jsonpath={range .items[*].webhooks[*]}{.name}{"\n"}{end}' | grep -c .)
	rendered=$(tr -d ' \n' <"$OUT/upgrade/manifests.yaml" | grep -o "caBundle:$(secret_ca)" | wc -l)
	[ "$rendered" = "$entries" ] || fail "the upgrade rendered the Secret's caBundle into $rendered of $entries entries"
	hooks "$OUT/upgrade" pre-upgrade
	after=$(k -n "$NS" get secret "$REL-webhook-tls" -o 'jsonpath={.metadata.resourceVersion}')
	[ "$before" = "$after" ] || fail "pre-upgrade changed the serving Secret ($before -> $after) with nothing to renew"
	log "upgrade: caBundle rendered from the Secret, certificates kept"
}

uninstall() {
	hooks "$OUT/install" pre-delete
	local left
	left=$(k get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name | grep -c "/$REL\$" || true)
	[ "$left" = 0 ] || fail "$left webhook configurations left after the pre-delete hook"
	k -n "$NS" get secret "$REL-webhook-tls" >/dev/null 2>&1 && fail "the pre-delete hook left the certificate Secret"
	broken_service chart-e2e | k apply --dry-run=server -f - >/dev/null || fail "writes are still blocked after uninstall"
	k delete -f "$OUT/install/manifests.yaml" --ignore-not-found --wait=false >/dev/null
	left=$(k get mutatingwebhookconfigurations,validatingwebhookconfigurations -o name | grep -c "/$REL\$" || true)
	[ "$left" = 0 ] || fail "webhook configurations reappeared"
	log "uninstalled: no webhook configuration left, writes admitted"
}

webhook_stop
cluster_down
rm -rf "$SG_WORK"
cluster_up
webhook_start
[ -x "$CHART_BIN" ] || fail "$CHART_BIN is missing: make chart-bin"
install
answers
upgrade
uninstall
