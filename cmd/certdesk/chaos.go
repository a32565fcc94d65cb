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
	"github.com/certdesk/certdesk/config"
)

// runChaos drives cases through worker kills and rolling restarts,
// restarts of the Temporal server and of PostgreSQL, database drops and
// SendGrid errors, then checks what they left (package chaos):
//
//	certdesk chaos [--cases 300] [--kill-every 4s] [--term-every 15s] [--temporal-restarts 2] [--postgres-restarts 2] [--db-drops 6] [--out chaos.json] [--keep]
//
// It needs PostgreSQL: its own server, started from the PostgreSQL
// programs (--pg-bin, or found), so it can restart it; without them
// CERTDESK_TEST_POSTGRES_URL or the local one, whose connections it only
// cuts. It runs this very binary's `worker` as the child processes it
// kills.
func runChaos(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newCommand("chaos", "chaos [--cases N] [--kill-every D] [--term-every D] [--temporal-restarts N] [--postgres-restarts N] [--db-drops N] [--out FILE] [--keep]",
		"Drives scripted cases through worker kills and rolling restarts, Temporal and PostgreSQL restarts, database drops and SendGrid errors, then checks what they left. "+
			"It needs PostgreSQL: a server of its own when the PostgreSQL programs are here (so it can restart it), else --postgres, whose connections it only cuts.", stdout)
	var o chaos.Options
	fs.IntVar(&o.Cases, "cases", 300, "scripted cases (connect cases with duplicates add a merge case each)")
	fs.DurationVar(&o.KillEvery, "kill-every", 4*time.Second, "mean time between two SIGKILLs of the worker (negative: never)")
	fs.DurationVar(&o.TermEvery, "term-every", 15*time.Second, "mean time between two rolling restarts of the worker: a new one starts, the old one gets SIGTERM and finishes its activities (negative: never)")
	fs.DurationVar(&o.StopTimeout, "stop-timeout", config.DefaultWorkerStopTimeout, "the workers' CERTDESK_WORKER_STOP_TIMEOUT; a worker not gone by then after SIGTERM is a violation")
	fs.IntVar(&o.TemporalRestarts, "temporal-restarts", 2, "how many times the Temporal server stops and starts again on the same data and port")
	fs.IntVar(&o.PostgresRestarts, "postgres-restarts", 2, "how many times the run's own PostgreSQL is restarted (pg_ctl restart -m fast); 0: the shared --postgres server, never restarted")
	fs.DurationVar(&o.RestartEvery, "restart-every", time.Minute, "mean time between two restarts of one server")
	fs.StringVar(&o.PostgresBin, "pg-bin", "", "the folder of initdb and pg_ctl (default: from PATH or the newest /usr/lib/postgresql/*/bin)")
	fs.IntVar(&o.DBDrops, "db-drops", 6, "how many times the database's connections are dropped")
	fs.DurationVar(&o.DropEvery, "drop-every", 20*time.Second, "mean time between two drops")
	fs.DurationVar(&o.CoolingOff, "cooling-off", 40*time.Second, "the recoveries' cooling-off")
	fs.DurationVar(&o.ArriveEvery, "arrive-every", 500*time.Millisecond, "time between two scripts' starts")
	fs.IntVar(&o.Concurrency, "concurrency", 100, "most scripts running at once")
	fs.Int64Var(&o.Seed, "seed", 0, "seed of the plan and the provider's faults (0: from the clock)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "give up after this long")
	fs.StringVar(&o.PostgresURL, "postgres", "", "PostgreSQL admin URL where the run's database is created when it runs no server of its own (default: CERTDESK_TEST_POSTGRES_URL or the local one)")
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
	} else if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fmt.Errorf("chaos: --dir: %w", err)
	}
	// The API runs in this process: its log goes beside the workers'.
	apiLog, err := os.Create(filepath.Join(o.Dir, "api.log"))
	if err != nil {
		return err
	}
	defer apiLog.Close()
	slog.SetDefault(slog.New(slog.NewJSONHandler(apiLog, &slog.HandlerOptions{Level: slog.LevelWarn})))

	fmt.Fprintf(stdout, "certdesk chaos: %d cases; worker killed every ~%v and replaced with SIGTERM every ~%v; %d Temporal and %d PostgreSQL restarts; %d database drops; SendGrid answering 429, 500 and slowly\n",
		o.Cases, o.KillEvery, o.TermEvery, o.TemporalRestarts, o.PostgresRestarts, o.DBDrops)
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
