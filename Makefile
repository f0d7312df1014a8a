# Two commands on a fresh machine with Go: `make run` and `make test`.
GO ?= go
PYTHON ?= /usr/bin/python3

.PHONY: run test deps vet gotest pytest bench

## run: the main job on the embedded isahit Lab default: build the guide and serve it
run:
	$(GO) run ./cmd/s3grant docs serve

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
