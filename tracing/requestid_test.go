package tracing_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/tracing"
)

func echoRequestID(ctx context.Context) (string, error) {
	activity.GetLogger(ctx).Info("the activity ran")
	return tracing.RequestID(ctx), nil
}

func startsActivity(ctx workflow.Context) (string, error) {
	workflow.GetLogger(ctx).Info("the workflow ran")
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	var id string
	err := workflow.ExecuteActivity(ctx, echoRequestID).Get(ctx, &id)
	return id, err
}

// The request id a client call carries reaches the workflow's activities
// (through Temporal's headers) and the log lines of both.
func TestRequestIDReachesActivitiesAndLogs(t *testing.T) {
	for _, tc := range []struct{ name, id string }{{"carried", "3f9a0c1d2e4b5a6c"}, {"none", ""}} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			var s testsuite.WorkflowTestSuite
			s.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			s.SetContextPropagators([]workflow.ContextPropagator{tracing.RequestIDPropagator()})
			env := s.NewTestWorkflowEnvironment()
			env.SetWorkerOptions(worker.Options{Interceptors: tracing.WorkerInterceptors()})
			if tc.id != "" {
				p, _ := converter.GetDefaultDataConverter().ToPayload(tc.id)
				env.SetHeader(&commonpb.Header{Fields: map[string]*commonpb.Payload{"certdesk-request-id": p}})
			}
			env.RegisterActivity(echoRequestID)
			env.ExecuteWorkflow(startsActivity)
			var got string
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if got != tc.id {
				t.Errorf("the activity saw request id %q, want %q", got, tc.id)
			}
			for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
				if !strings.Contains(line, "ran") {
					continue
				}
				if has := strings.Contains(line, "request_id="); has != (tc.id != "") || (tc.id != "" && !strings.Contains(line, "request_id="+tc.id)) {
					t.Errorf("log line %q: want request_id=%q", line, tc.id)
				}
			}
			if !strings.Contains(logs.String(), "the activity ran") || !strings.Contains(logs.String(), "the workflow ran") {
				t.Errorf("the logs lack a line:\n%s", logs.String())
			}
		})
	}
}
