package workflows

import (
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
)

// Search attributes: how a case is found with Temporal's own tools, e.g.
//
//	temporal workflow list --query 'CaseStatus="awaiting_agent" AND CaseKind="merge"'
//
// They carry ids and states only, never a name or an email: Temporal's
// visibility store is read by whoever operates the cluster. A namespace
// must have them registered before a case starts (dev mode's embedded
// server does it; a cluster runs `certdesk temporal setup`): a start that
// names an unknown attribute is refused, and an upsert of one fails the
// workflow task.
var (
	// SearchCaseID is the case's id (the workflow id is derived from it,
	// but a connect case's is the learning profile's).
	SearchCaseID = temporal.NewSearchAttributeKeyKeyword("CaseId")
	// SearchCaseKind is connect, merge or recovery.
	SearchCaseKind = temporal.NewSearchAttributeKeyKeyword("CaseKind")
	// SearchCaseStatus is the case's status as its projection has it.
	SearchCaseStatus = temporal.NewSearchAttributeKeyKeyword("CaseStatus")
	// SearchCaseAssignee is the id of the agent holding the case; unset
	// when nobody does.
	SearchCaseAssignee = temporal.NewSearchAttributeKeyKeyword("CaseAssignee")
	// SearchCaseEscalated is set when the case's SLA passed.
	SearchCaseEscalated = temporal.NewSearchAttributeKeyBool("CaseEscalated")
)

// searchKeys are every search attribute of a case, in the order they are
// registered and documented.
var searchKeys = []temporal.SearchAttributeKey{SearchCaseID, SearchCaseKind, SearchCaseStatus, SearchCaseAssignee, SearchCaseEscalated}

// SearchAttributes are the custom search attributes a namespace must have
// for certdesk, by name, with their types: what dev mode and `certdesk
// temporal setup` register.
func SearchAttributes() map[string]enumspb.IndexedValueType {
	out := make(map[string]enumspb.IndexedValueType, len(searchKeys))
	for _, k := range searchKeys {
		out[k.GetName()] = k.GetValueType()
	}
	return out
}

// SearchAttributeNames are the names of SearchAttributes, in a fixed order.
func SearchAttributeNames() []string {
	out := make([]string, len(searchKeys))
	for i, k := range searchKeys {
		out[i] = k.GetName()
	}
	return out
}

// StartSearchAttributes are what a case's workflow starts with: the case,
// its kind, open and not escalated. The workflow keeps them current from
// then on.
func StartSearchAttributes(caseID string, kind certdesk.Kind) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		SearchCaseID.ValueSet(caseID),
		SearchCaseKind.ValueSet(string(kind)),
		SearchCaseStatus.ValueSet(string(certdesk.StatusOpen)),
		SearchCaseEscalated.ValueSet(false),
	)
}

// SignalAssigneeChanged tells a case's workflow who holds the case now: the
// desk writes a claim to the store, and the workflow, which never reads the
// store for it, learns it from this signal (payload AssigneeChanged).
const SignalAssigneeChanged = "assignee_changed"

// AssigneeChanged is the payload of SignalAssigneeChanged: the case's
// assignee (empty: nobody) as of the projection's version. Signals and the
// workflow's own projection writes both say who holds the case; the one
// with the higher version wins, so a late signal changes nothing.
type AssigneeChanged struct {
	Assignee string
	Version  int64
	// By is the staff member who made the change; when it is not the
	// assignee (an assignment, not a claim) the assignee is told
	// (assigned.go). Signals sent before it was carried have none.
	By string `json:",omitempty"`
}

// searchVersion is the change that keeps the search attributes current:
// cases started before it upsert nothing (their histories have no upsert).
const searchVersion = "case-search-attributes"

// searchable reports whether this run keeps its search attributes current.
// It asks workflow.GetVersion once, where the first index happens (after the
// case is opened, or as it fails), and keeps the answer for the run.
func (c *caseRun) searchable(ctx workflow.Context) bool {
	if c.search == nil {
		on := workflow.GetVersion(ctx, searchVersion, workflow.DefaultVersion, 1) == 1
		c.search = &on
	}
	return *c.search
}

// assigned takes in who holds the case as of a version of its projection,
// unless the workflow already knows a later one.
func (c *caseRun) assigned(who AssigneeChanged) {
	if who.Version >= c.holder.Version {
		c.holder = who
	}
}

// wrote takes in a projection the workflow wrote: it is the case now, and
// it says who holds it.
func (c *caseRun) wrote(cs certdesk.Case) {
	c.last = cs
	who := AssigneeChanged{Version: cs.Version}
	if cs.AssigneeID != nil {
		who.Assignee = *cs.AssigneeID
	}
	c.assigned(who)
}

// index brings the run's search attributes in line with the case as the
// workflow last wrote it (and the assignee it last heard of), upserting
// only what differs: a transition that changes none of them adds nothing
// to the history.
func (c *caseRun) index(ctx workflow.Context) {
	if c.last.Version == 0 || !c.searchable(ctx) {
		return
	}
	have := workflow.GetTypedSearchAttributes(ctx)
	var updates []temporal.SearchAttributeUpdate
	keyword := func(k temporal.SearchAttributeKeyKeyword, want string) {
		got, ok := have.GetKeyword(k)
		switch {
		case want == "" && ok:
			updates = append(updates, k.ValueUnset())
		case want != "" && (!ok || got != want):
			updates = append(updates, k.ValueSet(want))
		}
	}
	keyword(SearchCaseID, c.ID)
	keyword(SearchCaseKind, string(c.last.Kind))
	keyword(SearchCaseStatus, string(c.last.Status))
	keyword(SearchCaseAssignee, c.holder.Assignee)
	if got, ok := have.GetBool(SearchCaseEscalated); !ok || got != c.last.Escalated {
		updates = append(updates, SearchCaseEscalated.ValueSet(c.last.Escalated))
	}
	if len(updates) == 0 {
		return
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		// Only a malformed update is refused here (a bug); the case goes on.
		workflow.GetLogger(ctx).Error("search attributes not upserted", "case", c.ID, "err", err)
	}
}

// listenAssignee takes SignalAssigneeChanged for as long as the run lives.
// A run without the signal in its history is unchanged by it.
func (c *caseRun) listenAssignee(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalAssigneeChanged)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var who AssigneeChanged
			if !ch.Receive(ctx, &who) {
				return
			}
			c.assigned(who)
			c.index(ctx)
			if who.By != "" && who.Assignee != "" && who.By != who.Assignee {
				workflow.Go(ctx, func(ctx workflow.Context) { c.tellAssignee(ctx, who) })
			}
		}
	})
}

// childSearchAttributes are the start attributes of a child case (connect's
// merge), for a run that keeps them; none otherwise.
func (c *caseRun) childSearchAttributes(ctx workflow.Context, childID string, kind certdesk.Kind) temporal.SearchAttributes {
	if !c.searchable(ctx) {
		return temporal.SearchAttributes{}
	}
	return StartSearchAttributes(childID, kind)
}
