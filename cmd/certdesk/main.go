// Command certdesk runs the certification support desk: `certdesk dev` for
// everything in one process, or `api` and `worker` in production.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "certdesk:", err)
	}
	os.Exit(exitStatus(err))
}

const usage = `certdesk runs the certification support desk.

Usage:
  certdesk dev [--data-dir DIR] [--http ADDR] [--temporal-port N] [--ui-port N]
                     everything in one process: embedded Temporal, SQLite,
                     worker, HTTP, captured mail and the demo world
  certdesk api       the HTTP server (production)
  certdesk worker    the Temporal worker (production)
  certdesk migrate   apply database migrations
  certdesk seed      load the demo world (idempotent)
  certdesk health [--timeout D] URL
                     exit 0 when URL answers 2xx (a container's health check)
  certdesk token create --agent EMAIL [--name N] [--ttl 90d] | list | revoke ID
                     agents' personal access tokens (Authorization: Bearer cdp_…)
  certdesk token create --integration NAME --scopes S[,S…] [--ttl 90d]
                     a system of record's token for /api/v1/integration (cdi_…)
  certdesk staff add --email E --role agent|supervisor [--name N] | list
  certdesk staff set-role --email E --role R | disable --email E | enable --email E
                     agents and supervisors by hand (besides the provider's app roles)
  certdesk webhooks add --url U --events PATTERN[,…] | list | rotate-secret ID
  certdesk webhooks disable ID | enable ID | replay ID --since RFC3339 [--event-type T]
                     subscribers of the domain events (Standard Webhooks)
  certdesk privacy export --email E [--out FILE]
                     a person's copy of everything certdesk holds about them (JSON)
  certdesk import profiles|accounts [--dry-run] [--report FILE] FILE
                     load records from a system of record, NDJSON or CSV
                     (see docs/import.md)
  certdesk keys new [--id ID]
                     a new payload key for CERTDESK_PAYLOAD_KEYS
  certdesk bench --scenario NAME [--duration D] [--concurrency N] [--out FILE]
                     measure certdesk (see docs/benchmarks.md)
  certdesk chaos [--cases N]
                     drive cases through crashes, outages and provider errors
  certdesk temporal setup [--retention D]
                     create the Temporal namespace if missing and register
                     certdesk's search attributes (idempotent)
  certdesk deploy status | set-current --build-id B | ramp --build-id B --percent P
                     roll out a build of the worker (CERTDESK_WORKER_VERSIONING)
  certdesk version   print the version
  certdesk COMMAND --help
                     a command's usage and flags

Configuration comes from the environment; see the README.
`

// run runs a command. Its --help is a success: the usage went to stdout.
func run(ctx context.Context, args []string, stdout io.Writer) error {
	err := dispatch(ctx, args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	return err
}

func dispatch(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stdout, usage)
		return usagef("name a command")
	}
	cmd, rest := args[0], args[1:]
	if cmd == "temporal" && len(rest) > 0 && rest[0] == "serve" { // hidden: a bench's Temporal server (temporal_serve.go)
		return runTemporalServe(ctx, rest[1:], stdout)
	}
	switch cmd {
	case "dev":
		return runDev(ctx, rest, stdout)
	case "api":
		return runAPI(ctx, rest, stdout)
	case "worker":
		return runWorker(ctx, rest, stdout)
	case "migrate":
		return runMigrate(ctx, rest, stdout)
	case "seed":
		return runSeed(ctx, rest, stdout)
	case "health":
		return runHealth(ctx, rest, stdout)
	case "token":
		return runToken(ctx, rest, stdout)
	case "staff":
		return runStaff(ctx, rest, stdout)
	case "import":
		return runImport(ctx, rest, stdout)
	case "webhooks":
		return runWebhooks(ctx, rest, stdout)
	case "privacy":
		return runPrivacy(ctx, rest, stdout)
	case "keys":
		return runKeys(ctx, rest, stdout)
	case "bench":
		return runBench(ctx, rest, stdout)
	case "chaos":
		return runChaos(ctx, rest, stdout)
	case "temporal":
		return runTemporal(ctx, rest, stdout)
	case "deploy":
		return runDeploy(ctx, rest, stdout)
	case "version", "--version", "-v":
		if err := newCommand("version", "version", "Prints the version of certdesk and of the Temporal SDK and server it was built with.", stdout).parse(rest); err != nil {
			return err
		}
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "--help", "-help", "-h":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stdout, usage)
	return usagef("unknown command %q", cmd)
}
