package e2e_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
)

// Chen asks a question from his portal; Alice answers it in the console,
// sees it is a merge he needs and turns it into one from the case page by
// MCIDs; she lands on the merge, which names the question as its parent,
// and Chen's question reads converted.
func TestBrowserQuestionTurnedIntoAMerge(t *testing.T) {
	s := start(t)
	chen := newBrowser(t, s, "chen")
	chen.signIn(chenEmail)
	chen.visit("/portal", "portal")
	chen.run("write the question",
		chromedp.SendKeys(chromedp.CSS(`#ask-subject`), "Two MCIDs"),
		chromedp.SendKeys(chromedp.CSS(`#ask-body`), "I have 100003 and 100004. Both are me."))
	chen.navigate("send it", chromedp.Click(chromedp.CSS(`#ask-form button[type=submit]`)))
	chen.waitText("main", "Your question is with the support team")
	chen.waitText(".conversation", "I have 100003 and 100004. Both are me.")
	id := strings.TrimPrefix(strings.SplitN(chen.path(), "?", 2)[0], "/portal/cases/")
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)

	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	alice.visit("/console/cases/"+id, "question")
	alice.waitText(".conversation", "Both are me.")
	if n := len(alice.nodes(`input[name=decision][value=convert]`)); n != 0 {
		t.Errorf("the decision form offers convert (%d): it is its own form", n)
	}
	alice.run("reply", chromedp.SendKeys(chromedp.CSS(`form.reply textarea[name=body]`), "Thank you: we merge them now."))
	alice.navigate("send the reply", chromedp.Click(chromedp.CSS(`form.reply button.primary`)))
	alice.waitText("main", "Reply sent")
	alice.run("merge, by MCID",
		chromedp.Click(chromedp.CSS(`#convert input[value=merge]`)),
		chromedp.SendKeys(chromedp.CSS(`#convert-mcids`), "100003, 100004"))
	alice.navigate("open the merge", chromedp.Click(chromedp.CSS(`#convert button[type=submit]`)))
	alice.waitText("main", "The inquiry is now this case")
	alice.waitText(".case-head", "merge")
	mergeID := strings.TrimPrefix(strings.SplitN(alice.path(), "?", 2)[0], "/console/cases/")
	merge, err := s.Store.Case(context.Background(), mergeID)
	mustStore(t, err)
	if merge.Kind != certdesk.KindMerge || merge.ParentCaseID == nil || *merge.ParentCaseID != id {
		t.Errorf("the new case: %s parent %v", merge.Kind, merge.ParentCaseID)
	}
	done := s.AwaitStatus(id, certdesk.StatusCompleted)
	if done.Resolution != certdesk.InquiryConverted {
		t.Errorf("the question ended %s", done.Resolution)
	}
	chen.visit("/portal/cases/"+id, "question-converted")
	chen.waitText(".conversation", "Thank you: we merge them now.")
}
