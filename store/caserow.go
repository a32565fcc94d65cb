package store

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/certdesk/certdesk"
)

// caseRow is a case as the cases table keeps it: the domain's Case with its
// lists of profiles as space-separated words, which the search matches.
type caseRow struct {
	ID                string
	Kind              certdesk.Kind
	Status            certdesk.Status
	Resolution        string
	Escalated         bool
	Unreachable       bool
	SecurityReview    bool
	Subject           string
	LearnerName       string
	LearnerEmail      string
	LearningProfileID *string
	AccountID         *string
	ProfileIDs        string
	MCIDs             string `gorm:"column:mcids"`
	Requester         certdesk.Actor
	AssigneeID        *string
	ParentCaseID      *string
	SLADueAt          *time.Time
	WorkflowID        string
	RunID             string
	Version           int64
	WorkflowStep      int64
	Details           json.RawMessage
	CreatedAt         time.Time
	UpdatedAt         time.Time
	ClosedAt          *time.Time
}

func (caseRow) TableName() string { return "cases" }

func rowOf(c certdesk.Case) caseRow {
	return caseRow{ID: c.ID, Kind: c.Kind, Status: c.Status, Resolution: c.Resolution, Escalated: c.Escalated, Unreachable: c.Unreachable,
		SecurityReview: c.SecurityReview, Subject: c.Subject, LearnerName: c.LearnerName, LearnerEmail: c.LearnerEmail,
		LearningProfileID: c.LearningProfileID, AccountID: c.AccountID, ProfileIDs: strings.Join(c.ProfileIDs, " "),
		MCIDs: strings.Join(c.MCIDs, " "), Requester: c.Requester, AssigneeID: c.AssigneeID, ParentCaseID: c.ParentCaseID,
		SLADueAt: c.SLADueAt, WorkflowID: c.WorkflowID, RunID: c.RunID, Version: c.Version, WorkflowStep: c.WorkflowStep,
		Details: c.Details, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, ClosedAt: c.ClosedAt}
}

func (r caseRow) domain() certdesk.Case {
	return certdesk.Case{ID: r.ID, Kind: r.Kind, Status: r.Status, Resolution: r.Resolution, Escalated: r.Escalated, Unreachable: r.Unreachable,
		SecurityReview: r.SecurityReview, Subject: r.Subject, LearnerName: r.LearnerName, LearnerEmail: r.LearnerEmail,
		LearningProfileID: r.LearningProfileID, AccountID: r.AccountID, ProfileIDs: strings.Fields(r.ProfileIDs),
		MCIDs: strings.Fields(r.MCIDs), Requester: r.Requester, AssigneeID: r.AssigneeID, ParentCaseID: r.ParentCaseID,
		SLADueAt: r.SLADueAt, WorkflowID: r.WorkflowID, RunID: r.RunID, Version: r.Version, WorkflowStep: r.WorkflowStep,
		Details: r.Details, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ClosedAt: r.ClosedAt}
}

func domainCases(rows []caseRow) []certdesk.Case {
	out := make([]certdesk.Case, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out
}
