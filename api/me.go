package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

type accountJSON struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

type learningProfileJSON struct {
	ID                 string        `json:"id"`
	DisplayName        string        `json:"display_name"`
	Accounts           []accountJSON `json:"accounts"`
	ConnectedProfileID *string       `json:"connected_profile_id"`
}

type profileJSON struct {
	ID         string  `json:"id"`
	MCID       string  `json:"mcid"`
	LegalName  string  `json:"legal_name"`
	Status     string  `json:"status"`
	MergedInto *string `json:"merged_into"`
	Connected  bool    `json:"connected"`
	// Owned is false for a profile another sign-in owns that is registered
	// with one of the learner's addresses (a likely duplicate to merge).
	Owned bool `json:"owned"`
}

type meJSON struct {
	Role                  certdesk.Role        `json:"role"`
	Name                  string               `json:"name"`
	Email                 string               `json:"email"`
	CSRFToken             string               `json:"csrf_token,omitempty"`
	Accounts              []accountJSON        `json:"accounts"`
	LearningProfile       *learningProfileJSON `json:"learning_profile"`
	CertificationProfiles []profileJSON        `json:"certification_profiles"`
}

func toAccountJSON(as []certdesk.Account) []accountJSON {
	out := make([]accountJSON, len(as))
	for i, a := range as {
		out[i] = accountJSON{ID: a.ID, Email: a.Email, Kind: a.Kind, Status: a.Status}
	}
	return out
}

func learnerJSON(l store.Learner) meJSON {
	me := meJSON{
		Role: certdesk.RoleLearner, Name: l.Account.DisplayName, Email: l.Account.Email,
		Accounts: toAccountJSON(l.Accounts), CertificationProfiles: []profileJSON{},
	}
	if l.LearningProfile != nil {
		me.LearningProfile = &learningProfileJSON{ID: l.LearningProfile.ID, DisplayName: l.LearningProfile.DisplayName, Accounts: me.Accounts}
	}
	owned := len(l.CertificationProfiles)
	for i, p := range append(l.CertificationProfiles, l.RegisteredProfiles...) {
		connected := p.ConnectedLearningProfileID != nil
		me.CertificationProfiles = append(me.CertificationProfiles, profileJSON{
			ID: p.ID, MCID: p.MCID, LegalName: p.LegalName, Status: p.Status, MergedInto: p.MergedIntoID, Connected: connected, Owned: i < owned,
		})
		if connected && me.LearningProfile != nil && *p.ConnectedLearningProfileID == me.LearningProfile.ID {
			id := p.ID
			me.LearningProfile.ConnectedProfileID = &id
		}
	}
	return me
}

// me answers who is calling.
func (s *Server) me(c *gin.Context) {
	p := caller(c)
	me := meJSON{Role: p.Role, Name: p.Name, Email: p.Email, Accounts: []accountJSON{}, CertificationProfiles: []profileJSON{}}
	if p.Role == certdesk.RoleLearner {
		l, err := s.store.Learner(c.Request.Context(), p.AccountID)
		if err != nil {
			fail(c, err)
			return
		}
		me = learnerJSON(l)
	}
	if p.viaCookie {
		me.CSRFToken = s.signer.csrfToken(p.sessionID)
	}
	c.JSON(http.StatusOK, me)
}

type addAccountRequest struct {
	Email string `json:"email"`
	Kind  string `json:"kind"`
}

// addAccount adds an account to the caller's learning profile, as the
// learning site's "Add account" does. 201 when added, 200 when it was there.
func (s *Server) addAccount(c *gin.Context) {
	var req addAccountRequest
	if err := decodeJSON(c, &req); err != nil {
		fail(c, err)
		return
	}
	ctx := c.Request.Context()
	p := caller(c)
	if !s.dev {
		// Outside dev mode a learner proves they own an account by signing
		// in with it; naming an email is not enough.
		fail(c, certdesk.Errorf(certdesk.EFORBIDDEN, "add an account by signing in with it: open /auth/login?add_account=1"))
		return
	}
	added, created, err := s.addAccountTo(ctx, p, c.Param("id"), req.Email, req.Kind, "")
	if err != nil {
		fail(c, err)
		return
	}
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		fail(c, err)
		return
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	c.JSON(code, gin.H{"account": toAccountJSON([]certdesk.Account{added})[0], "learning_profile": learnerJSON(l).LearningProfile})
}

// addAccountTo adds an account to the learner's own learning profile, tells
// its open connect case, and emails the account's owner that it was added.
// subject is the identity provider's subject that proved the account (""
// in dev mode, where naming the address is enough).
func (s *Server) addAccountTo(ctx context.Context, p *Principal, lpID, email, kind, subject string) (certdesk.Account, bool, error) {
	fields := map[string]string{}
	email, err := certdesk.ParseEmail(email)
	if err != nil {
		fields["email"] = certdesk.ErrorMessage(err)
	}
	if kind == "" {
		kind = certdesk.AccountPersonal
	}
	if kind != certdesk.AccountPersonal && kind != certdesk.AccountWork {
		fields["kind"] = "must be personal or work"
	}
	if len(fields) > 0 {
		return certdesk.Account{}, false, certdesk.Invalid(fields)
	}
	acct, err := s.store.Account(ctx, p.AccountID)
	if err != nil {
		return certdesk.Account{}, false, err
	}
	// Another learner's learning profile is answered as missing: its
	// existence is not the caller's business.
	if acct.LearningProfileID == nil || *acct.LearningProfileID != lpID {
		return certdesk.Account{}, false, certdesk.Errorf(certdesk.ENOTFOUND, "you have no learning profile %q", lpID)
	}
	added, created, err := s.store.AddAccount(ctx, lpID, email, kind, subject)
	if err != nil {
		return added, false, err
	}
	if created {
		s.accountAdded(ctx, lpID, added, acct)
	}
	return added, created, nil
}

// accountAdded tells the learning profile's open connect case, if any, that
// an account was added (a case waiting for the personal account resumes),
// and starts the email that tells the account's owner where it was added.
func (s *Server) accountAdded(ctx context.Context, lpID string, a, by certdesk.Account) {
	if s.temporal == nil {
		return
	}
	_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.AccountAddedWorkflowID(a.ID, lpID), TaskQueue: s.cfg.TaskQueue,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
	}, workflows.AccountAdded, workflows.AccountAddedInput{AccountID: a.ID, Email: a.Email, Name: a.DisplayName,
		LearningProfileID: lpID, AddedBy: by.Email, AddedAt: s.now()})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		slog.ErrorContext(ctx, "account added, its owner not emailed", "account", a.ID, "learning_profile", lpID, "err", err)
	}
	err = s.temporal.SignalWorkflow(ctx, workflows.ConnectWorkflowID(lpID), "", workflows.SignalAccountAdded, a.ID)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		// The account is added; a waiting case also re-checks when the
		// learner uses the link in its email, so this is not lost.
		slog.WarnContext(ctx, "account added, connect case not signalled", "learning_profile", lpID, "err", err)
	}
}
