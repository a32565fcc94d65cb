package mail

import (
	"context"
	"fmt"
)

// Capture is dev mode's mailer: it renders each message and hands it to
// Save (the store keeps it, where /dev/mail and GET /api/v1/dev/mail show
// it with its links; activities.CaptureMailer wires the two).
type Capture struct {
	// Save keeps a rendered message and returns its id.
	Save func(ctx context.Context, m Captured) (string, error)
}

// Captured is a message as the mailbox keeps it.
type Captured struct {
	To, Subject, Kind, CaseID, Step string
	ReplyTo                         string
	HTML, Text                      string
	Links                           []Link
}

// Send renders and keeps the message; its id is the provider id.
func (c *Capture) Send(ctx context.Context, m Message) (string, error) {
	r, err := Render(m)
	if err != nil {
		return "", &SendError{Message: err.Error()}
	}
	id, err := c.Save(ctx, Captured{To: m.To, ReplyTo: m.ReplyTo, Subject: r.Subject, Kind: m.Kind, CaseID: m.CaseID, Step: m.Step,
		HTML: r.HTML, Text: r.Text, Links: r.Links})
	if err != nil {
		return "", &SendError{Retryable: true, Message: fmt.Sprintf("capture: %v", err)}
	}
	return "captured-" + id, nil
}
