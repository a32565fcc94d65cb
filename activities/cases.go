package activities

import (
	"context"
	"encoding/json"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// OpenCaseInput creates a case's projection.
type OpenCaseInput struct {
	Case  certdesk.Case
	Actor certdesk.Actor
	// Data is the "opened" event's data.
	Data json.RawMessage
}

// OpenCase writes a case's projection and its "opened" event.
// Retry: inserting a case id that exists changes nothing.
func (a *Activities) OpenCase(ctx context.Context, in OpenCaseInput) (certdesk.Case, error) {
	c := in.Case
	_, err := a.Store.OpenCase(ctx, &c, store.Event{Actor: in.Actor, Type: certdesk.EventOpened, Data: in.Data})
	return c, nonRetryable(err)
}

// ChangeCaseInput is one transition of a case, numbered by the workflow.
type ChangeCaseInput struct {
	CaseID string
	// Step is the workflow's own count of its transitions (deterministic,
	// so a replay numbers them the same).
	Step           int64
	Status         certdesk.Status
	Resolution     string
	Escalated      *bool
	Unreachable    *bool
	SecurityReview *bool
	Assignee       *string
	SLADueAt       *time.Time
	ClearSLA       bool
	Details        json.RawMessage
	Subject        string
	ProfileIDs     []string
	MCIDs          []string
	AccountID      *string
	Actor          certdesk.Actor
	Event          certdesk.EventType
	Data           json.RawMessage
	// Audit, when set, is the agent's action this change carries out: its
	// audit row is written in the change's transaction.
	Audit *AuditInput `json:",omitempty"`
}

// AuditInput is an audit row written with a case change (actor and case
// are the change's).
type AuditInput struct {
	Action     string
	ClientAddr string
	Data       json.RawMessage
}

// ChangeCase applies a transition to the projection and appends its event.
// Retry: a step applied before is a no-op (the case keeps its last step).
func (a *Activities) ChangeCase(ctx context.Context, in ChangeCaseInput) (certdesk.Case, error) {
	c, _, err := a.Store.ChangeCase(ctx, store.Change{
		CaseID: in.CaseID, WorkflowStep: in.Step, Status: in.Status, Resolution: in.Resolution,
		Escalated: in.Escalated, Unreachable: in.Unreachable, SecurityReview: in.SecurityReview,
		Assignee: in.Assignee, SLADueAt: in.SLADueAt, ClearSLA: in.ClearSLA, Details: in.Details, Subject: in.Subject,
		ProfileIDs: in.ProfileIDs, MCIDs: in.MCIDs, AccountID: in.AccountID,
		Event: store.Event{Actor: in.Actor, Type: in.Event, Data: in.Data},
		Audit: auditEntry(in.Audit),
	})
	return c, nonRetryable(err)
}

func auditEntry(in *AuditInput) *store.AuditEntry {
	if in == nil {
		return nil
	}
	return &store.AuditEntry{Action: in.Action, ClientAddr: in.ClientAddr, Data: in.Data}
}

// Supervisors lists the supervisors, to escalate a case to.
// Retry: it only reads.
func (a *Activities) Supervisors(ctx context.Context) ([]certdesk.Agent, error) {
	return a.Store.Agents(ctx, certdesk.RoleSupervisor)
}

// EmailsReachedInput names emails of a case by step.
type EmailsReachedInput struct {
	CaseID string
	Steps  []string
}

// EmailsReached says which of a case's emails reached their recipient as
// far as certdesk knows: accepted by the provider and neither refused nor
// reported bounced or dropped since.
// Retry: it only reads.
func (a *Activities) EmailsReached(ctx context.Context, in EmailsReachedInput) ([]string, error) {
	emails, err := a.Store.EmailsOfCase(ctx, in.CaseID)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, s := range in.Steps {
		want[s] = true
	}
	reached := []string{}
	for _, e := range emails {
		if want[e.Step] && (e.Status == store.EmailSent || e.Status == store.EmailDelivered) {
			reached = append(reached, e.Step)
		}
	}
	return reached, nil
}

// FailCaseInput records a case's workflow failure.
type FailCaseInput struct {
	// Case is the projection the case opens with, for a case that never
	// got one.
	Case   certdesk.Case
	Step   int64
	Reason string
}

// FailCase shows a case failed, opening its projection if it has none.
// Retry: the step applied before is a no-op; the projection is inserted once.
func (a *Activities) FailCase(ctx context.Context, in FailCaseInput) (certdesk.Case, error) {
	c, err := a.Store.FailCase(ctx, in.Case, in.Step, in.Reason)
	return c, nonRetryable(err)
}
