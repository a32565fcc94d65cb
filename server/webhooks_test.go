package server_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
	"github.com/certdesk/certdesk/server"
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
	h := &webhookHarness{harness: &harness{t: t, store: st, h: server.New(server.Deps{Config: cfg, Store: st})}, key: key}
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

// Every refused webhook gets one answer, 403 "webhook refused": which check
// failed (signature, key, timestamp, a missing header) is in the log only,
// so the answers tell a forger nothing.
func TestWebhookRefusalSaysNothingOfWhy(t *testing.T) {
	h := newWebhookHarness(t)
	other, _ := mailtest.WebhookKey(t)
	body := events(event("ev-r", "bounce", h.c.ID, "verify"))
	now := time.Now()
	signed := func(key *ecdsa.PrivateKey, at time.Time, b string) (string, string) {
		ts := strconv.FormatInt(at.Unix(), 10)
		return mailtest.SignWebhook(t, key, ts, []byte(b)), ts
	}
	goodSig, goodTS := signed(h.key, now, body)
	tests := []struct {
		name, body, sig, ts string
		reason              string // what the log says
	}{
		{"tampered body", strings.Replace(body, "bounce", "delivered", 1), goodSig, goodTS, "signature does not match"},
		{"another key", body, first(signed(other, now, body)), goodTS, "signature does not match"},
		{"stale timestamp", body, first(signed(h.key, now.Add(-6*time.Minute), body)), strconv.FormatInt(now.Add(-6*time.Minute).Unix(), 10), "too old"},
		{"future timestamp", body, first(signed(h.key, now.Add(time.Hour), body)), strconv.FormatInt(now.Add(time.Hour).Unix(), 10), "future"},
		{"timestamp of another signature", body, goodSig, strconv.FormatInt(now.Add(-time.Second).Unix(), 10), "signature does not match"},
		{"missing signature", body, "", goodTS, "missing signature"},
		{"missing timestamp", body, goodSig, "", "timestamp"},
		{"malformed timestamp", body, goodSig, "yesterday", "timestamp"},
		{"malformed signature", body, "not-base64!", goodTS, "signature"},
		{"signature of nothing", body, "AAAA", goodTS, "signature"},
	}
	var logs bytes.Buffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer slog.SetDefault(prev)
	var first string
	for _, tc := range tests {
		logs.Reset()
		req := httptest.NewRequest("POST", "/webhooks/sendgrid", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		if tc.sig != "" {
			req.Header.Set(mail.SignatureHeader, tc.sig)
		}
		if tc.ts != "" {
			req.Header.Set(mail.TimestampHeader, tc.ts)
		}
		rec := h.serve(req)
		var got struct {
			Error struct {
				Code, Message string
				Fields        map[string]string
			}
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &got)
		answer := fmt.Sprintf("%d %s %s %v", rec.Code, got.Error.Code, got.Error.Message, got.Error.Fields)
		if first == "" {
			first = answer
		}
		if rec.Code != http.StatusForbidden || got.Error.Message != "webhook refused" || answer != first {
			t.Errorf("%s: %s, want the one answer: 403 forbidden webhook refused", tc.name, answer)
		}
		for _, word := range []string{"signature", "timestamp", "old", "future", "missing", "malformed", "key", "match"} {
			if strings.Contains(strings.ToLower(rec.Body.String()), word) {
				t.Errorf("%s: the answer says %q: %s", tc.name, word, rec.Body)
			}
		}
		if !strings.Contains(logs.String(), "webhook refused") || !strings.Contains(logs.String(), tc.reason) {
			t.Errorf("%s: the log does not say why (%q): %s", tc.name, tc.reason, logs.String())
		}
	}
}

func first(a, _ string) string { return a }

// A signed batch whose text PostgreSQL cannot store is refused (400), not
// a 500 that SendGrid would retry for a day.
func TestWebhookEventsMustBeText(t *testing.T) {
	h := newWebhookHarness(t)
	for _, body := range []string{
		events(strings.Replace(event("ev-n", "bounce", h.c.ID, "verify"), "550 mailbox unavailable", `550\u0000`, 1)),
		events(strings.Replace(event("ev-u", "bounce", h.c.ID, "verify"), "550 mailbox unavailable", "550 \xff\xfe", 1)),
		events(strings.Replace(event("ev-i", "bounce", h.c.ID, "verify"), `"ev-i"`, `"ev\u0000"`, 1)),
	} {
		if rec := h.post(body, h.key, time.Now(), nil); rec.Code != http.StatusBadRequest {
			t.Errorf("signed batch %q = %d %s, want 400", body, rec.Code, rec.Body)
		}
	}
}
