package desk

import (
	"context"
	"errors"
	"log/slog"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/workflows"
)

// addAccountTo adds an account to the learner's own learning profile, tells
// its open connect case, and emails the account's owner that it was added.
// subject is the identity provider's subject that proved the account (""
// in dev mode, where naming the address is enough).
func (s *Desk) AddAccount(ctx context.Context, p *certdesk.Principal, lpID, email, kind, subject string) (certdesk.Account, bool, error) {
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
func (s *Desk) accountAdded(ctx context.Context, lpID string, a, by certdesk.Account) {
	if s.temporal == nil {
		return
	}
	// The owner's email carries their address: it waits for their key.
	// The signal (an account id) goes whatever happens to it.
	mailCtx, err := s.about(ctx, a.Email)
	if err == nil {
		_, err = s.temporal.ExecuteWorkflow(mailCtx, client.StartWorkflowOptions{
			ID: workflows.AccountAddedWorkflowID(a.ID, lpID), TaskQueue: s.cfg.TaskQueue,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		}, workflows.AccountAdded, workflows.AccountAddedInput{AccountID: a.ID, Email: a.Email, Name: a.DisplayName,
			LearningProfileID: lpID, AddedBy: by.Email, AddedAt: s.now()})
	}
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
