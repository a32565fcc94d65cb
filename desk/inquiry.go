package desk

import (
	"context"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// inquiryPerSender bounds the questions one mailbox opens (from the portal
// or by email to the support address, which anyone can write to).
var inquiryPerSender = limit.Limit{Name: "inquiry-sender", Max: 5, Window: time.Hour}

type InquiryRequest struct {
	Subject string `json:"subject" form:"subject"`
	Body    string `json:"body" form:"body"`
}

// AskQuestion opens an inquiry for a signed-in learner: their question is
// the conversation's first message.
func (s *Desk) AskQuestion(ctx context.Context, p *certdesk.Principal, req InquiryRequest, files []store.NewAttachment) (certdesk.Case, error) {
	if p.Role != certdesk.RoleLearner {
		return certdesk.Case{}, certdesk.Errorf(certdesk.EFORBIDDEN, "questions come from learners")
	}
	subject, body, err := req.check()
	if err != nil {
		return certdesk.Case{}, err
	}
	kept, refused, err := CheckAttachments(files)
	if err != nil {
		return certdesk.Case{}, err
	}
	if len(refused) > 0 {
		return certdesk.Case{}, certdesk.Invalid(map[string]string{"attachments": strings.Join(refused, "; ")})
	}
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		return certdesk.Case{}, err
	}
	if _, err := s.limits.Check(ctx, inquiryPerSender, certdesk.MailboxKey(l.Account.Email)); err != nil {
		return certdesk.Case{}, err
	}
	in := workflows.InquiryInput{CaseID: certdesk.NewID(), Subject: subject, Channel: "portal", RequestedBy: p.Actor(),
		LearnerName: l.Account.DisplayName, LearnerEmail: l.Account.Email, AccountID: l.Account.ID}
	if l.LearningProfile != nil {
		// The replies' language is the one kept for the learner's address.
		in.LearningProfileID = l.LearningProfile.ID
		s.learnerLanguage(ctx, in.LearningProfileID)
	}
	return s.openInquiry(ctx, in, store.Message{Direction: store.MessageIn, Author: p.Actor(), FromAddr: l.Account.Email, Subject: subject, Body: body}, kept,
		enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL)
}

func (r InquiryRequest) check() (subject, body string, err error) {
	fields := map[string]string{}
	subject = strings.TrimSpace(r.Subject)
	if subject == "" || len(subject) > certdesk.MaxSubject {
		fields["subject"] = "say in a few words what it is about (at most 200 characters)"
	}
	body, berr := messageText(r.Body, "body")
	if berr != nil {
		fields["body"] = certdesk.ErrorFields(berr)["body"]
	}
	if len(fields) > 0 {
		return "", "", certdesk.Invalid(fields)
	}
	return subject, body, nil
}

// openInquiry starts an inquiry's workflow (which opens the case), then
// records its first message.
func (s *Desk) openInquiry(ctx context.Context, in workflows.InquiryInput, first store.Message, files []store.NewAttachment,
	conflict enumspb.WorkflowIdConflictPolicy) (certdesk.Case, error) {
	in.AgentSLA = workflows.Duration(s.cfg.AgentSLA)
	cs, err := s.startCase(ctx, in.LearnerEmail, in.CaseID, workflows.InquiryWorkflowID(in.CaseID), conflict, workflows.Inquiry, in, certdesk.KindInquiry)
	if err != nil {
		return cs, err
	}
	first.CaseID = cs.ID
	if _, err := s.store.RecordMessage(ctx, &first, files, certdesk.EventLearnerMessage); err != nil {
		return cs, err
	}
	return s.store.Case(ctx, cs.ID)
}

// ConvertRequest turns an inquiry into the case the learner needs.
type ConvertRequest struct {
	Kind certdesk.Kind `json:"kind"`
	// ProfileIDs and TargetID: a merge's profiles (and target); or MCIDs,
	// the profiles as people quote them.
	ProfileIDs []string `json:"profile_ids"`
	MCIDs      []string `json:"mcids" form:"mcids"`
	TargetID   string   `json:"target_id"`
	Note       string   `json:"note"`
	// Recovery is a recovery's request, as the learner's form has it.
	Recovery *RecoveryRequest `json:"recovery"`
}

// Convert turns an open inquiry into a connect, merge or recovery case
// whose parent is the inquiry, then closes the inquiry naming it. The new
// case is the learner's: a connect case for their learning profile, a merge
// requested by the agent on their behalf, a recovery from the details the
// agent took from the conversation (its contact address confirms it, as
// always).
func (s *Desk) Convert(ctx context.Context, p *certdesk.Principal, inq certdesk.Case, req ConvertRequest) (child certdesk.Case, err error) {
	defer func() {
		s.auditAction(ctx, p, "convert", inq, map[string]any{"kind": req.Kind, "case_id": child.ID}, err)
	}()
	switch {
	case !p.Role.Staff():
		return child, certdesk.Errorf(certdesk.EFORBIDDEN, "staff turn inquiries into cases")
	case inq.Kind != certdesk.KindInquiry:
		return child, certdesk.Errorf(certdesk.ECONFLICT, "only an inquiry is turned into another case")
	case inq.Status != certdesk.StatusAwaitingAgent:
		return child, certdesk.Errorf(certdesk.ECONFLICT, "this inquiry is %s: it can be turned into a case while it awaits an agent", inq.Status)
	}
	if err := s.holds(ctx, p, inq); err != nil {
		return child, err
	}
	switch req.Kind {
	case certdesk.KindConnect:
		if inq.AccountID == nil {
			return child, certdesk.Errorf(certdesk.ECONFLICT, "the learner wrote by email, without signing in: a connect case is opened from their sign-in; ask them to sign in and write from the portal")
		}
		child, _, err = s.openConnect(ctx, *inq.AccountID, inq.ID)
	case certdesk.KindMerge:
		if len(req.ProfileIDs) == 0 {
			if req.ProfileIDs, err = s.profileIDs(ctx, req.MCIDs); err != nil {
				return child, err
			}
		}
		mr := MergeRequest{ProfileIDs: req.ProfileIDs, TargetID: req.TargetID, Note: req.Note}
		ids, verr := mr.validate()
		if verr != nil {
			return child, verr
		}
		in := workflows.MergeInput{ProfileIDs: ids, TargetID: mr.TargetID, Note: mr.Note, AgentSLA: workflows.Duration(s.cfg.AgentSLA),
			ParentCaseID: inq.ID}
		if inq.AccountID != nil {
			in.AccountID = *inq.AccountID
		}
		if inq.LearningProfileID != nil {
			in.LearningProfileID = *inq.LearningProfileID
		}
		child, err = s.startMerge(ctx, p, in)
	case certdesk.KindRecovery:
		if req.Recovery == nil {
			return child, certdesk.Invalid(map[string]string{"recovery": "the recovery's request: legal_name, contact_email, new_account_email, description…"})
		}
		child, err = s.submitRecovery(ctx, *req.Recovery, inq.ID)
	default:
		return child, certdesk.Invalid(map[string]string{"kind": "must be connect, merge or recovery"})
	}
	if err != nil {
		return child, err
	}
	in := workflows.DecisionInput{Decision: certdesk.DecisionConvert, AgentID: p.AgentID, Role: p.Role, ClientAddr: p.ClientAddr,
		ConvertedTo: child.ID, ConvertedKind: child.Kind}
	var res workflows.DecisionResult
	if err := s.update(ctx, inq, workflows.UpdateDecide, in, &res); err != nil {
		return child, err
	}
	return child, nil
}

// profileIDs finds the profiles of MCIDs.
func (s *Desk) profileIDs(ctx context.Context, mcids []string) ([]string, error) {
	var ids []string
	for _, m := range mcids {
		if m = strings.TrimSpace(m); m == "" {
			continue
		}
		p, err := s.store.CertificationProfileByMCID(ctx, m)
		if certdesk.ErrorCode(err) == certdesk.ENOTFOUND {
			return nil, certdesk.Invalid(map[string]string{"mcids": "no certification profile has MCID " + m})
		} else if err != nil {
			return nil, err
		}
		ids = append(ids, p.ID)
	}
	return ids, nil
}
