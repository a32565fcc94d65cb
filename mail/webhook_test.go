package mail_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
)

const webhookTestBody = `[
  {"email":"ada@example.org","timestamp":1767225600,"smtp-id":"<14c5d75ce93.dfd.64b469@ismtpd-555>","event":"delivered","category":[],"sg_event_id":"ZGVsaXZlcmVkLTAtMjQ","sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","response":"250 OK","case_id":"case-42","step":"verify-1"},
  {"email":"bob@example.org","timestamp":1767225660,"event":"bounce","type":"bounce","status":"5.0.0","reason":"550 5.1.1 The email account that you tried to reach does not exist.","sg_event_id":"Ym91bmNlLTEtMjQ","sg_message_id":"24c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","case_id":"case-43","step":"connect-1","tls":1},
  {"email":"eve@example.org","timestamp":1767225720,"event":"dropped","reason":"Bounced Address","sg_event_id":"ZHJvcHBlZC0yLTI0","sg_message_id":"34c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0","case_id":"case-44","step":"recovery-2"},
  {"email":"nobody@example.org","timestamp":1767225780,"event":"processed"}
]`

func TestWebhookVerify(t *testing.T) {
	key, pub := mailtest.WebhookKey(t)
	other, _ := mailtest.WebhookKey(t)
	now := time.Unix(1767225600, 0)
	body := []byte(webhookTestBody)
	ts := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	fresh := ts(-10 * time.Second)

	tests := []struct {
		name      string
		body      []byte
		signature string
		timestamp string
		wantErr   string // "" = accepted
	}{
		{"signed", body, mailtest.SignWebhook(t, key, fresh, body), fresh, ""},
		{"at the limit", body, mailtest.SignWebhook(t, key, ts(-5*time.Minute), body), ts(-5 * time.Minute), ""},
		{"slightly ahead", body, mailtest.SignWebhook(t, key, ts(30*time.Second), body), ts(30 * time.Second), ""},
		{"tampered body", []byte(strings.Replace(webhookTestBody, "case-42", "case-99", 1)), mailtest.SignWebhook(t, key, fresh, body), fresh, "signature does not match"},
		{"other timestamp", body, mailtest.SignWebhook(t, key, fresh, body), ts(-9 * time.Second), "signature does not match"},
		{"other key", body, mailtest.SignWebhook(t, other, fresh, body), fresh, "signature does not match"},
		{"old", body, mailtest.SignWebhook(t, key, ts(-6*time.Minute), body), ts(-6 * time.Minute), "timestamp too old"},
		{"future", body, mailtest.SignWebhook(t, key, ts(2*time.Minute), body), ts(2 * time.Minute), "timestamp in the future"},
		{"garbage signature", body, "not base64!", fresh, "malformed signature"},
		{"base64 but not DER", body, base64.StdEncoding.EncodeToString([]byte("garbage")), fresh, "malformed signature"},
		{"no signature", body, "", fresh, "missing signature"},
		{"no timestamp", body, mailtest.SignWebhook(t, key, fresh, body), "", "timestamp"},
		{"malformed timestamp", body, mailtest.SignWebhook(t, key, "soon", body), "soon", "timestamp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := mail.NewWebhookVerifier(pub)
			if err != nil {
				t.Fatal(err)
			}
			v.Now = func() time.Time { return now }
			err = v.Verify(tt.body, tt.signature, tt.timestamp)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Verify: %v, want accepted", err)
			case tt.wantErr != "" && err == nil:
				t.Errorf("Verify accepted, want %q", tt.wantErr)
			case tt.wantErr != "" && !strings.Contains(err.Error(), tt.wantErr):
				t.Errorf("Verify: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestNewWebhookVerifierRejectsBadKeys(t *testing.T) {
	edPub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	edDER, err := x509.MarshalPKIXPublicKey(edPub)
	if err != nil {
		t.Fatal(err)
	}
	for name, key := range map[string]string{
		"empty":      "",
		"not base64": "%%%",
		"not a key":  base64.StdEncoding.EncodeToString([]byte("hello")),
		"ed25519":    base64.StdEncoding.EncodeToString(edDER), // panics inside the SDK
	} {
		t.Run(name, func(t *testing.T) {
			if v, err := mail.NewWebhookVerifier(key); err == nil {
				t.Errorf("NewWebhookVerifier = %v, want an error", v)
			}
		})
	}
}

func TestParseEvents(t *testing.T) {
	got, err := mail.ParseEvents([]byte(webhookTestBody))
	if err != nil {
		t.Fatalf("ParseEvents: %v", err)
	}
	want := []mail.Event{
		{
			ID: "ZGVsaXZlcmVkLTAtMjQ", Type: "delivered", Email: "ada@example.org",
			Timestamp: time.Unix(1767225600, 0).UTC(), CaseID: "case-42", Step: "verify-1",
			Reason: "250 OK", MessageID: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
		},
		{
			ID: "Ym91bmNlLTEtMjQ", Type: "bounce", Email: "bob@example.org",
			Timestamp: time.Unix(1767225660, 0).UTC(), CaseID: "case-43", Step: "connect-1",
			Reason:    "550 5.1.1 The email account that you tried to reach does not exist.",
			MessageID: "24c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
		},
		{
			ID: "ZHJvcHBlZC0yLTI0", Type: "dropped", Email: "eve@example.org",
			Timestamp: time.Unix(1767225720, 0).UTC(), CaseID: "case-44", Step: "recovery-2",
			Reason: "Bounced Address", MessageID: "34c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
		},
		// The processed event has no sg_event_id: skipped.
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseEvents =\n%+v\nwant\n%+v", got, want)
	}
}

func TestParseEventsErrors(t *testing.T) {
	for _, body := range []string{
		``,
		`not json`,
		`{"event":"delivered"}`,
		`null`,
		`[{"sg_event_id":"a"`,
		`[1, 2]`,
		`[{"sg_event_id":"a","timestamp":"yesterday"}]`,
		`[{"sg_event_id":"a","case_id":42}]`,
	} {
		if events, err := mail.ParseEvents([]byte(body)); err == nil {
			t.Errorf("ParseEvents(%q) = %+v, want an error", body, events)
		}
	}
	if events, err := mail.ParseEvents([]byte(` [] `)); err != nil || len(events) != 0 {
		t.Errorf("ParseEvents([]) = %v, %v; want no events", events, err)
	}
}

func FuzzParseEvents(f *testing.F) {
	for _, seed := range []string{
		webhookTestBody,
		`[]`,
		`[null]`,
		`[{"sg_event_id":"a","timestamp":1.5e9}]`,
		`[{"sg_event_id":"a","timestamp":1e300}]`,
		`[{"sg_event_id":"a","timestamp":"-9223372036854775808"}]`,
		`[{"sg_event_id":"","event":"open"}]`,
		`{"a":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := mail.ParseEvents(body)
		if err != nil && events != nil {
			t.Errorf("ParseEvents returned events and an error")
		}
		for _, e := range events {
			if e.ID == "" {
				t.Errorf("event without ID: %+v", e)
			}
		}
	})
}
