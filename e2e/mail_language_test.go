package e2e_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// doWith sends a request with extra headers (Accept-Language, a cookie).
func doWith(t *testing.T, s *stacktest.Stack, method, path, token string, body any, headers map[string]string) int {
	t.Helper()
	req, err := stacktest.NewRequest(method, s.URL+path, token, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	client := *s.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// A learner's case writes to them in the language they asked in: Dara's
// recovery, sent with her browser in Brazilian Portuguese, confirms her
// address and tells her of the approval in Portuguese, with the date
// written the Brazilian way; the warning to the address on file goes in
// that address's own language (none kept: English), not the requester's.
// Ana, who chose German with the portal's switcher, is told in German that
// she is connected, and German is kept on her learning profile.
func TestLearnerMailInTheirLanguage(t *testing.T) {
	s := start(t)
	if code := doWith(t, s, "POST", "/api/v1/recovery-requests", "", daraRequest(), map[string]string{"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}); code != http.StatusAccepted {
		t.Fatalf("recovery request: %d", code)
	}
	verify := s.AwaitMail("dara.m@proton.example", mail.RecoveryVerify)
	if verify.Subject != "Confirme seu endereço de e-mail para sua solicitação de recuperação" || !strings.HasPrefix(verify.Text, "Olá, Dara Murphy,") {
		t.Errorf("verification in %q:\n%s", verify.Subject, verify.Text)
	}
	click(t, s, verify, nil)
	s.AwaitStatus(verify.CaseID, certdesk.StatusAwaitingAgent)
	decide(t, s, s.Login("alice.agent@certdesk.example"), verify.CaseID,
		map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005"), "note": "MCID and old address match"}, http.StatusOK)
	approved := s.AwaitMail("dara.m@proton.example", mail.RecoveryApproved)
	if approved.Subject != "Sua solicitação de recuperação foi aprovada" || !strings.Contains(approved.Text, " às ") {
		t.Errorf("approval in %q:\n%s", approved.Subject, approved.Text)
	}
	if notice := s.AwaitMail("dara.murphy@outlook.example", mail.RecoveryCoolingOff); notice.Subject != "Your certification profile will move to a new account" {
		t.Errorf("the address on file was warned in the requester's language: %q", notice.Subject)
	}

	ana := s.Login("ana.silva@outlook.example")
	if code := doWith(t, s, "POST", "/portal/connect", ana, stacktest.Form{}, map[string]string{"Cookie": "lang=de", "Accept-Language": "en"}); code != http.StatusSeeOther {
		t.Fatalf("Ana connects from the portal: %d", code)
	}
	if m := s.AwaitMail("ana.silva@outlook.example", mail.ConnectCompleted); m.Subject != "Ihr Zertifizierungsprofil ist verbunden" {
		t.Errorf("Ana's connection in %q", m.Subject)
	}
	if lang, err := s.Store.LearningProfileLanguage(t.Context(), store.DemoID("lp:ana")); err != nil || lang != "de" {
		t.Errorf("Ana's kept language %q, %v", lang, err)
	}
}
