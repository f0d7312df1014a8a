# Two commands on a fresh machine with Go: `make run` and `make test`.
GO ?= go
PYTHON ?= /usr/bin/python3

.PHONY: run test deps vet gotest pytest bench

## run: the main job on the embedded isahit Lab default (the template for an example bucket)
run:
	$(GO) run ./cmd/s3grant template --bucket my-bucket --external-id a6fa9c7f-7f53-4a41-812d-a29f48288a94

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
