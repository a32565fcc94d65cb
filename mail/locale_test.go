package mail

import (
	"io/fs"
	"path"
	"strings"
	"testing"
)

// A kind translated into the recipient's language renders in it, signed
// with the case's reference; any other language, or none, gets English.
func TestRenderInTheRecipientsLanguage(t *testing.T) {
	m := Message{Kind: ConnectCompleted, ToName: "Ana", CaseID: "01jd8k3m4n5p6q7r8s9t04f7k2", Data: map[string]any{"mcid": "100001"}}
	for _, tc := range []struct{ locale, subject, hello string }{
		{"", "Your certification profile is connected", "Hello Ana,"},
		{"es", "Tu perfil de certificación está conectado", "Hola, Ana:"},
		{"fr", "Votre profil de certification est connecté", "Bonjour Ana,"},
		{"de", "Ihr Zertifizierungsprofil ist verbunden", "Hallo Ana,"},
		{"ja", "認定プロファイルが接続されました", "Ana 様"},
		{"pt-BR", "Seu perfil de certificação está conectado", "Olá, Ana,"},
		{"xx", "Your certification profile is connected", "Hello Ana,"},
	} {
		m.Locale = tc.locale
		r, err := Render(m)
		if err != nil {
			t.Fatal(err)
		}
		if r.Subject != tc.subject || !strings.HasPrefix(r.Text, tc.hello) {
			t.Errorf("locale %q: subject %q, text %q", tc.locale, r.Subject, r.Text)
		}
		if !strings.Contains(r.Text, "CD-4F7K2") || !strings.Contains(r.HTML, "CD-4F7K2") || strings.Contains(r.Text, m.CaseID) {
			t.Errorf("locale %q: not signed with the reference:\n%s", tc.locale, r.Text)
		}
	}
}

// Every language's versions are of kinds that exist, each with its base.
func TestLocaleTemplatesAreComplete(t *testing.T) {
	langs := Locales()
	if len(langs) < 5 {
		t.Fatalf("languages %v, want es, fr, de, ja, pt-BR", langs)
	}
	kinds := map[string]bool{"_base": true}
	for _, k := range Kinds {
		kinds[k.Kind] = true
	}
	for _, l := range langs {
		files, _ := fs.Glob(templateFiles, "templates/"+l+"/*.tmpl")
		for _, f := range files {
			if name := strings.TrimSuffix(path.Base(f), ".tmpl"); !kinds[name] {
				t.Errorf("%s: %s is not a message kind", l, f)
			}
		}
		for _, k := range []string{ConnectCompleted, ConnectAddAccount, RecoveryVerify} {
			if !Translated(k, l) {
				t.Errorf("%s: %s is not translated", l, k)
			}
		}
	}
}

// A SendGrid template for the recipient's language is used when set, the
// kind's otherwise.
func TestSendGridTemplatePerLocale(t *testing.T) {
	s := &SendGrid{Templates: map[string]string{ConnectCompleted: "d-en", LocaleTemplateKey(ConnectCompleted, "pt-BR"): "d-pt"}}
	for locale, want := range map[string]string{"": "d-en", "pt-BR": "d-pt", "es": "d-en"} {
		if got, _ := s.templateID(Message{Kind: ConnectCompleted, Locale: locale}); got != want {
			t.Errorf("locale %q: template %q, want %q", locale, got, want)
		}
	}
	if k := LocaleTemplateKey(ConnectCompleted, "pt-BR"); k != "connect_completed_pt_br" {
		t.Errorf("key %q", k)
	}
}
