package e2e_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// A case's conversation in the browser: Sam keeps a canned response with
// {{name}}; Alice inserts it into her reply to Chen's merge with its
// keystroke, edits it and sends it; Chen reads it in his portal with his
// name filled in and answers with a PNG; Alice sees his message and the
// file's download link; her internal note never reaches Chen, and another
// learner cannot open Chen's case.
func TestBrowserConversation(t *testing.T) {
	s := start(t)

	// Sam keeps a canned response; an agent may not.
	sam := newBrowser(t, s, "sam")
	sam.signIn("sam.supervisor@certdesk.example")
	sam.visit("/console", "console")
	sam.navigate("open the canned responses", chromedp.Click(chromedp.CSS(`nav a[href="/console/canned"]`)))
	sam.run("write a canned response",
		chromedp.SendKeys(chromedp.CSS(`#new-name`), "Looking into it"),
		chromedp.SendKeys(chromedp.CSS(`#new-body`), "Hello {{name}},\nthank you for writing."))
	sam.navigate("add it", chromedp.Click(chromedp.CSS(`#canned-new button[type=submit]`)))
	sam.waitText("main", "Canned response saved.")
	if got := sam.value(`#list-h ~ .card.canned input[name=name]`); got != "Looking into it" {
		t.Fatalf("the kept canned response is named %q", got)
	}
	sam.shot("canned-saved")

	cs := chenMerge(t, s)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	if n := len(alice.nodes(`nav a[href="/console/canned"]`)); n != 0 {
		t.Errorf("an agent's nav links the canned responses")
	}
	if code := alice.navigate("an agent opens the canned responses", chromedp.Navigate(s.URL+"/console/canned")); code != http.StatusForbidden {
		t.Errorf("an agent's GET /console/canned = %d, want 403", code)
	}

	// Alice inserts it with Ctrl+Shift+1, edits it, sends it.
	alice.visit("/console/cases/"+cs.ID, "case")
	alice.waitText("#conversation-h", "Conversation")
	alice.run("insert the canned response with its keystroke",
		chromedp.Focus(chromedp.CSS(`#reply-body`)),
		chromedp.KeyEvent("1", chromedp.KeyModifiers(chromedp.ModifierCtrl, chromedp.ModifierShift)))
	if got, want := alice.value(`#reply-body`), "Hello Chen Wei,\nthank you for writing."; got != want {
		t.Fatalf("the reply box holds %q after Ctrl+Shift+1, want %q", got, want)
	}
	alice.run("edit the reply", chromedp.SendKeys(chromedp.CSS(`#reply-body`), "\nWe are checking your two profiles <now>."))
	alice.shot("reply-typed")
	alice.navigate("send the reply", chromedp.Click(chromedp.CSS(`#reply-form button.primary`)))
	alice.waitText("main", "Reply sent to the learner.")
	alice.waitText(".conversation .message.out", "Hello Chen Wei,\nthank you for writing.\nWe are checking your two profiles <now>.")
	alice.shot("reply-sent")

	// Chen reads it in his portal and answers with a screenshot.
	chen := newBrowser(t, s, "chen")
	chen.signIn("chen.wei@outlook.example")
	chen.visit("/portal", "portal")
	chen.navigate("open the case", chromedp.Click(chromedp.CSS(`a[href="/portal/cases/`+cs.ID+`"]`)))
	chen.waitText(".conversation .message.out", "Hello Chen Wei,")
	chen.waitText("#files-hint", "Up to 5 files")
	shot := writePNG(t)
	chen.run("write back with a file",
		chromedp.SendKeys(chromedp.CSS(`#message-body`), "Here is my old certificate."),
		chromedp.SetUploadFiles(chromedp.CSS(`#message-files`), []string{shot}))
	chen.shot("message-typed")
	chen.navigate("send it", chromedp.Click(chromedp.CSS(`#message-form button[type=submit]`)))
	chen.waitText("main", "Your message is on the case")
	chen.waitText(".conversation .message.in", "Here is my old certificate.")
	chen.waitText(".conversation .message.in .files", "certificate.png")
	chen.shot("message-sent")
	if n := len(chen.nodes(`.conversation a`)); n != 0 {
		t.Errorf("the learner's conversation has %d links (no downloads for learners)", n)
	}

	// A message from an address the case never wrote to is held.
	held := store.Message{CaseID: cs.ID, Direction: store.MessageIn, Author: certdesk.EmailActor("someone@elsewhere.example"),
		FromAddr: "someone@elsewhere.example", Body: "Send the certificates to me instead.", Held: true,
		HeldReason: "not from the address this case wrote to"}
	if _, err := s.Store.RecordMessage(context.Background(), &held, nil, certdesk.EventLearnerMessage); err != nil {
		t.Fatal(err)
	}

	// Alice sees his message and the file's download link, and the held
	// message marked.
	alice.visit("/console/cases/"+cs.ID, "case-with-chens-message")
	alice.waitText(".conversation .message.held", "held: not from the address this case wrote to")
	alice.waitText(".conversation .message.held", "someone@elsewhere.example (by email)")
	alice.waitText(".conversation .message.in", "Here is my old certificate.")
	alice.waitText(".conversation .message.in", "Chen Wei <chen.wei@outlook.example> (learner)")
	alice.waitText(`.conversation .files a[href^="/api/v1/attachments/"]`, "certificate.png")
	alice.waitText(".conversation .files", "image/png")
	href := attr(t, alice, `.conversation .files a`, "href")
	aliceToken := s.Login("alice.agent@certdesk.example")
	dl := s.Do("GET", href, aliceToken, nil)
	if want, _ := os.ReadFile(shot); dl.Code != http.StatusOK || !bytes.Equal(dl.Body, want) {
		t.Errorf("the download answered %d with %d bytes, want the %d of the file", dl.Code, len(dl.Body), len(want))
	}

	// Without JavaScript, "Insert" adds the canned response to what was
	// typed and sends nothing.
	var canned struct{ Items []store.CannedResponse }
	s.Do("GET", "/api/v1/canned-responses", aliceToken, nil).Decode(t, &canned)
	ins := s.Do("POST", "/console/cases/"+cs.ID+"/reply", aliceToken, stacktest.Form{"body": {"Typed first."}, "insert": {"1"}, "insert_id": {canned.Items[0].ID}})
	if ins.Code != http.StatusOK || !contains(string(ins.Body), "Typed first.\n\nHello Chen Wei,\nthank you for writing.</textarea>") {
		t.Errorf("Insert without JavaScript answered %d:\n%s", ins.Code, ins.Body)
	}

	// Her internal note stays with the agents.
	const note = "Second profile registered from a gmail address: check the exams."
	alice.run("write an internal note", chromedp.SendKeys(chromedp.CSS(`#internal-note`), note))
	alice.navigate("add the note", chromedp.Click(chromedp.CSS(`form.note.internal button[type=submit]`)))
	alice.waitText("main", "Internal note added.")
	alice.waitText(".timeline", note)
	alice.shot("noted")
	chen.visit("/portal/cases/"+cs.ID, "after-the-note")
	if got := chen.text("main"); strings.Contains(got, note) || strings.Contains(got, "gmail") || strings.Contains(got, held.Body) {
		t.Errorf("Chen's portal shows the internal note or the held message: %q", got)
	}

	// Alice approves with a reply; Chen reads it on his closed case, which
	// takes no more messages.
	alice.run("approve", chromedp.Click(chromedp.CSS(`input[name=decision][value=approve]`)),
		chromedp.SendKeys(chromedp.CSS(`#decision-reply`), "Your profiles are one now."))
	alice.navigate("send the decision", chromedp.Click(chromedp.CSS(`form.decision button[type=submit]`)))
	alice.waitText("main", "Decision recorded: approve.")
	s.AwaitStatus(cs.ID, certdesk.StatusCompleted)
	chen.visit("/portal/cases/"+cs.ID, "completed")
	chen.waitText(".conversation", "Your profiles are one now.")
	chen.waitText(".conversation", "This case is closed")
	if n := len(chen.nodes(`#message-form`)); n != 0 {
		t.Errorf("a closed case offers the message form")
	}

	// Another learner gets 404 for Chen's case, on the page and the API.
	ana := s.Login("ana.silva@outlook.example")
	for _, path := range []string{"/portal/cases/" + cs.ID, "/api/v1/cases/" + cs.ID + "/messages"} {
		if r := s.Do("GET", path, ana, nil); r.Code != http.StatusNotFound {
			t.Errorf("Ana's GET %s = %d, want 404", path, r.Code)
		}
	}
}

// writePNG writes a small valid PNG and returns its path.
func writePNG(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 8, 8))
	for i := range 8 {
		img.Set(i, i, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "certificate.png")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// attr returns an attribute of the first element a selector matches.
func attr(t *testing.T, b *browser, sel, name string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	m, err := chromedp.Run(ctx, chromedp.Attributes(chromedp.CSS(sel)))
	if err != nil || m[name] == "" {
		t.Fatalf("%s has no %s (%v)", sel, name, err)
	}
	return m[name]
}
