package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// waitForLinks is a case workflow reduced to its waiting: every link used
// moves the case on one step, until it is told to stop; it answers where a
// link led (UpdateLinkOutcome) as the real workflows do.
func waitForLinks(ctx workflow.Context, caseID string) (int, error) {
	var a *activities.Activities
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	links := workflow.GetSignalChannel(ctx, workflows.SignalLink)
	done := map[string]certdesk.Case{}
	err := workflow.SetUpdateHandler(ctx, workflows.UpdateLinkOutcome, func(ctx workflow.Context, tokenID string) (certdesk.Case, error) {
		err := workflow.Await(ctx, func() bool { _, ok := done[tokenID]; return ok })
		return done[tokenID], err
	})
	if err != nil {
		return 0, err
	}
	used := 0
	for {
		var l workflows.LinkUsed
		links.Receive(ctx, &l)
		if l.Purpose == "stop" {
			return used, nil
		}
		used++
		var after certdesk.Case
		err := workflow.ExecuteActivity(ctx, a.ChangeCase, activities.ChangeCaseInput{
			CaseID: caseID, Step: int64(used + 1), Status: certdesk.StatusAwaitingAgent,
			Actor: certdesk.LearnerActor("x"), Event: "link_used", Data: []byte(`{"step":"` + l.Step + `"}`),
		}).Get(ctx, &after)
		if err != nil {
			return used, err
		}
		done[l.TokenID] = after
	}
}

type linkCase struct {
	c   certdesk.Case
	run client.WorkflowRun
}

func startLinkCase(t *testing.T, s *stacktest.Stack) linkCase {
	t.Helper()
	ctx := context.Background()
	c := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "links-" + certdesk.NewID()}
	run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: c.WorkflowID, TaskQueue: s.Config.TaskQueue}, waitForLinks, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	c.RunID = run.GetRunID()
	if _, err := s.Store.OpenCase(ctx, &c, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	return linkCase{c: c, run: run}
}

func (lc linkCase) issue(t *testing.T, s *stacktest.Stack, step, purpose string, ttl time.Duration) string {
	t.Helper()
	raw, hash := certdesk.NewToken()
	err := s.Store.IssueLinkToken(context.Background(), &store.LinkToken{Hash: hash, CaseID: lc.c.ID, Step: step, Purpose: purpose,
		Recipient: "dara.m@proton.example", ExpiresAt: time.Now().Add(ttl)})
	if err != nil {
		t.Fatal(err)
	}
	return "/l/" + raw
}

func (lc linkCase) stop(t *testing.T, s *stacktest.Stack) int {
	t.Helper()
	ctx := context.Background()
	if err := s.Client.SignalWorkflow(ctx, lc.c.WorkflowID, lc.c.RunID, workflows.SignalLink, workflows.LinkUsed{Purpose: "stop"}); err != nil {
		t.Fatal(err)
	}
	var used int
	if err := lc.run.Get(ctx, &used); err != nil {
		t.Fatal(err)
	}
	return used
}

func linkStack(t *testing.T, dialect string) *stacktest.Stack {
	return stacktest.Start(t, stacktest.Options{Dialect: dialect, Register: func(r sdkworker.Registry) { r.RegisterWorkflow(waitForLinks) }})
}

func TestLinkGetAndHeadChangeNothing(t *testing.T) {
	s := linkStack(t, "sqlite")
	lc := startLinkCase(t, s)
	link := lc.issue(t, s, "verify", workflows.PurposeVerifyContact, time.Hour)
	for i := 0; i < 3; i++ { // a mail scanner, then the learner, twice
		for _, m := range []string{"HEAD", "GET"} {
			r := s.Do(m, link, "", nil)
			if r.Code != http.StatusOK {
				t.Fatalf("%s link = %d", m, r.Code)
			}
			if r.Header.Get("Referrer-Policy") != "no-referrer" || r.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s link headers %v", m, r.Header)
			}
			if m == "HEAD" && len(r.Body) != 0 {
				t.Errorf("HEAD has a body")
			}
			if m == "GET" && (!strings.Contains(string(r.Body), "Confirm my address") || !strings.Contains(string(r.Body), `method="post"`)) {
				t.Errorf("GET page does not offer the button:\n%s", r.Body)
			}
		}
	}
	live, _ := s.Store.LiveLinkTokens(context.Background(), lc.c.ID)
	c, _ := s.Store.Case(context.Background(), lc.c.ID)
	if len(live) != 1 || c.Version != 1 {
		t.Fatalf("after GETs and HEADs: %d live tokens, case version %d; want the token unused and the case untouched", len(live), c.Version)
	}
	if used := lc.stop(t, s); used != 0 {
		t.Fatalf("the workflow got %d link signals from GET/HEAD", used)
	}
}

func TestLinkPostUsesOnceAndShowsTheOutcome(t *testing.T) {
	s := linkStack(t, "postgres")
	lc := startLinkCase(t, s)
	link := lc.issue(t, s, "verify", workflows.PurposeVerifyContact, time.Hour)

	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := s.Do("POST", link, "", stacktest.Form{})
			mu.Lock()
			codes[r.Code]++
			if r.Code == http.StatusOK && !strings.Contains(string(r.Body), "with our support team") {
				t.Errorf("winner's page does not show the outcome:\n%s", r.Body)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes[http.StatusOK] != 1 || codes[http.StatusGone] != 11 {
		t.Fatalf("12 concurrent POSTs answered %v; want one 200 and eleven 410", codes)
	}
	if r := s.Do("GET", link, "", nil); r.Code != http.StatusGone || !strings.Contains(string(r.Body), "already used") {
		t.Fatalf("GET after use = %d", r.Code)
	}
	c := s.AwaitStatus(lc.c.ID, certdesk.StatusAwaitingAgent)
	if c.Version != 2 {
		t.Fatalf("case version %d after one use, want 2", c.Version)
	}
	if used := lc.stop(t, s); used != 1 {
		t.Fatalf("the workflow was signalled %d times, want once", used)
	}
}

func TestLinkThatCannotBeUsed(t *testing.T) {
	s := linkStack(t, "sqlite")
	lc := startLinkCase(t, s)
	expired := lc.issue(t, s, "reply-1", workflows.PurposeReply, -time.Second)
	old := lc.issue(t, s, "verify", workflows.PurposeVerifyContact, time.Hour)
	_ = lc.issue(t, s, "verify", workflows.PurposeVerifyContact, time.Hour) // supersedes old
	tests := []struct {
		name, path string
		code       int
		says       string
	}{
		{"expired", expired, http.StatusGone, "expired"},
		{"superseded", old, http.StatusGone, "replaced by a newer one"},
		{"unknown", "/l/" + strings.Repeat("A", 43), http.StatusNotFound, "know this link"},
		{"malformed", "/l/%27%3Cscript%3E", http.StatusNotFound, "know this link"},
	}
	for _, tc := range tests {
		for _, m := range []string{"GET", "POST"} {
			r := s.Do(m, tc.path, "", stacktest.Form{})
			if r.Code != tc.code || !strings.Contains(string(r.Body), tc.says) {
				t.Errorf("%s %s = %d, want %d saying %q:\n%s", m, tc.name, r.Code, tc.code, tc.says, r.Body)
			}
		}
	}
	// A link of a case whose workflow has ended: the page says so, and the
	// token is left as it was.
	ended := lc.issue(t, s, "cancel", workflows.PurposeCancelRecovery, time.Hour)
	lc.stop(t, s)
	if r := s.Do("POST", ended, "", stacktest.Form{}); r.Code != http.StatusGone || !strings.Contains(string(r.Body), "already ended") {
		t.Fatalf("POST on an ended case = %d:\n%s", r.Code, r.Body)
	}
	// Once the case itself has closed, GET says so too (and HEAD answers
	// the same status), with the way on: the recovery form for a recovery.
	for _, status := range []certdesk.Status{certdesk.StatusRejected, certdesk.StatusCompleted, certdesk.StatusCancelled} {
		lc := startLinkCase(t, s)
		link := lc.issue(t, s, "reply-1", workflows.PurposeReply, time.Hour)
		if _, _, err := s.Store.ChangeCase(context.Background(), store.Change{CaseID: lc.c.ID, Status: status,
			Event: store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventType(status)}}); err != nil {
			t.Fatal(err)
		}
		r := s.Do("GET", link, "", nil)
		if r.Code != http.StatusGone || !strings.Contains(string(r.Body), "the case ended") || !strings.Contains(string(r.Body), `href="/portal/recovery"`) {
			t.Errorf("GET the link of a %s case = %d:\n%s", status, r.Code, r.Body)
		}
		if r := s.Do("HEAD", link, "", nil); r.Code != http.StatusGone {
			t.Errorf("HEAD the link of a %s case = %d", status, r.Code)
		}
		if tok, _ := s.Store.LinkTokenByHash(context.Background(), mustHash(t, link)); tok.UsedAt != nil {
			t.Errorf("GET used the token of a %s case", status)
		}
		lc.stop(t, s)
	}
}

func mustHash(t *testing.T, link string) string {
	t.Helper()
	h, ok := certdesk.HashToken(strings.TrimPrefix(link, "/l/"))
	if !ok {
		t.Fatalf("not a link: %s", link)
	}
	return h
}

func TestReplyLinkNeedsAnAnswer(t *testing.T) {
	s := linkStack(t, "sqlite")
	lc := startLinkCase(t, s)
	link := lc.issue(t, s, "reply-1", workflows.PurposeReply, time.Hour)
	if r := s.Do("POST", link, "", stacktest.Form{"reply": {"   "}}); r.Code != http.StatusBadRequest || !strings.Contains(string(r.Body), "write your answer") {
		t.Fatalf("empty reply = %d", r.Code)
	}
	if r := s.Do("GET", link, "", nil); r.Code != http.StatusOK {
		t.Fatalf("the link was used by an empty reply: %d", r.Code)
	}
	if r := s.Do("POST", link, "", stacktest.Form{"reply": {"My MCID is 100005."}}); r.Code != http.StatusOK {
		t.Fatalf("reply = %d", r.Code)
	}
	lc.stop(t, s)
}

// Links in email are built from the configured public URL, whatever Host a
// request came with.
func TestEmailLinksUseThePublicURL(t *testing.T) {
	s := linkStack(t, "sqlite")
	lc := startLinkCase(t, s)
	env := (&testsuite.WorkflowTestSuite{}).NewTestActivityEnvironment()
	env.RegisterActivity(s.Acts)
	val, err := env.ExecuteActivity(s.Acts.SendEmail, activities.SendEmailInput{
		CaseID: lc.c.ID, Step: "verify", Kind: "recovery_verify", To: "dara.m@proton.example",
		Link: &activities.LinkSpec{Purpose: workflows.PurposeVerifyContact, TTL: time.Hour},
	})
	var res activities.SendEmailResult
	if err == nil {
		err = val.Get(&res)
	}
	if err != nil || res.Status != store.EmailSent {
		t.Fatalf("send: %+v %v", res, err)
	}
	m := s.AwaitMail("dara.m@proton.example", "recovery_verify")
	if !strings.HasPrefix(m.Links[0].URL, s.Config.PublicURL+"/l/") {
		t.Fatalf("link %s is not under the public URL %s", m.Links[0].URL, s.Config.PublicURL)
	}
	lc.stop(t, s)
}

// No input to a link page answers 5xx.
func FuzzLinkHandler(f *testing.F) {
	for _, seed := range []string{"x", strings.Repeat("A", 43), "%00", "../../etc/passwd", strings.Repeat("z", 5000), "a/b", "\u00e9"} {
		f.Add("GET", seed, "")
		f.Add("POST", seed, "reply=hi")
	}
	st := newHarness(f, "sqlite", nil)
	f.Fuzz(func(t *testing.T, method, token, form string) {
		if method != "GET" && method != "HEAD" && method != "POST" {
			method = "POST"
		}
		req, err := http.NewRequest(method, "/l/"+token, strings.NewReader(form))
		if err != nil {
			return // not a URL a client could send
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := st.serve(req)
		if rec.Code >= 500 {
			t.Fatalf("%s /l/%q answered %d", method, token, rec.Code)
		}
	})
}
