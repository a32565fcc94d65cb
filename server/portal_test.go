package server_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/certdesk/certdesk/store"
)

// A profile connected to the learner's learning profile reads as connected,
// whichever account owns it (an older case merged Chen's own profile into
// the one c.wei@gmail owns), and the portal never offers Connect again.
func TestPortalShowsTheConnectedProfileWhoeverOwnsIt(t *testing.T) {
	for _, tc := range []struct {
		name, mcid string
	}{
		{"owned by his sign-in", "100003"},
		{"owned by another of his accounts", "100004"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, "sqlite", nil)
			if err := h.store.SetConnectedLearningProfile(context.Background(), store.DemoID("profile:"+tc.mcid), store.DemoID("lp:chen")); err != nil {
				t.Fatal(err)
			}
			r := h.do("GET", "/portal", h.login("chen.wei@outlook.example"), nil)
			body := string(r.Body)
			if r.Code != http.StatusOK || !strings.Contains(body, "MCID <strong>"+tc.mcid+"</strong>") || !strings.Contains(body, "is connected to your learning profile") {
				t.Errorf("portal = %d, without MCID %s connected:\n%s", r.Code, tc.mcid, body)
			}
			if strings.Contains(body, "Connect my certification profile") {
				t.Error("the portal offers Connect for a learning profile that has a connected profile")
			}
		})
	}
}
