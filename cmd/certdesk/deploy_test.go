package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/worker"
)

// `certdesk deploy` on the embedded server with two builds of versioned
// workers: status lists the builds as they poll; set-current promotes one
// (an unknown build is refused, naming the known ones); ramp sends a share
// to the next and --stop ends it; after the next is current, the first
// shows drained (nothing is pinned to it). Mistakes are usage errors.
func TestDeployCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	srv := stacktest.Temporal(t)
	queue := "deploy-" + strings.ToLower(certdesk.NewID())
	t.Setenv("TEMPORAL_ADDRESS", srv.HostPort())
	t.Setenv("TEMPORAL_NAMESPACE", devserver.Namespace)
	t.Setenv("CERTDESK_TASK_QUEUE", queue)
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close) // after the workers stop (cleanups run last-in first-out)
	startBuild := func(buildID string) {
		cfg, err := config.Load(config.ModeDev, config.MapEnv{"CERTDESK_TASK_QUEUE": queue, "CERTDESK_WORKER_VERSIONING": "true", "CERTDESK_WORKER_BUILD_ID": buildID})
		if err != nil {
			t.Fatal(err)
		}
		w := worker.New(c, cfg, &activities.Activities{})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	deploy := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"deploy"}, args...), &out)
		return out.String(), err
	}
	// row matches a build's line of the table.
	row := func(out, buildID, rest string) bool {
		return regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(buildID) + `\s+` + rest).MatchString(out)
	}
	eventually := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(15 * time.Second); !ok(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}

	if _, err := deploy("status"); err == nil || exitStatus(err) != 1 || !strings.Contains(err.Error(), "knows no deployment") {
		t.Errorf("status before any worker polled: %v, want exit 1 saying there is no such deployment", err)
	}
	startBuild("v1")
	var out string
	eventually("v1 in the deployment", func() bool { out, err = deploy("status"); return err == nil && row(out, "v1", `-\s+-`) })
	if !strings.Contains(out, "deployment "+queue+": new cases start on workers without versioning") {
		t.Errorf("status of a new deployment:\n%s", out)
	}

	if _, err := deploy("set-current", "--build-id", "v3"); exitStatus(err) != 1 || !strings.Contains(err.Error(), `no build "v3"`) || !strings.Contains(err.Error(), "v1") {
		t.Errorf("set-current of a build without workers: %v, want exit 1 naming v1", err)
	}
	if out, err = deploy("set-current", "--build-id", "v1"); err != nil || !strings.Contains(out, "new cases start on build v1") || !row(out, "v1", "current") {
		t.Fatalf("set-current v1: %v\n%s", err, out)
	}

	startBuild("v2")
	eventually("v2 in the deployment", func() bool { out, err = deploy("status"); return err == nil && row(out, "v2", "-") })
	if out, err = deploy("ramp", "--build-id", "v2", "--percent", "25"); err != nil || !strings.Contains(out, "25% on build v2 (ramping)") || !row(out, "v2", `ramping 25%`) || !row(out, "v1", "current") {
		t.Fatalf("ramp v2 25%%: %v\n%s", err, out)
	}
	if out, err = deploy("ramp", "--stop"); err != nil || strings.Contains(out, "ramping") {
		t.Fatalf("ramp --stop: %v\n%s", err, out)
	}
	if out, err = deploy("set-current", "--build-id", "v2"); err != nil || !row(out, "v2", "current") || !row(out, "v1", `-\s+draining`) {
		t.Fatalf("set-current v2: %v\n%s", err, out)
	}
	eventually("v1 drained", func() bool {
		out, err = deploy("status")
		return err == nil && row(out, "v1", `-\s+drained: its workers may stop`)
	})
	t.Logf("certdesk deploy status:\n%s", out)
	// Back to workers without versioning (turning versioning off).
	if out, err = deploy("set-current", "--unversioned"); err != nil || !strings.Contains(out, "new cases start on workers without versioning") || row(out, "v2", "current") {
		t.Fatalf("set-current --unversioned: %v\n%s", err, out)
	}

	for _, args := range [][]string{
		{},
		{"frobnicate"},
		{"set-current"},
		{"set-current", "--build-id", "v2", "--unversioned"},
		{"ramp", "--percent", "10"},
		{"ramp", "--build-id", "v2", "--percent", "150"},
		{"ramp", "--build-id", "v2"},
		{"ramp", "--stop", "--percent", "5"},
		{"status", "extra"},
	} {
		if _, err := deploy(args...); exitStatus(err) != 2 {
			t.Errorf("deploy %s: exit status %d (%v), want 2", strings.Join(args, " "), exitStatus(err), err)
		}
	}
	for sub, flags := range map[string][]string{"status": {"-deployment"}, "set-current": {"-build-id", "-unversioned"}, "ramp": {"-build-id", "-percent", "-stop"}} {
		out, err := deploy(sub, "--help")
		for _, f := range flags {
			if err != nil || !strings.Contains(out, f) || !strings.Contains(out, "certdesk deploy "+sub) {
				t.Errorf("deploy %s --help: %v, does not mention %s:\n%s", sub, err, f, out)
			}
		}
	}
}
