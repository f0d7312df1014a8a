# Two commands on a fresh machine with Go: `make run` and `make test`.
GO ?= go
PYTHON ?= /usr/bin/python3

# ADDR is where make run serves the guide: make run ADDR=127.0.0.1:9000
ADDR ?= 127.0.0.1:8080
BIN ?= bin/s3grant

.PHONY: run build test deps vet gotest pytest bench

## run: the main job on the embedded isahit Lab default: build the guide and serve it at ADDR
run: build
	./$(BIN) docs serve --addr $(ADDR)

## build: the s3grant binary, in bin/
build:
	@echo "building $(BIN) with $$($(GO) env GOVERSION): the first build takes a few minutes (goformation and the AWS SDK are large), later ones seconds..."
	$(GO) build -o $(BIN) ./cmd/s3grant
	@echo "built $(BIN)"

## test: every test (Go, the CORS Lambda's Python tests, the browser tests)
test: deps vet gotest pytest

## deps: what the tests need beyond Go (Debian and npm packages), installed when missing
deps:
	./scripts/deps.sh

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed on:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

gotest:
	$(GO) test ./...

pytest:
	cd stacks/lambda && $(PYTHON) -m unittest -v 2>&1

## bench: the benchmarks (performance is measured here, never asserted in tests)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
