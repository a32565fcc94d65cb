package desk

import (
	"context"
	"encoding/json"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// What the portal and GET /api/v1/me show of a learner, and what the dev
// mailbox shows of a message: one view each, whichever door shows it.

// Account is an account as a learner sees it.
type Account struct {
	ID     string `json:"id"`
	Email  string `json:"email"`
	Kind   string `json:"kind"`
	Status string `json:"status"`
}

// LearningProfile is a learning profile with its accounts and the profile
// connected to it.
type LearningProfile struct {
	ID                 string    `json:"id"`
	DisplayName        string    `json:"display_name"`
	Accounts           []Account `json:"accounts"`
	ConnectedProfileID *string   `json:"connected_profile_id"`
}

// Profile is a certification profile as its learner sees it.
type Profile struct {
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

// Me is who is calling, as they see themselves.
type Me struct {
	Role                  certdesk.Role    `json:"role"`
	Name                  string           `json:"name"`
	Email                 string           `json:"email"`
	CSRFToken             string           `json:"csrf_token,omitempty"`
	Accounts              []Account        `json:"accounts"`
	LearningProfile       *LearningProfile `json:"learning_profile"`
	CertificationProfiles []Profile        `json:"certification_profiles"`
}

// Accounts is accounts as a learner sees them.
func Accounts(as []certdesk.Account) []Account {
	out := make([]Account, len(as))
	for i, a := range as {
		out[i] = Account{ID: a.ID, Email: a.Email, Kind: a.Kind, Status: a.Status}
	}
	return out
}

// LearnerView is a learner as they see themselves.
func LearnerView(l store.Learner) Me {
	me := Me{
		Role: certdesk.RoleLearner, Name: l.Account.DisplayName, Email: l.Account.Email,
		Accounts: Accounts(l.Accounts), CertificationProfiles: []Profile{},
	}
	if l.LearningProfile != nil {
		me.LearningProfile = &LearningProfile{ID: l.LearningProfile.ID, DisplayName: l.LearningProfile.DisplayName, Accounts: me.Accounts}
	}
	owned := len(l.CertificationProfiles)
	for i, p := range append(l.CertificationProfiles, l.RegisteredProfiles...) {
		connected := p.ConnectedLearningProfileID != nil
		me.CertificationProfiles = append(me.CertificationProfiles, Profile{
			ID: p.ID, MCID: p.MCID, LegalName: p.LegalName, Status: p.Status, MergedInto: p.MergedIntoID, Connected: connected, Owned: i < owned,
		})
		if connected && me.LearningProfile != nil && *p.ConnectedLearningProfileID == me.LearningProfile.ID {
			id := p.ID
			me.LearningProfile.ConnectedProfileID = &id
		}
	}
	return me
}

// WhoIs is the caller as they see themselves: a learner with their
// accounts and profiles, staff with their name.
func (s *Desk) WhoIs(ctx context.Context, p *certdesk.Principal) (Me, error) {
	if p.Role != certdesk.RoleLearner {
		return Me{Role: p.Role, Name: p.Name, Email: p.Email, Accounts: []Account{}, CertificationProfiles: []Profile{}}, nil
	}
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		return Me{}, err
	}
	return LearnerView(l), nil
}

// CapturedMail is a message of dev mode's mailbox with its links.
type CapturedMail struct {
	ID      string      `json:"id"`
	To      string      `json:"to"`
	Subject string      `json:"subject"`
	Kind    string      `json:"kind"`
	CaseID  string      `json:"case_id"`
	Step    string      `json:"step"`
	Links   []mail.Link `json:"links"`
	Text    string      `json:"text"`
	// ReplyTo is the case's reply address for the recipient: the
	// mailbox's Reply button writes to it.
	ReplyTo   string    `json:"reply_to"`
	CreatedAt time.Time `json:"created_at"`
	// HTML is the message's HTML part (shown on its own page).
	HTML string `json:"-"`
}

func capturedOf(m store.CapturedMail) CapturedMail {
	out := CapturedMail{ID: m.ID, To: m.ToAddr, Subject: m.Subject, Kind: m.Kind, CaseID: m.CaseID, Step: m.Step, Text: m.Text, ReplyTo: m.ReplyTo,
		CreatedAt: m.CreatedAt, HTML: m.HTML}
	_ = json.Unmarshal(m.Links, &out.Links)
	if out.Links == nil {
		out.Links = []mail.Link{}
	}
	return out
}

// Mailbox lists the captured messages, newest first, to an address or of a
// case (both optional).
func (s *Desk) Mailbox(ctx context.Context, to, caseID string) ([]CapturedMail, error) {
	ms, err := s.store.CapturedMails(ctx, to, caseID, 200)
	if err != nil {
		return nil, err
	}
	out := make([]CapturedMail, len(ms))
	for i, m := range ms {
		out[i] = capturedOf(m)
	}
	return out, nil
}

// MailboxMessage is one captured message.
func (s *Desk) MailboxMessage(ctx context.Context, id string) (CapturedMail, error) {
	m, err := s.store.CapturedMail(ctx, id)
	if err != nil {
		return CapturedMail{}, err
	}
	return capturedOf(m), nil
}
