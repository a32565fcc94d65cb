package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// LookupConnectInput asks what a connect case needs to know.
type LookupConnectInput struct {
	LearningProfileID string
	// AccountID is the account the learner asked from: the case's emails go
	// to its address.
	AccountID string
}

// ConnectLookup is what a connect case decides from (see
// store.ConnectCandidates), with who the learner is.
type ConnectLookup struct {
	LearnerName  string
	LearnerEmail string
	Accounts     []certdesk.Account
	Connected    *certdesk.CertificationProfile
	Owned        []certdesk.CertificationProfile
	Duplicates   []certdesk.CertificationProfile
}

// LookupConnect reads the learner, their learning profile's accounts and
// connection, and the certification profiles they own with their likely
// duplicates.
// Retry: it only reads.
func (a *Activities) LookupConnect(ctx context.Context, in LookupConnectInput) (ConnectLookup, error) {
	acct, err := a.Store.Account(ctx, in.AccountID)
	if err != nil {
		return ConnectLookup{}, nonRetryable(err)
	}
	cc, err := a.Store.ConnectCandidates(ctx, in.LearningProfileID)
	if err != nil {
		return ConnectLookup{}, nonRetryable(err)
	}
	name := acct.DisplayName
	if name == "" {
		name = cc.LearningProfile.DisplayName
	}
	return ConnectLookup{LearnerName: name, LearnerEmail: acct.Email, Accounts: cc.Accounts,
		Connected: cc.Connected, Owned: cc.Owned, Duplicates: cc.Duplicates}, nil
}

// ConnectProfileInput connects one certification profile.
type ConnectProfileInput struct {
	CaseID            string
	LearningProfileID string
	ProfileID         string
}

// ConnectProfileResult is the profile as connected. (Refused and Message
// are how the rules' refusals were answered before they became refusals like
// every activity's; the histories of those cases still hold them.)
type ConnectProfileResult struct {
	Profile certdesk.CertificationProfile
	Refused string `json:",omitempty"`
	Message string `json:",omitempty"`
}

// ConnectProfile connects a certification profile to a learning profile in
// one transaction that re-checks the rules (store.Connect). The rules'
// refusal is a refusal like every activity's (a non-retryable error), its
// type the connect resolution and its message the reason.
// Retry: connecting a profile already connected to this learning profile
// changes nothing and succeeds.
func (a *Activities) ConnectProfile(ctx context.Context, in ConnectProfileInput) (ConnectProfileResult, error) {
	p, err := a.Store.Connect(ctx, in.LearningProfileID, in.ProfileID)
	var refusal *store.ConnectRefusal
	if errors.As(err, &refusal) {
		return ConnectProfileResult{}, temporal.NewNonRetryableApplicationError(refusal.Message, refusal.Reason, nil)
	}
	if err != nil {
		return ConnectProfileResult{}, nonRetryable(err)
	}
	return ConnectProfileResult{Profile: p}, nil
}
