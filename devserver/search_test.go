package devserver_test

import (
	"context"
	"path/filepath"
	"testing"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.temporal.io/server/common/config"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"

	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/workflows"
)

// upserting sets CaseStatus as a case workflow does, then waits for "go".
func upserting(ctx workflow.Context) error {
	if err := workflow.UpsertTypedSearchAttributes(ctx, workflows.SearchCaseStatus.ValueSet("awaiting_agent"),
		workflows.SearchCaseEscalated.ValueSet(true)); err != nil {
		return err
	}
	workflow.GetSignalChannel(ctx, "go").Receive(ctx, nil)
	return nil
}

// A data dir whose namespace was made before certdesk had search
// attributes (no attributes on it) gets them when dev mode starts on it,
// usable at once: a workflow starts with them, upserts them and is found by
// a query on SQLite visibility. A second start changes nothing.
func TestStartRegistersSearchAttributesOnAnOlderDataDir(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Temporal server twice")
	}
	file := filepath.Join(t.TempDir(), "temporal.db")
	old := &config.SQL{PluginName: sqliteplugin.PluginName, DatabaseName: file,
		ConnectAttributes: map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "2"}}
	if err := sqliteschema.SetupSchema(old); err != nil {
		t.Fatal(err)
	}
	ns, err := sqliteschema.NewNamespaceConfig("active", devserver.Namespace, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := sqliteschema.CreateNamespaces(old, ns); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	for round := 1; round <= 2; round++ {
		srv, err := devserver.Start(ctx, devserver.Options{DatabaseFile: file, LogFile: filepath.Join(filepath.Dir(file), "temporal.log")})
		if err != nil {
			t.Fatalf("start %d: %v", round, err)
		}
		c, err := client.Dial(client.Options{HostPort: srv.HostPort(), Namespace: devserver.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		list, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: devserver.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		for name, typ := range workflows.SearchAttributes() {
			if got := list.GetCustomAttributes()[name]; got != typ {
				t.Errorf("start %d: search attribute %s is %v, want %v", round, name, got, typ)
			}
		}
		if round == 1 {
			w := worker.New(c, "search-test", worker.Options{})
			w.RegisterWorkflow(upserting)
			if err := w.Start(); err != nil {
				t.Fatal(err)
			}
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "merge-case-1", TaskQueue: "search-test",
				TypedSearchAttributes: workflows.StartSearchAttributes("case-1", "merge")}, upserting)
			if err != nil {
				t.Fatalf("a start naming the attributes: %v", err)
			}
			waitUntil(t, func() bool {
				resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
					Query: `CaseStatus="awaiting_agent" AND CaseKind="merge" AND CaseEscalated=true AND CaseId="case-1"`})
				return err == nil && len(resp.GetExecutions()) == 1 && resp.GetExecutions()[0].GetExecution().GetRunId() == run.GetRunID()
			})
			if err := c.SignalWorkflow(ctx, "merge-case-1", "", "go", nil); err != nil {
				t.Fatal(err)
			}
			if err := run.Get(ctx, nil); err != nil {
				t.Fatal(err)
			}
			w.Stop()
		}
		c.Close()
		if err := srv.Stop(); err != nil {
			t.Fatal(err)
		}
	}
}
