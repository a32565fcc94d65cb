package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/tracing"
)

// An agent's decision is one trace: the HTTP request, the decision's
// Update, the workflow's handling of it, and the merge it starts, down to
// the merge's statements in the store. Spans name routes, never paths:
// no case id or token in a span's name.
func TestDecisionIsOneTrace(t *testing.T) {
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
	tracing.Install(tp)
	t.Cleanup(func() { tracing.Install(trace.NewNoopTracerProvider()); _ = tp.Shutdown(t.Context()) })

	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	chen, bobT := s.Login(chenEmail), s.Login("bob.agent@certdesk.example")
	opened := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
	r := s.Do("POST", "/api/v1/cases/"+opened.ID+"/decision", bobT, map[string]string{"decision": "approve"})
	if r.Code != http.StatusOK {
		t.Fatalf("decision: %d %s", r.Code, r.Body)
	}
	requestID := r.Header.Get("X-Request-ID")
	s.AwaitStatus(opened.ID, certdesk.StatusCompleted)

	var root sdktrace.ReadOnlySpan
	deadline := time.Now().Add(10 * time.Second)
	var trail []string
	for {
		all := spans.GetSpans().Snapshots()
		for _, sp := range all {
			if sp.Name() == "POST /api/v1/cases/:id/decision" && sp.SpanKind() == trace.SpanKindServer {
				root = sp
			}
		}
		trail = trail[:0]
		if root != nil {
			for _, sp := range all {
				if sp.SpanContext().TraceID() == root.SpanContext().TraceID() {
					trail = append(trail, sp.Name())
				}
			}
		}
		if slices.Contains(trail, "RunActivity:MergeProfiles") && slices.ContainsFunc(trail, func(n string) bool { return strings.HasPrefix(n, "db.") }) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if root == nil {
		t.Fatal("no server span for the decision")
	}
	for _, want := range []string{"UpdateWorkflow:decide", "HandleUpdate:decide", "StartActivity:ChangeCase", "RunActivity:MergeProfiles", "db.update cases"} {
		if !slices.Contains(trail, want) {
			t.Errorf("the decision's trace has no %q span; it has:\n%s", want, strings.Join(trail, "\n"))
		}
	}
	var attrs []string
	for _, kv := range root.Attributes() {
		attrs = append(attrs, string(kv.Key)+"="+kv.Value.Emit())
	}
	if !slices.Contains(attrs, "http.route=/api/v1/cases/:id/decision") || !slices.Contains(attrs, "certdesk.request_id="+requestID) || !slices.Contains(attrs, "http.response.status_code=200") {
		t.Errorf("the server span's attributes: %v (request id %s)", attrs, requestID)
	}
	for _, sp := range spans.GetSpans().Snapshots() {
		if strings.Contains(sp.Name(), opened.ID) || strings.Contains(sp.Name(), "@") {
			t.Errorf("a span named with an id or an address: %q", sp.Name())
		}
	}
}
