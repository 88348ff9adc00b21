# gqlauth: the single entry point. `make demo` and `make test` set up what
# they need on a fresh Debian machine (apt browsers, npm packages, Go tools).

SHELL        := /bin/bash
GO           ?= go
GOROOT       := $(shell $(GO) env GOROOT)
DIST         := build/dist
BIN          := build/bin
WASM_FLAGS   := -trimpath -ldflags='-s -w'
BROWSERS     ?= chromium firefox
DEMO_ADDR    ?= 127.0.0.1:8080
FUZZTIME     ?= 3s
# wasmbrowsertest copies the environment into the page, and wasm_exec.js
# refuses to start past 8 KiB of it: run Go-in-the-browser tests with a
# trimmed one.
WASM_TEST_ENV := env -i PATH="$(PATH)" HOME="$(HOME)" GOCACHE="$(shell $(GO) env GOCACHE)" \
                 GOMODCACHE="$(shell $(GO) env GOMODCACHE)" GOPROXY="$(shell $(GO) env GOPROXY)" \
                 GOFLAGS="$(shell $(GO) env GOFLAGS)" GOOS=js GOARCH=wasm

.PHONY: all build server wasm testbuild dist demo bench test test-consumer deps-brotli apt-install test-go test-fuzz test-wasm test-e2e lint fuzz deps deps-apt deps-npm clean

all: build

## build: the module, wasm_exec.js, the JS entry, its worker and types in build/dist (with
## brotli and gzip copies, which gqlauth-server serves); the server in build/bin
build: wasm server deps-brotli
	cp web/gqlauth.js web/gqlauth.worker.js web/protocol.js web/gqlauth.d.ts $(DIST)/
	brotli -q 11 -f -k $(DIST)/gqlauth.wasm $(DIST)/gqlauth.js $(DIST)/gqlauth.worker.js $(DIST)/protocol.js $(DIST)/wasm_exec.js
	gzip -9 -f -k $(DIST)/gqlauth.wasm $(DIST)/gqlauth.js $(DIST)/gqlauth.worker.js $(DIST)/protocol.js $(DIST)/wasm_exec.js

wasm:
	@mkdir -p $(DIST)
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o $(DIST)/gqlauth.wasm ./wasm
	cp "$(GOROOT)/lib/wasm/wasm_exec.js" $(DIST)/wasm_exec.js

# The module with test hooks (__gqlauthTest: bridge counts, forced panics),
# and a stand-in module that is not gqlauth's, for the browser suites only.
# Never shipped.
testbuild:
	@mkdir -p build/testdist
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -tags gqlauth_testhooks -o build/testdist/gqlauth-testhooks.wasm ./wasm
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o build/testdist/standin.wasm ./web/test/fixtures/standin

server:
	@mkdir -p $(BIN)
	$(GO) build -o $(BIN)/gqlauth-server ./web/server

## dist: the npm package in build/package/gqlauth and build/package/gqlauth-<version>.tgz
dist: build
	GO=$(GO) node build/npm/pack.mjs

## demo: build, then serve the demo app, the module and the API on loopback
demo: build
	@echo "gqlauth demo: open http://$(DEMO_ADDR)/ and log in as demo / demo-password"
	$(BIN)/gqlauth-server -addr $(DEMO_ADDR) -static $(DIST),web/demo

## bench: size, readiness, throughput and memory against plain JS in Chromium
## and Firefox (build/bench/results.json), then the Go hot-path benchmarks,
## natively and in WebAssembly in Chromium
bench: build deps-apt deps-npm $(BIN)/wasmbrowsertest
	@mkdir -p build/bench/www
	GOOS=js GOARCH=wasm $(GO) build $(WASM_FLAGS) -o build/bench/www/floor.wasm ./web/test/bench/floor
	node web/test/bench/run.mjs
	$(GO) test -run='^$$' -bench=. -benchmem ./wasm/graphql ./wasm/session ./wasm/client ./wasm/internal/jsonscan
	$(WASM_TEST_ENV) $(GO) test -run='^$$' -bench=. -benchtime=200x -exec="$(CURDIR)/$(BIN)/wasmbrowsertest" ./wasm/graphql ./wasm/client ./wasm/internal/jsonscan

## test: everything, installing what is missing first
test: deps lint test-go test-fuzz test-wasm test-e2e test-consumer

test-go:
	$(GO) test -race -count=1 ./...

# Each fuzz target briefly, on top of its committed seed corpus.
test-fuzz:
	@set -e; for spec in \
	  ./wasm/session:FuzzParseHeader \
	  ./wasm/session:FuzzClaims \
	  ./wasm/session:FuzzAgreesWithGolangJWT \
	  ./wasm/graphql:FuzzEncode \
	  ./wasm/graphql:FuzzAppendStringAgreesWithEncodingJSON \
	  ./wasm/graphql:FuzzJudgeAgreesWithEncodingJSON \
	  ./wasm/seam:FuzzRecordsNeverPanic \
	  ./wasm/internal/jsonscan:FuzzObjectAgreesWithEncodingJSON \
	  ./wasm/internal/jsonscan:FuzzStreamAgreesWithObject \
	  ./wasm/internal/jsonscan:FuzzValueAgreesWithEncodingJSON \
	  ./wasm/client:FuzzEndpointAgreesWithNetURL; do \
	  pkg=$${spec%%:*}; fn=$${spec##*:}; \
	  echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
	  $(GO) test $$pkg -run='^$$' -fuzz="^$$fn$$" -fuzztime=$(FUZZTIME); \
	done

## fuzz: the same targets for longer
fuzz:
	$(MAKE) test-fuzz FUZZTIME=2m

test-wasm: $(BIN)/wasmbrowsertest
	$(WASM_TEST_ENV) $(GO) test -count=1 -exec="$(CURDIR)/$(BIN)/wasmbrowsertest" ./wasm/...

test-e2e: build testbuild deps-npm
	@set -e; for b in $(BROWSERS); do \
	  echo "end-to-end suite in $$b"; \
	  (cd web/test && BROWSER=$$b node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs); \
	done

# The npm package as a consumer takes it: tsc --strict, Vite, Node, Web Workers.
test-consumer: dist deps-npm
	node --test --test-concurrency=1 --test-reporter=spec web/test/consumer/*.test.mjs

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	GOOS=js GOARCH=wasm $(GO) vet ./wasm/... ./jsbridge/...

$(BIN)/wasmbrowsertest: go.mod
	@mkdir -p $(BIN)
	GOOS= GOARCH= $(GO) build -o $@ github.com/agnivade/wasmbrowsertest

## deps: apt browsers and tools, npm packages for the browser suites
deps: deps-apt deps-npm

APT_NEEDS := /usr/bin/chromium:chromium /usr/bin/firefox-esr:firefox-esr /usr/bin/brotli:brotli
deps-apt:
	@$(MAKE) --no-print-directory apt-install NEEDS="$(APT_NEEDS)"

deps-brotli:
	@$(MAKE) --no-print-directory apt-install NEEDS="/usr/bin/brotli:brotli"

apt-install:
	@missing=""; for pair in $(NEEDS); do \
	  [ -x "$${pair%%:*}" ] || missing="$$missing $${pair##*:}"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

deps-npm: web/test/node_modules/.package-lock.json web/test/consumer/node_modules/.package-lock.json

web/test/node_modules/.package-lock.json: web/test/package-lock.json
	cd web/test && npm ci --no-audit --no-fund --loglevel=error

web/test/consumer/node_modules/.package-lock.json: web/test/consumer/package-lock.json
	cd web/test/consumer && npm ci --no-audit --no-fund --loglevel=error

clean:
	rm -rf build/dist build/testdist build/bin build/bench build/screenshots build/tmp build/package \
	  web/test/node_modules web/test/consumer/node_modules
