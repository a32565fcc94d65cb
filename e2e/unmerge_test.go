package e2e_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// unmergeOut is the part of an unmerge case's JSON these tests read.
type unmergeOut struct {
	ID           string          `json:"id"`
	Kind         certdesk.Kind   `json:"kind"`
	Status       certdesk.Status `json:"status"`
	ParentCaseID string          `json:"parent_case_id"`
	WorkflowID   string          `json:"workflow_id"`
	Details      certdesk.UnmergeDetails
}

// askUndo posts Sam's (or anyone's) undo of a merge case.
func askUndo(t *testing.T, s *stacktest.Stack, token, mergeID, note string, want int) (unmergeOut, stacktest.Response) {
	t.Helper()
	r := s.Do("POST", "/api/v1/cases/"+mergeID+"/undo", token, map[string]string{"note": note})
	if r.Code != want {
		t.Fatalf("undo of %s: %d %s, want %d", mergeID, r.Code, r.Body, want)
	}
	var out unmergeOut
	if r.Code < 300 {
		r.Decode(t, &out)
	}
	return out, r
}

// chensMerge merges Chen's duplicates (he asks, Alice approves) and
// returns the completed case.
func chensMerge(t *testing.T, s *stacktest.Stack) certdesk.Case {
	t.Helper()
	opened := requestMerge(t, s, s.Login(chenEmail), map[string]any{"profile_ids": []string{p3, p4}, "note": "Both are me."})
	s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
	decide(t, s, s.Login("alice.agent@certdesk.example"), opened.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	return s.AwaitStatus(opened.ID, certdesk.StatusCompleted)
}

// Chen's duplicates merged, then Sam asks to undo it and Alice approves:
// both profiles are exactly as before the merge, every owner is told, and
// the merge cannot be undone twice.
func TestUndoChensMerge(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	aliceT, samT := s.Login("alice.agent@certdesk.example"), s.Login("sam.supervisor@certdesk.example")
	before := profileRecords(t, s)
	merge := chensMerge(t, s)
	if profileRecords(t, s)["profile "+p3] == before["profile "+p3] {
		t.Fatal("the merge changed nothing")
	}

	// Supervisors only, with a reason.
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/undo", aliceT, map[string]string{"note": "wrong"}); r.Code != http.StatusForbidden {
		t.Errorf("an agent's undo: %d %s, want 403", r.Code, r.Body)
	}
	if _, r := askUndo(t, s, samT, merge.ID, "  ", http.StatusBadRequest); !strings.Contains(string(r.Body), "note") {
		t.Errorf("undo without a reason: %s", r.Body)
	}
	un, _ := askUndo(t, s, samT, merge.ID, "Two different people called Chen Wei who shared an old address.", http.StatusAccepted)
	if un.Kind != certdesk.KindUnmerge || un.ParentCaseID != merge.ID {
		t.Fatalf("undo opened %+v", un)
	}
	again, _ := askUndo(t, s, samT, merge.ID, "again", http.StatusOK)
	if again.ID != un.ID {
		t.Errorf("a second request opened %s, want the open %s", again.ID, un.ID)
	}
	s.AwaitStatus(un.ID, certdesk.StatusAwaitingAgent)
	var got unmergeOut
	s.Do("GET", "/api/v1/cases/"+un.ID, samT, nil).Decode(t, &got)
	d := got.Details
	if d.MergeCaseID != merge.ID || d.TargetMCID != "100004" || len(d.Profiles) != 2 || d.Profiles[1].MCID != "100003" ||
		d.Profiles[1].After != certdesk.ProfileActive || len(d.Profiles[1].Certifications) != 2 || len(d.Profiles[1].Transcript) != 2 || d.Uncollapsed != 1 {
		t.Errorf("preview %+v", d)
	}

	// Four eyes: not Sam; Alice approves.
	if r := decide(t, s, samT, un.ID, map[string]string{"decision": "approve"}, http.StatusConflict); !strings.Contains(errorMessage(t, r), "four eyes") {
		t.Errorf("Sam approving his own undo: %s", r.Body)
	}
	decide(t, s, aliceT, un.ID, map[string]string{"decision": "approve", "note": "checked: two people"}, http.StatusOK)
	done := s.AwaitStatus(un.ID, certdesk.StatusCompleted)
	if done.Resolution != certdesk.UnmergeUnmerged {
		t.Errorf("undo ended %s", done.Resolution)
	}
	diffRecords(t, profileRecords(t, s), before)

	for _, to := range []string{"c.wei@gmail.example", chenEmail} { // 100004's owner, 100003's
		if m := s.AwaitMail(to, mail.MergeUndone); m.CaseID != un.ID || !strings.Contains(m.Text, "undone") {
			t.Errorf("mail to %s: %+v", to, m)
		}
	}
	evs, err := s.Store.DomainEvents(ctx, store.EventFilter{Type: certdesk.EventProfileUnmerged})
	if err != nil || len(evs) != 1 || !strings.Contains(string(evs[0].Data), un.ID) {
		t.Errorf("unmerged events: %v %v", evs, err)
	}
	if got := mergeTimeline(t, s, samT, merge.ID); got[len(got)-1] != "merge_undone by agent:"+alice {
		t.Errorf("the merge's timeline ends %v", got[len(got)-1])
	}
	if _, r := askUndo(t, s, samT, merge.ID, "once more", http.StatusConflict); !strings.Contains(errorMessage(t, r), "undone already") {
		t.Errorf("a second undo: %s", r.Body)
	}
	s.RecordHistory(done.WorkflowID, done.RunID, "unmerge-approve")
}

// An undo that cannot be exact is refused with its reason, and starts
// nothing: a case open on the profiles, a later merge of the target, the
// window, a learner left connected to a profile they do not own. An
// approver may also say no.
func TestUndoRefusals(t *testing.T) {
	ctx := context.Background()
	t.Run("a later merge", func(t *testing.T) {
		s := start(t)
		samT, bobT := s.Login("sam.supervisor@certdesk.example"), s.Login("bob.agent@certdesk.example")
		merge := chensMerge(t, s)
		older := certdesk.CertificationProfile{MCID: "100077", LegalName: "Chen Wei", Email: "chen@old.example", CreatedAt: time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC)}
		mustStore(t, s.Store.CreateCertificationProfile(ctx, &older))
		later := requestMerge(t, s, s.Login("alice.agent@certdesk.example"), map[string]any{"profile_ids": []string{older.ID, p4}, "note": "his first profile"})
		s.AwaitStatus(later.ID, certdesk.StatusAwaitingAgent)
		if _, r := askUndo(t, s, samT, merge.ID, "wrong people", http.StatusConflict); !strings.Contains(errorMessage(t, r), "merge case "+later.ID+" is open on MCID 100004") {
			t.Errorf("undo while another case is open on 100004: %s", r.Body)
		}
		decide(t, s, bobT, later.ID, map[string]string{"decision": "approve"}, http.StatusOK)
		s.AwaitStatus(later.ID, certdesk.StatusCompleted)
		_, r := askUndo(t, s, samT, merge.ID, "wrong people", http.StatusConflict)
		if msg := errorMessage(t, r); !strings.Contains(msg, "MCID 100004 was merged") || !strings.Contains(msg, "by merge case "+later.ID) {
			t.Errorf("undo after a later merge of the target: %s", msg)
		}
		noUnmerge(t, s, merge.ID)
	})
	t.Run("the window", func(t *testing.T) {
		s := start(t, func(c *config.Config) { c.UnmergeWindow = time.Second })
		merge := chensMerge(t, s)
		time.Sleep(1100 * time.Millisecond)
		if _, r := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), merge.ID, "too late", http.StatusConflict); !strings.Contains(errorMessage(t, r), "CERTDESK_UNMERGE_WINDOW") {
			t.Errorf("undo past the window: %s", r.Body)
		}
		noUnmerge(t, s, merge.ID)
	})
	t.Run("a connection to a profile the learner does not own", func(t *testing.T) {
		s := start(t)
		c := requestConnect(t, s, s.Login(chenEmail))
		mergeID := mergeChild(t, s, c.ID)
		decide(t, s, s.Login("bob.agent@certdesk.example"), mergeID, map[string]string{"decision": "approve"}, http.StatusOK)
		awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
		// The account that owns the connected profile (100003) no longer
		// signs in to Chen's learning profile: undone, he would be
		// connected to a profile that is not his.
		if _, err := s.Store.SQL().Exec("UPDATE accounts SET learning_profile_id = NULL WHERE id = $1",
			store.DemoID("account:"+chenEmail)); err != nil {
			t.Fatal(err)
		}
		if _, r := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), mergeID, "wrong", http.StatusConflict); !strings.Contains(errorMessage(t, r), "no account they sign in with owns") {
			t.Errorf("undo leaving Chen connected to a profile he does not own: %s", r.Body)
		}
		noUnmerge(t, s, mergeID)
	})
	t.Run("rejected by the approver", func(t *testing.T) {
		s := start(t)
		before := profileRecords(t, s)
		merge := chensMerge(t, s)
		merged := profileRecords(t, s)
		un, _ := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), merge.ID, "looks wrong", http.StatusAccepted)
		s.AwaitStatus(un.ID, certdesk.StatusAwaitingAgent)
		decide(t, s, s.Login("alice.agent@certdesk.example"), un.ID, map[string]string{"decision": "reject", "note": "same person: same exam history"}, http.StatusOK)
		done := s.AwaitStatus(un.ID, certdesk.StatusRejected)
		if done.Resolution != certdesk.UnmergeRejectedByAgent {
			t.Errorf("rejected undo: %s", done.Resolution)
		}
		diffRecords(t, profileRecords(t, s), merged)
		if maps.Equal(merged, before) {
			t.Error("the merge changed nothing")
		}
		s.RecordHistory(done.WorkflowID, done.RunID, "unmerge-reject")
	})
	t.Run("changed while it waited", func(t *testing.T) {
		s := start(t)
		merge := chensMerge(t, s)
		un, _ := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), merge.ID, "wrong people", http.StatusAccepted)
		s.AwaitStatus(un.ID, certdesk.StatusAwaitingAgent)
		mustStore(t, s.Store.SetConnectedLearningProfile(ctx, p4, store.DemoID("lp:ana")))
		merged := profileRecords(t, s)
		decide(t, s, s.Login("alice.agent@certdesk.example"), un.ID, map[string]string{"decision": "approve"}, http.StatusOK)
		done := s.AwaitStatus(un.ID, certdesk.StatusRejected)
		evs := timeline(t, s, s.Login("alice.agent@certdesk.example"), un.ID)
		if last := evs[len(evs)-1]; done.Resolution != certdesk.UnmergeNotUndoable || !strings.Contains(string(last.Data), "MCID 100004 was connected") {
			t.Errorf("undo approved after the target was connected elsewhere: %s, %s", done.Resolution, last.Data)
		}
		diffRecords(t, profileRecords(t, s), merged)
		s.RecordHistory(done.WorkflowID, done.RunID, "unmerge-changed-while-waiting")
	})
	t.Run("escalated, then approved", func(t *testing.T) {
		s := start(t, func(c *config.Config) { c.AgentSLA = time.Second })
		merge := chensMerge(t, s)
		un, _ := askUndo(t, s, s.Login("sam.supervisor@certdesk.example"), merge.ID, "wrong people", http.StatusAccepted)
		esc := s.AwaitCase(un.ID, "escalated", func(c certdesk.Case) bool { return c.Escalated })
		if esc.Status != certdesk.StatusAwaitingAgent {
			t.Errorf("escalated undo is %s, want still awaiting an agent", esc.Status)
		}
		s.AwaitMail("sam.supervisor@certdesk.example", mail.CaseEscalated)
		decide(t, s, s.Login("bob.agent@certdesk.example"), un.ID, map[string]string{"decision": "approve"}, http.StatusOK)
		done := s.AwaitStatus(un.ID, certdesk.StatusCompleted)
		s.RecordHistory(done.WorkflowID, done.RunID, "unmerge-escalated")
	})
	t.Run("refused by the workflow's own check", func(t *testing.T) {
		// The API refuses first; the workflow checks again when it starts
		// (the profiles may change in between). Started directly on a merge
		// that is still open, it closes at once, saying why.
		s := start(t)
		opened := requestMerge(t, s, s.Login(chenEmail), map[string]any{"profile_ids": []string{p3, p4}})
		s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
		in := workflows.UnmergeInput{CaseID: certdesk.NewID(), MergeCaseID: opened.ID, Note: "raced",
			RequestedBy: certdesk.AgentActor(store.DemoID("agent:sam.supervisor@certdesk.example"))}
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.UnmergeWorkflowID(opened.ID), TaskQueue: s.Config.TaskQueue},
			workflows.Unmerge, in)
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.UnmergeResult
		if err := run.Get(ctx, &res); err != nil || res.Resolution != certdesk.UnmergeNotUndoable || !strings.Contains(res.Reason, "only a merge that moved profiles") {
			t.Errorf("result %+v, %v", res, err)
		}
		if c := s.AwaitStatus(in.CaseID, certdesk.StatusRejected); c.Resolution != certdesk.UnmergeNotUndoable {
			t.Errorf("case %+v", c)
		}
		s.RecordHistory(run.GetID(), run.GetRunID(), "unmerge-not-undoable")
	})
}

// noUnmerge checks that no unmerge case exists for a merge.
func noUnmerge(t *testing.T, s *stacktest.Stack, mergeID string) {
	t.Helper()
	var n int
	if err := s.Store.SQL().QueryRow("SELECT count(*) FROM cases WHERE kind = 'unmerge' AND parent_case_id = $1", mergeID).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d unmerge cases for %s (%v), want none", n, mergeID, err)
	}
}

func mustStore(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// profileRecords reads Chen's two profiles, their certifications and
// exams, every column (a profile's updated_at aside).
func profileRecords(t *testing.T, s *stacktest.Stack) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, q := range []struct{ name, sql string }{
		{"profile", "SELECT * FROM certification_profiles WHERE id IN ($1, $2)"},
		{"cert", "SELECT * FROM certifications WHERE profile_id IN ($1, $2)"},
		{"exam", "SELECT * FROM transcript_entries WHERE profile_id IN ($1, $2)"},
	} {
		rs, err := s.Store.SQL().Query(q.sql, p3, p4)
		mustStore(t, err)
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			mustStore(t, rs.Scan(ptrs...))
			var id string
			var b strings.Builder
			for i, c := range cols {
				v := vals[i]
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				if c == "id" {
					id = fmt.Sprint(v)
				}
				if c != "updated_at" {
					fmt.Fprintf(&b, "%s=%v ", c, v)
				}
			}
			out[q.name+" "+id] = b.String()
		}
		mustStore(t, errors.Join(rs.Err(), rs.Close()))
	}
	return out
}

func diffRecords(t *testing.T, got, want map[string]string) {
	t.Helper()
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n  got  %s\n  want %s", k, got[k], w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: a row that was not there", k)
		}
	}
}
