package server_test

import (
	"context"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/workflows"
)

// recoveryHarness is the API of a whole stack (a real Temporal server and
// worker), called in process so each request can come from its own client
// address; cases lists the recovery cases the workflows opened.
func recoveryHarness(t *testing.T, dialect string) (*harness, func() []certdesk.Case) {
	t.Helper()
	s := stacktest.Start(t, stacktest.Options{Dialect: dialect})
	h := &harness{t: t, store: s.Store, h: s.API}
	return h, func() []certdesk.Case {
		t.Helper()
		page, err := s.Store.ListCases(context.Background(), store.CaseFilter{Kind: certdesk.KindRecovery, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		return page.Items
	}
}

// from sends a request from a client address.
func (h *harness) from(addr, method, path string, body any) response {
	h.t.Helper()
	req, err := stacktest.NewRequest(method, path, "", body)
	if err != nil {
		h.t.Fatal(err)
	}
	req.RemoteAddr = net.JoinHostPort(addr, "40000")
	rec := h.serve(req)
	return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func recoveryBody(contact string) map[string]string {
	return map[string]string{
		"legal_name": "Dara Murphy", "contact_email": contact, "mcid": "100005",
		"previous_email": "dara.murphy@outlook.example", "new_account_email": "dara.m@proton.example",
		"description": "I lost my old Outlook account.",
	}
}

func TestRecoveryRequestValidation(t *testing.T) {
	h, cases := recoveryHarness(t, "sqlite")
	with := func(k, v string) map[string]string {
		b := recoveryBody("dara.m@proton.example")
		b[k] = v
		return b
	}
	bad := []struct {
		body   any
		fields []string
	}{
		{map[string]string{}, []string{"contact_email", "description", "legal_name", "new_account_email"}},
		{with("legal_name", " - . "), []string{"legal_name"}},
		{with("contact_email", "dara at proton"), []string{"contact_email"}},
		{with("mcid", "MC-100005"), []string{"mcid"}},
		{with("previous_email", "Dara <d@x.example>"), []string{"previous_email"}},
		{with("new_account_email", "DARA.MURPHY@outlook.example"), []string{"new_account_email"}},
		{with("description", string(make([]byte, 4001))), []string{"description"}},
		{`{"legal_name":"Dara Murphy","admin":true}`, []string{"admin"}},
	}
	for _, b := range bad {
		r := h.from("192.0.2.10", "POST", "/api/v1/recovery-requests", b.body)
		e, _ := r.json(t)["error"].(map[string]any)
		fields, _ := e["fields"].(map[string]any)
		var got []string
		for k := range fields {
			got = append(got, k)
		}
		slices.Sort(got)
		if r.Code != http.StatusBadRequest || e["code"] != "invalid" || !slices.Equal(got, b.fields) {
			t.Errorf("POST %v = %d %s, want 400 naming %v", b.body, r.Code, r.Body, b.fields)
		}
	}
	if n := len(cases()); n != 0 {
		t.Errorf("invalid requests started %d cases", n)
	}
}

// A request that matches Dara's profile and one that matches nothing get the
// same answer: status, headers (but the request id and date) and body.
func TestRecoveryRequestAnswersTheSameWhetherOrNotItMatches(t *testing.T) {
	h, cases := recoveryHarness(t, "postgres")
	match := recoveryBody("dara.m@proton.example")
	nothing := map[string]string{
		"legal_name": "Nobody Known", "contact_email": "nobody@proton.example", "mcid": "999999",
		"previous_email": "nobody@outlook.example", "new_account_email": "nobody.new@proton.example",
		"description": "I lost my old Outlook account.",
	}
	a := h.from("192.0.2.20", "POST", "/api/v1/recovery-requests", match)
	b := h.from("192.0.2.20", "POST", "/api/v1/recovery-requests", nothing)
	if a.Code != http.StatusAccepted {
		t.Fatalf("answer %d %s, want 202", a.Code, a.Body)
	}
	if a.Code != b.Code || string(a.Body) != string(b.Body) {
		t.Errorf("different answers:\n%d %s\n%d %s", a.Code, a.Body, b.Code, b.Body)
	}
	strip := func(hd http.Header) http.Header {
		hd = hd.Clone()
		hd.Del("X-Request-Id")
		hd.Del("Date")
		return hd
	}
	if ha, hb := strip(a.Header), strip(b.Header); !equalHeaders(ha, hb) {
		t.Errorf("different headers:\n%v\n%v", ha, hb)
	}
	// Both started a case, which its workflow opened before the answer.
	got := cases()
	if len(got) != 2 {
		t.Fatalf("%d cases opened, want 2", len(got))
	}
	for _, c := range got {
		if c.Kind != certdesk.KindRecovery || c.Requester != certdesk.ActorPublic || c.WorkflowID != workflows.RecoveryWorkflowID(c.ID) || c.RunID == "" {
			t.Errorf("projection %+v", c)
		}
	}
}

func equalHeaders(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func TestRecoveryRequestRateLimits(t *testing.T) {
	storeAt := func(h *harness, now time.Time) { h.store.Now = func() time.Time { return now } }
	t.Run("per contact mailbox, in a sliding hour", func(t *testing.T) {
		h, cases := recoveryHarness(t, "postgres")
		storeAt(h, time.Date(2030, 1, 1, 10, 20, 0, 0, time.UTC))
		// From three clients and three spellings of one mailbox: the
		// mailbox is what is limited (case and +tags reach one inbox).
		for i, contact := range []string{"dara.m@proton.example", "dara.m+1@proton.example", "DARA.M+recovery@Proton.example"} {
			if r := h.from("192.0.2."+strconv.Itoa(30+i), "POST", "/api/v1/recovery-requests", recoveryBody(contact)); r.Code != http.StatusAccepted {
				t.Fatalf("request %d = %d %s", i+1, r.Code, r.Body)
			}
		}
		r := h.from("192.0.2.40", "POST", "/api/v1/recovery-requests", recoveryBody("Dara.M+again@Proton.example"))
		if r.Code != http.StatusTooManyRequests || r.errorCode(t) != certdesk.ERATELIMITED || r.Header.Get("Retry-After") != "3300" {
			t.Fatalf("4th request = %d %s Retry-After %q, want 429 rate_limited, retry in 3300 s", r.Code, r.Body, r.Header.Get("Retry-After"))
		}
		if n := len(cases()); n != 3 {
			t.Errorf("%d cases started, want 3", n)
		}
		if r := h.from("192.0.2.40", "POST", "/api/v1/recovery-requests", recoveryBody("other@proton.example")); r.Code != http.StatusAccepted {
			t.Errorf("another contact address = %d, want 202", r.Code)
		}
		// A new clock hour is not a new window: the last hour still counts.
		storeAt(h, time.Date(2030, 1, 1, 11, 0, 0, 0, time.UTC))
		if r := h.from("192.0.2.41", "POST", "/api/v1/recovery-requests", recoveryBody("dara.m@proton.example")); r.Code != http.StatusTooManyRequests {
			t.Errorf("at the top of the next hour = %d, want 429", r.Code)
		}
		storeAt(h, time.Date(2030, 1, 1, 11, 50, 0, 0, time.UTC))
		if r := h.from("192.0.2.42", "POST", "/api/v1/recovery-requests", recoveryBody("dara.m@proton.example")); r.Code != http.StatusAccepted {
			t.Errorf("once the burst has left the last hour = %d, want 202", r.Code)
		}
	})
	t.Run("per client address", func(t *testing.T) {
		h, _ := recoveryHarness(t, "sqlite")
		codes := []int{}
		for i := range 12 {
			body := recoveryBody("learner" + strconv.Itoa(i) + "@proton.example")
			if i == 5 {
				body = map[string]string{} // invalid ones count too
			}
			codes = append(codes, h.from("2001:db8::"+strconv.Itoa(i+1), "POST", "/api/v1/recovery-requests", body).Code)
		}
		want := []int{202, 202, 202, 202, 202, 400, 202, 202, 202, 202, 429, 429}
		if !slices.Equal(codes, want) {
			t.Errorf("a burst from one IPv6 /64 = %v, want %v", codes, want)
		}
		if r := h.from("2001:db8:0:1::1", "POST", "/api/v1/recovery-requests", recoveryBody("x@proton.example")); r.Code != http.StatusAccepted {
			t.Errorf("another /64 = %d, want 202", r.Code)
		}
	})
}

func TestSignInEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := newHarness(t, dialect, nil)
		alice := h.login("alice.agent@certdesk.example")
		ctx := context.Background()
		tests := []struct {
			token string
			body  any
			code  int
		}{
			{"", map[string]string{"email": "ana.silva@outlook.example"}, http.StatusUnauthorized},
			{h.login("ana.silva@outlook.example"), map[string]string{"email": "ana.silva@outlook.example"}, http.StatusForbidden},
			{alice, map[string]string{"email": "not an email"}, http.StatusBadRequest},
			{alice, map[string]string{"email": "ana.silva@outlook.example", "at": "yesterday"}, http.StatusBadRequest},
			{alice, map[string]string{"email": "ana.silva@outlook.example", "at": time.Now().Add(time.Hour).Format(time.RFC3339)}, http.StatusBadRequest},
			{alice, map[string]string{"email": "nobody@outlook.example"}, http.StatusNotFound},
			{alice, map[string]string{"email": "dara.murphy@outlook.example"}, http.StatusConflict},
		}
		for _, tc := range tests {
			if r := h.do("POST", "/api/v1/sign-in-events", tc.token, tc.body); r.Code != tc.code {
				t.Errorf("POST %v = %d %s, want %d", tc.body, r.Code, r.Body, tc.code)
			}
		}
		r := h.do("POST", "/api/v1/sign-in-events", alice, map[string]string{"email": "dara.murphy@outlook.example"})
		if msg := r.json(t)["error"].(map[string]any)["message"].(string); !strings.Contains(msg, "inactive") || !strings.Contains(msg, "recovery") {
			t.Errorf("409 message %q does not say why", msg)
		}
		if dara, _ := h.store.AccountByEmail(ctx, "dara.murphy@outlook.example"); dara.Status != certdesk.AccountInactive || time.Since(*dara.LastSignInAt) < 365*24*time.Hour {
			t.Errorf("the refused sign-in changed Dara's account: %+v", dara)
		}

		at := time.Now().UTC().Add(-time.Minute).Truncate(time.Second)
		r = h.do("POST", "/api/v1/sign-in-events", alice, map[string]string{"email": "Ana.Silva@outlook.example", "at": at.Format(time.RFC3339)})
		got := r.json(t)
		if r.Code != http.StatusOK || got["status"] != "active" || got["last_sign_in_at"] != at.Format(time.RFC3339) {
			t.Fatalf("sign-in = %d %s", r.Code, r.Body)
		}
		if ana, _ := h.store.AccountByEmail(ctx, "ana.silva@outlook.example"); !ana.LastSignInAt.Equal(at) {
			t.Errorf("stored last sign-in %v, want %v", ana.LastSignInAt, at)
		}
	})
}
