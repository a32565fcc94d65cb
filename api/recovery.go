package api

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// The public recovery form's endpoint and the sign-in events.

type recoveryRequest struct {
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

// Limits of the public form: per client address, and per contact address
// (so nobody floods one inbox with verification links).
var (
	recoveryPerClient = limit{Name: "recovery-client", Max: 10, Window: time.Hour}
	recoveryPerEmail  = limit{Name: "recovery-email", Max: 3, Window: time.Hour}
)

const maxDescription = 4000

var (
	validMCID = regexp.MustCompile(`^[0-9]{4,16}$`)
	validExam = regexp.MustCompile(`^[A-Z0-9]{1,8}(-[A-Z0-9]{1,8}){0,2}$`)
)

// claim checks the form and returns it normalized. Only the form is
// checked: nothing is looked up before the contact address is verified.
func (r recoveryRequest) claim() (workflows.RecoveryClaim, error) {
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
	if c.MCID != "" && !validMCID.MatchString(c.MCID) {
		fields["mcid"] = "must be your MCID (digits only), or left out"
	}
	if c.Exam != "" && !validExam.MatchString(c.Exam) {
		fields["exam"] = "must be the code of an exam you passed, such as AZ-900, or left out"
	}
	if fields["new_account_email"] == "" && c.NewAccountEmail == c.PreviousEmail {
		fields["new_account_email"] = "must be another account than the one you lost (previous_email)"
	}
	if c.Description == "" || len(c.Description) > maxDescription {
		fields["description"] = "tell us what happened (at most 4000 characters)"
	}
	if len(fields) > 0 {
		return c, certdesk.Invalid(fields)
	}
	return c, nil
}

// recoveryAccepted is the one answer to every valid request, whether or not
// anything matches it: the form tells nobody whose profile exists.
func (s *Server) recoveryAccepted() gin.H {
	return gin.H{
		"status": "received",
		"message": "Thank you. We have sent an email to the contact address: use its link within " + roughly(s.cfg.VerifyTTL) +
			" to confirm the address, and your request goes to our support team. If no email arrives, check the address and send the form again.",
	}
}

// requestRecovery starts a recovery case from the public API.
func (s *Server) requestRecovery(c *gin.Context) {
	if !s.allow(c, recoveryPerClient, clientAddr(c)) {
		return
	}
	var req recoveryRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	if err := s.submitRecovery(c, req); err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.recoveryAccepted())
}

// submitRecovery checks a request (fields, the per-address limit) and
// starts its case; the per-client limit is the caller's, before reading.
func (s *Server) submitRecovery(c *gin.Context, req recoveryRequest) error {
	claim, err := req.claim()
	if err != nil {
		return err
	}
	// Counted per mailbox: name+1@… and name+2@… fill one inbox.
	if err := s.limited(c, recoveryPerEmail, certdesk.MailboxKey(claim.ContactEmail)); err != nil {
		return err
	}
	return s.startRecovery(c.Request.Context(), claim)
}

func (s *Server) startRecovery(ctx context.Context, claim workflows.RecoveryClaim) error {
	in := workflows.RecoveryInput{
		CaseID: certdesk.NewID(), Claim: claim,
		VerifyTTL: workflows.Duration(s.cfg.VerifyTTL), AgentSLA: workflows.Duration(s.cfg.AgentSLA),
		CoolingOff: workflows.Duration(s.cfg.CoolingOff), LearnerWait: workflows.Duration(s.cfg.LearnerWait),
	}
	_, err := s.startCase(ctx, in.CaseID, workflows.RecoveryWorkflowID(in.CaseID), enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		workflows.Recovery, in, certdesk.KindRecovery)
	return err
}

type signInRequest struct {
	Email string `json:"email"`
	At    string `json:"at"`
}

type signInJSON struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Status       string     `json:"status"`
	LastSignInAt *time.Time `json:"last_sign_in_at"`
}

// maxClockSkew is how far in the future a sign-in's time may be.
const maxClockSkew = 5 * time.Minute

// recordSignIn records a sign-in on an active account (what keeps it from
// the inactivity sweep). An inactive account is 409: it becomes active
// again only through a completed recovery.
func (s *Server) recordSignIn(c *gin.Context) {
	var req signInRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	fields := map[string]string{}
	email, err := certdesk.ParseEmail(req.Email)
	if err != nil {
		fields["email"] = "must be the email address of the account (" + certdesk.ErrorMessage(err) + ")"
	}
	at := s.now().UTC()
	if req.At != "" {
		t, err := time.Parse(time.RFC3339, req.At)
		switch {
		case err != nil:
			fields["at"] = "must be an RFC 3339 time, such as 2025-01-31T09:30:00Z, or left out for now"
		case t.After(at.Add(maxClockSkew)):
			fields["at"] = "is in the future"
		default:
			at = t
		}
	}
	if len(fields) > 0 {
		fail(c, certdesk.Invalid(fields))
		return
	}
	a, err := s.store.RecordSignIn(c.Request.Context(), email, at)
	if err != nil {
		fail(c, err)
		return
	}
	c.JSON(http.StatusOK, signInJSON{ID: a.ID, Email: a.Email, Status: a.Status, LastSignInAt: a.LastSignInAt})
}
