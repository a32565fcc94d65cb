# Shortcuts; each target is one plain command you can also type.
.PHONY: dev test test-short build vet chaos bench

dev:            ## run everything in one process, with the demo world
	go run ./cmd/certdesk dev

test:           ## the whole suite (needs PostgreSQL on 127.0.0.1:5432)
	go test ./...

test-short:     ## skip the tests that start Temporal servers
	go test -short ./...

build:
	CGO_ENABLED=0 go build -trimpath -o bin/certdesk ./cmd/certdesk

chaos: build    ## a few hundred cases through worker kills, database drops and SendGrid errors (needs PostgreSQL)
	bin/certdesk chaos --cases 300 --out bin/chaos.json

bench: build    ## every benchmark scenario at full size (about 15 minutes; needs PostgreSQL)
	for s in throughput decision link list memory; do bin/certdesk bench --scenario $$s --out bin/bench-$$s.json || exit 1; done

vet:
	go vet ./...
	gofmt -l .
