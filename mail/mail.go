// Package mail sends certdesk's email: SendGrid dynamic templates in
// production, the captured mailbox in dev mode and tests. Both render or
// reference one template per message kind.
package mail

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Message is one email of a case step.
type Message struct {
	// Kind names the template (see Kinds).
	Kind   string
	To     string
	ToName string
	// CaseID and Step identify the message; SendGrid gets them as
	// custom_args (and nothing else: no tokens, no personal data).
	CaseID string
	Step   string
	// Data is the template's data (SendGrid's dynamic_template_data).
	Data map[string]any
	// Locale is the recipient's language (a BCP 47 tag such as "es" or
	// "pt-BR"); a kind not translated into it, or none, is sent in English.
	Locale string
	// HasLinks is true when Data carries token links: click tracking is
	// turned off so the provider does not rewrite (and log) them.
	HasLinks bool
	// ReplyTo, when set, is where the recipient's reply goes: the case's
	// reply address (inbound.ReplyAddresses), so a reply lands on the case.
	ReplyTo string
}

// LoopHeader marks every message certdesk sends; a message that comes back
// carrying it is certdesk's own (a forward loop, an auto-forward) and is
// never answered.
const LoopHeader = "X-Certdesk-Loop"

// Mailer sends a message and returns the provider's message id.
type Mailer interface {
	Send(ctx context.Context, m Message) (string, error)
}

// SendError is a failed send, classified for retries.
type SendError struct {
	// Status is the provider's HTTP status (0 for a network error).
	Status int
	// Retryable is false for errors a retry cannot fix (a 4xx other than 429).
	Retryable bool
	// RetryAfter, when set, is how long the provider asked us to wait (429).
	RetryAfter time.Duration
	Message    string
}

func (e *SendError) Error() string {
	if e.Status == 0 {
		return "mail: " + e.Message
	}
	return fmt.Sprintf("mail: provider answered %d: %s", e.Status, e.Message)
}

// AsSendError returns err's *SendError, or a retryable one for an
// unclassified error.
func AsSendError(err error) *SendError {
	var se *SendError
	if errors.As(err, &se) {
		return se
	}
	return &SendError{Retryable: true, Message: err.Error()}
}
