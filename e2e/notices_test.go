package e2e_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// A supervisor assigns a case to Alice, then to Bob: each sees "Sam
// Supervisor assigned you case CD-… — open it" on the next console page
// they load, whichever it is, until they dismiss it (a POST); Bob, who
// asked on his notices page to be emailed, gets the email in the captured
// mailbox; Alice, who did not, gets none; Sam is told nothing of his own
// assignments.
func TestAssignedToYouNoticeAndEmail(t *testing.T) {
	s := start(t)
	merge := chenMerge(t, s)
	ref := certdesk.Reference(merge.ID)
	sam, bob, alice := s.Login("sam.supervisor@certdesk.example"), s.Login("bob.agent@certdesk.example"), s.Login("alice.agent@certdesk.example")
	bobID, aliceID := store.DemoID("agent:bob.agent@certdesk.example"), store.DemoID("agent:alice.agent@certdesk.example")

	if page := string(s.Do("GET", "/console/notices", bob, nil).Body); !strings.Contains(page, `name="email_on_assign" value="on">`) {
		t.Fatalf("the setting is not offered, or is on before Bob asked:\n%s", page)
	}
	if r := s.Do("POST", "/console/notices", bob, stacktest.Form{"email_on_assign": {"on"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("Bob turns the email on: %d %s", r.Code, r.Body)
	}
	if page := string(s.Do("GET", "/console/notices?done=saved", bob, nil).Body); !strings.Contains(page, `value="on" checked>`) {
		t.Fatalf("Bob's setting is not kept")
	}
	if r := s.Do("GET", "/console/notices", bob, stacktest.Form{}); r.Code != http.StatusOK {
		t.Fatalf("GET /console/notices: %d", r.Code)
	}

	notice := `Sam Supervisor assigned you case <a href="/console/cases/` + merge.ID + `">` + ref + ` — open it</a>`
	for _, who := range []struct {
		name, id, token string
	}{{"Alice", aliceID, alice}, {"Bob", bobID, bob}} {
		if page := string(s.Do("GET", "/console", who.token, nil).Body); strings.Contains(page, "assigned you case") {
			t.Fatalf("%s is notified before anything was assigned", who.name)
		}
		if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/claim", sam, map[string]string{"assignee": who.id}); r.Code != http.StatusOK {
			t.Fatalf("Sam assigns the case to %s: %d %s", who.name, r.Code, r.Body)
		}
		// The next page they load, whichever it is, tells them.
		for _, path := range []string{"/console/profiles", "/console"} {
			if page := string(s.Do("GET", path, who.token, nil).Body); !strings.Contains(page, notice) {
				t.Errorf("%s's %s does not say %q", who.name, path, notice)
			}
		}
	}
	if page := string(s.Do("GET", "/console", sam, nil).Body); strings.Contains(page, "assigned you case") {
		t.Errorf("Sam is notified of his own assignments")
	}

	// Bob asked for the email: it comes, naming who assigned what, with
	// the case's console link.
	m := s.AwaitMail("bob.agent@certdesk.example", mail.CaseAssigned)
	if m.CaseID != merge.ID || m.Subject != "Sam Supervisor assigned you case "+ref || !strings.Contains(m.Text, "/console/cases/"+merge.ID) {
		t.Errorf("Bob's email: %+v", m)
	}
	// Alice did not ask (her assignment came first, and its notice step
	// ran before Bob's email could be sent).
	var list struct{ Items []stacktest.Mail }
	s.Do("GET", "/api/v1/dev/mail?to="+url.QueryEscape("alice.agent@certdesk.example"), "", nil).Decode(t, &list)
	for _, m := range list.Items {
		if m.Kind == mail.CaseAssigned {
			t.Errorf("Alice, who did not ask, got %q", m.Subject)
		}
	}

	// Dismissed, the notice is gone from every page, and the POST goes back.
	r := s.Do("POST", "/console/notifications/seen", bob, stacktest.Form{"back": {"/console/profiles"}})
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/console/profiles" {
		t.Fatalf("dismiss: %d to %q", r.Code, r.Header.Get("Location"))
	}
	// Bob holds the case still: only his dismissal hides it.
	if page := string(s.Do("GET", "/console", bob, nil).Body); strings.Contains(page, "assigned you case") {
		t.Errorf("Bob's notice is still there after dismissing it")
	}
}
