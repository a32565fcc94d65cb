package chaos_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/worker"
	"github.com/certdesk/certdesk/workflows"
)

// The chaos run found it: a worker killed after a workflow task's local
// activity wrote the projection, but before the task completed, leaves the
// projection with what the dead attempt chose. The retried task replays
// from history, where the attempt left nothing: a workflow.SideEffect
// chooses again, while the projection write with the same step is a no-op.
// Chen's connect case then names (merge_started, and its details while it
// waits) a merge case that never ran; the merge that runs has another id.
//
// This test makes the same thing happen at will: the workflow task dies
// (a panic, which fails it like a killed worker's timeout) right after the
// merge_started write, once. Skipped until workflows/connect.go writes
// merge_started once the child has started (the change is in the chaos
// report, behind workflow.GetVersion).
func TestConnectNamesTheMergeCaseThatRanAfterARetriedTask(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	srv := stacktest.Temporal(t)
	st := storetest.Seeded(t, "postgres")
	cd, err := codec.Parse(stacktest.PayloadKeys)
	if err != nil {
		t.Fatal(err)
	}
	tc, err := client.Dial(client.Options{HostPort: srv.HostPort(), DataConverter: cd.DataConverter(), FailureConverter: cd.FailureConverter(),
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	queue := "task-retry-" + certdesk.NewID()
	dies := &dieAfter{event: "merge_started"}
	w := sdkworker.New(tc, queue, sdkworker.Options{Interceptors: []interceptor.WorkerInterceptor{dies}})
	worker.Register(w, &activities.Activities{Store: st, Mailer: activities.CaptureMailer(st), Links: activities.Links{BaseURL: "http://127.0.0.1"}})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	lp, acct := store.DemoID("lp:chen"), store.DemoID("account:chen.wei@outlook.example")
	in := workflows.ConnectInput{CaseID: certdesk.NewID(), LearningProfileID: lp, AccountID: acct}
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.ConnectWorkflowID(lp) + "-" + in.CaseID, TaskQueue: queue}, workflows.Connect, in)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tc.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "end of test") }()

	// The merge case that runs: the one whose parent is the connect case.
	var ran certdesk.Case
	for ran.ID == "" {
		page, err := st.ListCases(ctx, store.CaseFilter{Kind: certdesk.KindMerge})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.Items {
			if c.ParentCaseID != nil && *c.ParentCaseID == in.CaseID {
				ran = c
			}
		}
		select {
		case <-ctx.Done():
			t.Fatal("no merge case ran")
		case <-time.After(50 * time.Millisecond):
		}
	}
	if !dies.died.Load() {
		t.Fatal("the workflow task did not die after merge_started: the test tests nothing")
	}
	evs, err := st.Events(ctx, in.CaseID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.Type != "merge_started" {
			continue
		}
		var data struct {
			MergeCaseID string `json:"merge_case_id"`
		}
		_ = json.Unmarshal(e.Data, &data)
		if data.MergeCaseID != ran.ID {
			t.Errorf("merge_started names merge case %s; the merge case that ran is %s", data.MergeCaseID, ran.ID)
		}
	}
	cs, err := st.Case(ctx, in.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	var d certdesk.ConnectDetails
	_ = json.Unmarshal(cs.Details, &d)
	if d.MergeCaseID != ran.ID {
		t.Errorf("while it waits, the connect case names merge case %s; the merge case that ran is %s", d.MergeCaseID, ran.ID)
	}
}

// dieAfter fails the workflow task once, right after the projection write
// of an event: as a worker killed at that moment would.
type dieAfter struct {
	interceptor.WorkerInterceptorBase
	event string
	died  atomic.Bool
}

func (d *dieAfter) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &dieInbound{d: d}
	i.Next = next
	return i
}

type dieInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	d *dieAfter
}

func (i *dieInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &dieOutbound{d: i.d}
	o.Next = outbound
	return i.Next.Init(o)
}

type dieOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	d *dieAfter
}

func (o *dieOutbound) ExecuteLocalActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	f := o.Next.ExecuteLocalActivity(ctx, activityType, args...)
	if in, ok := args[0].(activities.ChangeCaseInput); ok && string(in.Event) == o.d.event && !o.d.died.Load() {
		return &dyingFuture{Future: f, d: o.d}
	}
	return f
}

type dyingFuture struct {
	workflow.Future
	d *dieAfter
}

func (f *dyingFuture) Get(ctx workflow.Context, v any) error {
	err := f.Future.Get(ctx, v)
	if err == nil && f.d.died.CompareAndSwap(false, true) {
		panic("the worker dies here: the projection is written, the workflow task is not completed")
	}
	return err
}
