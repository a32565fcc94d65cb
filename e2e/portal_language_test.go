package e2e_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// The portal speaks the language kept on the learner's learning profile
// (chosen on another device) over the browser's Accept-Language; a choice
// made in this browser (?lang=, its cookie) comes first.
func TestThePortalSpeaksTheLanguageKeptForTheLearner(t *testing.T) {
	s := start(t)
	ana := s.Login("ana.silva@outlook.example")
	lang := func(path, cookie string) string {
		t.Helper()
		req, err := stacktest.NewRequest("GET", s.URL+path, ana, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Language", "en-US,en;q=0.9")
		if cookie != "" {
			req.Header.Set("Cookie", "lang="+cookie)
		}
		resp, err := s.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		_, after, _ := strings.Cut(string(b), `<html lang="`)
		l, _, _ := strings.Cut(after, `"`)
		return l
	}
	if got := lang("/portal", ""); got != "en" {
		t.Fatalf("nothing kept: %q, want en", got)
	}
	if err := s.Store.SetLanguage(context.Background(), store.DemoID("lp:ana"), "de"); err != nil {
		t.Fatal(err)
	}
	if got := lang("/portal", ""); got != "de" {
		t.Errorf("with German kept on her learning profile: %q, want de", got)
	}
	if got := lang("/portal?lang=fr", ""); got != "fr" {
		t.Errorf("asked for French: %q", got)
	}
	if got := lang("/portal", "es"); got != "es" {
		t.Errorf("this browser's Spanish: %q", got)
	}
}
