package desk

import (
	"context"
	"regexp"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/limit"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// Limits of the public form: per client address, and per mailbox (so
// nobody floods one inbox with verification links).
var (
	RecoveryPerClient = limit.Limit{Name: "recovery-client", Max: 10, Window: time.Hour}
	recoveryPerEmail  = limit.Limit{Name: "recovery-email", Max: 3, Window: time.Hour}
)

var (
	validExam = regexp.MustCompile(`^[A-Z0-9]{1,8}(-[A-Z0-9]{1,8}){0,2}$`)
)

type RecoveryRequest struct {
	LegalName       string `json:"legal_name" form:"legal_name"`
	ContactEmail    string `json:"contact_email" form:"contact_email"`
	MCID            string `json:"mcid" form:"mcid"`
	PreviousEmail   string `json:"previous_email" form:"previous_email"`
	NewAccountEmail string `json:"new_account_email" form:"new_account_email"`
	// Exam is the code of an exam the learner passed on the lost profile:
	// something a stranger who saw a certificate rarely knows.
	Exam        string `json:"exam" form:"exam"`
	Description string `json:"description" form:"description"`
}

// claim checks the form and returns it normalized. Only the form is
// checked: nothing is looked up before the contact address is verified.
func (r RecoveryRequest) claim() (workflows.RecoveryClaim, error) {
	c := workflows.RecoveryClaim{
		LegalName: strings.Join(strings.Fields(r.LegalName), " "), MCID: strings.TrimSpace(r.MCID),
		Exam: strings.ToUpper(strings.TrimSpace(r.Exam)), Description: strings.TrimSpace(r.Description),
	}
	fields := map[string]string{}
	if certdesk.NormalizeName(c.LegalName) == "" || len(c.LegalName) > 200 {
		fields["legal_name"] = "write your legal name as on your certification profile (at most 200 characters)"
	}
	// Each address in its canonical form, or the reason it cannot be used.
	email := func(field, value string, optional bool, hint string) string {
		if optional && strings.TrimSpace(value) == "" {
			return ""
		}
		e, err := certdesk.ParseEmail(value)
		if err != nil {
			fields[field] = hint + " (" + certdesk.ErrorMessage(err) + ")"
		}
		return e
	}
	c.ContactEmail = email("contact_email", r.ContactEmail, false, "must be an email address you can read now, such as name@outlook.com")
	c.PreviousEmail = email("previous_email", r.PreviousEmail, true, "must be the email address you signed in with, or left out")
	c.NewAccountEmail = email("new_account_email", r.NewAccountEmail, false,
		"must be the email address of a personal Microsoft account you can sign in with now, such as name@outlook.com")
	if c.MCID != "" && !certdesk.ValidMCID(c.MCID) {
		fields["mcid"] = "must be your MCID (digits only), or left out"
	}
	if c.Exam != "" && !validExam.MatchString(c.Exam) {
		fields["exam"] = "must be the code of an exam you passed, such as AZ-900, or left out"
	}
	if fields["new_account_email"] == "" && c.NewAccountEmail == c.PreviousEmail {
		fields["new_account_email"] = "must be another account than the one you lost (previous_email)"
	}
	if c.Description == "" || len(c.Description) > certdesk.MaxNote {
		fields["description"] = "tell us what happened (at most 4000 characters)"
	}
	if len(fields) > 0 {
		return c, certdesk.Invalid(fields)
	}
	return c, nil
}

// RecoveryAccepted is the one answer to every valid request, whether or
// not anything matches it: the form tells nobody whose profile exists.
func (s *Desk) RecoveryAccepted() string {
	return "Thank you. We have sent an email to the contact address: use its link within " + limit.Roughly(s.cfg.VerifyTTL) +
		" to confirm the address, and your request goes to our support team. If no email arrives, check the address and send the form again."
}

// SubmitRecovery checks a request (its fields, the per-mailbox limit) and
// starts its case; the per-client limit is the caller's, before reading.
func (s *Desk) SubmitRecovery(ctx context.Context, req RecoveryRequest) error {
	_, err := s.submitRecovery(ctx, req, "")
	return err
}

// submitRecovery starts a recovery case, the child of parentID when set
// (an inquiry an agent turned into it).
func (s *Desk) submitRecovery(ctx context.Context, req RecoveryRequest, parentID string) (certdesk.Case, error) {
	claim, err := req.claim()
	if err != nil {
		return certdesk.Case{}, err
	}
	// Counted per mailbox: name+1@… and name+2@… fill one inbox.
	if _, err := s.limits.Check(ctx, recoveryPerEmail, certdesk.MailboxKey(claim.ContactEmail)); err != nil {
		return certdesk.Case{}, err
	}
	in := workflows.RecoveryInput{
		CaseID: certdesk.NewID(), Claim: claim,
		VerifyTTL: workflows.Duration(s.cfg.VerifyTTL), AgentSLA: workflows.Duration(s.cfg.AgentSLA),
		CoolingOff: workflows.Duration(s.cfg.CoolingOff), LearnerWait: workflows.Duration(s.cfg.LearnerWait),
		ParentCaseID: parentID, Language: s.addressLanguage(ctx, claim.ContactEmail),
	}
	return s.startCase(ctx, claim.ContactEmail, in.CaseID, workflows.RecoveryWorkflowID(in.CaseID), enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		workflows.Recovery, in, certdesk.KindRecovery)
}

// SignInRequest is a sign-in the identity system reports.
type SignInRequest struct {
	Email string `json:"email"`
	At    string `json:"at"`
}

// maxClockSkew is how far in the future a sign-in's time may be.
const maxClockSkew = 5 * time.Minute

// RecordSignIn records a sign-in on an active account (what keeps it from
// the inactivity sweep). An inactive account is ECONFLICT: it becomes
// active again only through a completed recovery.
func (s *Desk) RecordSignIn(ctx context.Context, req SignInRequest) (certdesk.Account, error) {
	fields := map[string]string{}
	in := s.signIn(req, "", fields)
	if len(fields) > 0 {
		return certdesk.Account{}, certdesk.Invalid(fields)
	}
	return s.store.RecordSignIn(ctx, in.Email, in.At)
}

// signIn checks a reported sign-in, noting what is wrong in fields (each
// field's name after prefix): an account's email, and a time (now when
// left out) that is not in the future.
func (s *Desk) signIn(req SignInRequest, prefix string, fields map[string]string) store.SignIn {
	email, err := certdesk.ParseEmail(req.Email)
	if err != nil {
		fields[prefix+"email"] = "must be the email address of the account (" + certdesk.ErrorMessage(err) + ")"
	}
	at := s.now().UTC()
	if req.At != "" {
		t, err := time.Parse(time.RFC3339, req.At)
		switch {
		case err != nil:
			fields[prefix+"at"] = "must be an RFC 3339 time, such as 2025-01-31T09:30:00Z, or left out for now"
		case t.After(at.Add(maxClockSkew)):
			fields[prefix+"at"] = "is in the future"
		default:
			at = t
		}
	}
	return store.SignIn{Email: email, At: at}
}
