package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// Chen Wei's duplicates and the people who work them (the demo world).
var (
	p3    = store.DemoID("profile:100003")
	p4    = store.DemoID("profile:100004") // the older: the target
	alice = store.DemoID("agent:alice.agent@certdesk.example")
	bob   = store.DemoID("agent:bob.agent@certdesk.example")
)

const chenEmail = "chen.wei@outlook.example"

// caseOut is the part of a case's JSON these tests read.
type caseOut struct {
	ID         string          `json:"id"`
	Kind       certdesk.Kind   `json:"kind"`
	Status     certdesk.Status `json:"status"`
	Resolution string          `json:"resolution"`
	Assignee   *string         `json:"assignee"`
	Requester  string          `json:"requester"`
	Escalated  bool            `json:"escalated"`
	WorkflowID string          `json:"workflow_id"`
	RunID      string          `json:"run_id"`
	ProfileIDs []string        `json:"profile_ids"`
	// The merge's details.
	Details struct {
		TargetID   string `json:"target_id"`
		NamesMatch bool   `json:"names_match"`
		Preview    struct {
			CertificationsMoved int `json:"certifications_moved"`
			TranscriptMoved     int `json:"transcript_moved"`
			DuplicatesCollapsed int `json:"duplicates_collapsed"`
		} `json:"preview"`
	} `json:"details"`
}

// requestMerge posts a merge request and returns the case it opened.
func requestMerge(t *testing.T, s *stacktest.Stack, token string, body any) caseOut {
	t.Helper()
	r := s.Do("POST", "/api/v1/merge-requests", token, body)
	if r.Code != http.StatusAccepted {
		t.Fatalf("merge request: %d %s", r.Code, r.Body)
	}
	var cs caseOut
	r.Decode(t, &cs)
	return cs
}

// decide posts an agent's decision and expects a status.
func decide(t *testing.T, s *stacktest.Stack, token, caseID string, body map[string]string, want int) stacktest.Response {
	t.Helper()
	r := s.Do("POST", "/api/v1/cases/"+caseID+"/decision", token, body)
	if r.Code != want {
		t.Fatalf("decision %v: %d %s, want %d", body, r.Code, r.Body, want)
	}
	return r
}

func errorMessage(t *testing.T, r stacktest.Response) string {
	t.Helper()
	e, _ := r.JSON(t)["error"].(map[string]any)
	msg, _ := e["message"].(string)
	return msg
}

// listed reports whether a case is in a list the caller asks for.
func listed(t *testing.T, s *stacktest.Stack, token, query, caseID string) bool {
	t.Helper()
	var list struct{ Items []caseOut }
	r := s.Do("GET", "/api/v1/cases?"+query, token, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("list ?%s: %d %s", query, r.Code, r.Body)
	}
	r.Decode(t, &list)
	return slices.ContainsFunc(list.Items, func(c caseOut) bool { return c.ID == caseID })
}

// timeline lists a case's events as "type by actor".
// mergeTimeline is a case's timeline as "type by actor" lines.
func mergeTimeline(t *testing.T, s *stacktest.Stack, token, caseID string) []string {
	t.Helper()
	var out []string
	for _, ev := range timeline(t, s, token, caseID) {
		out = append(out, string(ev.Type)+" by "+string(ev.Actor))
	}
	return out
}

// Chen asks for his duplicates to be merged; Alice claims the case and
// approves it; the store ends as the preview said, and Chen is told.
func TestChenMergesHisDuplicates(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	ctx := context.Background()
	chen := s.Login(chenEmail)
	aliceT, bobT, samT := s.Login("alice.agent@certdesk.example"), s.Login("bob.agent@certdesk.example"), s.Login("sam.supervisor@certdesk.example")

	opened := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}, "note": "Both are me: I registered twice."})
	if opened.Kind != certdesk.KindMerge || opened.Details.TargetID != p4 || !opened.Details.NamesMatch || opened.Details.Preview.CertificationsMoved != 2 ||
		opened.Details.Preview.TranscriptMoved != 2 || opened.Details.Preview.DuplicatesCollapsed != 1 || opened.WorkflowID != "" {
		t.Fatalf("opened case %+v", opened)
	}
	s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
	if r := s.Do("GET", "/api/v1/cases/"+opened.ID, chen, nil); r.Code != http.StatusOK {
		t.Errorf("Chen reading his case: %d", r.Code)
	}

	// Claim: Alice takes it, Bob cannot, Sam reassigns.
	if r := s.Do("POST", "/api/v1/cases/"+opened.ID+"/claim", aliceT, nil); r.Code != http.StatusOK {
		t.Fatalf("Alice claims: %d %s", r.Code, r.Body)
	}
	if r := s.Do("POST", "/api/v1/cases/"+opened.ID+"/claim", bobT, nil); r.Code != http.StatusConflict || !strings.Contains(errorMessage(t, r), "Alice") {
		t.Errorf("Bob claims Alice's case: %d %s, want 409 naming her", r.Code, r.Body)
	}
	if !listed(t, s, aliceT, "assignee=me", opened.ID) || listed(t, s, bobT, "assignee=me", opened.ID) || listed(t, s, aliceT, "assignee=none", opened.ID) {
		t.Error("?assignee=me|none does not follow Alice's claim")
	}
	if r := s.Do("POST", "/api/v1/cases/"+opened.ID+"/claim", samT, map[string]string{"assignee": bob}); r.Code != http.StatusOK {
		t.Fatalf("Sam reassigns to Bob: %d %s", r.Code, r.Body)
	}
	if !listed(t, s, samT, "assignee="+url.QueryEscape(bob), opened.ID) || listed(t, s, aliceT, "assignee=me", opened.ID) {
		t.Error("?assignee=<bob> does not follow the reassignment")
	}
	if r := s.Do("POST", "/api/v1/cases/"+opened.ID+"/claim", samT, map[string]string{"assignee": alice}); r.Code != http.StatusOK {
		t.Fatalf("Sam gives it back to Alice: %d %s", r.Code, r.Body)
	}

	decide(t, s, aliceT, opened.ID, map[string]string{"decision": "approve", "note": "Same person, same email."}, http.StatusOK)
	done := s.AwaitStatus(opened.ID, certdesk.StatusCompleted)
	if done.Resolution != "merged" || done.AssigneeID == nil || *done.AssigneeID != alice {
		t.Errorf("closed case %+v", done)
	}

	// The store, row by row.
	p3Now, _ := s.Store.CertificationProfile(ctx, p3)
	p4Now, _ := s.Store.CertificationProfile(ctx, p4)
	if p3Now.Status != certdesk.ProfileMerged || p3Now.MergedIntoID == nil || *p3Now.MergedIntoID != p4 || p4Now.Status != certdesk.ProfileActive || p4Now.MergedIntoID != nil {
		t.Errorf("profiles: 100003 %s into %v, 100004 %s", p3Now.Status, p3Now.MergedIntoID, p4Now.Status)
	}
	certs, _ := s.Store.Certifications(ctx, p4)
	var gotCerts []string
	for _, c := range certs {
		dup := "-"
		if c.DuplicateOfID != nil {
			dup = *c.DuplicateOfID
		}
		gotCerts = append(gotCerts, c.ID+" "+dup)
	}
	wantCerts := []string{ // earliest first
		store.DemoID("cert:100004:AZ-900") + " -",
		store.DemoID("cert:100004:DP-900") + " -",
		store.DemoID("cert:100003:AZ-900") + " " + store.DemoID("cert:100004:AZ-900"),
		store.DemoID("cert:100003:AZ-204") + " -",
	}
	if !slices.Equal(gotCerts, wantCerts) {
		t.Errorf("certifications of 100004:\n%v\nwant\n%v", gotCerts, wantCerts)
	}
	exams, _ := s.Store.TranscriptEntries(ctx, p4)
	var gotExams []string
	for _, e := range exams {
		gotExams = append(gotExams, e.ID)
	}
	wantExams := []string{
		store.DemoID("exam:100004:AZ-900:2019"), store.DemoID("exam:100004:DP-900:2020"),
		store.DemoID("exam:100003:AZ-900:2020"), store.DemoID("exam:100003:AZ-204:2021"),
	}
	if !slices.Equal(gotExams, wantExams) {
		t.Errorf("transcript of 100004: %v, want %v", gotExams, wantExams)
	}
	if left, _ := s.Store.Certifications(ctx, p3); len(left) != 0 {
		t.Errorf("certifications left on 100003: %v", left)
	}
	if left, _ := s.Store.TranscriptEntries(ctx, p3); len(left) != 0 {
		t.Errorf("exams left on 100003: %v", left)
	}

	m := s.AwaitMail(chenEmail, mail.MergeCompleted)
	if m.CaseID != opened.ID || !strings.Contains(m.Text, "100003 are merged into MCID 100004") || !strings.Contains(m.Text, "2 certifications and 2 exam results") {
		t.Errorf("Chen's mail: %+v", m)
	}
	r := decide(t, s, bobT, opened.ID, map[string]string{"decision": "approve"}, http.StatusConflict)
	if !strings.Contains(errorMessage(t, r), "completed") {
		t.Errorf("second approval: %s", r.Body)
	}
	want := []string{
		"opened by learner:" + store.DemoID("account:chen.wei@outlook.example"), "preview by system", "awaiting_agent by system",
		"claimed by agent:" + alice, "assigned by agent:" + store.DemoID("agent:sam.supervisor@certdesk.example"),
		"assigned by agent:" + store.DemoID("agent:sam.supervisor@certdesk.example"),
		"decided by agent:" + alice, "merged by agent:" + alice, "completed by system",
	}
	if got := mergeTimeline(t, s, aliceT, opened.ID); !slices.Equal(got, want) {
		t.Errorf("timeline\n%v\nwant\n%v", got, want)
	}
	s.RecordHistory(done.WorkflowID, done.RunID, "merge-approve-closed-first")
}

// A merge Alice requested needs another agent's approval.
func TestAgentRequestedMergeNeedsFourEyes(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	aliceT, bobT := s.Login("alice.agent@certdesk.example"), s.Login("bob.agent@certdesk.example")

	opened := requestMerge(t, s, aliceT, map[string]any{"profile_ids": []string{p4, p3}, "target_id": p3})
	if opened.Requester != "agent:"+alice || opened.Details.TargetID != p3 {
		t.Fatalf("opened %+v", opened)
	}
	cs := s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)
	r := decide(t, s, aliceT, opened.ID, map[string]string{"decision": "approve"}, http.StatusConflict)
	if !strings.Contains(errorMessage(t, r), "another agent must approve") {
		t.Errorf("Alice approving her own request: %s", r.Body)
	}
	if now, _ := s.Store.Case(context.Background(), opened.ID); now.Version != cs.Version || now.Status != certdesk.StatusAwaitingAgent {
		t.Errorf("the refused approval changed the case: %+v", now)
	}
	decide(t, s, bobT, opened.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	if done := s.AwaitStatus(opened.ID, certdesk.StatusCompleted); done.Resolution != "merged" {
		t.Errorf("after Bob's approval: %+v", done)
	}
	if p, _ := s.Store.CertificationProfile(context.Background(), p4); p.Status != certdesk.ProfileMerged || *p.MergedIntoID != p3 {
		t.Errorf("100004 after the merge into 100003: %+v", p)
	}
}

// A rejection needs a note; the learner gets it.
func TestMergeRejectedWithANote(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	chen, bobT := s.Login(chenEmail), s.Login("bob.agent@certdesk.example")
	opened := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}})
	s.AwaitStatus(opened.ID, certdesk.StatusAwaitingAgent)

	r := decide(t, s, bobT, opened.ID, map[string]string{"decision": "reject"}, http.StatusConflict)
	if !strings.Contains(errorMessage(t, r), "needs a note") {
		t.Errorf("a rejection without a note: %s", r.Body)
	}
	decide(t, s, bobT, opened.ID, map[string]string{"decision": "request_info", "note": "?"}, http.StatusConflict)
	decide(t, s, bobT, opened.ID, map[string]string{"decision": "reject", "note": "The exam records show two different people."}, http.StatusOK)
	// Every decision is in the audit log once, the refused ones too; the
	// one the case took was written with it, by the workflow's record.
	var outcomes []string
	log, err := s.Store.AuditLog(t.Context(), "", opened.ID, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range log {
		var d struct{ Decision, Note, Outcome string }
		_ = json.Unmarshal(e.Data, &d)
		if e.Action == "decide" {
			outcomes = append(outcomes, d.Decision+" "+d.Outcome+" by "+string(e.Actor))
			if e.ClientAddr == "" {
				t.Errorf("audit row without the client's address: %+v", e)
			}
			if d.Outcome == "done" && d.Note != "The exam records show two different people." {
				t.Errorf("the decision's audit row: %s", e.Data)
			}
		}
	}
	by := " by " + string(certdesk.AgentActor(bob))
	if want := []string{"reject done" + by, "request_info refused" + by, "reject refused" + by}; !slices.Equal(outcomes, want) {
		t.Errorf("audit of the decisions, newest first:\n%s\nwant\n%s", strings.Join(outcomes, "\n"), strings.Join(want, "\n"))
	}
	done := s.AwaitStatus(opened.ID, certdesk.StatusRejected)
	if done.Resolution != "rejected_by_agent" {
		t.Errorf("closed case %+v", done)
	}
	if m := s.AwaitMail(chenEmail, mail.MergeRejected); !strings.Contains(m.Text, "two different people") {
		t.Errorf("Chen's mail: %s", m.Text)
	}
	if p, _ := s.Store.CertificationProfile(context.Background(), p3); p.Status != certdesk.ProfileActive {
		t.Errorf("a rejected merge changed 100003: %+v", p)
	}
	s.RecordHistory(done.WorkflowID, done.RunID, "merge-reject-closed-first")
}

// Past the SLA the case is escalated and supervisors are emailed; it keeps
// waiting, and a later decision completes it.
func TestMergeEscalatedThenDecided(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres", Configure: func(c *config.Config) { c.AgentSLA = time.Second }})
	chen, bobT := s.Login(chenEmail), s.Login("bob.agent@certdesk.example")
	opened := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}})

	esc := s.AwaitCase(opened.ID, "escalated", func(c certdesk.Case) bool { return c.Escalated })
	if esc.Status != certdesk.StatusAwaitingAgent {
		t.Errorf("escalated case is %s, want still awaiting an agent", esc.Status)
	}
	if m := s.AwaitMail("sam.supervisor@certdesk.example", mail.CaseEscalated); m.CaseID != opened.ID {
		t.Errorf("supervisor's mail: %+v", m)
	}
	if !listed(t, s, bobT, "escalated=true&kind=merge", opened.ID) {
		t.Error("the escalated case is not in ?escalated=true")
	}
	decide(t, s, bobT, opened.ID, map[string]string{"decision": "approve"}, http.StatusOK)
	done := s.AwaitStatus(opened.ID, certdesk.StatusCompleted)
	if !done.Escalated || done.Resolution != "merged" {
		t.Errorf("closed case %+v", done)
	}
	s.RecordHistory(done.WorkflowID, done.RunID, "merge-escalated-mail-beside")
}

// A merge request sent again — its answer lost, or a second click — joins
// the case the first opened, whatever the order of the profiles; another
// set of profiles is another case.
func TestAMergeRequestSentAgainJoinsItsCase(t *testing.T) {
	s := start(t)
	chen := s.Login(chenEmail)
	first := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}, "note": "Both are me."})
	again := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p4, p3}, "note": "Both are me."})
	if again.ID != first.ID {
		t.Fatalf("the request sent again opened case %s beside %s", again.ID, first.ID)
	}
	s.AwaitStatus(first.ID, certdesk.StatusAwaitingAgent)
	if third := requestMerge(t, s, chen, map[string]any{"profile_ids": []string{p3, p4}}); third.ID != first.ID {
		t.Fatalf("asked once more while it awaits an agent: case %s", third.ID)
	}
	var list struct {
		Items []caseOut `json:"items"`
	}
	s.Do("GET", "/api/v1/cases?kind=merge", s.Login("alice.agent@certdesk.example"), nil).Decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("%d merge cases, want 1", len(list.Items))
	}
}
