package activities_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/workflows"
)

// sendOne is a workflow that sends one email the way case workflows do.
func sendOne(ctx workflow.Context, in activities.SendEmailInput) (activities.SendEmailResult, error) {
	var a *activities.Activities
	var res activities.SendEmailResult
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflows.EmailActivityOptions), a.SendEmail, in).Get(ctx, &res)
	return res, err
}

func register(r sdkworker.Registry) { r.RegisterWorkflow(sendOne) }

// run sends one email for a new case through Temporal and returns the
// workflow's outcome and the case.
func run(t *testing.T, s *stacktest.Stack, in activities.SendEmailInput) (activities.SendEmailResult, error, certdesk.Case) {
	t.Helper()
	ctx := context.Background()
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "send-" + certdesk.NewID()}
	if _, err := s.Store.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	in.CaseID = c.ID
	wr, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: c.WorkflowID, TaskQueue: s.Config.TaskQueue}, sendOne, in)
	if err != nil {
		t.Fatal(err)
	}
	var res activities.SendEmailResult
	err = wr.Get(ctx, &res)
	return res, err, c
}

var verifyEmail = activities.SendEmailInput{
	Step: "verify", Kind: mail.RecoveryVerify, To: "dara.m@proton.example", ToName: "Dara Murphy",
	Link: &activities.LinkSpec{Purpose: workflows.PurposeVerifyContact, TTL: time.Hour},
}

func TestSendEmailRetriesAndSendsOnce(t *testing.T) {
	tests := []struct {
		name     string
		script   []mailtest.Answer
		requests int
		minWait  time.Duration
	}{
		{"accepted at once", nil, 1, 0},
		{"429 then accepted after the reset", []mailtest.Answer{{Status: 429, ResetIn: time.Second}}, 2, time.Second},
		{"500 then accepted", []mailtest.Answer{{Status: 500}}, 2, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sg := mailtest.NewSendGrid()
			defer sg.Close()
			sg.Script(tc.script...)
			s := stacktest.Start(t, stacktest.Options{Mailer: sg.Mailer(), Register: register})
			start := time.Now()
			res, err, c := run(t, s, verifyEmail)
			if err != nil {
				t.Fatalf("workflow: %v", err)
			}
			reqs := sg.Requests()
			if len(reqs) != tc.requests {
				t.Fatalf("SendGrid got %d requests, want %d", len(reqs), tc.requests)
			}
			if n := sg.Accepted()[[2]string{c.ID, "verify"}]; n != 1 {
				t.Fatalf("%d messages accepted for the step, want exactly 1", n)
			}
			if tc.minWait > 0 && reqs[1].At.Sub(reqs[0].At) < tc.minWait-100*time.Millisecond {
				t.Errorf("retried %v after the 429, before the reset", reqs[1].At.Sub(reqs[0].At))
			}
			e, err := s.Store.EmailForStep(context.Background(), c.ID, "verify")
			if err != nil || e.Status != store.EmailSent || e.ProviderID != res.ProviderID || e.Attempts != tc.requests {
				t.Fatalf("email row %+v (%v), want sent after %d attempts", e, err, tc.requests)
			}
			t.Logf("took %v", time.Since(start))
		})
	}
}

// A refusal (400) is not retried and fails the step visibly on the case.
func TestSendEmailRefusedShowsOnTheCase(t *testing.T) {
	sg := mailtest.NewSendGrid()
	defer sg.Close()
	sg.Script(mailtest.Answer{Status: 400, Body: `{"errors":[{"message":"The to email does not contain a valid address.","field":"personalizations.0.to"}]}`})
	s := stacktest.Start(t, stacktest.Options{Mailer: sg.Mailer(), Register: register})
	_, err, c := run(t, s, verifyEmail)
	var appErr *temporal.ApplicationError
	if !errors.As(err, &appErr) || appErr.Type() != "email_failed" || !appErr.NonRetryable() {
		t.Fatalf("workflow error %v, want the non-retryable email_failed", err)
	}
	if n := len(sg.Requests()); n != 1 {
		t.Fatalf("SendGrid got %d requests, want 1 (no retry)", n)
	}
	ctx := context.Background()
	e, _ := s.Store.EmailForStep(ctx, c.ID, "verify")
	if e.Status != store.EmailFailed || e.LastError == "" {
		t.Fatalf("email row %+v, want failed with the reason", e)
	}
	evs, _ := s.Store.Events(ctx, c.ID, 0, 0)
	last := evs[len(evs)-1]
	if last.Type != "email_failed" || !strings.Contains(string(last.Data), "valid address") {
		t.Fatalf("case timeline ends with %s %s, want email_failed with SendGrid's reason", last.Type, last.Data)
	}
}

// The provider accepts the message, then the database goes away before the
// activity records it: the activity fails and is retried, and the retry
// does not send a second copy.
func TestSendEmailExactlyOnceWhenTheStoreFailsAfterSending(t *testing.T) {
	sg := mailtest.NewSendGrid()
	defer sg.Close()
	outage := &dbOutage{}
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres", Register: register,
		Mailer: &afterSend{next: sg.Mailer(), then: outage.start}})
	outage.db = s.Store.SQL()

	res, err, c := run(t, s, verifyEmail)
	if err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if !outage.happened {
		t.Fatal("the outage was not triggered")
	}
	if n := len(sg.Requests()); n != 1 {
		t.Fatalf("SendGrid got %d requests, want exactly 1", n)
	}
	e, err := s.Store.EmailForStep(context.Background(), c.ID, "verify")
	if err != nil || e.Status != store.EmailSent || e.ProviderID != "msg-1" || !res.AlreadySent {
		t.Fatalf("email %+v result %+v (%v): want sent by the retry without sending", e, res, err)
	}
}

// afterSend runs `then` once, after the provider accepted a message.
type afterSend struct {
	next mail.Mailer
	then func()
	done bool
}

func (a *afterSend) Send(ctx context.Context, m mail.Message) (string, error) {
	id, err := a.next.Send(ctx, m)
	if err == nil && !a.done {
		a.done = true
		a.then()
	}
	return id, err
}

// dbOutage makes the test database refuse connections for 1.5 s.
type dbOutage struct {
	db       *sql.DB
	happened bool
}

func (o *dbOutage) start() {
	var name string
	if err := o.db.QueryRow("SELECT current_database()").Scan(&name); err != nil {
		panic(err)
	}
	admin, err := sql.Open("pgx", storetest.PostgresAdminURL())
	if err != nil {
		panic(err)
	}
	mustExec := func(q string) {
		if _, err := admin.Exec(q); err != nil {
			panic(err)
		}
	}
	mustExec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false")
	mustExec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'")
	o.happened = true
	go func() {
		defer admin.Close()
		time.Sleep(1500 * time.Millisecond)
		mustExec("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true")
	}()
}
