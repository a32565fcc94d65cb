package e2e_test

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// A learner connects from the portal and sees the result.
func TestBrowserLearnerConnectsFromThePortal(t *testing.T) {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres"})
	b := newBrowser(t, s, "ana")
	b.signIn("ana.silva@outlook.example")
	if p := b.path(); p != "/portal" {
		t.Fatalf("a learner lands on %s, want /portal", p)
	}
	b.shot("portal-before")
	b.navigate("connect", chromedp.Click(chromedp.CSS(`form[action="/portal/connect"] button`)))
	b.waitText("main", "is connected to your learning profile")
	b.waitText("main", "Done.")
	b.shot("portal-connected")
	p, err := s.Store.CertificationProfileByMCID(context.Background(), "100001")
	if err != nil || p.ConnectedLearningProfileID == nil || *p.ConnectedLearningProfileID != store.DemoID("lp:ana") {
		t.Fatalf("profile 100001 after connecting from the portal: %+v %v", p, err)
	}
}
