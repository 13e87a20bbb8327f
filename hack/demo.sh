#!/usr/bin/env bash
# make demo: a local kwok cluster (3 fake nodes) with stickyguard running as a
# local process, the examples in testdata/examples (and, with the Gateway API
# v1.6.3 experimental CRDs installed, those of testdata/gateway written for
# that bundle) applied to an enforce and an audit namespace, and a report of
# what stickyguard did with each. The cluster and the webhook keep running
# afterwards; re-running is idempotent (the cluster and webhook are reused,
# the demo namespaces are refilled).
#   hack/demo.sh        bring it up (make demo)
#   hack/demo.sh down   stop the webhook and delete the cluster (make demo-down)
set -euo pipefail
export SG_CLUSTER=stickyguard-demo
# shellcheck source=hack/lib.sh
. "$(dirname "$0")/lib.sh"

NS_ENFORCE=demo-enforce
NS_AUDIT=demo-audit

bold() { printf '\033[1m%s\033[0m\n' "$*"; }
red() { printf '\033[31m%s\033[0m' "$*"; }
green() { printf '\033[32m%s\033[0m' "$*"; }
yellow() { printf '\033[33m%s\033[0m' "$*"; }

down() {
	webhook_stop
	cluster_down
	rm -rf "$SG_WORK"
	log "demo stopped"
}

# fields_tmpl KIND is a kubectl jsonpath template printing the fields
# stickyguard may set, one "path: value" per line.
fields_tmpl() {
	case $1 in
	Service) echo '{"spec.externalTrafficPolicy: "}{.spec.externalTrafficPolicy}{"\n"}{"spec.sessionAffinityConfig: "}{.spec.sessionAffinityConfig}{"\n"}' ;;
	Deployment) echo '{"spec.template.spec.affinity: "}{.spec.template.spec.affinity}{"\n"}{"spec.template.spec.topologySpreadConstraints: "}{.spec.template.spec.topologySpreadConstraints}{"\n"}' ;;
	Ingress) echo '{"metadata.annotations: "}{.metadata.annotations}{"\n"}' ;;
	esac
}

# show_diff KIND NS NAME DOC prints the fields stickyguard set: the manifest as
# written against the object as stored.
show_diff() {
	local kind=$1 ns=$2 name=$3 doc=$4 tmpl before after
	tmpl=$(fields_tmpl "$kind")
	[ -n "$tmpl" ] || return 0
	before=$(printf '%s' "$doc" | k create --dry-run=client -o "jsonpath=$tmpl" -f - 2>/dev/null || true)
	after=$(k -n "$ns" get "$kind" "$name" -o "jsonpath=$tmpl" 2>/dev/null || true)
	{ diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") || true; } |
		sed -n 's/^< \(.*\): *$/      - \1 (unset)/p; t; s/^< \(.*\)$/      - \1/p; s/^> \(.*\)$/      + \1/p' | cut -c1-400
}

# indent wraps long lines and indents them under an object.
indent() { fold -s -w 130 | sed 's/^/        /'; }

# rule_ids prints the distinct rule IDs in the text on stdin.
rule_ids() { { grep -oE '\b[A-Z]{2,4}-D?[0-9]{2,3}\b' || true; } | sort -u | tr '\n' ' '; }

# apply_doc NS DOC KIND NAME applies one document and reports what happened.
apply_doc() {
	local ns=$1 doc=$2 kind=$3 name=$4 out rc=0 warnings errors ids
	out=$(printf '%s' "$doc" | k -n "$ns" apply --server-side --field-manager=stickyguard-demo -f - 2>&1) || rc=$?
	warnings=$(printf '%s\n' "$out" | sed -n 's/^Warning: //p')
	if [ $rc -ne 0 ]; then
		errors=$(printf '%s\n' "$out" | grep -v '^Warning: ' | grep -v '^\s*$' || true)
		ids=$(printf '%s' "$errors" | rule_ids)
		if [ -z "$ids" ]; then
			printf '    %-13s %s\n' "$ns" "$(red REJECTED) by the API server itself, before any webhook ran:"
		else
			printf '    %-13s %s %s\n' "$ns" "$(red REJECTED)" "$ids"
		fi
		# one line per cause: "... is invalid: [cause, cause]", "* cause" lines, or a single cause
		printf '%s\n' "$errors" | sed -e 's/^Error from server[^:]*: //' -e 's/^error when [^:]*: //' \
			-e 's/.* is invalid: \[\{0,1\}//' -e 's/\]$//' -e 's/^\* //' | sed 's/, \(metadata\.\|spec\.\)/\n\1/g' |
			grep -v '^\s*$' | indent
		[ -z "$warnings" ] || { echo "      warnings:"; printf '%s\n' "$warnings" | indent; }
		return 0
	fi
	if ! printf '%s\n' "$warnings" | grep -qE '\b[A-Z]{2,4}-D?[0-9]{2,3}\b'; then
		printf '    %-13s %s\n' "$ns" "$(green ADMITTED), nothing for stickyguard to report"
		[ -z "$warnings" ] || { echo "      (API server warnings:)"; printf '%s\n' "$warnings" | indent; }
	elif printf '%s\n' "$warnings" | grep -q '^\[audit\]'; then
		printf '    %-13s %s\n' "$ns" "$(yellow ADMITTED) with [audit] warnings, object unchanged:"
		printf '%s\n' "$warnings" | indent
	else
		printf '    %-13s %s\n' "$ns" "$(green ADMITTED) with warnings:"
		printf '%s\n' "$warnings" | indent
		local d
		d=$(show_diff "$kind" "$ns" "$name" "$doc")
		if [ -n "$d" ]; then
			echo "      set by stickyguard (as written -> as stored):"
			printf '%s\n' "$d"
		fi
	fi
}

# GATEWAY_BUNDLE is the Gateway API bundle the demo installs; the
# testdata/gateway files written for it are applied too.
GATEWAY_BUNDLE=gateway-api-v1.6.3-experimental

gateway_examples() {
	grep -l '^# stickyguard-test: bundle=v1.6.3/experimental' "$SG_ROOT"/testdata/gateway/*.yaml || true
}

apply_examples() {
	local f doc kind api name
	for f in "$SG_ROOT"/testdata/examples/*.yaml $(gateway_examples); do
		bold ""
		bold "$(basename "$f")"
		sed -n '/^#/!q; s/^# \{0,1\}/  # /p' "$f"
		# Split on document separators; skip comment-only documents.
		local i=0
		while IFS= read -r -d $'\x1e' doc; do
			i=$((i + 1))
			if ! printf '%s\n' "$doc" | grep -qvE '^\s*(#.*)?$'; then continue; fi
			kind=$(printf '%s\n' "$doc" | sed -n 's/^kind: *//p' | head -1)
			api=$(printf '%s\n' "$doc" | sed -n 's/^apiVersion: *//p' | head -1)
			name=$(printf '%s\n' "$doc" | awk '/^metadata:/{m=1;next} m&&/^  name:/{print $2; exit}')
			echo "  $kind/$name"
			case "$api/$kind" in
			v1/Service | apps/v1/Deployment | networking.k8s.io/v1/Ingress) ;;
			gateway.networking.k8s.io/v1/HTTPRoute | gateway.networking.k8s.io/v1beta1/HTTPRoute | gateway.networking.k8s.io/v1/GRPCRoute) ;;
			gateway.networking.k8s.io/v1/Gateway | gateway.networking.k8s.io/v1/GatewayClass) ;;
			gateway.networking.x-k8s.io/v1alpha1/XBackendTrafficPolicy) ;;
			*)
				echo "    (not applied: $api $kind is not reviewed by the webhook and its CRD is not installed here; 'stickyguard check' covers it)"
				continue
				;;
			esac
			# Give the webhook's cache a moment to see the Service applied just before.
			[ "$kind" = Deployment ] && sleep 1
			apply_doc "$NS_ENFORCE" "$doc" "$kind" "$name"
			apply_doc "$NS_AUDIT" "$doc" "$kind" "$name"
		done < <(awk 'BEGIN{RS="\n---[^\n]*\n"; ORS="\x1e"} {print}' "$f")
	done
}

show_placement() {
	bold ""
	bold "Where the replicas landed (pod -> node) in $NS_ENFORCE:"
	local deadline=$((SECONDS + 30))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! k -n "$NS_ENFORCE" get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep -q '^$'; then break; fi
		sleep 0.5
	done
	local dep
	for dep in $(k -n "$NS_ENFORCE" get deployments -o jsonpath='{.items[*].metadata.name}'); do
		local sel mode
		sel=$(k -n "$NS_ENFORCE" get deployment "$dep" -o jsonpath='{range .spec.selector.matchLabels}{@}{end}' >/dev/null 2>&1 && k -n "$NS_ENFORCE" get deployment "$dep" -o go-template='{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}' | sed 's/,$//')
		mode=$(k -n "$NS_ENFORCE" get deployment "$dep" -o jsonpath='{.spec.template.spec.affinity.podAntiAffinity}' | grep -q . && echo "with pod anti-affinity" || echo "no anti-affinity")
		echo "  deployment/$dep ($mode):"
		k -n "$NS_ENFORCE" get pods -l "$sel" -o jsonpath='{range .items[*]}{"    "}{.metadata.name}{" -> "}{.spec.nodeName}{"\n"}{end}'
	done
}

up() {
	require_bins
	cluster_up
	log "installing the Gateway API CRDs ($GATEWAY_BUNDLE, hack/gateway-crds.sh)"
	local crds
	mapfile -t crds < <("$SG_ROOT/hack/gateway-crds.sh" paths "$GATEWAY_BUNDLE")
	k apply --server-side --force-conflicts --field-manager=stickyguard-demo "${crds[@]/#/--filename=}" >/dev/null
	k wait --for=condition=Established --timeout=60s crd/httproutes.gateway.networking.k8s.io >/dev/null
	webhook_start
	webhook_install
	log "namespaces $NS_ENFORCE (stickyguard.io/mode=enforce) and $NS_AUDIT (audit)"
	for ns in "$NS_ENFORCE" "$NS_AUDIT"; do
		local mode=${ns#demo-}
		k create namespace "$ns" --dry-run=client -o yaml | k label --local -f - "stickyguard.io/mode=$mode" -o yaml | k apply -f - >/dev/null
		# Idempotent re-runs: start from empty namespaces so every object is created again.
		k -n "$ns" delete deployments,services,ingresses,httproutes,grpcroutes,gateways,xbackendtrafficpolicies --all --wait=true --timeout=60s >/dev/null 2>&1 || true
	done
	wait_for "the default ServiceAccount" 30 k -n "$NS_ENFORCE" get serviceaccount default || true

	bold ""
	bold "Applying testdata/examples (and testdata/gateway for $GATEWAY_BUNDLE) to $NS_ENFORCE and $NS_AUDIT (kubectl apply --server-side):"
	apply_examples
	show_placement

	bold ""
	bold "The demo cluster and the webhook keep running. Try:"
	cat <<EOF
  export KUBECONFIG=$KUBECONFIG
  alias kubectl=$KUBECTL
  kubectl get nodes
  kubectl -n $NS_ENFORCE get services,deployments,ingresses
  kubectl -n $NS_ENFORCE get pods -o wide
  kubectl get mutatingwebhookconfigurations,validatingwebhookconfigurations stickyguard -o yaml
  bin/stickyguard check testdata/examples            # the same verdicts, offline
  curl -s http://127.0.0.1:$SG_METRICS_PORT/metrics | grep ^stickyguard_
  hack/webhook-ctl.sh status                       # (with SG_CLUSTER=$SG_CLUSTER)
  tail -f ${SG_LOG#"$SG_ROOT"/}

  Edit the policy live: $SG_POLICY
  Stop everything: make demo-down
EOF
}

case "${1:-up}" in
up) up ;;
down) down ;;
*)
	echo "usage: $0 [up|down]" >&2
	exit 2
	;;
esac
