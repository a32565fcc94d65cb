package golive_test

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/oidctest"
)

// browser is one person's browser: its cookies (the session), and the
// CSRF token its pages and /api/v1/me hand it.
type browser struct {
	t    *testing.T
	who  string
	base string
	c    *http.Client
	csrf string
}

// signIn opens a new browser and signs in through the issuer as claims
// say; it returns the browser and the status the callback answered.
func (s *stack) signIn(who string, claims map[string]any) (*browser, int) {
	s.t.Helper()
	b := s.anonymous(who)
	code, _ := s.signInBrowser(b, claims)
	if code == http.StatusSeeOther {
		_, m := b.me()
		b.csrf = m.CSRFToken
	}
	return b, code
}

// signInBrowser runs the sign-in in a browser (certdesk, the provider, the
// callback) and returns what the callback answered: 303 to the site when
// signed in, else the page that says why not.
func (s *stack) signInBrowser(b *browser, claims map[string]any) (int, string) {
	s.t.Helper()
	s.issuer.Next(claims)
	code, page := b.do(http.MethodGet, "/auth/login?next=/", nil)
	return code, string(page)
}

// anonymous is a browser that is not signed in.
func (s *stack) anonymous(who string) *browser {
	return &browser{t: s.t, who: who, base: s.base, c: oidctest.Browser(s.base, nil)}
}

// do sends a request (a JSON body unless body is url.Values) with the
// CSRF header a signed-in page's script sends, and returns the answer.
func (b *browser) do(method, path string, body any) (int, []byte) {
	b.t.Helper()
	var rd io.Reader
	ct := ""
	switch v := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(v.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(v)
		if err != nil {
			b.t.Fatal(err)
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	target := path
	if strings.HasPrefix(path, "/") {
		target = b.base + path
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		b.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if b.csrf != "" && method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", b.csrf)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s: %s %s: %v", b.who, method, path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// json sends a request, expects the status want and decodes the answer
// into out (when not nil).
func (b *browser) json(method, path string, body any, want int, out any) {
	b.t.Helper()
	code, raw := b.do(method, path, body)
	if code != want {
		b.t.Fatalf("%s: %s %s = %d, want %d: %s", b.who, method, path, code, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%s: %s %s: %v: %s", b.who, method, path, err, raw)
		}
	}
}

// me is GET /api/v1/me as the person sees it.
type me struct {
	Role      string `json:"role"`
	Email     string `json:"email"`
	CSRFToken string `json:"csrf_token"`
	Accounts  []struct {
		Email, Kind, Status string
	} `json:"accounts"`
	LearningProfile *struct {
		ID                 string  `json:"id"`
		ConnectedProfileID *string `json:"connected_profile_id"`
	} `json:"learning_profile"`
	CertificationProfiles []struct {
		ID         string  `json:"id"`
		MCID       string  `json:"mcid"`
		Status     string  `json:"status"`
		MergedInto *string `json:"merged_into"`
		Connected  bool    `json:"connected"`
		Owned      bool    `json:"owned"`
	} `json:"certification_profiles"`
}

func (b *browser) me() (int, me) {
	b.t.Helper()
	var m me
	code, raw := b.do(http.MethodGet, "/api/v1/me", nil)
	if code == http.StatusOK {
		if err := json.Unmarshal(raw, &m); err != nil {
			b.t.Fatalf("%s: /api/v1/me: %v: %s", b.who, err, raw)
		}
	}
	return code, m
}

// profile is the learner's certification profile with an MCID.
func (m me) profile(mcid string) (id, status string, mergedInto *string, connected bool) {
	for _, p := range m.CertificationProfiles {
		if p.MCID == mcid {
			return p.ID, p.Status, p.MergedInto, p.Connected
		}
	}
	return "", "", nil, false
}

var formAction = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// useLink does what a person does with an email's link: opens its page,
// then presses its button. It returns the page that answers.
func (b *browser) useLink(link string) string {
	b.t.Helper()
	if !strings.HasPrefix(link, b.base+"/l/") {
		b.t.Fatalf("%s: the link %q is not on the public URL %s", b.who, link, b.base)
	}
	code, page := b.do(http.MethodGet, link, nil)
	m := formAction.FindSubmatch(page)
	if code != http.StatusOK || m == nil {
		b.t.Fatalf("%s: GET %s = %d without its form:\n%s", b.who, link, code, page)
	}
	code, page = b.do(http.MethodPost, html.UnescapeString(string(m[1])), url.Values{})
	if code != http.StatusOK {
		b.t.Fatalf("%s: POST of the link's form = %d:\n%s", b.who, code, page)
	}
	return string(page)
}

// integrationToken makes a system of record's token for the integration
// API (`certdesk token create --integration`), printed once.
func (s *stack) integrationToken(system, scopes string) string {
	s.t.Helper()
	out := s.certdesk("token", "create", "--integration", system, "--scopes", scopes)
	token, _, _ := strings.Cut(out, "\n")
	if !strings.HasPrefix(token, "cdi_") {
		s.t.Fatalf("certdesk token create --integration %s printed:\n%s", system, out)
	}
	return token
}

// integrate calls the integration API as a system of record does (a
// bearer token, JSON), and returns the status and the decoded answer.
func (s *stack) integrate(token, method, path string, body any) (int, map[string]any) {
	s.t.Helper()
	buf, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, s.base+path, bytes.NewReader(buf))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}
