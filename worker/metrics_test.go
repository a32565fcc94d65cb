package worker_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/worker"
)

// scrape reads a handler's /metrics.
func scrape(t *testing.T, h http.Handler) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d %s", rec.Code, body)
	}
	return string(body)
}

// A worker on the embedded Temporal server runs cases; its /metrics then
// answers an operator: the SDK's task latencies and slots (named as the SDK
// documents them, on this worker's task queue), poll outcomes, the open cases by kind and
// status with the right count, the emails it sent; and no label holds an
// id, a name or an address.
func TestWorkerMetricsAfterCases(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{})
	// Ana connects at once; Ben waits for his personal account.
	var ana, ben struct{ ID string }
	for who, c := range map[string]*struct{ ID string }{"ana.silva@outlook.example": &ana, "ben.okafor@contoso.example": &ben} {
		r := s.Do("POST", "/api/v1/connect-requests", s.Login(who), nil)
		if r.Code != http.StatusAccepted {
			t.Fatalf("connect request of %s = %d %s", who, r.Code, r.Body)
		}
		r.Decode(t, c)
	}
	s.AwaitStatus(ana.ID, certdesk.StatusCompleted)
	s.AwaitStatus(ben.ID, certdesk.StatusAwaitingLearner)
	s.AwaitMail("ben.okafor@contoso.example", "connect_add_account")

	ctx := context.Background()
	s.Eventually("Ben's email recorded as sent", func() bool {
		es, err := s.Store.EmailsOfCase(ctx, ben.ID)
		return err == nil && len(es) == 1 && es[0].Status == store.EmailSent
	})

	st := &worker.Status{}
	h := worker.Handler(worker.HTTPDeps{Status: st, Store: s.Store, Temporal: s.Client, Figures: s.Store})
	text := scrape(t, h)
	queue := `task_queue="` + s.Config.TaskQueue + `"`
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^temporal_workflow_task_schedule_to_start_latency_seconds_bucket\{.*` + queue + `.*le="\+Inf"\} [1-9]`),
		regexp.MustCompile(`(?m)^temporal_workflow_task_execution_latency_seconds_count\{.*workflow_type="Connect".*\} [1-9]`),
		regexp.MustCompile(`(?m)^temporal_activity_execution_latency_seconds_bucket\{.*activity_type="SendEmail".*\} [1-9]`),
		regexp.MustCompile(`(?m)^temporal_worker_task_slots_available\{.*` + queue + `.*worker_type="WorkflowWorker".*\} [1-9]`),
		regexp.MustCompile(`(?m)^temporal_worker_task_slots_available\{.*worker_type="ActivityWorker".*\} [1-9]`),
		regexp.MustCompile(`(?m)^temporal_workflow_task_queue_poll_succeed\{.*` + queue + `.*\} [1-9]`),
		regexp.MustCompile(`(?m)^temporal_sticky_cache_size\{.*\} \d`),
		regexp.MustCompile(`(?m)^temporal_request\{.*operation="StartWorkflowExecution".*\} [1-9]`),
		regexp.MustCompile(`(?m)^certdesk_cases_open\{kind="connect",status="awaiting_learner"\} 1$`),
		regexp.MustCompile(`(?m)^certdesk_emails\{kind="connect_add_account",status="sent"\} 1$`),
		regexp.MustCompile(`(?m)^certdesk_email_sends_total\{kind="connect_add_account",outcome="sent"\} [1-9]`),
		regexp.MustCompile(`(?m)^certdesk_store_figures_up 1$`),
		regexp.MustCompile(`(?m)^certdesk_worker_polling 0$`),
	} {
		if !want.MatchString(text) {
			t.Errorf("/metrics has no line matching %s", want)
		}
	}
	if strings.Contains(text, `status="completed"`) {
		t.Error("certdesk_cases_open counts an ended case")
	}
	for _, secret := range []string{ana.ID, ben.ID, "@", "Okafor", "Silva"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics shows %q", secret)
		}
	}
}
