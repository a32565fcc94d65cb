package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"
	sdklog "go.temporal.io/sdk/log"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/worker"
)

// runDeploy rolls out a new build of the worker with Temporal Worker
// Versioning (CERTDESK_WORKER_VERSIONING=true on the workers):
//
//	certdesk deploy status
//	certdesk deploy set-current --build-id B | --unversioned
//	certdesk deploy ramp --build-id B --percent P | --stop
//
// It is the Temporal CLI's `temporal worker deployment …` for certdesk's
// own deployment, from the image (which has no shell and no CLI), with the
// workers' own configuration (TEMPORAL_*, CERTDESK_WORKER_DEPLOYMENT).
func runDeploy(ctx context.Context, args []string, stdout io.Writer) error {
	sub, cmd, f, args, err := subcommand("deploy", []string{"status", "set-current", "ramp"}, args, stdout, deployCommand)
	if err != nil {
		return err
	}
	if err := cmd.parse(args); err != nil {
		return err
	}
	switch {
	case sub == "set-current" && (f.buildID == "") == !f.unversioned:
		return usagef("deploy set-current: say --build-id B (the build to promote) or --unversioned")
	case sub == "ramp" && f.stop && (f.buildID != "" || f.percent != 0):
		return usagef("deploy ramp: --stop takes neither --build-id nor --percent")
	case sub == "ramp" && !f.stop && f.buildID == "":
		return usagef("deploy ramp: say --build-id B --percent P, or --stop")
	case sub == "ramp" && !f.stop && (f.percent <= 0 || f.percent > 100):
		return usagef("deploy ramp: --percent %v: give a share of new cases above 0 and at most 100", f.percent)
	}
	cfg, err := config.Load(config.ModeProduction, nil)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	deployment := cfg.WorkerDeployment
	if f.deployment != "" {
		deployment = f.deployment
	}
	opts, err := cfg.Temporal.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return fmt.Errorf("temporal client config: %w", err)
	}
	opts.Logger = sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("deploy: Temporal at %s: %w", opts.HostPort, err)
	}
	defer tc.Close()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var info client.WorkerDeploymentInfo
	switch sub {
	case "status":
		info, err = worker.DescribeDeployment(ctx, tc, deployment)
	case "set-current":
		info, err = worker.SetCurrent(ctx, tc, deployment, f.buildID)
	case "ramp":
		info, err = worker.Ramp(ctx, tc, deployment, f.buildID, float32(f.percent))
	}
	if err != nil {
		return err
	}
	return printDeployment(stdout, info)
}

type deployFlags struct {
	deployment, buildID string
	unversioned, stop   bool
	percent             float64
}

func deployCommand(sub string, stdout io.Writer) (*command, *deployFlags) {
	var cmd *command
	f := &deployFlags{}
	switch sub {
	case "status":
		cmd = newCommand("deploy status", "deploy status [--deployment NAME]",
			"Prints the workers' deployment: which build takes new cases, which one ramps, and each build's drainage "+
				"(a draining build still runs pinned workflows; a drained one may be stopped).", stdout)
	case "set-current":
		cmd = newCommand("deploy set-current", "deploy set-current --build-id B | --unversioned [--deployment NAME]",
			"Makes a build current: new cases start on it and open AutoUpgrade cases move to it at their next step; "+
				"pinned workflows finish on the build they started on. Its workers must be running (they are, once the "+
				"deployment lists the build). --unversioned sends everything to workers without versioning again. Prints the deployment.", stdout)
		cmd.StringVar(&f.buildID, "build-id", "", "the build to make current (CERTDESK_WORKER_BUILD_ID of its workers)")
		cmd.BoolVar(&f.unversioned, "unversioned", false, "make workers without versioning current (turning versioning off)")
	case "ramp":
		cmd = newCommand("deploy ramp", "deploy ramp --build-id B --percent P | --stop [--deployment NAME]",
			"Sends a share of new cases, and of the open AutoUpgrade cases' next steps, to a build that is not current yet; "+
				"set-current finishes the rollout, --stop ends the ramp. Prints the deployment.", stdout)
		cmd.StringVar(&f.buildID, "build-id", "", "the build to ramp")
		cmd.Float64Var(&f.percent, "percent", 0, "the share of new cases it gets, above 0 and at most 100")
		cmd.BoolVar(&f.stop, "stop", false, "end the ramp: everything goes to the current build")
	default:
		return nil, nil
	}
	cmd.StringVar(&f.deployment, "deployment", "", "the Worker Deployment (default CERTDESK_WORKER_DEPLOYMENT, else the task queue)")
	return cmd, f
}

// printDeployment prints a deployment's routing and its builds, newest
// first, as the server lists them.
func printDeployment(stdout io.Writer, info client.WorkerDeploymentInfo) error {
	rc := info.RoutingConfig
	current := "workers without versioning"
	if rc.CurrentVersion != nil {
		current = "build " + rc.CurrentVersion.BuildID
	}
	fmt.Fprintf(stdout, "deployment %s: new cases start on %s", info.Name, current)
	if rc.RampingVersion != nil && rc.RampingVersionPercentage > 0 {
		fmt.Fprintf(stdout, ", %v%% on build %s (ramping)", rc.RampingVersionPercentage, rc.RampingVersion.BuildID)
	}
	fmt.Fprintln(stdout)
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "BUILD ID\tROUTING\tDRAINAGE\tCREATED")
	for _, v := range info.VersionSummaries {
		routing := "-"
		switch {
		case rc.CurrentVersion != nil && *rc.CurrentVersion == v.Version:
			routing = "current"
		case rc.RampingVersion != nil && *rc.RampingVersion == v.Version:
			routing = fmt.Sprintf("ramping %v%%", rc.RampingVersionPercentage)
		}
		created := v.CreateTime
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", v.Version.BuildID, routing, drainageName(v.DrainageStatus), stampTime(&created))
	}
	return w.Flush()
}

func drainageName(s client.WorkerDeploymentVersionDrainageStatus) string {
	switch s {
	case client.WorkerDeploymentVersionDrainageStatusDraining:
		return "draining: pinned workflows still run on it"
	case client.WorkerDeploymentVersionDrainageStatusDrained:
		return "drained: its workers may stop"
	}
	return "-"
}
