# shellcheck shell=bash
# Shared functions for the local kwok cluster and the webhook running as a
# local process: hack/e2e-local.sh, hack/demo.sh and hack/webhook-ctl.sh
# source this file. Everything listens on and talks to 127.0.0.1 only, every
# wait is bounded, and all state lives in .work/<cluster>/ (ignored by git).
#
# Settings (environment):
#   SG_CLUSTER  cluster name (default stickyguard-e2e; the demo uses stickyguard-demo)
#   SG_NODES    number of fake nodes (default 3)

SG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SG_CLUSTER=${SG_CLUSTER:-stickyguard-e2e}
SG_NODES=${SG_NODES:-3}
SG_WORK="$SG_ROOT/.work/$SG_CLUSTER"
SG_BIN="$SG_ROOT/bin/stickyguard"
KUBECTL="$SG_ROOT/bin/k8s/kubectl"
KWOKCTL="$SG_ROOT/bin/kwok/kwokctl"
export KWOK_WORKDIR="$SG_WORK/kwok"
export KUBECONFIG="$SG_WORK/kubeconfig"
SG_CERTS="$SG_WORK/certs"
SG_POLICY="$SG_WORK/policy.yaml"
SG_PIDFILE="$SG_WORK/webhook.pid"
SG_LOG="$SG_WORK/webhook.log"
SG_PORTS="$SG_WORK/webhook.env"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
warn() { printf '\033[33mwarning:\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31merror:\033[0m %s\n' "$*" >&2; exit 1; }

k() { "$KUBECTL" "$@"; }

# require_bins fails with the make target to run when a binary is missing.
require_bins() {
	local b
	for b in "$SG_ROOT/bin/k8s/kube-apiserver" "$SG_ROOT/bin/k8s/etcd" "$SG_ROOT/bin/k8s/kube-controller-manager" \
		"$SG_ROOT/bin/k8s/kube-scheduler" "$KUBECTL" "$SG_ROOT/bin/kwok/kwok" "$KWOKCTL"; do
		[ -x "$b" ] || die "$b is missing: run 'make tools-e2e' (hack/build-tools.sh e2e)"
	done
	[ -x "$SG_BIN" ] || die "$SG_BIN is missing: run 'make build'"
}

# wait_for DESCRIPTION SECONDS COMMAND... retries COMMAND every 0.2 s until it
# succeeds or SECONDS pass.
wait_for() {
	local what=$1 secs=$2
	shift 2
	local deadline=$((SECONDS + secs))
	until "$@" >/dev/null 2>&1; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			warn "timed out after ${secs}s waiting for $what"
			return 1
		fi
		sleep 0.2
	done
}

# ---------------------------------------------------------------------------
# cluster

cluster_healthy() {
	[ -f "$KUBECONFIG" ] && k get --raw /readyz --request-timeout=3s >/dev/null 2>&1
}

cluster_exists() {
	"$KWOKCTL" get clusters 2>/dev/null | grep -qx "$SG_CLUSTER"
}

# cluster_up creates the kwok cluster, or reuses it when it is already up and
# healthy; a half-dead one is deleted and created again.
cluster_up() {
	mkdir -p "$SG_WORK"
	if cluster_exists && cluster_healthy; then
		log "reusing the running kwok cluster $SG_CLUSTER"
	else
		if cluster_exists; then
			log "cluster $SG_CLUSTER exists but is not healthy: recreating it"
			"$KWOKCTL" delete cluster --name "$SG_CLUSTER" >/dev/null 2>&1 || true
		fi
		sed "s#@ROOT@#$SG_ROOT#g" "$SG_ROOT/hack/kwok/kwokctl.yaml.tmpl" >"$SG_WORK/kwokctl.yaml"
		log "creating kwok cluster $SG_CLUSTER (kube $(cat "$SG_ROOT/bin/k8s/kube-apiserver.version"), binaries from bin/, 127.0.0.1 only)"
		"$KWOKCTL" create cluster --name "$SG_CLUSTER" --config "$SG_WORK/kwokctl.yaml" \
			--kubeconfig "$KUBECONFIG" --wait 90s >"$SG_WORK/kwokctl.log" 2>&1 ||
			{ tail -20 "$SG_WORK/kwokctl.log" >&2; die "kwokctl create cluster failed (log: $SG_WORK/kwokctl.log)"; }
	fi
	wait_for "the API server" 60 cluster_healthy || die "the API server of $SG_CLUSTER is not ready"
	nodes_up
	# Namespaced objects need the default ServiceAccount before pods can be created.
	wait_for "the default ServiceAccount" 60 k -n default get serviceaccount default || die "no default ServiceAccount"
}

# nodes_up creates SG_NODES fake nodes (one per hostname) and waits until Ready.
nodes_up() {
	local i docs=""
	for i in $(seq 1 "$SG_NODES"); do
		docs+="---
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-$i
  annotations:
    kwok.x-k8s.io/node: fake
  labels:
    type: kwok
    kubernetes.io/hostname: kwok-node-$i
    kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/role: agent
    node-role.kubernetes.io/agent: \"\"
    topology.kubernetes.io/zone: zone-$(( (i - 1) % 3 + 1 ))
status:
  allocatable: {cpu: \"32\", memory: 256Gi, pods: \"110\"}
  capacity: {cpu: \"32\", memory: 256Gi, pods: \"110\"}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    kubeletVersion: fake
"
	done
	printf '%s' "$docs" | k apply -f - >/dev/null
	wait_for "$SG_NODES Ready nodes" 60 nodes_ready || die "fake nodes did not become Ready"
	log "$SG_NODES fake nodes Ready"
}

nodes_ready() {
	local ready
	ready=$(k get nodes -l type=kwok -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c '^True$')
	[ "$ready" -ge "$SG_NODES" ]
}

cluster_down() {
	if [ -x "$KWOKCTL" ] && cluster_exists; then
		log "deleting kwok cluster $SG_CLUSTER"
		"$KWOKCTL" delete cluster --name "$SG_CLUSTER" >/dev/null 2>&1 || warn "kwokctl delete cluster failed"
	fi
}

# ---------------------------------------------------------------------------
# the webhook as a local process

# free_port prints a TCP port on 127.0.0.1 nobody listens on, from a range
# away from kwokctl's (which counts down from 32767).
free_port() {
	local p tries=0
	while [ $tries -lt 200 ]; do
		p=$((20000 + RANDOM % 10000))
		tries=$((tries + 1))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# webhook_ports loads the ports from a previous start (the webhook
# configurations carry the URL, so a restart must reuse them) or picks new ones.
webhook_ports() {
	if [ -f "$SG_PORTS" ]; then
		# shellcheck disable=SC1090
		. "$SG_PORTS"
	fi
	if [ -z "${SG_WEBHOOK_PORT:-}" ]; then
		SG_WEBHOOK_PORT=$(free_port)
		SG_METRICS_PORT=$(free_port)
		SG_HEALTH_PORT=$(free_port)
		printf 'SG_WEBHOOK_PORT=%s\nSG_METRICS_PORT=%s\nSG_HEALTH_PORT=%s\n' \
			"$SG_WEBHOOK_PORT" "$SG_METRICS_PORT" "$SG_HEALTH_PORT" >"$SG_PORTS"
	fi
	export SG_WEBHOOK_PORT SG_METRICS_PORT SG_HEALTH_PORT
}

webhook_pid() {
	local pid
	[ -f "$SG_PIDFILE" ] || return 1
	pid=$(cat "$SG_PIDFILE")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

webhook_ready() {
	curl -fsS --max-time 2 "http://127.0.0.1:$SG_HEALTH_PORT/readyz" >/dev/null 2>&1
}

# webhook_certs makes the serving certificate for 127.0.0.1 once; a valid
# one from an earlier run is kept (renewed when it expires within 30 days).
webhook_certs() {
	if [ -f "$SG_CERTS/tls.crt" ]; then
		"$SG_BIN" certs --out-dir "$SG_CERTS" --hosts 127.0.0.1 --renew-before 720h >/dev/null
	else
		"$SG_BIN" certs --out-dir "$SG_CERTS" --hosts 127.0.0.1 >/dev/null
	fi
}

# webhook_start starts `stickyguard serve` in the background (pidfile, log)
# unless it already runs, and waits for /readyz.
webhook_start() {
	mkdir -p "$SG_WORK"
	webhook_ports
	webhook_certs
	[ -f "$SG_POLICY" ] || cp "$SG_ROOT/manifests/base/policy.yaml" "$SG_POLICY"
	if webhook_pid >/dev/null; then
		log "webhook already running (pid $(webhook_pid))"
	else
		log "starting stickyguard serve on https://127.0.0.1:$SG_WEBHOOK_PORT (log: ${SG_LOG#"$SG_ROOT"/})"
		# setsid: its own process group, so a Ctrl-C in the caller's terminal
		# does not kill it (demo) and webhook_stop can signal it alone.
		setsid "$SG_BIN" serve \
			--bind-address 127.0.0.1 --port "$SG_WEBHOOK_PORT" \
			--cert-dir "$SG_CERTS" --policy "$SG_POLICY" --kubeconfig "$KUBECONFIG" \
			--metrics-bind-address "127.0.0.1:$SG_METRICS_PORT" \
			--health-probe-bind-address "127.0.0.1:$SG_HEALTH_PORT" \
			>>"$SG_LOG" 2>&1 </dev/null &
		echo $! >"$SG_PIDFILE"
	fi
	local deadline=$((SECONDS + 30))
	until webhook_ready; do
		if ! webhook_pid >/dev/null; then
			tail -20 "$SG_LOG" >&2
			die "stickyguard serve exited (log: $SG_LOG)"
		fi
		if [ "$SECONDS" -ge "$deadline" ]; then
			tail -20 "$SG_LOG" >&2
			die "stickyguard serve not ready after 30s (log: $SG_LOG)"
		fi
		sleep 0.2
	done
	log "webhook ready (pid $(webhook_pid))"
}

# webhook_stop stops the process: TERM, then KILL after 15 s.
webhook_stop() {
	local pid
	if pid=$(webhook_pid); then
		kill -TERM "$pid" 2>/dev/null || true
		local deadline=$((SECONDS + 15))
		while kill -0 "$pid" 2>/dev/null; do
			if [ "$SECONDS" -ge "$deadline" ]; then
				warn "webhook pid $pid did not stop in 15s: killing it"
				kill -KILL "$pid" 2>/dev/null || true
				break
			fi
			sleep 0.1
		done
		log "webhook stopped"
	fi
	rm -f "$SG_PIDFILE"
}

# webhook_install renders manifests/base/webhook-configurations.yaml with
# url: https://127.0.0.1:<port><path> instead of the in-cluster Service and
# the local CA as caBundle, and applies it.
webhook_install() {
	webhook_ports
	"$SG_BIN" certs --out-dir "$SG_CERTS" --patch "$SG_ROOT/manifests/base/webhook-configurations.yaml" \
		--url "https://127.0.0.1:$SG_WEBHOOK_PORT" -o "$SG_WORK/webhook-configurations.yaml" >/dev/null
	k apply --server-side --force-conflicts -f "$SG_WORK/webhook-configurations.yaml" >/dev/null
	log "webhook configurations installed (url https://127.0.0.1:$SG_WEBHOOK_PORT/...)"
}

# webhook_policy FILE swaps the policy file atomically (as the kubelet does
# with a ConfigMap volume); serve reloads it.
webhook_policy() {
	local src=$1
	[ -f "$src" ] || die "policy file $src not found"
	cp "$src" "$SG_POLICY.tmp"
	mv -f "$SG_POLICY.tmp" "$SG_POLICY"
}

# webhook_rotate_certs replaces tls.crt/tls.key with a new serving
# certificate from the same CA while serve runs.
webhook_rotate_certs() {
	"$SG_BIN" certs --out-dir "$SG_CERTS" --hosts 127.0.0.1 --force >/dev/null
}
