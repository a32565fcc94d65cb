package mail

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
)

// The headers of SendGrid's signed Event Webhook.
const (
	SignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	TimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// Event is one SendGrid delivery event. SendGrid retries a delivery for up
// to 24 hours, so the same event (ID) can arrive more than once.
type Event struct {
	ID        string // sg_event_id
	Type      string // event: processed, delivered, bounce, dropped, deferred, …
	Email     string
	Timestamp time.Time
	CaseID    string // custom arg case_id
	Step      string // custom arg step
	Reason    string
	MessageID string // sg_message_id
}

// WebhookVerifier checks the signature and age of an Event Webhook request.
type WebhookVerifier struct {
	key *ecdsa.PublicKey
	// MaxAge is how old a request may be (default 5 minutes): a captured
	// request cannot be replayed later.
	MaxAge time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// webhookMaxSkew is how far in the future a timestamp may be (clock skew).
const webhookMaxSkew = time.Minute

// NewWebhookVerifier returns a verifier for SendGrid's verification key: the
// base64 of its DER public key, as SendGrid's settings page shows it.
func NewWebhookVerifier(base64PublicKey string) (v *WebhookVerifier, err error) {
	// The SDK type-asserts the parsed key without checking: a key of another
	// type (RSA, Ed25519) panics there.
	defer func() {
		if recover() != nil {
			v, err = nil, errors.New("mail: webhook verification key is not an ECDSA key")
		}
	}()
	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(strings.TrimSpace(base64PublicKey))
	if err != nil {
		return nil, fmt.Errorf("mail: webhook verification key: %w", err)
	}
	return &WebhookVerifier{key: key, MaxAge: 5 * time.Minute, Now: time.Now}, nil
}

// Verify checks that body, the raw request body, was signed by SendGrid with
// timestamp, and that timestamp is recent. The errors are for logs; the
// caller answers all of them the same way.
func (v *WebhookVerifier) Verify(body []byte, signature, timestamp string) error {
	if v == nil || v.key == nil {
		return errors.New("webhook verifier has no key")
	}
	if signature == "" {
		return errors.New("missing signature")
	}
	sec, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return errors.New("missing or malformed timestamp")
	}
	ok, err := eventwebhook.VerifySignature(v.key, body, signature, timestamp)
	if err != nil {
		return errors.New("malformed signature")
	}
	if !ok {
		return errors.New("signature does not match")
	}

	// Checked after the signature, so an age error means a genuine request:
	// a replay, a long-delayed delivery or a skewed clock.
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	maxAge := v.MaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	age := now().Sub(time.Unix(sec, 0))
	switch {
	case age > maxAge:
		return fmt.Errorf("timestamp too old (%s)", age.Round(time.Second))
	case age < -webhookMaxSkew:
		return fmt.Errorf("timestamp in the future (%s ahead)", (-age).Round(time.Second))
	}
	return nil
}

// webhookEvent is an event as SendGrid posts it. Custom args are top-level
// keys.
type webhookEvent struct {
	ID        string      `json:"sg_event_id"`
	Event     string      `json:"event"`
	Email     string      `json:"email"`
	Timestamp json.Number `json:"timestamp"`
	CaseID    string      `json:"case_id"`
	Step      string      `json:"step"`
	Reason    string      `json:"reason"`
	Response  string      `json:"response"`
	MessageID string      `json:"sg_message_id"`
}

// ParseEvents decodes an Event Webhook body, a JSON array of events.
// Events without an sg_event_id cannot be deduplicated and are skipped.
func ParseEvents(body []byte) ([]Event, error) {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '[' {
		return nil, errors.New("mail: webhook body is not a JSON array")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("mail: webhook body: %w", err)
	}
	events := make([]Event, 0, len(raw))
	for i, r := range raw {
		if t := bytes.TrimSpace(r); len(t) == 0 || t[0] != '{' {
			return nil, fmt.Errorf("mail: webhook event %d is not an object", i)
		}
		var e webhookEvent
		if err := json.Unmarshal(r, &e); err != nil {
			return nil, fmt.Errorf("mail: webhook event %d: %w", i, err)
		}
		if e.ID == "" {
			continue
		}
		ts, err := webhookTime(e.Timestamp)
		if err != nil {
			return nil, fmt.Errorf("mail: webhook event %d: %w", i, err)
		}
		reason := e.Reason
		if reason == "" {
			reason = e.Response // deferred events explain themselves here
		}
		events = append(events, Event{
			ID:        e.ID,
			Type:      e.Event,
			Email:     e.Email,
			Timestamp: ts,
			CaseID:    e.CaseID,
			Step:      e.Step,
			Reason:    reason,
			MessageID: e.MessageID,
		})
	}
	return events, nil
}

// webhookTime converts unix seconds (an integer, or a decimal to be lenient)
// to a UTC time; no timestamp is the zero time.
func webhookTime(n json.Number) (time.Time, error) {
	if n == "" {
		return time.Time{}, nil
	}
	if sec, err := n.Int64(); err == nil {
		return time.Unix(sec, 0).UTC(), nil
	}
	f, err := n.Float64()
	if err != nil || math.IsNaN(f) || math.Abs(f) > 1e15 {
		return time.Time{}, fmt.Errorf("bad timestamp %q", string(n))
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
