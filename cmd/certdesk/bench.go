package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/certdesk/certdesk/bench"
)

// runBench measures certdesk against the engine beneath it (package bench):
//
//	certdesk bench --scenario throughput|decision|link|list|memory
//	    [--duration 20s] [--concurrency 10] [--cases N] [--rate 10] [--out FILE] [--cpuprofile FILE]
//	    [--target URL --token PAT [--target-database URL]]   (list only)
//
// Without --target it builds its own stack: a PostgreSQL database of its
// own (CERTDESK_TEST_POSTGRES_URL, or the local one), the embedded Temporal
// server, the API and the worker in this process.
func runBench(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newCommand("bench", "bench --scenario NAME [--duration D] [--concurrency N] [--cases N] [--rate R] [--out FILE] [--cpuprofile FILE]",
		"Measures certdesk against the engine beneath it, on a stack of its own or (list) against --target (see docs/benchmarks.md).", stdout)
	var o bench.Options
	fs.StringVar(&o.Scenario, "scenario", "", "what to measure: "+strings.Join(bench.Scenarios(), ", "))
	fs.DurationVar(&o.Duration, "duration", 0, "how long to measure (default: the scenario's)")
	fs.IntVar(&o.Concurrency, "concurrency", 0, "requests or cases at once (default: the scenario's)")
	fs.IntVar(&o.Cases, "cases", 0, "cases to prepare: waiting (decision, link, memory) or in the table (list)")
	fs.IntVar(&o.Rate, "rate", 0, "list, decision, link: requests per second (default 50 for list, 10 for the others; negative: decision and link back to back at --concurrency)")
	fs.StringVar(&o.PostgresURL, "postgres", "", "PostgreSQL admin URL where the run's database is created")
	fs.StringVar(&o.Target, "target", "", "list: the URL of a running certdesk instead of the embedded stack")
	fs.StringVar(&o.Token, "token", "", "list with --target: an agent's access token there")
	fs.StringVar(&o.TargetDatabase, "target-database", "", "list with --target: its database URL, for the deep page and the direct query")
	out := fs.String("out", "", "write the results as JSON to this file")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server, API, worker) to this file")
	if err := fs.parse(args); err != nil {
		return err
	}
	if o.Scenario == "" {
		return usagef("bench: --scenario is required: one of %s", strings.Join(bench.Scenarios(), ", "))
	}
	o.Progress = stdout
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	began := time.Now()
	rep, err := bench.Run(ctx, o)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\ncertdesk bench %s (%.0f s, %d cores, %s)\n\n", o.Scenario, time.Since(began).Seconds(), rep.Machine.Cores, rep.Machine.CPU)
	rep.WriteTable(stdout)
	if *out != "" {
		if err := rep.WriteJSON(*out); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "\nresults written to", *out)
	}
	return nil
}
