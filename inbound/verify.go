package inbound

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/certdesk/certdesk/mail"
)

// SendGrid signs Inbound Parse posts when the parse setting has a security
// policy with signature verification: an ECDSA (P-256, SHA-256) signature
// of the timestamp followed by the raw body, in the same headers as the
// signed Event Webhook. The policy's public key is the base64 of its DER
// form, as the API and the settings page show it. (A policy may instead
// or also use OAuth: SendGrid then fetches a token from an OAuth server of
// ours and sends it as a bearer token; certdesk does not run one.)
const (
	SignatureHeader = mail.SignatureHeader
	TimestampHeader = mail.TimestampHeader
	// MaxAge is how old a signed post may be: a captured post cannot be
	// replayed later (and a replay in the window is a Message-ID already
	// recorded).
	MaxAge = 10 * time.Minute
)

// ErrUnverified is every failed verification: the handler answers them
// all the same way, and logs the detail.
var ErrUnverified = errors.New("inbound: post not verified")

// Verifier checks that a post was signed by SendGrid, recently.
type Verifier struct {
	sig *mail.WebhookVerifier
	// MaxAge replaces the default MaxAge when set.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// NewVerifier returns a verifier for a security policy's public key.
func NewVerifier(base64PublicKey string) (*Verifier, error) {
	sig, err := mail.NewWebhookVerifier(base64PublicKey)
	if err != nil {
		return nil, fmt.Errorf("inbound: security policy key: %w", err)
	}
	return &Verifier{sig: sig}, nil
}

// Verify checks the post's signature over body, the raw body as read by
// ReadBody, and its age.
func (v *Verifier) Verify(h http.Header, body []byte) error {
	if v == nil || v.sig == nil {
		return fmt.Errorf("%w: no key", ErrUnverified)
	}
	// A copy per call: Verify runs concurrently.
	sig := *v.sig
	sig.MaxAge, sig.Now = MaxAge, time.Now
	if v.MaxAge > 0 {
		sig.MaxAge = v.MaxAge
	}
	if v.Now != nil {
		sig.Now = v.Now
	}
	if err := sig.Verify(body, h.Get(SignatureHeader), h.Get(TimestampHeader)); err != nil {
		return fmt.Errorf("%w: %v", ErrUnverified, err)
	}
	return nil
}
