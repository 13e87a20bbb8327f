#!/usr/bin/env bash
# Controls the local webhook process for the e2e suite (E2E_WEBHOOK_CTL) and
# by hand. Same cluster selection as hack/lib.sh (SG_CLUSTER).
#   hack/webhook-ctl.sh start          start serve (same ports as before) and wait for /readyz
#   hack/webhook-ctl.sh stop           stop serve
#   hack/webhook-ctl.sh certs-rotate   new serving certificate from the same CA, in place
#   hack/webhook-ctl.sh policy FILE    replace the policy file (serve reloads it)
#   hack/webhook-ctl.sh install        (re)apply the webhook configurations with the local URL
#   hack/webhook-ctl.sh status         print pid, ports and readiness
set -euo pipefail
# shellcheck source=hack/lib.sh
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
start) webhook_start ;;
stop) webhook_stop ;;
certs-rotate) webhook_rotate_certs ;;
policy)
	[ $# -eq 2 ] || die "usage: $0 policy FILE"
	webhook_policy "$2"
	;;
install) webhook_install ;;
status)
	webhook_ports
	if pid=$(webhook_pid); then
		echo "running: pid $pid, webhook https://127.0.0.1:$SG_WEBHOOK_PORT, metrics http://127.0.0.1:$SG_METRICS_PORT/metrics, health http://127.0.0.1:$SG_HEALTH_PORT/readyz"
		webhook_ready && echo "ready" || echo "not ready"
	else
		echo "not running"
		exit 1
	fi
	;;
*)
	sed -n '2,9p' "$0" >&2
	exit 2
	;;
esac
