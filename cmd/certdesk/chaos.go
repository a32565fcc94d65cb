package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/certdesk/certdesk/chaos"
)

// runChaos drives cases through worker kills, database drops and SendGrid
// errors, then checks what they left (package chaos):
//
//	certdesk chaos [--cases 300] [--kill-every 4s] [--db-drops 6] [--out chaos.json] [--keep]
//
// It needs PostgreSQL (CERTDESK_TEST_POSTGRES_URL, or the local one) and
// runs this very binary's `worker` as the child processes it kills.
func runChaos(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newCommand("chaos", "chaos [--cases N] [--kill-every D] [--db-drops N] [--out FILE] [--keep]",
		"Drives scripted cases through worker kills, database drops and SendGrid errors, then checks what they left. It needs PostgreSQL.", stdout)
	var o chaos.Options
	fs.IntVar(&o.Cases, "cases", 300, "scripted cases (connect cases with duplicates add a merge case each)")
	fs.DurationVar(&o.KillEvery, "kill-every", 4*time.Second, "mean time between two SIGKILLs of the worker (negative: never)")
	fs.IntVar(&o.DBDrops, "db-drops", 6, "how many times the database's connections are dropped")
	fs.DurationVar(&o.DropEvery, "drop-every", 20*time.Second, "mean time between two drops")
	fs.DurationVar(&o.CoolingOff, "cooling-off", 40*time.Second, "the recoveries' cooling-off")
	fs.DurationVar(&o.ArriveEvery, "arrive-every", 500*time.Millisecond, "time between two scripts' starts")
	fs.IntVar(&o.Concurrency, "concurrency", 100, "most scripts running at once")
	fs.Int64Var(&o.Seed, "seed", 0, "seed of the plan and the provider's faults (0: from the clock)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.StringVar(&o.PostgresURL, "postgres", "", "PostgreSQL admin URL where the run's database is created (default: CERTDESK_TEST_POSTGRES_URL or the local one)")
	fs.StringVar(&o.Dir, "dir", "", "where the workers' and Temporal's logs go (default: a temporary directory)")
	fs.BoolVar(&o.Keep, "keep", false, "keep the database and the logs")
	out := fs.String("out", "", "write the report as JSON to this file")
	if err := fs.parse(args); err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return fmt.Errorf("chaos: the certdesk binary: %w", err)
	}
	o.Binary, o.Progress = bin, stdout
	if o.Dir == "" {
		if o.Dir, err = os.MkdirTemp("", "certdesk-chaos-"); err != nil {
			return err
		}
		if !o.Keep {
			defer os.RemoveAll(o.Dir)
		}
	}
	// The API runs in this process: its log goes beside the workers'.
	apiLog, err := os.Create(filepath.Join(o.Dir, "api.log"))
	if err != nil {
		return err
	}
	defer apiLog.Close()
	slog.SetDefault(slog.New(slog.NewJSONHandler(apiLog, &slog.HandlerOptions{Level: slog.LevelWarn})))

	fmt.Fprintf(stdout, "certdesk chaos: %d cases; worker killed every ~%v; %d database drops; SendGrid answering 429, 500 and slowly\n",
		o.Cases, o.KillEvery, o.DBDrops)
	rep, err := chaos.Run(ctx, o)
	if rep != nil {
		fmt.Fprint(stdout, "\n"+rep.Summary())
		if *out != "" {
			b, jerr := json.MarshalIndent(rep, "", "  ")
			if jerr == nil {
				jerr = os.WriteFile(*out, append(b, '\n'), 0o644)
			}
			if jerr != nil {
				return errors.Join(err, jerr)
			}
			fmt.Fprintln(stdout, "report written to", *out)
		}
	}
	if err != nil {
		return err
	}
	if !rep.OK() {
		return errors.New("chaos: the run found problems (see above)")
	}
	return nil
}
