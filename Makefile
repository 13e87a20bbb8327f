# stickyguard — run `make help` for the targets.
SHELL := /usr/bin/env bash
.DEFAULT_GOAL := help

GO        ?= go
BIN       := $(CURDIR)/bin
IMG       ?= stickyguard:dev
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# envtest and the local e2e use the binaries hack/build-tools.sh builds here.
export KUBEBUILDER_ASSETS := $(BIN)/k8s
GOTEST    := $(GO) test -count=1

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+:.*## / {printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/stickyguard.
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN)/stickyguard ./cmd/stickyguard

.PHONY: tools
tools: ## Build kube-apiserver and etcd (pinned, from the Go module proxy) into bin/k8s, once.
	@hack/build-tools.sh envtest

.PHONY: tools-e2e
tools-e2e: ## Build the whole local cluster (apiserver, etcd, controller-manager, scheduler, kubectl, kwok).
	@hack/build-tools.sh e2e

.PHONY: test
test: tools-e2e ## Unit and integration tests (integration runs a real kube-apiserver), then the local e2e.
	$(GOTEST) ./...
	$(MAKE) --no-print-directory chart-test
	$(MAKE) --no-print-directory test-image IMG=stickyguard:test
	$(MAKE) --no-print-directory test-e2e
	$(MAKE) --no-print-directory test-e2e-chart

.PHONY: test-unit
test-unit: ## Unit tests only (no control plane needed for most packages).
	$(GOTEST) ./validators/... ./mutators/... ./policy/... ./engine/... ./internal/... ./certs/... ./cmd/...

.PHONY: test-integration
test-integration: tools ## Integration tests against a real kube-apiserver (envtest).
	$(GOTEST) ./webhook/... ./cmd/...

.PHONY: test-e2e
test-e2e: tools-e2e build ## e2e scenarios on a local kwok cluster with the webhook as a local process.
	@hack/e2e-local.sh

.PHONY: test-e2e-kind
test-e2e-kind: ## e2e scenarios on a kind cluster built here without a registry (needs a Docker engine; docs/kind.md; ~9 min warm, ~25 min cold).
	@hack/e2e-kind.sh

# The Helm chart's tooling is its own Go module, so Helm's dependencies stay
# out of go.mod; the build cache is shared with the main module.
HELM_TOOLS := hack/tools/helm

.PHONY: chart-test
chart-test: ## Helm chart test: renders charts/stickyguard with Helm's library and compares it with manifests/ field by field; lint; README.
	cd $(HELM_TOOLS) && $(GOTEST) ./...

.PHONY: chart-docs
chart-docs: ## Regenerate charts/stickyguard/README.md from README.md.gotmpl and the comments of values.yaml.
	cd $(HELM_TOOLS) && $(GO) run ./cmd/chart docs > $(CURDIR)/charts/stickyguard/README.md.tmp
	mv charts/stickyguard/README.md.tmp charts/stickyguard/README.md

.PHONY: chart-bin
chart-bin: ## Build bin/chart (render the chart, run its hooks locally; hack/tools/helm/cmd/chart).
	cd $(HELM_TOOLS) && $(GO) build -o $(BIN)/chart ./cmd/chart

.PHONY: test-e2e-chart
test-e2e-chart: tools-e2e build chart-bin ## The Helm chart on a local kwok cluster: hooks, install, the webhook answers, upgrade, uninstall.
	@hack/e2e-chart.sh

# The real CRDs of Gateway API (v1.6.3 and v1.7.0 standard and experimental,
# v1.5.1 experimental), Envoy Gateway and Istio, pinned by
# hack/tools/gatewaycrds and fetched from the Go module proxy; the tests call
# hack/gateway-crds.sh themselves.
.PHONY: gateway-crds
gateway-crds: ## Fetch and verify the Gateway API, Envoy Gateway and Istio CRDs; link each bundle under .work/crds/<bundle>.
	@hack/gateway-crds.sh link $(CURDIR)/.work/crds $$(hack/gateway-crds.sh list)

.PHONY: fuzz
fuzz: ## Run each fuzz target for FUZZTIME (default 20s).
	@hack/fuzz.sh $${FUZZTIME:-20s}

# Packages with benchmarks: the rule engine per object (engine/) and
# the handler per review (webhook). Not part of make test.
BENCH_PKGS ?= ./webhook/ ./engine/
BENCH_OUT  ?= go-bench

.PHONY: bench
bench: ## Go benchmarks (rule engine, handlers) with -benchmem into bench/out/go-bench.txt (BENCH_OUT=name) for benchstat.
	@mkdir -p bench/out
	$(GO) test -run '^$$' -bench . -benchmem -count $${COUNT:-5} $(BENCH_PKGS) | tee bench/out/$(BENCH_OUT).txt
	@echo "compare two runs: benchstat bench/out/<old>.txt bench/out/$(BENCH_OUT).txt (BENCH_OUT=<name> to keep one)"

.PHONY: bench-report
bench-report: tools build ## Regenerate bench/RESULTS.md: Go benchmarks and the load tool's three modes (~11 min).
	@hack/bench-report.sh

.PHONY: lint
lint: ## gofmt and go vet.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

.PHONY: docs
docs: ## Regenerate docs/rules.md from the rule catalog and docs/migrate.md from the migration table.
	$(GO) run ./cmd/stickyguard rules > docs/rules.md
	$(GO) run ./cmd/stickyguard migrate --doc > docs/migrate.md

.PHONY: demo
demo: tools-e2e build ## Local cluster + webhook, apply the examples, show what happened. Leaves it running.
	@hack/demo.sh

.PHONY: demo-down
demo-down: ## Stop the demo cluster and webhook.
	@hack/demo.sh down

.PHONY: docker-build
docker-build: ## Build the container image IMG (needs a Docker engine; without a registry the base images are made locally).
	@IMG=$(IMG) VERSION=$(VERSION) hack/local-images.sh build

.PHONY: docker-bases-local
docker-bases-local: ## Make the local base images (Go toolchain of this machine; scratch + nonroot) without a registry.
	@hack/local-images.sh bases

.PHONY: test-image
test-image: ## Build IMG and check it runs as uid 65532, static, without a shell (says so and skips without Docker).
	@IMG=$(IMG) VERSION=$(VERSION) hack/local-images.sh test

.PHONY: clean
clean: ## Remove build output (keeps bin/k8s and bin/kwok).
	rm -f $(BIN)/stickyguard
	rm -rf .work
