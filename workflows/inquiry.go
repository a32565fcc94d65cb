package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
)

// InquiryWorkflowID is the id of an inquiry case's workflow.
func InquiryWorkflowID(caseID string) string { return "inquiry-" + caseID }

// InquiryInput starts an inquiry case.
type InquiryInput struct {
	CaseID  string
	Subject string
	// Channel is "portal" or "email".
	Channel     string
	RequestedBy certdesk.Actor
	// LearnerName and LearnerEmail are who asks (the address replies go
	// to); AccountID and LearningProfileID link a signed-in learner's.
	LearnerName       string
	LearnerEmail      string
	AccountID         string
	LearningProfileID string
	AgentSLA          Duration
}

// InquiryResult is how an inquiry ended.
type InquiryResult struct {
	Status      certdesk.Status
	Resolution  string
	CaseID      string
	ConvertedTo string `json:",omitempty"`
}

// Inquiry is a learner's general question: it waits for an agent (with the
// SLA and escalation of every case) while the conversation goes on, and
// ends when an agent resolves it, or turns it into another case (the desk
// starts that case, then decides "convert" naming it). See docs/design.md,
// "Inquiry".
func Inquiry(ctx workflow.Context, in InquiryInput) (_ InquiryResult, err error) {
	if in.AgentSLA <= 0 {
		in.AgentSLA = Duration(certdesk.DefaultAgentSLA)
	}
	run := newCase(in.CaseID)
	defer run.settle(ctx)
	defer run.failVisibly(ctx, certdesk.KindInquiry, func() certdesk.Case { return InquiryCase(in) }, &err)
	if err := run.serve(ctx); err != nil {
		return InquiryResult{}, err
	}
	desk, err := newAgentDesk(ctx, run, certdesk.KindInquiry, in.AgentSLA.D(), checkConversion)
	if err != nil {
		return InquiryResult{}, err
	}
	if _, err := run.open(ctx, InquiryCase(in), in.RequestedBy, map[string]any{"subject": in.Subject, "channel": in.Channel}); err != nil {
		return InquiryResult{}, err
	}
	dec, err := desk.await(ctx, "question: "+in.Subject)
	if err != nil {
		return InquiryResult{}, err
	}
	ctx = desk.traced(ctx)
	agent := certdesk.AgentActor(dec.AgentID)
	d := certdesk.InquiryDetails{Subject: in.Subject, Channel: in.Channel}
	resolution, data := certdesk.InquiryAnswered, map[string]any{}
	if dec.Decision == certdesk.DecisionConvert {
		resolution = certdesk.InquiryConverted
		d.ConvertedTo, d.ConvertedToKind = dec.ConvertedTo, dec.ConvertedKind
		data["converted_to"], data["converted_to_kind"] = dec.ConvertedTo, dec.ConvertedKind
	}
	if err := desk.decided(ctx, dec, data); err != nil {
		return InquiryResult{}, err
	}
	data["resolution"] = resolution
	if _, err := run.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusCompleted, Resolution: resolution, ClearSLA: true, Actor: agent,
		Details: mustJSON(d), Event: certdesk.EventCompleted, Data: mustJSON(data)}); err != nil {
		return InquiryResult{}, err
	}
	return InquiryResult{Status: certdesk.StatusCompleted, Resolution: resolution, CaseID: run.ID, ConvertedTo: d.ConvertedTo}, nil
}

// checkConversion: a conversion names the case it became.
func checkConversion(in DecisionInput) error {
	if in.Decision == certdesk.DecisionConvert && (in.ConvertedTo == "" || in.ConvertedKind == "") {
		return certdesk.Errorf(certdesk.ECONFLICT, "a conversion names the case the inquiry became")
	}
	return nil
}

// InquiryCase is the projection an inquiry case opens with.
func InquiryCase(in InquiryInput) certdesk.Case {
	cs := certdesk.Case{ID: in.CaseID, Kind: certdesk.KindInquiry, Status: certdesk.StatusOpen, Requester: in.RequestedBy,
		Subject: in.Subject, LearnerName: in.LearnerName, LearnerEmail: certdesk.NormalizeEmail(in.LearnerEmail),
		Details: mustJSON(certdesk.InquiryDetails{Subject: in.Subject, Channel: in.Channel})}
	if in.AccountID != "" {
		cs.AccountID = &in.AccountID
	}
	if in.LearningProfileID != "" {
		cs.LearningProfileID = &in.LearningProfileID
	}
	return cs
}
