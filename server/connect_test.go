package server_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// The requests a connect case refuses before it starts anything.
func TestConnectRequestRefusals(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	cases := []struct {
		name, who string
		body      any
		code      int
		errCode   string
		message   string
	}{
		{"an agent", "alice.agent@certdesk.example", nil, http.StatusForbidden, "forbidden", ""},
		{"a learner without a learning profile", "ben.okafor@hotmail.example", nil, http.StatusConflict, "conflict", "has no learning profile"},
		{"a body with unknown fields", "ana.silva@outlook.example", map[string]string{"profile": "100001"}, http.StatusBadRequest, "invalid", ""},
		{"a body that is not JSON", "ana.silva@outlook.example", "connect me", http.StatusBadRequest, "invalid", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do("POST", "/api/v1/connect-requests", h.login(tc.who), tc.body)
			if r.Code != tc.code || r.errorCode(t) != tc.errCode {
				t.Fatalf("= %d %s, want %d %s", r.Code, r.Body, tc.code, tc.errCode)
			}
			if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, tc.message) {
				t.Errorf("message %q, want it to say %q", msg, tc.message)
			}
		})
	}
	if n := countCases(t, h.store); n != 0 {
		t.Errorf("%d cases opened by refused requests", n)
	}
}

func countCases(t *testing.T, s *store.Store) int {
	t.Helper()
	page, err := s.ListCases(context.Background(), store.CaseFilter{Limit: store.MaxPageSize})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

// caseOf decodes a case answer.
type caseAnswer struct {
	ID         string          `json:"id"`
	Kind       certdesk.Kind   `json:"kind"`
	Status     certdesk.Status `json:"status"`
	Resolution string          `json:"resolution"`
	Subject    string          `json:"subject"`
	Learner    string          `json:"learner_name"`
	WorkflowID string          `json:"workflow_id"`
	RunID      string          `json:"run_id"`
}

// One open connect case per learning profile: asking again (or twice at
// once) answers the open case; once it ended, asking opens a new one.
func TestConnectRequestOneOpenCaseAtATime(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	s := stacktest.Start(t, stacktest.Options{})
	token := s.Login("ben.okafor@contoso.example")

	// Two requests at once: one case.
	var (
		answers [2]stacktest.Response
		wg      sync.WaitGroup
	)
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = s.Do("POST", "/api/v1/connect-requests", token, nil)
		}()
	}
	wg.Wait()
	codes := map[int]int{}
	var first, second caseAnswer
	answers[0].Decode(t, &first)
	answers[1].Decode(t, &second)
	for _, a := range answers {
		codes[a.Code]++
	}
	if codes[http.StatusAccepted] != 1 || codes[http.StatusOK] != 1 || first.ID != second.ID {
		t.Fatalf("two requests at once = %d %s / %d %s: want one 202 and one 200 with the same case",
			answers[0].Code, answers[0].Body, answers[1].Code, answers[1].Body)
	}
	if first.Kind != certdesk.KindConnect || first.Learner != "Ben Okafor" || first.Subject != "Ben Okafor · connect" {
		t.Errorf("case %+v", first)
	}
	var got caseAnswer
	if r := s.Do("GET", "/api/v1/cases/"+first.ID, token, nil); r.Code != http.StatusOK {
		t.Fatalf("GET the case = %d %s", r.Code, r.Body)
	} else {
		r.Decode(t, &got)
	}
	// Its workflow is staff business: the learner does not see it.
	if got.ID != first.ID || got.WorkflowID != "" || got.RunID != "" {
		t.Errorf("GET shows %+v", got)
	}
	firstRun, _ := s.Store.Case(context.Background(), first.ID)
	if firstRun.WorkflowID != "connect-"+store.DemoID("lp:ben") || firstRun.RunID == "" {
		t.Errorf("the case's workflow %s/%s", firstRun.WorkflowID, firstRun.RunID)
	}

	s.AwaitStatus(first.ID, certdesk.StatusAwaitingLearner)
	r := s.Do("POST", "/api/v1/connect-requests", token, map[string]any{})
	var again caseAnswer
	r.Decode(t, &again)
	if r.Code != http.StatusOK || again.ID != first.ID || again.Status != certdesk.StatusAwaitingLearner {
		t.Fatalf("asking again while it waits = %d %s, want 200 with the same case", r.Code, r.Body)
	}

	lp := store.DemoID("lp:ben")
	if r := s.Do("POST", "/api/v1/learning-profiles/"+lp+"/accounts", token,
		map[string]string{"email": "ben.okafor@hotmail.example", "kind": "personal"}); r.Code != http.StatusCreated {
		t.Fatalf("add account = %d %s", r.Code, r.Body)
	}
	done := s.AwaitStatus(first.ID, certdesk.StatusCompleted)
	if done.Resolution != certdesk.ConnectConnected {
		t.Fatalf("resolution %q", done.Resolution)
	}

	// The case ended: a new request is a new case, on a new run.
	r = s.Do("POST", "/api/v1/connect-requests", token, nil)
	var next caseAnswer
	r.Decode(t, &next)
	nextRun, _ := s.Store.Case(context.Background(), next.ID)
	if r.Code != http.StatusAccepted || next.ID == first.ID || nextRun.WorkflowID != firstRun.WorkflowID || nextRun.RunID == firstRun.RunID {
		t.Fatalf("asking after the end = %d %s, want 202 with a new case on a new run", r.Code, r.Body)
	}
	last := s.AwaitStatus(next.ID, certdesk.StatusCompleted)
	if last.Resolution != certdesk.ConnectAlreadyConnected {
		t.Errorf("second case resolution %q, want already_connected", last.Resolution)
	}
	cases, err := s.Store.CasesOfWorkflow(context.Background(), firstRun.WorkflowID)
	if err != nil || len(cases) != 2 {
		t.Fatalf("cases of the workflow: %d, %v; want 2", len(cases), err)
	}
}
