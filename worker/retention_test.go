package worker_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/worker"
)

// Dev mode sets the namespace's retention to CERTDESK_RETENTION (Temporal's
// own default is 24 h); production reports a difference and changes
// nothing.
func TestTheNamespaceKeepsClosedWorkflowsAsLongAsTheStoreKeepsCases(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	ctx := context.Background()
	tc, err := client.Dial(client.Options{HostPort: stacktest.Temporal(t).HostPort(), Namespace: devserver.Namespace})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	retention := func() time.Duration {
		ns, err := tc.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: devserver.Namespace})
		if err != nil {
			t.Fatal(err)
		}
		return ns.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()
	}
	before := retention()
	other := before + 48*time.Hour
	if got, err := worker.NamespaceRetention(ctx, tc, devserver.Namespace, other, false); err != nil || got != before || retention() != before {
		t.Fatalf("production's check changed the retention: %s %v", got, err)
	}
	if got, err := worker.NamespaceRetention(ctx, tc, devserver.Namespace, certdesk.DefaultRetention, true); err != nil || got != certdesk.DefaultRetention {
		t.Fatalf("dev's set: %s %v", got, err)
	}
	if got := retention(); got != certdesk.DefaultRetention {
		t.Fatalf("the namespace keeps closed workflows %s, want %s", got, certdesk.DefaultRetention)
	}
}
