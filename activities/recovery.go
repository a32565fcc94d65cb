package activities

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/activity"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// RecoveryEvidence is what a verified claim finds: the profiles it may be
// about, and the account it asks to move the profile to.
type RecoveryEvidence struct {
	Candidates []certdesk.RecoveryCandidate
	NewAccount certdesk.RecoveryNewAccount
}

// RecoveryCandidates finds the certification profiles a verified recovery
// claim may be about, with the evidence for each, and looks up the new
// account.
// Retry: it only reads.
func (a *Activities) RecoveryCandidates(ctx context.Context, claim certdesk.RecoveryClaim) (RecoveryEvidence, error) {
	var ev RecoveryEvidence
	cs, err := a.Store.MatchRecovery(ctx, store.RecoveryQuery{
		LegalName: claim.LegalName, ContactEmail: claim.ContactEmail, MCID: claim.MCID, PreviousEmail: claim.PreviousEmail,
		Exam: claim.Exam, CaseID: activityCaseID(ctx),
	})
	if err != nil {
		return ev, nonRetryable(err)
	}
	ev.Candidates, ev.NewAccount = cs, certdesk.RecoveryNewAccount{Email: claim.NewAccountEmail}
	acct, err := a.Store.AccountByEmail(ctx, claim.NewAccountEmail)
	switch {
	case errors.Is(err, certdesk.ErrNotFound):
	case err != nil:
		return ev, err
	default:
		ev.NewAccount.Known, ev.NewAccount.Kind, ev.NewAccount.Status = true, acct.Kind, acct.Status
	}
	return ev, nil
}

// RecoveryAddressesInput names the profile being recovered and the account
// it moves to (not warned: it asked for the move).
type RecoveryAddressesInput struct {
	ProfileID       string
	NewAccountEmail string
}

// RecoveryAddresses lists the addresses on file for the profile being
// recovered: each is warned during the cooling-off.
// Retry: it only reads.
func (a *Activities) RecoveryAddresses(ctx context.Context, in RecoveryAddressesInput) (certdesk.ProfileAddresses, error) {
	addrs, err := a.Store.AddressesOnFile(ctx, in.ProfileID, in.NewAccountEmail)
	return addrs, nonRetryable(err)
}

// RebindInput binds a recovered profile to its new account.
type RebindInput struct {
	CaseID          string
	ProfileID       string
	NewAccountEmail string
	// DisplayName names the account when it has to be created.
	DisplayName string
}

// RebindRecoveredProfile binds the profile to the new personal account
// (created if unknown) and makes the account active, in one transaction.
// Retry: a profile already bound to the account is left as it is
// (AlreadyBound); the account is created once (unique email).
func (a *Activities) RebindRecoveredProfile(ctx context.Context, in RebindInput) (certdesk.Rebinding, error) {
	r, err := a.Store.RebindProfile(ctx, in.ProfileID, in.NewAccountEmail, in.DisplayName, a.now())
	return r, nonRetryable(err)
}

// activityCaseID is the case of the workflow running an activity, read off
// its workflow id ("<kind>-<case id>"); "" outside an activity.
func activityCaseID(ctx context.Context) string {
	if !activity.IsActivity(ctx) {
		return ""
	}
	id := activity.GetInfo(ctx).WorkflowExecution.ID
	if i := strings.LastIndexByte(id, '-'); i >= 0 && certdesk.ValidID(id[i+1:]) {
		return id[i+1:]
	}
	return ""
}
