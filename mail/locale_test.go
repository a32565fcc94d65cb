package mail

import (
	"io/fs"
	"path"
	"strings"
	"testing"
	"time"
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
	}
}

// sampleData is a value for every field a kind's templates read.
func sampleData(k KindInfo) map[string]any {
	data := map[string]any{}
	for _, f := range k.Data {
		data[f] = "x-" + f
	}
	for _, f := range []string{"expires_at", "effective_at", "added_at", "waiting_since"} {
		if _, ok := data[f]; ok {
			data[f] = "Fri 1 May 2026, 09:30 UTC"
		}
	}
	return data
}

// Every kind written to a learner has a version in every language the
// learner side speaks, and renders in it: no English left in its subject,
// no field left unfilled. Staff's kinds stay English whatever the locale.
func TestEveryLearnerKindIsTranslated(t *testing.T) {
	want := []string{"de", "es", "fr", "ja", "pt-BR"}
	if got := Locales(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("languages %v, want %v", got, want)
	}
	for _, k := range Kinds {
		english, err := Render(Message{Kind: k.Kind, ToName: "Ana", CaseID: "01jd8k3m4n5p6q7r8s9t04f7k2", Data: sampleData(k)})
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range want {
			m := Message{Kind: k.Kind, ToName: "Ana", CaseID: "01jd8k3m4n5p6q7r8s9t04f7k2", Data: sampleData(k), Locale: l}
			r, err := Render(m)
			if err != nil {
				t.Fatalf("%s in %s: %v", k.Kind, l, err)
			}
			if ToStaff(k.Kind) {
				if Translated(k.Kind, l) || r.Subject != english.Subject {
					t.Errorf("%s is to staff, yet has a %s version (%q)", k.Kind, l, r.Subject)
				}
				continue
			}
			if !Translated(k.Kind, l) {
				t.Errorf("%s: %s is not translated", l, k.Kind)
				continue
			}
			if r.Subject == english.Subject && !strings.Contains(r.Subject, "x-subject") {
				t.Errorf("%s in %s: subject still English: %q", k.Kind, l, r.Subject)
			}
			for _, part := range []string{r.Subject, r.Text, r.HTML} {
				if strings.Contains(part, "<no value>") || strings.Contains(part, "Hello") {
					t.Errorf("%s in %s: %q", k.Kind, l, part)
				}
			}
			for _, f := range k.Data {
				// What the English says, the translation says too.
				v, _ := m.Data[f].(string)
				if strings.HasPrefix(v, "x-") && strings.Contains(english.Text, v) && !strings.Contains(r.Text, v) {
					t.Errorf("%s in %s: the text does not say %s", k.Kind, l, f)
				}
			}
		}
	}
}

// Times in a translated message are written its language's way; numbers
// that came through JSON (float64) read as integers.
func TestDatesAndNumbersForTheLocale(t *testing.T) {
	at := "Fri 1 May 2026, 09:30 UTC"
	for locale, want := range map[string]string{
		"":      at,
		"es":    "1/5/2026, 09:30 UTC",
		"fr":    "01/05/2026 à 09:30 UTC",
		"de":    "01.05.2026, 09:30 UTC",
		"ja":    "2026年5月1日 09:30 UTC",
		"pt-BR": "01/05/2026 às 09:30 UTC",
	} {
		r, err := Render(Message{Kind: RecoveryApproved, ToName: "Dara", CaseID: "c1", Locale: locale,
			Data: map[string]any{"new_account": "dara.m@proton.example", "effective_at": at}})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.Text, want) {
			t.Errorf("locale %q: want %q in\n%s", locale, want, r.Text)
		}
	}
	r, err := Render(Message{Kind: MergeCompleted, ToName: "Chen", CaseID: "c1", Locale: "de",
		Data: map[string]any{"target_mcid": "100003", "merged_mcids": "100004", "certifications_moved": float64(1234), "transcript_moved": float64(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "1.234 Zertifizierungen und 2 Prüfungsergebnisse") {
		t.Errorf("numbers not written the German way:\n%s", r.Text)
	}
	// Staff read English times whatever the locale says.
	if got := FormatTime(time.Date(2026, 5, 1, 9, 30, 0, 0, time.UTC), "xx"); got != at {
		t.Errorf("FormatTime(xx) = %q", got)
	}
}

// A refused connection says why in the learner's language, from the
// resolution; without one (a case that sent it before it was carried) the
// English words are kept.
func TestConnectRejectedSaysWhyInTheLanguage(t *testing.T) {
	data := map[string]any{"reason": "your certification profile (MCID 100002) is already connected to another learning profile.",
		"guidance": "Sign in to the learning profile it is connected to.", "resolution": "connected_elsewhere"}
	r, err := Render(Message{Kind: ConnectRejected, ToName: "Ben", CaseID: "c1", Locale: "es", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Text, "ya está conectado a otro perfil de aprendizaje") || strings.Contains(r.Text, "already connected") {
		t.Errorf("reason not in Spanish:\n%s", r.Text)
	}
	delete(data, "resolution")
	if r, _ = Render(Message{Kind: ConnectRejected, ToName: "Ben", CaseID: "c1", Locale: "es", Data: data}); !strings.Contains(r.Text, "already connected") {
		t.Errorf("an old case's reason is lost:\n%s", r.Text)
	}
}

// A nameless recipient is greeted in their language, not "there".
func TestNamelessGreeting(t *testing.T) {
	r, err := Render(Message{Kind: ConnectExpired, CaseID: "c1", Locale: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(r.Text, "Bonjour,\n") {
		t.Errorf("text %q", r.Text)
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
