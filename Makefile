# ringops — build, test, benchmark. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
export GOTOOLCHAIN := local
export GOFLAGS ?= -buildvcs=false

VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# The real parts of the local world, built once and cached under
# ~/.cache/ringops: kube-apiserver and kube-controller-manager from
# k8s.io/kubernetes (about 8 minutes cold), Gitea from code.gitea.io/gitea
# (5-12 minutes cold), helm from helm.sh/helm/v3 (3-8 minutes cold).
CONTROLPLANE_BUILD := test/env/tools/controlplane/build.sh
GITEA_BUILD := test/tools/gitea/build.sh
HELM_BUILD := test/tools/helm/build.sh
# promtool from github.com/prometheus/prometheus, to check the chart's alerts
# (about 14 minutes of CPU cold: not part of `tools`; test/chart uses it when
# it is cached, `make chart` builds it).
PROMTOOL_BUILD := test/tools/promtool/build.sh
# Apache Cassandra 5.0 and the Jolokia JVM agent, resolved with Maven from
# Maven Central (about 70 MB, under a minute cold) for the real nodes.
CASSANDRA_BUILD := test/tools/cassandra/build.sh
TOOLS_ENV = RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" RINGOPS_GITEA_DIR="$$($(GITEA_BUILD))" RINGOPS_HELM_DIR="$$($(HELM_BUILD))" RINGOPS_CASSANDRA_DIR="$$($(CASSANDRA_BUILD))"

.PHONY: help setup build test test-browser test-keyspaces bench bench-daemon bench-shards lint fmt fuzz tools controlplane gitea helm promtool cassandra chart sandbox sandbox-down demo clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

build: ## build bin/ringops
	$(GO) build -ldflags "$(LDFLAGS)" -o bin/ringops ./cmd/ringops

setup: ## install the Debian packages the tests and the demo need (once; needs root)
	@scripts/setup.sh

tools: controlplane gitea helm cassandra ## build (or reuse) every cached test tool

controlplane: ## build (or reuse) the cached kube-apiserver and kube-controller-manager
	@$(CONTROLPLANE_BUILD) >/dev/null

gitea: ## build (or reuse) the cached Gitea server
	@$(GITEA_BUILD) >/dev/null

helm: ## build (or reuse) the cached helm CLI, from helm.sh/helm/v3
	@$(HELM_BUILD) >/dev/null

promtool: ## build (or reuse) the cached promtool, from github.com/prometheus/prometheus
	@$(PROMTOOL_BUILD) >/dev/null

cassandra: ## resolve (or reuse) the cached Cassandra 5.0 and Jolokia agent jars, from Maven Central
	@$(CASSANDRA_BUILD) >/dev/null

chart: controlplane helm promtool ## lint, render and RBAC-check the Helm chart against a real API server; promtool on its alerts
	RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" RINGOPS_HELM_DIR="$$($(HELM_BUILD))" RINGOPS_PROMTOOL_DIR="$$($(PROMTOOL_BUILD))" $(GO) test -count=1 ./test/chart/

# The browser test (its own module) runs beside the main suite, whose long
# pole is the real Cassandra nodes: its own real nodes wait for the
# machine's real-Cassandra lock (hence its timeout); its output follows the
# suite's.
test: setup tools ## run every test, the local multi-region world and a real Gitea included, and the browser test beside them
	@log=$$(mktemp); $(TOOLS_ENV) $(GO) -C test/browser test -count=1 -timeout 60m ./... >"$$log" 2>&1 & bpid=$$!; \
	$(TOOLS_ENV) $(GO) test -count=1 -timeout 45m ./...; rc=$$?; \
	wait $$bpid; brc=$$?; echo "== test/browser (exit $$brc)"; cat "$$log"; rm -f "$$log"; \
	[ $$rc -eq 0 ] && [ $$brc -eq 0 ]

test-browser: setup controlplane cassandra ## only the status page in headless Chromium during a rollout on real Cassandra nodes (its own module, test/browser)
	RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" RINGOPS_CASSANDRA_DIR="$$($(CASSANDRA_BUILD))" $(GO) -C test/browser test -count=1 -timeout 30m -v ./...

test-keyspaces: setup tools ## only the real-node scenario of keyspaces (a datacenter added and removed with its data; also in make test)
	$(TOOLS_ENV) $(GO) test -count=1 -timeout 60m -run 'TestRealDatacenters' -v ./test/e2e/realnodes

bench: setup tools ## run the benchmarks (figures go to bench.txt; compare runs with benchstat)
	$(TOOLS_ENV) $(GO) test -run=NONE -bench=. -benchmem -count=$${COUNT:-5} -timeout 60m $$($(GO) list ./... | grep -v /test/bench$$) | tee bench.txt

bench-daemon: setup tools ## the daemon holding CLUSTERS (default 100) clusters x 3 regions: about 7 minutes (figures in bench-daemon.txt)
	$(TOOLS_ENV) $(GO) test -run=NONE -bench=DaemonHolding -benchtime=1x -count=$${COUNT:-1} -timeout 60m ./test/bench -args -clusters $${CLUSTERS:-100} | tee bench-daemon.txt

bench-shards: setup tools ## 3 daemons with --shards 3 over CLUSTERS (default 100) clusters; one SIGKILLed mid-rollout, its shards taken over (figures in bench-shards.txt)
	$(TOOLS_ENV) $(GO) test -run=NONE -bench=DaemonShards -benchtime=1x -count=$${COUNT:-1} -timeout 60m ./test/bench -args -clusters $${CLUSTERS:-100} -replicas 3 -shards 3 | tee bench-shards.txt

fuzz: ## fuzz the spec parser, rendering with Components, then the CassKop import, FUZZTIME each (default 60s)
	$(GO) test -run=NONE -fuzz=FuzzParse -fuzztime=$${FUZZTIME:-60s} ./schemas
	$(GO) test -run=NONE -fuzz=FuzzRenderComponent -fuzztime=$${FUZZTIME:-60s} ./render
	$(GO) test -run=NONE -fuzz=FuzzImport -fuzztime=$${FUZZTIME:-60s} ./importer/casskop

lint: ## gofmt, go vet, staticcheck, govulncheck (when its database can be reached)
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@command -v staticcheck >/dev/null || $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	PATH="$$PATH:$$($(GO) env GOPATH)/bin" staticcheck ./...
	@scripts/vulncheck.sh

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

sandbox: setup controlplane cassandra ## start the local 3-region world in the background (CASSANDRA=real: real Cassandra nodes) and print its kubeconfig
	RINGOPS_CONTROLPLANE_DIR="$$($(CONTROLPLANE_BUILD))" RINGOPS_CASSANDRA_DIR="$$($(CASSANDRA_BUILD))" $(GO) run ./test/env/cmd/sandbox up $(if $(filter real,$(CASSANDRA)),-real)

sandbox-down: ## stop the local world started by `make sandbox`
	$(GO) run ./test/env/cmd/sandbox down

demo: setup controlplane gitea cassandra ## the main job: the GitOps loop (Gitea, ringops run, commit statuses) on a local 3-region world of real Cassandra nodes
	scripts/demo.sh

clean: ## remove build output
	rm -rf bin bench.txt
