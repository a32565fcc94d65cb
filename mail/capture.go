package mail

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/certdesk/certdesk/store"
)

// Capture is dev mode's mailer: it renders each message and keeps it in the
// store, where /dev/mail and GET /api/v1/dev/mail show it with its links.
type Capture struct {
	Store interface {
		SaveCapturedMail(ctx context.Context, m *store.CapturedMail) error
	}
}

// Send renders and stores the message; its id is the provider id.
func (c *Capture) Send(ctx context.Context, m Message) (string, error) {
	r, err := Render(m)
	if err != nil {
		return "", &SendError{Message: err.Error()}
	}
	links, _ := json.Marshal(r.Links)
	cm := &store.CapturedMail{
		ToAddr: m.To, Subject: r.Subject, Kind: m.Kind, CaseID: m.CaseID, Step: m.Step,
		HTML: r.HTML, Text: r.Text, Links: links,
	}
	if err := c.Store.SaveCapturedMail(ctx, cm); err != nil {
		return "", &SendError{Retryable: true, Message: fmt.Sprintf("capture: %v", err)}
	}
	return "captured-" + cm.ID, nil
}
