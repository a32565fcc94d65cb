package workflows_test

import (
	"context"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/worker"
)

// env is a time-skipping test environment whose activities are the real
// ones, over a seeded store (SQLite unless said otherwise) and the captured
// mailbox.
type env struct {
	*testsuite.TestWorkflowEnvironment
	t     *testing.T
	store *store.Store
	acts  *activities.Activities
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	st := storetest.Seeded(t, dialect)
	var s testsuite.WorkflowTestSuite
	e := &env{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment(), t: t, store: st}
	// The SDK calls a workflow task that runs over a second a deadlock; on
	// two loaded cores (go test runs packages side by side) a real store
	// activity inside the test environment can take that long.
	e.SetWorkerOptions(sdkworker.Options{DeadlockDetectionTimeout: time.Minute})
	e.acts = &activities.Activities{Store: st, Mailer: activities.CaptureMailer(st), Links: activities.Links{BaseURL: "https://certdesk.test"},
		Clock: func() time.Time { return e.Now() }}
	worker.Register(e, e.acts)
	return e
}

// mails returns the captured messages to an address, oldest first.
func (e *env) mails(to string) []store.CapturedMail {
	e.t.Helper()
	ms, err := e.store.CapturedMails(context.Background(), to, "", 100)
	if err != nil {
		e.t.Fatal(err)
	}
	for i, j := 0, len(ms)-1; i < j; i, j = i+1, j-1 {
		ms[i], ms[j] = ms[j], ms[i]
	}
	return ms
}

// caseOf reads a case's projection.
func (e *env) caseOf(id string) certdesk.Case {
	e.t.Helper()
	c, err := e.store.Case(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// events lists a case's timeline event types, in order.
func (e *env) events(id string) []string {
	e.t.Helper()
	evs, err := e.store.Events(context.Background(), id, 0, 0)
	if err != nil {
		e.t.Fatal(err)
	}
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = string(ev.Type)
	}
	return out
}
