package devserver_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/devserver"
)

func waitForGo(ctx workflow.Context) (string, error) {
	var msg string
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, &msg)
	return "got " + msg, nil
}

func start(t *testing.T, file string) (*devserver.Server, client.Client, worker.Worker) {
	t.Helper()
	srv, err := devserver.Start(context.Background(), devserver.Options{DatabaseFile: file, LogFile: filepath.Join(filepath.Dir(file), "temporal.log")})
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(c, "restart-test", worker.Options{})
	w.RegisterWorkflow(waitForGo)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	return srv, c, w
}

// A workflow waiting for a signal when the server stops gets a signal sent
// after the restart, at once: the embedded server uses static hosts, so it
// does not wait for the old membership rows in the file to expire.
func TestRestartResumesWaitingWorkflow(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Temporal server twice")
	}
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "temporal.db")

	srv, c, w := start(t, file)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "waiting", TaskQueue: "restart-test"}, waitForGo)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool {
		d, err := c.DescribeWorkflowExecution(ctx, "waiting", run.GetRunID())
		return err == nil && d.GetWorkflowExecutionInfo().GetHistoryLength() >= 4 // started, task scheduled, started, completed: waiting
	})
	w.Stop()
	c.Close()
	if err := srv.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	srv, c, w = start(t, file)
	defer func() { w.Stop(); c.Close(); _ = srv.Stop() }()
	sent := time.Now()
	if err := c.SignalWorkflow(ctx, "waiting", "", "go", "after restart"); err != nil {
		t.Fatal(err)
	}
	var out string
	if err := c.GetWorkflow(ctx, "waiting", "").Get(ctx, &out); err != nil {
		t.Fatal(err)
	}
	took := time.Since(sent)
	if out != "got after restart" {
		t.Fatalf("result %q", out)
	}
	// Promptly, not after a poll's timeout (a minute): the bound leaves
	// room for a loaded machine; the figure is logged.
	if took > 10*time.Second {
		t.Fatalf("the signal took %v to complete the workflow after a restart; want well under a poll's timeout", took)
	}
	t.Logf("signal after restart → completed in %v", took)
	d, err := c.DescribeWorkflowExecution(ctx, "waiting", "")
	if err != nil || d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		t.Fatalf("describe after restart: %v %v", d, err)
	}
}

func waitUntil(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
