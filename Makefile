# ringops — build, test, benchmark. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS ?= -buildvcs=false

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# The real kube-apiserver and kube-controller-manager of the local world,
# built once from k8s.io/kubernetes (about 8 minutes cold) and cached.
CONTROLPLANE_BUILD := test/env/tools/controlplane/build.sh

.PHONY: help build test test-short bench lint fmt fuzz controlplane sandbox sandbox-down demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

build: ## build bin/ringops
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ringops ./cmd/ringops

controlplane: ## build (or reuse) the cached kube-apiserver and kube-controller-manager
	@$(CONTROLPLANE_BUILD) >/dev/null

test: controlplane ## run every test, the local multi-region world included
	RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" $(GO) test -count=1 -timeout 45m ./...

test-short: ## the pure tests only (no control plane)
	$(GO) test -short -count=1 ./...

bench: controlplane ## run the benchmarks (figures go to bench.txt; compare runs with benchstat)
	RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" $(GO) test -run=NONE -bench=. -benchmem -count=$${COUNT:-5} -timeout 60m ./... | tee bench.txt

fuzz: ## fuzz the spec parser for FUZZTIME (default 60s)
	$(GO) test -run=NONE -fuzz=FuzzParse -fuzztime=$${FUZZTIME:-60s} ./schemas

lint: ## gofmt, go vet, staticcheck
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

sandbox: controlplane ## start the local 3-region world in the background and print its kubeconfig
	RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" $(GO) run ./test/env/cmd/sandbox up

sandbox-down: ## stop the local world started by `make sandbox`
	$(GO) run ./test/env/cmd/sandbox down

clean: ## remove build output
	rm -rf bin bench.txt
