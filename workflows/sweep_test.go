package workflows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/workflows"
)

// dailySweeps runs the sweep once a day, as the schedule does.
func dailySweeps(ctx workflow.Context, days int) (workflows.SweepResult, error) {
	var total workflows.SweepResult
	for day := range days {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("sweep-day-%d", day)})
		var r workflows.SweepResult
		if err := workflow.ExecuteChildWorkflow(cctx, workflows.InactivitySweep, workflows.SweepInput{}).Get(ctx, &r); err != nil {
			return total, err
		}
		total.Reminded += r.Reminded
		total.Inactivated += r.Inactivated
		total.Sent += r.Sent
		if err := workflow.Sleep(ctx, 24*time.Hour); err != nil {
			return total, err
		}
	}
	return total, nil
}

func TestSweepRemindsOncePerPeriodAndInactivates(t *testing.T) {
	e := newEnv(t, "postgres")
	e.RegisterWorkflow(dailySweeps)
	ctx := context.Background()
	start := e.Now().UTC().Truncate(time.Second)
	e.store.Now = func() time.Time { return e.Now().UTC() }
	day := 24 * time.Hour
	ago := func(months int, plus time.Duration) *time.Time {
		t := start.AddDate(0, -months, 0).Add(plus)
		return &t
	}
	add := func(email string, lastSignIn *time.Time) certdesk.Account {
		a := certdesk.Account{Email: email, Kind: certdesk.AccountPersonal, DisplayName: "Learner", CreatedAt: start.AddDate(-5, 0, 0), LastSignInAt: lastSignIn}
		if err := e.store.CreateAccount(ctx, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	soon := add("soon@outlook.example", ago(23, 3*day))    // reminded on day 3, then left alone
	due := add("due@outlook.example", ago(24, 5*day))      // reminded on day 0, inactive on day 5
	back := add("back@outlook.example", ago(23, 2*day))    // reminded on day 2, signs in on day 10
	fresh := add("fresh@outlook.example", ago(0, -30*day)) // used a month ago: nothing
	e.RegisterDelayedCallback(func() {
		if _, err := e.store.RecordSignIn(ctx, "back@outlook.example", e.Now()); err != nil {
			t.Errorf("sign-in: %v", err)
		}
	}, 10*day+hour)

	e.ExecuteWorkflow(dailySweeps, 20)
	var total workflows.SweepResult
	if err := e.GetWorkflowResult(&total); err != nil {
		t.Fatal(err)
	}
	if total.Reminded != 3 || total.Inactivated != 1 || total.Sent != 4 {
		t.Errorf("20 daily sweeps: %+v, want 3 reminded, 1 inactivated, 4 sent", total)
	}
	tests := []struct {
		a      certdesk.Account
		mails  []string
		status string
	}{
		{soon, []string{mail.InactivityReminder}, certdesk.AccountActive},
		{due, []string{mail.InactivityReminder, mail.AccountInactive}, certdesk.AccountInactive},
		{back, []string{mail.InactivityReminder}, certdesk.AccountActive},
		{fresh, []string{}, certdesk.AccountActive},
	}
	for _, tc := range tests {
		if got := kindsOf(e.mails(tc.a.Email)); !slices.Equal(got, tc.mails) {
			t.Errorf("%s got %q, want %q", tc.a.Email, got, tc.mails)
		}
		if a, _ := e.store.Account(ctx, tc.a.ID); a.Status != tc.status {
			t.Errorf("%s is %s, want %s", tc.a.Email, a.Status, tc.status)
		}
	}
	// The emails: one per account and period, keyed outside any case.
	ms := e.mails("due@outlook.example")
	if len(ms) == 2 {
		if ms[0].CaseID != "account:"+due.ID || !strings.HasPrefix(ms[0].Step, "inactivity_reminder:") {
			t.Errorf("reminder keyed %s / %s", ms[0].CaseID, ms[0].Step)
		}
		if !strings.Contains(ms[1].Text, "https://certdesk.test/portal/recovery") {
			t.Errorf("the inactive notice does not link to the recovery form:\n%s", ms[1].Text)
		}
		if want := due.LastSignInAt.AddDate(0, 24, 0).Format("2 January 2006"); !strings.Contains(ms[0].Text, want) {
			t.Errorf("the reminder does not say the account becomes inactive on %s:\n%s", want, ms[0].Text)
		}
	}
	// Dara was inactive already: the sweep leaves her alone.
	if got := e.mails("dara.murphy@outlook.example"); len(got) != 0 {
		t.Errorf("the inactive demo learner got %q", kindsOf(got))
	}
	if pending, _ := e.store.PendingNotices(ctx, 10); len(pending) != 0 {
		t.Errorf("%d notices left pending", len(pending))
	}
}
