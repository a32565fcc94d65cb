# Shortcuts; each target is one plain command you can also type.
.PHONY: dev test test-short build vet chaos

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

vet:
	go vet ./...
	gofmt -l .
