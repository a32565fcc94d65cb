package mail_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certdesk/certdesk/mail"
)

const sendgridTestKey = "SG.test-key.do-not-leak"

// sendgridRequest is what the fake SendGrid saw of one request.
type sendgridRequest struct {
	Method, Path, Auth, ContentType string
	Body                            map[string]any
}

// newSendGridServer starts a fake SendGrid that records requests and answers
// with answer. It returns a SendGrid pointed at it and the recorded requests.
func newSendGridServer(t *testing.T, answer http.HandlerFunc) (*mail.SendGrid, func() []sendgridRequest) {
	t.Helper()
	var (
		mu   sync.Mutex
		seen []sendgridRequest
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		if err != nil {
			t.Errorf("reading request: %v", err)
		}
		rec := sendgridRequest{
			Method:      r.Method,
			Path:        r.URL.Path,
			Auth:        r.Header.Get("Authorization"),
			ContentType: r.Header.Get("Content-Type"),
		}
		if err := json.Unmarshal(data, &rec.Body); err != nil {
			t.Errorf("request body is not a JSON object: %v: %s", err, data)
		}
		mu.Lock()
		seen = append(seen, rec)
		mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(srv.Close)
	sg := &mail.SendGrid{
		APIKey:   sendgridTestKey,
		BaseURL:  srv.URL,
		From:     "desk@certdesk.example",
		FromName: "CertDesk",
		Templates: map[string]string{
			mail.RecoveryVerify:   "d-verify",
			mail.ConnectCompleted: "d-connected",
		},
		Client: srv.Client(),
	}
	return sg, func() []sendgridRequest {
		mu.Lock()
		defer mu.Unlock()
		return append([]sendgridRequest(nil), seen...)
	}
}

func sendgridAccepted(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("X-Message-Id", "msg-1")
	w.WriteHeader(http.StatusAccepted)
}

func asSendError(t *testing.T, err error) *mail.SendError {
	t.Helper()
	var se *mail.SendError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not a *mail.SendError", err, err)
	}
	return se
}

func TestSendGridRequestBody(t *testing.T) {
	sg, seen := newSendGridServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK) // sandbox mode answers 200
	})
	sg.Sandbox = true
	const token = "tok_9f8e7d6c5b4a"
	m := mail.Message{
		Kind:   mail.RecoveryVerify,
		To:     "ada@example.org",
		ToName: "Ada Lovelace",
		CaseID: "case-42",
		Step:   "verify-1",
		Data: map[string]any{
			"name":       "Ada Lovelace",
			"case_id":    "case-42",
			"link":       "https://certdesk.example/r/" + token,
			"expires_at": "2026-03-01 12:00 UTC",
		},
		HasLinks: true,
		ReplyTo:  "reply+k3j2h4g5@reply.certdesk.example",
	}
	if _, err := sg.Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}

	reqs := seen()
	if len(reqs) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if got.Method != http.MethodPost || got.Path != "/v3/mail/send" {
		t.Errorf("request = %s %s, want POST /v3/mail/send", got.Method, got.Path)
	}
	if want := "Bearer " + sendgridTestKey; got.Auth != want {
		t.Errorf("Authorization = %q, want %q", got.Auth, want)
	}
	if got.ContentType != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got.ContentType)
	}
	want := map[string]any{
		"from":        map[string]any{"email": "desk@certdesk.example", "name": "CertDesk"},
		"template_id": "d-verify",
		"personalizations": []any{map[string]any{
			"to": []any{map[string]any{"email": "ada@example.org", "name": "Ada Lovelace"}},
			"dynamic_template_data": map[string]any{
				"name":       "Ada Lovelace",
				"case_id":    "case-42",
				"reference":  "CD-SE-42",
				"link":       "https://certdesk.example/r/" + token,
				"expires_at": "2026-03-01 12:00 UTC",
			},
			"custom_args": map[string]any{"case_id": "case-42", "step": "verify-1"},
		}},
		"tracking_settings": map[string]any{
			"click_tracking": map[string]any{"enable": false, "enable_text": false},
		},
		"mail_settings": map[string]any{
			"sandbox_mode": map[string]any{"enable": true},
		},
		// A reply lands on the case; certdesk's own mail is marked.
		"reply_to": map[string]any{"email": "reply+k3j2h4g5@reply.certdesk.example"},
		"headers":  map[string]any{mail.LoopHeader: "1"},
	}
	if !reflect.DeepEqual(got.Body, want) {
		gotJSON, _ := json.MarshalIndent(got.Body, "", "  ")
		wantJSON, _ := json.MarshalIndent(want, "", "  ")
		t.Errorf("request body:\n%s\nwant:\n%s", gotJSON, wantJSON)
	}

	// SendGrid keeps custom_args as non-personal data: nothing but ids.
	args, _ := got.Body["personalizations"].([]any)[0].(map[string]any)["custom_args"].(map[string]any)
	for k, v := range args {
		s := fmt.Sprint(v)
		for _, secret := range []string{token, "ada@example.org", "Ada", "https://"} {
			if strings.Contains(s, secret) {
				t.Errorf("custom_args[%q] = %q carries %q", k, s, secret)
			}
		}
	}
}

func TestSendGridWithoutLinksOrSandbox(t *testing.T) {
	sg, seen := newSendGridServer(t, sendgridAccepted)
	_, err := sg.Send(context.Background(), mail.Message{
		Kind: mail.ConnectCompleted, To: "ada@example.org", CaseID: "c1", Step: "done",
		Data: map[string]any{"mcid": "123"},
	})
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	body := seen()[0].Body
	for _, key := range []string{"tracking_settings", "mail_settings", "custom_args", "content", "subject"} {
		if _, ok := body[key]; ok {
			t.Errorf("body has %q: %v", key, body[key])
		}
	}
}

func TestSendGridOutcomes(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		body        string
		wantID      string
		wantErr     bool
		retryable   bool
		retryAfter  [2]time.Duration // inclusive bounds, when set
		wantMessage []string
	}{
		{
			name:   "accepted",
			status: http.StatusAccepted,
			header: map[string]string{"X-Message-Id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},
			wantID: "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0",
		},
		{
			name:   "accepted without id",
			status: http.StatusAccepted,
		},
		{
			name:       "rate limited",
			status:     http.StatusTooManyRequests,
			header:     map[string]string{"X-RateLimit-Reset": strconv.FormatInt(time.Now().Unix()+3, 10)},
			body:       `{"errors":[{"field":null,"message":"too many requests"}]}`,
			wantErr:    true,
			retryable:  true,
			retryAfter: [2]time.Duration{1500 * time.Millisecond, 3 * time.Second},
		},
		{
			name:       "rate limited, reset passed",
			status:     http.StatusTooManyRequests,
			header:     map[string]string{"X-RateLimit-Reset": strconv.FormatInt(time.Now().Unix()-30, 10)},
			wantErr:    true,
			retryable:  true,
			retryAfter: [2]time.Duration{time.Second, time.Second},
		},
		{
			name:       "rate limited, no reset",
			status:     http.StatusTooManyRequests,
			wantErr:    true,
			retryable:  true,
			retryAfter: [2]time.Duration{10 * time.Second, 10 * time.Second},
		},
		{
			name:      "server error",
			status:    http.StatusInternalServerError,
			body:      "upstream exploded",
			wantErr:   true,
			retryable: true,
		},
		{
			name:      "service unavailable",
			status:    http.StatusServiceUnavailable,
			wantErr:   true,
			retryable: true,
		},
		{
			name:   "bad request",
			status: http.StatusBadRequest,
			// The second error echoes the key: it must not reach our logs.
			body: `{"errors":[{"message":"The from address does not match a verified Sender Identity.","field":"from","help":null},` +
				`{"message":"key ` + sendgridTestKey + ` is odd","field":null}]}`,
			wantErr:     true,
			wantMessage: []string{"from: The from address does not match a verified Sender Identity.", "[redacted]"},
		},
		{
			name:        "unauthorized, not JSON",
			status:      http.StatusUnauthorized,
			body:        "<html>nope</html>",
			wantErr:     true,
			wantMessage: []string{"Unauthorized", "nope"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sg, _ := newSendGridServer(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			id, err := sg.Send(context.Background(), mail.Message{
				Kind: mail.ConnectCompleted, To: "ada@example.org", CaseID: "c1", Step: "s1",
			})
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				if id != tt.wantID {
					t.Errorf("id = %q, want %q", id, tt.wantID)
				}
				return
			}
			se := asSendError(t, err)
			if se.Status != tt.status || se.Retryable != tt.retryable {
				t.Errorf("SendError = %+v, want Status %d Retryable %v", se, tt.status, tt.retryable)
			}
			if lo, hi := tt.retryAfter[0], tt.retryAfter[1]; se.RetryAfter < lo || se.RetryAfter > hi {
				t.Errorf("RetryAfter = %v, want in [%v, %v]", se.RetryAfter, lo, hi)
			}
			for _, s := range tt.wantMessage {
				if !strings.Contains(se.Message, s) {
					t.Errorf("Message %q does not contain %q", se.Message, s)
				}
			}
			if strings.Contains(err.Error(), sendgridTestKey) {
				t.Errorf("error leaks the API key: %v", err)
			}
		})
	}
}

func TestSendGridLongErrorIsTruncated(t *testing.T) {
	sg, _ := newSendGridServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]string{
			{"message": strings.Repeat("é", 1000)},
		}})
	})
	_, err := sg.Send(context.Background(), mail.Message{Kind: mail.ConnectCompleted, To: "a@example.org"})
	se := asSendError(t, err)
	if len(se.Message) > 310 || !strings.HasPrefix(se.Message, "éé") {
		t.Errorf("Message (%d bytes) = %q", len(se.Message), se.Message)
	}
}

// A provider's answer that names an address (SendGrid echoes a refused
// recipient or reply-to) never carries it into the error, which goes to
// the case's timeline, Temporal's failure and the logs.
func TestSendGridErrorsNameNoAddress(t *testing.T) {
	for _, body := range []string{
		`{"errors":[{"message":"Does not contain a valid address: ada.lovelace+x@example.org","field":"personalizations.0.to.0.email"}]}`,
		`{"errors":[{"message":"The from address does not match a verified Sender Identity (Support <support@certdesk.example>)"}]}`,
		`{"errors":[{"message":"to: \"ADA@EXAMPLE.ORG\" and cc: bob@[10.0.0.1] are the same"}]}`,
		`not json: user@sub.example.co.uk bounced`,
	} {
		sg, _ := newSendGridServer(t, func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(body))
		})
		_, err := sg.Send(context.Background(), mail.Message{Kind: mail.ConnectCompleted, To: "ada.lovelace+x@example.org"})
		se := asSendError(t, err)
		if strings.Contains(se.Message, "@") || !strings.Contains(se.Message, "[address]") {
			t.Errorf("answer %s: message %q carries an address (or lost where it was)", body, se.Message)
		}
	}
}

func TestSendGridUnknownTemplate(t *testing.T) {
	sg, seen := newSendGridServer(t, sendgridAccepted)
	_, err := sg.Send(context.Background(), mail.Message{Kind: mail.RecoveryCoolingOff, To: "ada@example.org"})
	se := asSendError(t, err)
	if se.Retryable || se.Status != 0 {
		t.Errorf("SendError = %+v, want Status 0, not retryable", se)
	}
	if !strings.Contains(se.Message, "SENDGRID_TEMPLATE_RECOVERY_COOLING_OFF") {
		t.Errorf("Message %q does not name the variable", se.Message)
	}
	if n := len(seen()); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}

func TestSendGridUnencodableData(t *testing.T) {
	sg, seen := newSendGridServer(t, sendgridAccepted)
	_, err := sg.Send(context.Background(), mail.Message{
		Kind: mail.ConnectCompleted, To: "ada@example.org", Data: map[string]any{"bad": make(chan int)},
	})
	if se := asSendError(t, err); se.Retryable {
		t.Errorf("SendError = %+v, want not retryable", se)
	}
	if n := len(seen()); n != 0 {
		t.Errorf("server saw %d requests, want none", n)
	}
}

func TestSendGridNetworkErrors(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(sendgridAccepted))
		url := srv.URL
		srv.Close()
		sg := &mail.SendGrid{APIKey: sendgridTestKey, BaseURL: url,
			Templates: map[string]string{mail.ConnectCompleted: "d-1"}}
		_, err := sg.Send(context.Background(), mail.Message{Kind: mail.ConnectCompleted, To: "a@example.org"})
		se := asSendError(t, err)
		if se.Status != 0 || !se.Retryable {
			t.Errorf("SendError = %+v, want Status 0, retryable", se)
		}
		if strings.Contains(err.Error(), sendgridTestKey) {
			t.Errorf("error leaks the API key: %v", err)
		}
	})
	t.Run("context cancelled", func(t *testing.T) {
		release := make(chan struct{})
		sg, _ := newSendGridServer(t, func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		ctx, cancel := context.WithCancel(context.Background())
		errc := make(chan error, 1)
		go func() {
			_, err := sg.Send(ctx, mail.Message{Kind: mail.ConnectCompleted, To: "a@example.org"})
			errc <- err
		}()
		cancel()
		se := asSendError(t, <-errc)
		if se.Status != 0 || !se.Retryable {
			t.Errorf("SendError = %+v, want Status 0, retryable", se)
		}
	})
}

func TestSendGridConcurrentSends(t *testing.T) {
	var n atomic.Int64
	sg, seen := newSendGridServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("X-Message-Id", fmt.Sprintf("msg-%d", n.Add(1)))
		w.WriteHeader(http.StatusAccepted)
	})
	const senders = 20
	var wg sync.WaitGroup
	errs := make(chan error, senders)
	for i := range senders {
		wg.Go(func() {
			_, err := sg.Send(context.Background(), mail.Message{
				Kind:   mail.ConnectCompleted,
				To:     fmt.Sprintf("user%d@example.org", i),
				CaseID: fmt.Sprintf("case-%d", i),
				Step:   "done",
				Data:   map[string]any{"case_id": fmt.Sprintf("case-%d", i)},
			})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Send: %v", err)
		}
	}

	reqs := seen()
	if len(reqs) != senders {
		t.Fatalf("server saw %d requests, want %d", len(reqs), senders)
	}
	cases := map[string]bool{}
	for _, r := range reqs {
		ps, _ := r.Body["personalizations"].([]any)
		if len(ps) != 1 {
			t.Fatalf("request has %d personalizations, want 1: %v", len(ps), r.Body)
		}
		p := ps[0].(map[string]any)
		caseID := p["custom_args"].(map[string]any)["case_id"].(string)
		to := p["to"].([]any)[0].(map[string]any)["email"].(string)
		if want := "user" + strings.TrimPrefix(caseID, "case-") + "@example.org"; to != want {
			t.Errorf("case %s went to %s, want %s", caseID, to, want)
		}
		cases[caseID] = true
	}
	if len(cases) != senders {
		t.Errorf("server saw %d distinct case_ids, want %d", len(cases), senders)
	}
}

// The request names the recipient's language's dynamic template when one
// is configured (SENDGRID_TEMPLATE_<KIND>_<LOCALE>), the kind's otherwise,
// and English's for staff whatever their locale; times in the template
// data are written the language's way.
func TestSendGridSendsTheLocalesTemplate(t *testing.T) {
	sg, seen := newSendGridServer(t, sendgridAccepted)
	sg.Templates[mail.LocaleTemplateKey(mail.RecoveryVerify, "pt-BR")] = "d-verify-pt"
	sg.Templates[mail.LocaleTemplateKey(mail.CaseEscalated, "pt-BR")] = "d-escalated-pt"
	sg.Templates[mail.CaseEscalated] = "d-escalated"
	for _, tc := range []struct {
		kind, locale, want, expires string
	}{
		{mail.RecoveryVerify, "pt-BR", "d-verify-pt", "01/05/2026 às 09:30 UTC"},
		{mail.RecoveryVerify, "es", "d-verify", "1/5/2026, 09:30 UTC"},
		{mail.RecoveryVerify, "", "d-verify", "Fri 1 May 2026, 09:30 UTC"},
		{mail.CaseEscalated, "pt-BR", "d-escalated", "Fri 1 May 2026, 09:30 UTC"},
	} {
		m := mail.Message{Kind: tc.kind, To: "dara@example.org", CaseID: "case-1", Step: "s", Locale: tc.locale,
			Data: map[string]any{"expires_at": "Fri 1 May 2026, 09:30 UTC"}}
		if _, err := sg.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		reqs := seen()
		got := reqs[len(reqs)-1].Body
		if got["template_id"] != tc.want {
			t.Errorf("%s in %q: template %v, want %s", tc.kind, tc.locale, got["template_id"], tc.want)
		}
		p := got["personalizations"].([]any)[0].(map[string]any)["dynamic_template_data"].(map[string]any)
		if p["expires_at"] != tc.expires {
			t.Errorf("%s in %q: expires_at %v, want %s", tc.kind, tc.locale, p["expires_at"], tc.expires)
		}
	}
}
