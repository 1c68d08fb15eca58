# The operator-world verbs users know from kubebuilder, each calling the npm scripts that do the work.
IMG ?= controller:latest
KUBECTL ?= kubectl
NPM ?= npm
SHELL := /usr/bin/env bash -o pipefail
.SHELLFLAGS := -ec

.PHONY: all
all: build

##@ General

.PHONY: help
help: ## Display this help.
	@awk 'BEGIN {FS = ":.*##"; printf "\nUsage:\n  make \033[36m<target>\033[0m\n"} /^[a-zA-Z_0-9-]+:.*?##/ { printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2 } /^##@/ { printf "\n\033[1m%s\033[0m\n", substr($$0, 5) } ' $(MAKEFILE_LIST)

##@ Development

node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.package-lock.json ## Install the npm dependencies (Node 26 comes with them).

.PHONY: control-plane
control-plane: ## Build etcd, kube-apiserver and kubectl from source if missing; last line: their directory.
	@bash hack/control-plane/build.sh

.PHONY: tools
tools: ## Build helm and promtool from source if missing (the chart and alert tests); last line: their directory.
	@bash hack/tools/build.sh

.PHONY: generate
generate: deps ## Regenerate the CRD and RBAC manifests from the TypeScript sources.
	$(NPM) run generate

.PHONY: verify
verify: deps ## Regenerate, typecheck, lint, and fail if the tree is dirty.
	$(NPM) run verify

.PHONY: test
test: deps ## Set up everything on a fresh machine, verify, and run every test against a real control plane.
	@dir="$$(bash hack/control-plane/build.sh | tail -n 1)"; \
	tools="$$(bash hack/tools/build.sh | tail -n 1)"; \
	$(NPM) run verify; \
	LCS_CONTROL_PLANE_DIR="$$dir" LCS_TOOLS_DIR="$$tools" $(NPM) test

##@ Build

.PHONY: build
build: deps ## Compile TypeScript to dist/ (what the container image runs).
	$(NPM) run build

.PHONY: run
run: deps ## Run the manager against the current kubeconfig (AWS settings from the environment).
	$(NPM) run manager -- $(ARGS)

.PHONY: docker-build
docker-build: ## Build the manager image IMG.
	docker build -t $(IMG) .

.PHONY: docker-push
docker-push: ## Push the manager image IMG.
	docker push $(IMG)

##@ Deployment

.PHONY: install
install: ## Install the CRD into the cluster of the current kubeconfig.
	$(KUBECTL) apply --server-side -k config/crd

.PHONY: uninstall
uninstall: ## Remove the CRD (and with it every LambdaConcurrencyScaler) from the cluster.
	$(KUBECTL) delete --ignore-not-found -k config/crd

.PHONY: deploy
deploy: ## Deploy the operator (image IMG) to the cluster of the current kubeconfig.
	$(KUBECTL) kustomize config/default | sed 's|image: controller:latest|image: $(IMG)|' | $(KUBECTL) apply --server-side -f -

.PHONY: undeploy
undeploy: ## Remove the operator from the cluster.
	$(KUBECTL) kustomize config/default | $(KUBECTL) delete --ignore-not-found -f -

##@ Playground

.PHONY: demo
demo: deps ## Start a local control plane, AWS simulator and the operator, and watch it scale a burst.
	$(NPM) run demo

.PHONY: simulate
simulate: deps ## What-if: run a scaler spec against a traffic profile in virtual time (ARGS=...).
	$(NPM) run simulate -- $(ARGS)

.PHONY: bench
bench: deps ## Score the scaling policies and write bench/REPORT.md.
	$(NPM) run bench
