package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
	"github.com/certdesk/certdesk/store"
)

// unsized hides a body's length, as a chunked upload does: only reading it
// finds it too large.
type unsized struct{ io.Reader }

// A body over the limit (1 MiB) is 413, whether its length is announced or
// found while reading: JSON in the error shape with code too_large, a form
// with the error page. Before, JSON said 400 and a form a misleading 403
// (its CSRF token could not be read).
func TestBodyOverTheLimitIs413(t *testing.T) {
	h := newHarness(t, "sqlite", nil)
	alice := h.login("alice.agent@certdesk.example")
	req := httptest.NewRequest("POST", "/dev/login", strings.NewReader("email=alice.agent%40certdesk.example"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cookie := h.serve(req).Result().Cookies()[0]
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "large-" + certdesk.NewID()}
	if _, err := h.store.OpenCase(context.Background(), &cs, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 2<<20)
	jsonBody := `{"note":"` + big + `"}`
	formBody := url.Values{"note": {big}, "csrf_token": {"x"}}.Encode()
	tests := []struct {
		name, path, ct, body string
		bearer               string
		cookie               *http.Cookie
		page                 bool
	}{
		{"a JSON note", "/api/v1/cases/" + cs.ID + "/notes", "application/json", jsonBody, alice, nil, false},
		{"a JSON recovery request", "/api/v1/recovery-requests", "application/json", `{"description":"` + big + `"}`, "", nil, false},
		{"a JSON dev sign-in", "/dev/login", "application/json", `{"email":"` + big + `"}`, "", nil, false},
		{"a console form from a browser", "/console/cases/" + cs.ID + "/notes", "application/x-www-form-urlencoded", formBody, "", cookie, true},
		{"a console form with a token", "/console/cases/" + cs.ID + "/notes", "application/x-www-form-urlencoded", formBody, alice, nil, true},
		{"the dev sign-in form", "/dev/login", "application/x-www-form-urlencoded", "email=" + big, "", nil, true},
		{"the recovery form", "/portal/recovery", "application/x-www-form-urlencoded", formBody, "", nil, true},
		{"a multipart form", "/portal/recovery", "multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\n" + big + "\r\n--b--\r\n", "", nil, true},
	}
	for _, tc := range tests {
		for _, announced := range []bool{true, false} {
			var body io.Reader = strings.NewReader(tc.body)
			if !announced {
				body = unsized{body}
			}
			req := httptest.NewRequest("POST", tc.path, body)
			req.Header.Set("Content-Type", tc.ct)
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			if tc.cookie != nil {
				req.AddCookie(tc.cookie)
			}
			rec := h.serve(req)
			r := response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
			switch {
			case r.Code != http.StatusRequestEntityTooLarge:
				t.Errorf("%s (length announced %v) = %d %.120s, want 413", tc.name, announced, r.Code, r.Body)
			case tc.page && !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"):
				t.Errorf("%s: answered %s, want the error page", tc.name, r.Header.Get("Content-Type"))
			case !tc.page && r.errorCode(t) != "too_large":
				t.Errorf("%s: %s, want code too_large", tc.name, r.Body)
			}
		}
	}
	// Just under the limit is read (and refused for what it says).
	if r := h.do("POST", "/api/v1/cases/"+cs.ID+"/notes", alice, `{"note":"`+strings.Repeat("x", 1<<19)+`"}`); r.Code != http.StatusBadRequest {
		t.Errorf("a long note under the limit = %d %.200s, want 400 (too long a note)", r.Code, r.Body)
	}
}

// The SendGrid webhook's body is read whole before its signature is
// checked: over the limit, it is 413 too.
func TestWebhookBodyOverTheLimitIs413(t *testing.T) {
	h := newWebhookHarness(t)
	body := `[` + strings.Repeat(`{"event":"processed"},`, 60000) + `{}]`
	ts := time.Now().Unix()
	req := httptest.NewRequest("POST", "/webhooks/sendgrid", unsized{strings.NewReader(body)})
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mail.TimestampHeader, strconv.FormatInt(ts, 10))
	req.Header.Set(mail.SignatureHeader, mailtest.SignWebhook(t, h.key, strconv.FormatInt(ts, 10), []byte(body)))
	rec := h.serve(req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("webhook over the limit = %d %s, want 413", rec.Code, rec.Body)
	}
}
