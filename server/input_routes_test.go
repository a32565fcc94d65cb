package server_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// Strings that are not text (NUL, other control characters, invalid UTF-8)
// are refused where they enter, on PostgreSQL, wherever they come: JSON
// bodies, query strings, path parameters, form values. The API answers 400
// naming the field; pages answer their error page with 400. A multi-line
// note is text.
func TestInputThatIsNotTextIsRefusedWithItsField(t *testing.T) {
	h := newHarness(t, "postgres", nil)
	ctx := context.Background()
	alice := h.login("alice.agent@certdesk.example")
	ben := h.login("ben.okafor@contoso.example")
	lp := h.do("GET", "/api/v1/me", ben, nil).json(t)["learning_profile"].(map[string]any)["id"].(string)
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "input-" + certdesk.NewID()}
	if _, err := h.store.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	cases := "/api/v1/cases/" + cs.ID
	cursor := func(raw string) string { return base64.RawURLEncoding.EncodeToString([]byte(raw)) }
	recovery := func(field, value string) map[string]string {
		r := map[string]string{"legal_name": "Dara Murphy", "contact_email": "dara.m@proton.example", "new_account_email": "dara.m@proton.example",
			"previous_email": "dara.murphy@outlook.example", "description": "I lost my account."}
		r[field] = value
		return r
	}
	tests := []struct {
		name         string
		method, path string
		token        string
		body         any // a string is sent as it is, as JSON
		field        string
		page         bool // answered with the error page
	}{
		{"NUL in a note", "POST", cases + "/notes", alice, map[string]string{"note": "a\x00b"}, "note", false},
		{"NUL escape in a note", "POST", cases + "/notes", alice, `{"note":"called\u0000"}`, "note", false},
		{"invalid UTF-8 in a note", "POST", cases + "/notes", alice, "{\"note\":\"a\xff\xfe\"}", "note", false},
		{"overlong slash in a note", "POST", cases + "/notes", alice, "{\"note\":\"\xc0\xaf\"}", "note", false},
		{"escape sequence in a note", "POST", cases + "/notes", alice, `{"note":"\u001b[2J"}`, "note", false},
		{"C1 control in a note", "POST", cases + "/notes", alice, `{"note":"\u0085"}`, "note", false},
		{"NUL in a decision's note", "POST", cases + "/decision", alice, map[string]string{"decision": "reject", "note": "\x00"}, "note", false},
		{"NUL in a decision", "POST", cases + "/decision", alice, map[string]string{"decision": "reject\x00"}, "decision", false},
		{"NUL in an assignee", "POST", cases + "/claim", alice, map[string]string{"assignee": "\x00"}, "assignee", false},
		{"NUL in a merge note", "POST", "/api/v1/merge-requests", ben, map[string]any{"profile_ids": []string{store.DemoID("profile:100002")}, "note": "mine\x00"}, "note", false},
		{"invalid UTF-8 in a merge profile id", "POST", "/api/v1/merge-requests", ben, "{\"profile_ids\":[\"a\",\"\xff\"]}", "profile_ids[1]", false},
		{"NUL in a recovery description", "POST", "/api/v1/recovery-requests", "", recovery("description", "lost\x00"), "description", false},
		{"invalid UTF-8 in a recovery name", "POST", "/api/v1/recovery-requests", "", "{\"legal_name\":\"Dara \xff\",\"description\":\"x\"}", "legal_name", false},
		{"NUL in an account's email", "POST", "/api/v1/learning-profiles/" + lp + "/accounts", ben, map[string]string{"email": "ben\x00@hotmail.example", "kind": "personal"}, "email", false},
		{"NUL in a sign-in event", "POST", "/api/v1/sign-in-events", alice, map[string]string{"email": "ana.silva@outlook.example\x00"}, "email", false},
		{"NUL in the dev sign-in (JSON)", "POST", "/dev/login", "", map[string]string{"email": "\x00"}, "email", false},
		{"q=%00", "GET", "/api/v1/cases?q=%00", alice, nil, "q", false},
		{"q=%ff%fe", "GET", "/api/v1/cases?q=%ff%fe", alice, nil, "q", false},
		{"assignee=%ff", "GET", "/api/v1/cases?assignee=%ff", alice, nil, "assignee", false},
		{"tab in a query", "GET", "/api/v1/cases?kind=merge%09", alice, nil, "kind", false},
		{"a cursor that decodes to NUL", "GET", "/api/v1/cases?cursor=" + cursor("\x00"), alice, nil, "cursor", false},
		{"a cursor that decodes to invalid UTF-8", "GET", "/api/v1/cases?cursor=" + cursor("\xff\xfe"), alice, nil, "cursor", false},
		{"an SLA cursor with NUL", "GET", "/api/v1/cases?order=sla&cursor=" + cursor("|\x00"), alice, nil, "cursor", false},
		{"a query name that is not text", "GET", "/api/v1/cases?%ff=1", alice, nil, `"\xff"`, false},
		{"dev mail to=%00", "GET", "/api/v1/dev/mail?to=%00", "", nil, "to", false},
		{"case id %ff%fe", "GET", "/api/v1/cases/%ff%fe", alice, nil, "id", false},
		{"case id %00", "GET", "/api/v1/cases/%00/events", alice, nil, "id", false},
		{"learning profile id %00", "POST", "/api/v1/learning-profiles/%00/accounts", ben, map[string]string{"email": "b@hotmail.example", "kind": "personal"}, "id", false},
		{"console case %ff%fe", "GET", "/console/cases/%ff%fe", alice, nil, "", true},
		{"console search %00", "GET", "/console?q=%00", alice, nil, "", true},
		{"console note form with NUL", "POST", "/console/cases/" + cs.ID + "/notes", alice, stacktest.Form{"note": {"a\x00b"}}, "", true},
		{"console decision form with invalid UTF-8", "POST", "/console/cases/" + cs.ID + "/decision", alice, stacktest.Form{"decision": {"reject"}, "note": {"\xff"}}, "", true},
		{"dev sign-in form with NUL", "POST", "/dev/login", "", stacktest.Form{"email": {"alice.agent@certdesk.example\x00"}}, "", true},
		{"recovery form with NUL", "POST", "/portal/recovery", "", stacktest.Form{"legal_name": {"Dara\x00"}}, "", true},
		{"link token %00", "GET", "/l/%00", "", nil, "", true},
		{"an unknown path with invalid UTF-8", "GET", "/nothing/%ff", "", nil, "", true},
	}
	for _, tc := range tests {
		r := h.do(tc.method, tc.path, tc.token, tc.body)
		if r.Code != http.StatusBadRequest {
			t.Errorf("%s: %s %s = %d %.200s, want 400", tc.name, tc.method, tc.path, r.Code, r.Body)
			continue
		}
		if tc.page {
			if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("%s: answered %s, want the error page", tc.name, ct)
			}
			continue
		}
		e, _ := r.json(t)["error"].(map[string]any)
		fields, _ := e["fields"].(map[string]any)
		if e["code"] != certdesk.EINVALID || fields[tc.field] == nil {
			t.Errorf("%s: %s, want invalid naming %s", tc.name, r.Body, tc.field)
		}
	}

	// Text with lines, tabs and any script is text.
	for _, note := range []string{"first line\nsecond line\r\n\tindented", "Ünïcödé · 名前 · اسم · \u202eevil", "\uFFFD is a character too"} {
		if r := h.do("POST", cases+"/notes", alice, map[string]string{"note": note}); r.Code != http.StatusCreated {
			t.Errorf("note %q = %d %s, want 201", note, r.Code, r.Body)
		}
	}
	if r := h.do("GET", "/api/v1/cases?q=ana+silva&kind=recovery", alice, nil); r.Code != http.StatusOK {
		t.Errorf("a plain search = %d %s", r.Code, r.Body)
	}
}

// A form post from a browser session with a value that is not text gets
// the error page with 400, not a CSRF refusal or a 500.
func TestFormWithNULFromABrowserIsRefused(t *testing.T) {
	h := newHarness(t, "postgres", nil)
	req := httptest.NewRequest("POST", "/dev/login", strings.NewReader("email=alice.agent%40certdesk.example"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	cookie := h.serve(req).Result().Cookies()[0]
	cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindRecovery, Requester: certdesk.ActorPublic, WorkflowID: "input-" + certdesk.NewID()}
	if _, err := h.store.OpenCase(context.Background(), &cs, store.Event{Actor: certdesk.ActorPublic, Type: "opened"}); err != nil {
		t.Fatal(err)
	}
	req = httptest.NewRequest("POST", "/console/cases/"+cs.ID+"/notes", strings.NewReader("note=a%00b&csrf_token=whatever"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(cookie)
	rec := h.serve(req)
	if rec.Code != http.StatusBadRequest || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("console note with NUL = %d %s, want the error page with 400", rec.Code, rec.Header().Get("Content-Type"))
	}
}
