// Package activities holds everything a workflow does that has a side
// effect: store reads and writes, email, link tokens. Activities are methods
// on one struct that carries the dependencies. Each says in one line what
// makes a retry harmless.
package activities

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/store"
)

// Activities are registered with the worker as one struct.
type Activities struct {
	Store  *store.Store
	Mailer mail.Mailer
	Links  Links
	// Webhooks delivers domain events; nil is the defaults (see Webhooks).
	Webhooks *Webhooks
	// Clock is the time; nil is time.Now.
	Clock func() time.Time
	// ReplyTo, when set, is the reply address of a case for a recipient
	// (inbound.ReplyAddresses): a learner's reply to a case email lands on
	// the case. Nil: no reply address (inbound mail is not set up).
	ReplyTo func(caseID, recipient string) string
	// CaseToken, when set, is the token of a case for a recipient
	// (inbound.ReplyAddresses.Token): the same emails carry case_url, the
	// portal's page of the case and its conversation, which opens with it
	// for a learner who cannot sign in (a recovery).
	CaseToken func(caseID, recipient string) string
	// AttachmentRetention is how long attachments are kept after their
	// case ends (zero: certdesk.DefaultAttachmentRetention).
	AttachmentRetention time.Duration
	// Retention is how long a case keeps its personal data after it ended
	// (zero: certdesk.DefaultRetention).
	Retention time.Duration
}

// Links builds the URLs of email links from the configured public URL,
// never from a request.
type Links struct {
	BaseURL string
}

// CasePath is the portal's page of a case, opened by its token.
func CasePath(caseID, token string) string { return "/portal/cases/" + caseID + "/t/" + token }

// URL is the link of a raw token.
func (l Links) URL(token string) string {
	return strings.TrimRight(l.BaseURL, "/") + "/l/" + token
}

func (a *Activities) now() time.Time {
	if a.Clock != nil {
		return a.Clock().UTC()
	}
	return time.Now().UTC()
}

// CaptureMailer is dev mode's mailer over the store: messages are rendered
// and kept in the captured mailbox.
func CaptureMailer(st *store.Store) *mail.Capture {
	return &mail.Capture{Save: func(ctx context.Context, m mail.Captured) (string, error) {
		links, err := json.Marshal(m.Links)
		if err != nil {
			return "", err
		}
		cm := &store.CapturedMail{ToAddr: m.To, ReplyTo: m.ReplyTo, Subject: m.Subject, Kind: m.Kind, CaseID: m.CaseID, Step: m.Step,
			HTML: m.HTML, Text: m.Text, Links: links}
		err = st.SaveCapturedMail(ctx, cm)
		return cm.ID, err
	}}
}
