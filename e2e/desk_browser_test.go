package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// The queue's advertised keys work: j selects the first case, Enter opens
// it; / focuses the search; ? opens the list of keys, Esc closes it and
// focus goes back where it was. The case page has the list too.
func TestBrowserDeskQueueKeysAndHelp(t *testing.T) {
	s := start(t)
	cs := chenMerge(t, s)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console?view=all&kind=merge", "queue")

	alice.run("press /", chromedp.KeyEvent("/"))
	if got := alice.active(); got != "q" {
		t.Fatalf("/ focused %q, want the search", got)
	}
	alice.run("leave the search", chromedp.Blur(chromedp.CSS("#q")))

	alice.run("press ?", chromedp.KeyEvent("?"))
	alice.waitText("#keys-help", "Keyboard shortcuts")
	alice.shot("keys-help")
	if open := alice.eval(`document.getElementById("keys-help").open`); open != "true" {
		t.Fatalf("the help is not open (%s)", open)
	}
	for _, k := range []string{"j", "k", "Enter", "/", "?", "Esc"} {
		if got := alice.text("#keys-help .keys"); !strings.Contains(got, k) {
			t.Errorf("the help does not list %q: %q", k, got)
		}
	}
	alice.run("press Esc", chromedp.KeyEvent(kb.Escape))
	if open := alice.eval(`document.getElementById("keys-help").open`); open != "false" {
		t.Fatalf("Esc left the help open")
	}

	alice.run("press j", chromedp.KeyEvent("j"))
	if n := len(alice.nodes(`table.queue tbody tr.current`)); n != 1 {
		t.Fatalf("j selected %d rows", n)
	}
	alice.shot("row-selected")
	alice.navigate("press Enter", chromedp.KeyEvent(kb.Enter))
	if p := alice.path(); p != "/console/cases/"+cs.ID {
		t.Fatalf("Enter opened %s, want the case %s", p, cs.ID)
	}
	alice.waitText("#subject-h", "Subject")

	// On the case page: the help opens from its button and gives focus back.
	alice.run("open the help by its button", chromedp.Focus(chromedp.CSS(".keys-open")), chromedp.KeyEvent(kb.Enter))
	alice.waitText("#keys-help", "Ctrl+Shift")
	alice.shot("case-keys-help")
	alice.run("close it", chromedp.KeyEvent(kb.Escape))
	if got := alice.eval(`document.activeElement.className`); !strings.Contains(got, "keys-open") {
		t.Fatalf("focus went to %q after closing, want the button that opened it", got)
	}

	// The portal loads the same script, but a learner has no console keys.
	chen := newBrowser(t, s, "chen")
	chen.signIn("chen.wei@outlook.example")
	chen.visit("/portal", "portal")
	if n := len(chen.nodes(`#keys-help, .keys-open`)); n != 0 {
		t.Errorf("the portal offers the console's keys (%d elements)", n)
	}
}

// active is the id of the focused element.
func (b *browser) active() string {
	return b.eval(`document.activeElement ? document.activeElement.id : ""`)
}

// eval runs an expression in the page and returns it as a string.
func (b *browser) eval(js string) string {
	b.t.Helper()
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`String(`+js+`)`))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return out
}

// The timeline speaks in sentences: who did what, by name, with no ids or
// raw keys; each event's data is one click away. Right after "Send
// decision" the page shows the decided case, with no decision form.
func TestBrowserDeskTimelineInSentences(t *testing.T) {
	s := start(t)
	cs := chenMerge(t, s)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+cs.ID, "case")
	alice.run("approve", chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)))
	alice.navigate("send the decision", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	alice.shot("after-decision")
	if n := len(alice.nodes(`form.decision`)); n != 0 {
		t.Fatalf("right after the decision the page still offers a decision (%d forms)", n)
	}
	s.AwaitStatus(cs.ID, "completed")
	alice.visit("/console/cases/"+cs.ID, "completed")

	tl := alice.text(".timeline")
	for _, want := range []string{"Chen Wei opened the merge case.", "Alice Agent approved the merge.", "moved to MCID 10000", "The case waits for an agent: a decision is due by"} {
		if !strings.Contains(tl, want) {
			t.Errorf("the timeline does not say %q:\n%s", want, tl)
		}
	}
	for _, raw := range []string{"profile_ids", "target_id", "sla_due_at", "assignee:", cs.ID, "Z\n", "certifications_moved"} {
		if strings.Contains(tl, raw) {
			t.Errorf("the timeline shows %q:\n%s", raw, tl)
		}
	}
	if main := alice.text("main"); strings.Contains(main, "1 duplicate certifications") || !strings.Contains(main, "1 other collapses into it") {
		t.Errorf("the page's counts read badly:\n%s", main)
	}
	alice.run("open an event's details", chromedp.Click(chromedp.CSS(`.timeline li.ev-merged details summary`)))
	if got := alice.text(`.timeline li.ev-merged details pre`); !strings.Contains(got, "target_id") {
		t.Errorf("the merged event's raw data is %q", got)
	}
	alice.shot("raw-data")
}

// The merge cards name the account that owns each profile and, once
// merged, say so; the recovery candidate names its owner account (masked)
// and when it last signed in.
func TestBrowserDeskCardsNameTheOwners(t *testing.T) {
	s := start(t)
	cs := chenMerge(t, s)
	recovery := verifiedRequest(t, s)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+cs.ID, "merge-before")
	if got := alice.text(".subject .side"); !strings.Contains(got, "Owner account") || !strings.Contains(got, "@") {
		t.Errorf("the merge cards do not name the owners: %q", got)
	}
	alice.run("approve", chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)))
	alice.navigate("send the decision", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	s.AwaitStatus(cs.ID, "completed")
	alice.visit("/console/cases/"+cs.ID, "merge-after")
	source := alice.text(".subject .side .card:not(.target)")
	if !strings.Contains(source, "merged into MCID 100004") || strings.Contains(source, "active") {
		t.Errorf("after the merge the source card reads %q", source)
	}

	alice.visit("/console/cases/"+recovery, "recovery")
	card := alice.text(".subject .side .card:nth-child(2)")
	if !strings.Contains(card, "•••@") || !strings.Contains(card, "last signed in") {
		t.Errorf("the recovery candidate card reads %q", card)
	}
}

// The queue's views say how many cases each holds.
func TestBrowserDeskViewsWithCounts(t *testing.T) {
	s := start(t)
	chenMerge(t, s)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console", "queue")
	tabs := alice.text("nav.tabs")
	for _, want := range []string{"My cases (0)", "Awaiting agent (1)", "Unassigned (1)"} {
		if !strings.Contains(tabs, want) {
			t.Errorf("the tabs read %q, want %q", tabs, want)
		}
	}
	alice.navigate("open the case", chromedp.Click(chromedp.CSS(`table.queue tbody tr a`)))
	alice.navigate("claim it", chromedp.Click(chromedp.CSS(`form[action$="/claim"] button`)))
	alice.visit("/console", "queue-after-claim")
	if tabs := alice.text("nav.tabs"); !strings.Contains(tabs, "My cases (1)") || !strings.Contains(tabs, "Unassigned (0)") {
		t.Errorf("after the claim the tabs read %q", tabs)
	}
}

// Beside every case, "This learner": their accounts, their profiles (each
// opens) and their other cases (each opens).
func TestBrowserDeskThisLearnerPanel(t *testing.T) {
	s := start(t)
	merge := chenMerge(t, s)
	r := s.Do("POST", "/api/v1/inquiries", s.Login("chen.wei@outlook.example"), map[string]string{"subject": "Two MCIDs", "body": "Are both mine?"})
	if r.Code/100 != 2 {
		t.Fatalf("inquiry = %d %s", r.Code, r.Body)
	}
	var inq struct{ ID string }
	r.Decode(t, &inq)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+merge.ID, "merge")
	panel := alice.text("section.learner")
	for _, want := range []string{"This learner", "chen.wei@outlook.example", "MCID 100003", "MCID 100004", "inquiry case"} {
		if !strings.Contains(panel, want) {
			t.Errorf("the panel does not show %q:\n%s", want, panel)
		}
	}
	alice.navigate("open the other case", chromedp.Click(chromedp.CSS(`section.learner a[href="/console/cases/`+inq.ID+`"]`)))
	alice.waitText("section.learner", "merge case")
	alice.shot("the-question")
}

// An agent finds a profile by name or MCID and opens it: its status (merged
// into its target), owner, certifications, history and cases.
func TestBrowserDeskProfileLookup(t *testing.T) {
	s := start(t)
	merge := chenMerge(t, s)
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/decision", s.Login("alice.agent@certdesk.example"),
		map[string]any{"decision": "approve", "version": merge.Version}); r.Code/100 != 2 {
		t.Fatalf("approve = %d %s", r.Code, r.Body)
	}
	s.AwaitStatus(merge.ID, "completed")

	bob := newBrowser(t, s, "bob")
	bob.signIn("bob.agent@certdesk.example")
	bob.visit("/console", "queue")
	bob.navigate("open the lookup", chromedp.Click(chromedp.CSS(`a[href="/console/profiles"]`)))
	bob.navigate("find Chen", chromedp.SetValue(chromedp.CSS("#profile-q"), "chen wei"), chromedp.Click(chromedp.CSS(`form[role=search] button`)))
	bob.shot("found")
	if got := bob.text("table.queue tbody"); !strings.Contains(got, "MCID 100003") || !strings.Contains(got, "MCID 100004") {
		t.Fatalf("the lookup found %q", got)
	}
	bob.navigate("find by MCID", chromedp.SetValue(chromedp.CSS("#profile-q"), "100003"), chromedp.Click(chromedp.CSS(`form[role=search] button`)))
	bob.waitText("h1", "MCID 100003")
	bob.shot("profile")
	page := bob.text("main")
	for _, want := range []string{"merged into MCID 100004", "Owner account", "chen.wei@outlook.example", "History", "merge", "Chen Wei · merge MCID"} {
		if !strings.Contains(page, want) {
			t.Errorf("the profile page does not show %q:\n%s", want, page)
		}
	}
	bob.navigate("open the merge case", chromedp.Click(chromedp.CSS(`a[href="/console/cases/`+merge.ID+`"]`)))
	bob.waitText(".case-head", "completed")
}

// chenQuestion has Chen ask a question and returns the case once it waits
// for an agent.
func chenQuestion(t *testing.T, s *stacktest.Stack) certdesk.Case {
	t.Helper()
	r := s.Do("POST", "/api/v1/inquiries", s.Login("chen.wei@outlook.example"), map[string]string{"subject": "Two MCIDs", "body": "Are both mine?"})
	if r.Code/100 != 2 {
		t.Fatalf("inquiry = %d %s", r.Code, r.Body)
	}
	var cs certdesk.Case
	r.Decode(t, &cs)
	return s.AwaitStatus(cs.ID, certdesk.StatusAwaitingAgent)
}

// An agent selects rows of the queue and claims them at once: each case
// goes through the usual claim, and one another agent holds is refused,
// named with the reason; then a note goes on both.
func TestBrowserDeskBulkActions(t *testing.T) {
	s := start(t)
	merge := chenMerge(t, s)
	question := chenQuestion(t, s)
	if r := s.Do("POST", "/api/v1/cases/"+question.ID+"/claim", s.Login("bob.agent@certdesk.example"), map[string]any{"version": question.Version}); r.Code/100 != 2 {
		t.Fatalf("Bob's claim = %d %s", r.Code, r.Body)
	}

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console?view=all", "queue")
	alice.run("select both", chromedp.Click(chromedp.CSS(`input[name=case][value="`+merge.ID+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=case][value="`+question.ID+`"]`)),
		chromedp.Click(chromedp.CSS(`#bulk input[name=action][value=claim]`)))
	alice.navigate("claim them", chromedp.Click(chromedp.CSS(`#bulk button[type=submit]`)))
	alice.shot("claimed")
	alice.waitText("#bulk-result", "Claimed 1 case; 1 refused.")
	alice.waitText("#bulk-result", "Bob Agent")
	if got := alice.text("nav.tabs [aria-current=page]"); !strings.Contains(got, "All (2)") {
		t.Errorf("after the bulk claim the current tab is %q, want the view it was done from", got)
	}
	if got := alice.text("nav.tabs"); !strings.Contains(got, "My cases (1)") {
		t.Errorf("after the bulk claim the tabs read %q", got)
	}
	if c, _ := s.Store.Case(context.Background(), merge.ID); c.AssigneeID == nil || *c.AssigneeID != store.DemoID("agent:alice.agent@certdesk.example") {
		t.Errorf("the merge is assigned to %v", c.AssigneeID)
	}

	alice.run("select both again", chromedp.Click(chromedp.CSS(`input[name=case][value="`+merge.ID+`"]`)),
		chromedp.Click(chromedp.CSS(`input[name=case][value="`+question.ID+`"]`)),
		chromedp.Click(chromedp.CSS(`#bulk input[name=action][value=note]`)),
		chromedp.SendKeys(chromedp.CSS(`#bulk-note`), "seen in the morning round"))
	alice.navigate("note them", chromedp.Click(chromedp.CSS(`#bulk button[type=submit]`)))
	alice.waitText("#bulk-result", "Note added to 2 cases.")
	alice.shot("noted")
	alice.visit("/console/cases/"+question.ID, "question")
	alice.waitText(".timeline", "Alice Agent added an internal note: \u201cseen in the morning round\u201d")
}

// When a supervisor assigns a case to Alice, her console tells her (above
// any console page) until she dismisses it.
func TestBrowserDeskAssignedToYou(t *testing.T) {
	s := start(t)
	merge := chenMerge(t, s)
	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console", "queue-before")
	if n := len(alice.nodes(`aside.assigned`)); n != 0 {
		t.Fatalf("a notification before anything was assigned")
	}

	sam := newBrowser(t, s, "sam")
	sam.signIn("sam.supervisor@certdesk.example")
	sam.visit("/console/cases/"+merge.ID, "case")
	sam.run("choose Alice", chromedp.SetValue(chromedp.CSS(`#assignee`), store.DemoID("agent:alice.agent@certdesk.example")))
	sam.navigate("assign", chromedp.Click(chromedp.CSS(`form[action$="/claim"] select#assignee ~ button`)))
	sam.waitText("main", "The case is reassigned.")
	if n := len(sam.nodes(`aside.assigned`)); n != 0 {
		t.Errorf("Sam is notified of his own assignment")
	}

	alice.visit("/console", "queue-after")
	alice.waitText("aside.assigned", "Chen Wei · merge MCID")
	alice.waitText("aside.assigned", "Sam Supervisor assigned you case "+certdesk.Reference(merge.ID)+" — open it")
	alice.navigate("dismiss", chromedp.Click(chromedp.CSS(`aside.assigned button`)))
	if n := len(alice.nodes(`aside.assigned`)); n != 0 {
		t.Errorf("the notification is still there after dismissing it")
	}
	if p := alice.path(); !strings.HasPrefix(p, "/console") {
		t.Errorf("dismissing went to %s", p)
	}
}

// Two agents on one case see each other: "Also viewing: Bob Agent" when
// the page opens, and it appears on the first page while it stays open.
func TestBrowserDeskAlsoViewing(t *testing.T) {
	s := start(t)
	merge := chenMerge(t, s)
	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+merge.ID, "alone")
	if got := alice.text("#viewers"); got != "" {
		t.Fatalf("alone on the case, the page says %q", got)
	}
	bob := newBrowser(t, s, "bob")
	bob.signIn("bob.agent@certdesk.example")
	bob.visit("/console/cases/"+merge.ID, "with-alice")
	bob.waitText("#viewers", "Also viewing: Alice Agent")
	alice.waitText("#viewers", "Also viewing: Bob Agent")
	alice.shot("with-bob")
}
