package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// searchState is a case workflow's search attributes as its upserts left
// them, each upsert taken at the workflow clock's time.
type searchState struct {
	e       *env
	start   time.Time
	upserts []upsert
	// last is the attributes the run started with, then each upsert laid
	// on them.
	last map[string]any
}

type upsert struct {
	at     time.Duration
	values map[string]any
}

// watchSearch starts the run with attrs and records its every upsert.
func watchSearch(e *env, attrs temporal.SearchAttributes) *searchState {
	s := &searchState{e: e, start: e.Now(), last: values(attrs)}
	if err := e.SetTypedSearchAttributesOnStart(attrs); err != nil {
		e.t.Fatal(err)
	}
	e.OnUpsertTypedSearchAttributes(mock.Anything).Return(nil).Run(func(args mock.Arguments) {
		u := upsert{at: e.Now().Sub(s.start), values: values(args.Get(0).(temporal.SearchAttributes))}
		s.upserts = append(s.upserts, u)
	})
	return s
}

func values(sa temporal.SearchAttributes) map[string]any {
	out := map[string]any{}
	for k, v := range sa.GetUntypedValues() {
		out[k.GetName()] = v // nil: unset
	}
	return out
}

// at is the attributes at a time of the workflow's clock.
func (s *searchState) at(d time.Duration) map[string]any {
	out := map[string]any{}
	for k, v := range s.last {
		out[k] = v
	}
	for _, u := range s.upserts {
		if u.at > d {
			break
		}
		for k, v := range u.values {
			if v == nil {
				delete(out, k)
			} else {
				out[k] = v
			}
		}
	}
	return out
}

func (s *searchState) check(t *testing.T, d time.Duration, want map[string]any) {
	t.Helper()
	got := s.at(d)
	// An unset is not visible through the SDK's mock (it filters nil
	// values out); the embedded server's test checks unsets.
	for k, v := range want {
		if v == nil {
			if g, ok := got[k]; ok {
				t.Errorf("at %v: %s = %v, want it unset", d, k, g)
			}
			continue
		}
		if got[k] != v {
			t.Errorf("at %v: %s = %v, want %v (all: %v)", d, k, got[k], v, got)
		}
	}
}

// A merge case's search attributes follow it: awaiting an agent once
// reviewed, escalated when its SLA passes, held by the agent the desk says
// claimed it (a signal older than what the workflow knows changes
// nothing), completed at the end. Nothing is upserted that did not change:
// the case id and kind came with the start.
func TestSearchAttributesFollowAMergeCase(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenMerge()
	s := watchSearch(e, workflows.StartSearchAttributes(in.CaseID, certdesk.KindMerge))
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(workflows.SignalAssigneeChanged, workflows.AssigneeChanged{Assignee: alice, Version: 100})
	}, 50*time.Hour)
	e.RegisterDelayedCallback(func() { // older than what the workflow knows: ignored
		e.SignalWorkflow(workflows.SignalAssigneeChanged, workflows.AssigneeChanged{Assignee: bob, Version: 3})
	}, 51*time.Hour)
	ans := e.decideAt(72*time.Hour, "", approve(alice))
	e.ExecuteWorkflow(workflows.Merge, in)
	if res := e.mergeResult(); !ans.accepted || res.Resolution != certdesk.MergeMerged {
		t.Fatalf("decision %+v, result %+v", ans, res)
	}

	s.check(t, time.Hour, map[string]any{"CaseId": in.CaseID, "CaseKind": "merge", "CaseStatus": "awaiting_agent", "CaseEscalated": false, "CaseAssignee": nil})
	s.check(t, 47*time.Hour, map[string]any{"CaseEscalated": false})
	s.check(t, 49*time.Hour, map[string]any{"CaseStatus": "awaiting_agent", "CaseEscalated": true})
	s.check(t, 51*time.Hour+time.Minute, map[string]any{"CaseAssignee": alice})
	s.check(t, 73*time.Hour, map[string]any{"CaseId": in.CaseID, "CaseKind": "merge", "CaseStatus": "completed", "CaseEscalated": true, "CaseAssignee": alice})
	for _, u := range s.upserts {
		for _, k := range []string{"CaseId", "CaseKind"} {
			if _, ok := u.values[k]; ok {
				t.Errorf("upsert at %v sets %s again, which the start set: %v", u.at, k, u.values)
			}
		}
	}
	if len(s.upserts) > 8 {
		t.Errorf("%d upserts, want one per change of an attribute: %v", len(s.upserts), s.upserts)
	}
}

// A case started without them (by a client that set none, as before they
// existed) gets them all from its workflow.
func TestSearchAttributesOfACaseStartedWithout(t *testing.T) {
	e := newEnv(t, "sqlite")
	in := chenMerge()
	s := watchSearch(e, temporal.SearchAttributes{})
	e.RegisterDelayedCallback(func() {
		e.SignalWorkflow(workflows.SignalAssigneeChanged, workflows.AssigneeChanged{Assignee: bob, Version: 100})
	}, time.Hour)
	e.decideAt(3*time.Hour, "", reject(alice, "not the same person"))
	e.ExecuteWorkflow(workflows.Merge, in)
	e.mergeResult()
	s.check(t, time.Minute, map[string]any{"CaseId": in.CaseID, "CaseKind": "merge", "CaseStatus": "awaiting_agent", "CaseEscalated": false})
	s.check(t, time.Hour+time.Minute, map[string]any{"CaseAssignee": bob})
	s.check(t, 4*time.Hour, map[string]any{"CaseStatus": "rejected", "CaseAssignee": bob})
}
