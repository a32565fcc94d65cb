package api_test

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/api"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
)

type webhookHarness struct {
	*harness
	key  *ecdsa.PrivateKey
	c    certdesk.Case
	mail store.Email
}

// newWebhookHarness is the API with SendGrid's verification key configured,
// and a case with one sent email.
func newWebhookHarness(t *testing.T) *webhookHarness {
	t.Helper()
	key, pub := mailtest.WebhookKey(t)
	cfg := devConfig(t, config.ModeProduction)
	cfg.Mail.SendGridWebhookKey = pub
	if err := cfg.Validate(); err != nil && strings.Contains(err.Error(), "WEBHOOK") {
		t.Fatal(err)
	}
	st := storetest.Seeded(t, "postgres")
	h := &webhookHarness{harness: &harness{t: t, store: st, h: api.New(api.Deps{Config: cfg, Store: st})}, key: key}
	ctx := context.Background()
	h.c = certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "wh-" + certdesk.NewID()}
	if _, err := st.OpenCase(ctx, &h.c, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	h.mail = store.Email{CaseID: h.c.ID, Step: "verify", Kind: "recovery_verify", ToAddr: "dara.m@proton.example"}
	if err := st.CreateEmail(ctx, &h.mail); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkEmailSent(ctx, h.mail.ID, "msg-1"); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *webhookHarness) post(body string, key *ecdsa.PrivateKey, at time.Time, tamper func(string) string) *httptest.ResponseRecorder {
	ts := strconv.FormatInt(at.Unix(), 10)
	sig := mailtest.SignWebhook(h.t, key, ts, []byte(body))
	if tamper != nil {
		body = tamper(body)
	}
	req := httptest.NewRequest("POST", "/webhooks/sendgrid", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mail.SignatureHeader, sig)
	req.Header.Set(mail.TimestampHeader, ts)
	return h.serve(req)
}

func events(evs ...string) string {
	return "[" + strings.Join(evs, ",") + "]"
}

func event(id, typ, caseID, step string) string {
	return fmt.Sprintf(`{"sg_event_id":%q,"event":%q,"email":"dara.m@proton.example","timestamp":%d,"case_id":%q,"step":%q,"reason":"550 mailbox unavailable"}`,
		id, typ, time.Now().Unix(), caseID, step)
}

func TestWebhookRefusesWhatIsNotSignedBySendGrid(t *testing.T) {
	h := newWebhookHarness(t)
	other, _ := mailtest.WebhookKey(t)
	body := events(event("ev-1", "bounce", h.c.ID, "verify"))
	tests := []struct {
		name   string
		key    *ecdsa.PrivateKey
		at     time.Time
		tamper func(string) string
	}{
		{"tampered body", h.key, time.Now(), func(b string) string { return strings.Replace(b, "bounce", "delivered", 1) }},
		{"wrong key", other, time.Now(), nil},
		{"old timestamp", h.key, time.Now().Add(-6 * time.Minute), nil},
	}
	for _, tc := range tests {
		rec := h.post(body, tc.key, tc.at, tc.tamper)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Errorf("%s: %d, want a 4xx", tc.name, rec.Code)
		}
	}
	ctx := context.Background()
	c, _ := h.store.Case(ctx, h.c.ID)
	e, _ := h.store.EmailForStep(ctx, h.c.ID, "verify")
	if c.Unreachable || c.Version != 1 || e.Status != store.EmailSent {
		t.Fatalf("a refused webhook changed something: case %+v, email %s", c, e.Status)
	}
	// Nothing was recorded either: the same event, properly signed, is new.
	if isNew, _ := h.store.RecordWebhookEvent(ctx, "ev-1", "bounce"); !isNew {
		t.Fatal("a refused webhook recorded its event")
	}
}

func TestWebhookRecordsDeliveryAndBounce(t *testing.T) {
	h := newWebhookHarness(t)
	ctx := context.Background()
	delivered := events(event("ev-d", "delivered", h.c.ID, "verify"), event("ev-x", "processed", "", ""))
	if rec := h.post(delivered, h.key, time.Now(), nil); rec.Code != http.StatusOK {
		t.Fatalf("delivered: %d %s", rec.Code, rec.Body)
	}
	e, _ := h.store.EmailForStep(ctx, h.c.ID, "verify")
	if e.Status != store.EmailDelivered || e.DeliveredAt == nil {
		t.Fatalf("email after delivered: %+v", e)
	}

	bounce := events(event("ev-b", "bounce", h.c.ID, "verify"))
	for i := 0; i < 2; i++ { // SendGrid delivers the same event again
		if rec := h.post(bounce, h.key, time.Now(), nil); rec.Code != http.StatusOK {
			t.Fatalf("bounce: %d %s", rec.Code, rec.Body)
		}
	}
	c, _ := h.store.Case(ctx, h.c.ID)
	if !c.Unreachable {
		t.Fatal("a bounce did not mark the case unreachable")
	}
	evs, _ := h.store.Events(ctx, h.c.ID, 0, 0)
	bounces := 0
	for _, ev := range evs {
		if ev.Type == "email_bounced" {
			bounces++
		}
	}
	if bounces != 1 {
		t.Fatalf("%d email_bounced events for one (repeated) bounce", bounces)
	}
}

func TestWebhookNotConfigured(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	r := h.do("POST", "/webhooks/sendgrid", "", "[]")
	if r.Code != http.StatusNotFound {
		t.Fatalf("unconfigured webhook = %d", r.Code)
	}
}
