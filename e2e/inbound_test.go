package e2e_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/inbound/inboundtest"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/workflows"
)

// tinyPNG is a valid 1×1 PNG: evidence as an email attaches it.
var tinyPNG, _ = base64.StdEncoding.DecodeString("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")

// inboundStack is the stack with the Inbound Parse security policy's key
// configured; post sends a post as SendGrid would, signed by key at a time.
type inboundStack struct {
	*stacktest.Stack
	key *ecdsa.PrivateKey
}

func startInbound(t *testing.T) inboundStack {
	t.Helper()
	key, pub := mailtest.WebhookKey(t)
	return inboundStack{Stack: start(t, func(c *config.Config) { c.Inbound.PublicKey = pub }), key: key}
}

// post sends p to the inbound webhook, signed with key at when (nil key:
// unsigned), and returns the status and the outcome.
func (s inboundStack) post(t *testing.T, p inboundtest.Post, key *ecdsa.PrivateKey, when time.Time) (int, string, string) {
	t.Helper()
	req := p.Request(s.URL + "/webhooks/sendgrid/inbound")
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if key != nil {
		ts := strconv.FormatInt(when.Unix(), 10)
		req.Header.Set(mail.TimestampHeader, ts)
		req.Header.Set(mail.SignatureHeader, mailtest.SignWebhook(t, key, ts, body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Outcome string `json:"outcome"`
		CaseID  string `json:"case_id"`
	}
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &out)
	return resp.StatusCode, out.Outcome, out.CaseID
}

// messages is a case's conversation as token sees it.
func messages(t *testing.T, s *stacktest.Stack, token, caseID string) []store.Message {
	t.Helper()
	var out struct{ Items []store.Message }
	r := s.Do("GET", "/api/v1/cases/"+caseID+"/messages", token, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("messages of %s: %d %s", caseID, r.Code, r.Body)
	}
	r.Decode(t, &out)
	return out.Items
}

// Dara is asked for more information and answers by replying to the email,
// with a photo of her old exam confirmation: the recovery moves on as the
// reply form would, the text is hers without the quoted question, the photo
// is on the case for agents only, and SendGrid's retry records nothing
// twice. What is not a genuine reply of hers changes nothing: unsigned,
// badly signed or stale posts are refused; a forged reply address, a
// colleague's mail and an auto-reply are dropped or held, and nothing
// answers them.
func TestReplyByEmailResumesTheRecovery(t *testing.T) {
	s := startInbound(t)
	id := verifiedRequest(t, s.Stack)
	alice := s.Login("alice.agent@certdesk.example")
	decide(t, s.Stack, alice, id, map[string]string{"decision": "request_info", "note": "Which exams did you take, and when?"}, http.StatusOK)
	ask := s.AwaitMail("dara.m@proton.example", mail.RecoveryRequestInfo)
	s.AwaitStatus(id, certdesk.StatusAwaitingLearner)
	if !strings.HasPrefix(ask.ReplyTo, "reply+"+id) || !strings.HasSuffix(ask.ReplyTo, "@"+config.DevInboundDomain) {
		t.Fatalf("the question's reply address is %q", ask.ReplyTo)
	}
	reply := inboundtest.Post{
		From: "Dara Murphy <Dara.M@proton.example>", To: "Certification Support <" + ask.ReplyTo + ">", Subject: "Re: " + ask.Subject,
		Text:        "MS-900 in March 2019, in Dublin.\n\n-- \nDara\n\nOn Tue, 1 Dec 2026, Certification Support wrote:\n> Which exams did you take, and when?\n",
		MessageID:   "<answer-1@proton.example>",
		Attachments: []inboundtest.File{{Name: "confirmation.png", Type: "image/png", Data: tinyPNG}},
	}
	now := time.Now()
	wrongKey, _ := mailtest.WebhookKey(t)
	for name, try := range map[string]func() (int, string, string){
		"unsigned":        func() (int, string, string) { return s.post(t, reply, nil, now) },
		"another key":     func() (int, string, string) { return s.post(t, reply, wrongKey, now) },
		"eleven min. old": func() (int, string, string) { return s.post(t, reply, s.key, now.Add(-11*time.Minute)) },
	} {
		if code, _, _ := try(); code != http.StatusForbidden {
			t.Errorf("%s post: %d, want 403", name, code)
		}
	}
	if got := messages(t, s.Stack, alice, id); len(got) != 0 {
		t.Fatalf("refused posts recorded %+v", got)
	}
	if cs := s.AwaitStatus(id, certdesk.StatusAwaitingLearner); cs.Status != certdesk.StatusAwaitingLearner {
		t.Fatal("unreachable")
	}

	if code, outcome, caseID := s.post(t, reply, s.key, now); code != http.StatusOK || outcome != "recorded" || caseID != id {
		t.Fatalf("Dara's reply: %d %s %s", code, outcome, caseID)
	}
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	var cs struct {
		Details certdesk.RecoveryDetails `json:"details"`
	}
	s.Do("GET", "/api/v1/cases/"+id, alice, nil).Decode(t, &cs)
	if len(cs.Details.InfoRequests) != 1 || cs.Details.InfoRequests[0].Reply != "MS-900 in March 2019, in Dublin." {
		t.Errorf("the case's question got %+v", cs.Details.InfoRequests)
	}
	// SendGrid retries a post it got no answer to: recorded once.
	if code, outcome, _ := s.post(t, reply, s.key, time.Now()); code != http.StatusOK || outcome != "duplicate" {
		t.Errorf("the retried post: %d %s", code, outcome)
	}
	ms := messages(t, s.Stack, alice, id)
	if len(ms) != 1 || ms[0].Body != "MS-900 in March 2019, in Dublin." || ms[0].Held || ms[0].FromAddr != "dara.m@proton.example" ||
		len(ms[0].Attachments) != 1 || ms[0].Attachments[0].ContentType != "image/png" || ms[0].Attachments[0].Filename != "confirmation.png" {
		t.Fatalf("the conversation is %+v", ms)
	}
	got := s.Do("GET", "/api/v1/attachments/"+ms[0].Attachments[0].ID, alice, nil)
	if got.Code != http.StatusOK || !bytes.Equal(got.Body, tinyPNG) || !strings.HasPrefix(got.Header.Get("Content-Disposition"), "attachment") ||
		got.Header.Get("X-Content-Type-Options") != "nosniff" || got.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("the attachment: %d %v", got.Code, got.Header)
	}
	if n := count(eventTypes(t, s.Stack, alice, id), string(certdesk.EventLearnerMessage)); n != 1 {
		t.Errorf("%d learner_message events, want 1", n)
	}
	mailsBefore := len(s.mailsTo(t, "dara.m@proton.example"))

	// A reply address whose token was altered: dropped, nothing recorded.
	forged := reply
	forged.MessageID = "<forged@proton.example>"
	forged.To = ask.ReplyTo[:len("reply+")+30] + strings.Repeat("a", 6) + ask.ReplyTo[len("reply+")+36:]
	if code, outcome, _ := s.post(t, forged, s.key, time.Now()); code != http.StatusOK || outcome != "dropped" {
		t.Errorf("a forged reply address: %d %s", code, outcome)
	}
	// A colleague writes to Dara's reply address: held for an agent,
	// invisible to Dara, and the case is not moved.
	decide(t, s.Stack, alice, id, map[string]string{"decision": "request_info", "note": "And the second exam?"}, http.StatusOK)
	s.AwaitStatus(id, certdesk.StatusAwaitingLearner)
	colleague := inboundtest.Post{From: "Pat <pat@proton.example>", To: ask.ReplyTo, Subject: "Re: " + ask.Subject,
		Text: "SC-900, I think.", MessageID: "<pat-1@proton.example>"}
	if code, outcome, _ := s.post(t, colleague, s.key, time.Now()); code != http.StatusOK || outcome != "held" {
		t.Errorf("a colleague's mail: %d %s", code, outcome)
	}
	// An out-of-office answer, from Dara's own address: held, never answered.
	ooo := inboundtest.Post{From: "dara.m@proton.example", To: ask.ReplyTo, Subject: "Automatic reply: " + ask.Subject,
		Text: "I am away until Monday.", MessageID: "<ooo-1@proton.example>", Headers: []string{"Auto-Submitted: auto-replied"}}
	if code, outcome, _ := s.post(t, ooo, s.key, time.Now()); code != http.StatusOK || outcome != "held" {
		t.Errorf("an auto-reply: %d %s", code, outcome)
	}
	// certdesk's own mail coming back (a loop): held too.
	loop := inboundtest.Post{From: "dara.m@proton.example", To: ask.ReplyTo, Subject: ask.Subject, Text: "Which exams did you take?",
		MessageID: "<loop-1@proton.example>", Headers: []string{mail.LoopHeader + ": " + id}}
	if code, outcome, _ := s.post(t, loop, s.key, time.Now()); code != http.StatusOK || outcome != "held" {
		t.Errorf("certdesk's own mail back: %d %s", code, outcome)
	}
	if cs := s.AwaitStatus(id, certdesk.StatusAwaitingLearner); cs.Status != certdesk.StatusAwaitingLearner {
		t.Fatal("unreachable")
	}
	staff := messages(t, s.Stack, alice, id)
	held := 0
	for _, m := range staff {
		if m.Held {
			held++
			if m.HeldReason == "" {
				t.Errorf("held without a reason: %+v", m)
			}
		}
	}
	if len(staff) != 4 || held != 3 {
		t.Errorf("staff see %d messages, %d held; want 4, 3", len(staff), held)
	}
	if n := len(s.mailsTo(t, "dara.m@proton.example")); n != mailsBefore+1 { // the second question only
		t.Errorf("%d mails to Dara after the held ones, want %d: something answered them", n, mailsBefore+1)
	}
	// The answer that comes is hers and moves the case on.
	second := inboundtest.Post{From: "dara.m@proton.example", To: ask.ReplyTo, Subject: "Re: " + ask.Subject,
		Text: "SC-900 in 2021.", MessageID: "<answer-2@proton.example>"}
	if code, outcome, _ := s.post(t, second, s.key, time.Now()); code != http.StatusOK || outcome != "recorded" {
		t.Errorf("Dara's second answer: %d %s", code, outcome)
	}
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
}

// Chen writes to the support address: an inquiry opens with his question
// (his, since he has an account), an agent answers with a supervisor's
// canned response filled in for him, and the answer is emailed from the
// case's reply address. Automatic mail to the support address opens nothing.
func TestEmailInquiryAnsweredWithACannedResponse(t *testing.T) {
	s := startInbound(t)
	sam, alice := s.Login("sam.supervisor@certdesk.example"), s.Login("alice.agent@certdesk.example")
	r := s.Do("POST", "/api/v1/canned-responses", sam, map[string]string{"name": "Thanks", "body": "Hello {{name}}, thank you for writing: we are on it (case {{reference}})."})
	if r.Code != http.StatusCreated {
		t.Fatalf("canned response: %d %s", r.Code, r.Body)
	}
	if r := s.Do("POST", "/api/v1/canned-responses", alice, map[string]string{"name": "Mine", "body": "x"}); r.Code != http.StatusForbidden {
		t.Errorf("an agent's canned response: %d, want 403", r.Code)
	}
	q := inboundtest.Post{From: "Chen Wei <chen.wei@outlook.example>", To: "support@" + config.DevInboundDomain,
		Subject: "Two MCIDs?", Text: "I seem to have two certification profiles. Can you help?", MessageID: "<q-1@outlook.example>"}
	code, outcome, id := s.post(t, q, s.key, time.Now())
	if code != http.StatusOK || outcome != "inquiry" || id == "" {
		t.Fatalf("the question: %d %s %s", code, outcome, id)
	}
	if _, again, same := s.post(t, q, s.key, time.Now()); again != "duplicate" || same != id {
		t.Errorf("the retried question: %s %s, want duplicate of %s", again, same, id)
	}
	cs := s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	if cs.Kind != certdesk.KindInquiry || cs.LearnerEmail != "chen.wei@outlook.example" {
		t.Errorf("the inquiry: %+v", cs)
	}
	ms := messages(t, s.Stack, s.Login(chenEmail), id)
	if len(ms) != 1 || ms[0].Body != q.Text {
		t.Errorf("Chen sees %+v", ms)
	}
	var canned struct {
		Items []store.CannedResponse
	}
	s.Do("GET", "/api/v1/canned-responses", alice, nil).Decode(t, &canned)
	if len(canned.Items) != 1 {
		t.Fatalf("canned responses: %+v", canned.Items)
	}
	r = s.Do("POST", "/api/v1/cases/"+id+"/replies", alice, map[string]string{"body": canned.Items[0].Body, "canned_id": canned.Items[0].ID})
	if r.Code != http.StatusCreated {
		t.Fatalf("the reply: %d %s", r.Code, r.Body)
	}
	var sent store.Message
	r.Decode(t, &sent)
	m := s.AwaitMail("chen.wei@outlook.example", mail.CaseReply)
	s.RecordHistory(workflows.CaseReplyWorkflowID(sent.ID), "", "reply-sent")
	want := "Hello Chen Wei, thank you for writing: we are on it (case " + id + ")."
	if m.CaseID != id || !strings.Contains(m.Text, want) || !strings.HasPrefix(m.ReplyTo, "reply+"+id) {
		t.Errorf("the reply's mail: %+v", m)
	}
	if ms := messages(t, s.Stack, s.Login(chenEmail), id); len(ms) != 2 || ms[1].Body != want || ms[1].Direction != store.MessageOut {
		t.Errorf("Chen's conversation: %+v", ms)
	}

	// An auto-reply to the support address opens nothing.
	auto := inboundtest.Post{From: "noreply@vendor.example", To: "support@" + config.DevInboundDomain, Subject: "Out of office",
		Text: "Away.", MessageID: "<auto-1@vendor.example>", Headers: []string{"Auto-Submitted: auto-replied"}}
	if _, outcome, _ := s.post(t, auto, s.key, time.Now()); outcome != "dropped" {
		t.Errorf("an auto-reply to the support address: %s", outcome)
	}
	var list struct{ Items []certdesk.Case }
	s.Do("GET", "/api/v1/cases?kind=inquiry", alice, nil).Decode(t, &list)
	if len(list.Items) != 1 {
		t.Errorf("%d inquiries, want Chen's only", len(list.Items))
	}
}

// mailsTo lists the captured mail to an address.
func (s inboundStack) mailsTo(t *testing.T, to string) []stacktest.Mail {
	t.Helper()
	var list struct{ Items []stacktest.Mail }
	s.Do("GET", "/api/v1/dev/mail?to="+url.QueryEscape(to), "", nil).Decode(t, &list)
	return list.Items
}

// count counts typ in types.
func count(types []string, typ string) int {
	n := 0
	for _, t := range types {
		if t == typ {
			n++
		}
	}
	return n
}

// An attachment is evidence, kept only while the case needs it: once the
// inquiry is answered and its retention has passed, the daily sweep deletes
// the file; the conversation still says a file was there, and asking for it
// says when it went.
func TestAttachmentsAreDeletedAfterTheRetention(t *testing.T) {
	key, pub := mailtest.WebhookKey(t)
	s := inboundStack{Stack: start(t, func(c *config.Config) {
		c.Inbound.PublicKey, c.Inbound.AttachmentRetention = pub, time.Millisecond
	}), key: key}
	alice := s.Login("alice.agent@certdesk.example")
	q := inboundtest.Post{From: "Chen Wei <chen.wei@outlook.example>", To: "support@" + config.DevInboundDomain, Subject: "My certificate",
		Text: "Here is the screenshot.", MessageID: "<shot-1@outlook.example>",
		Attachments: []inboundtest.File{{Name: "shot.png", Type: "image/png", Data: tinyPNG}}}
	_, outcome, id := s.post(t, q, s.key, time.Now())
	if outcome != "inquiry" {
		t.Fatalf("the question: %s", outcome)
	}
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	att := messages(t, s.Stack, alice, id)[0].Attachments[0]
	sweep := func() workflows.SweepResult {
		t.Helper()
		ctx := context.Background()
		run, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "sweep-" + certdesk.NewID(), TaskQueue: s.Config.TaskQueue},
			workflows.InactivitySweep, workflows.SweepInput{AsOf: time.Now().Add(time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.SweepResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatal(err)
		}
		if res.Purged > 0 {
			s.RecordHistory(run.GetID(), run.GetRunID(), "sweep-purges-attachments")
		}
		return res
	}
	if res := sweep(); res.Purged != 0 {
		t.Errorf("the sweep purged %d attachments of an open case", res.Purged)
	}
	if r := s.Do("GET", "/api/v1/attachments/"+att.ID, alice, nil); r.Code != http.StatusOK {
		t.Fatalf("the open case's attachment: %d", r.Code)
	}
	decide(t, s.Stack, alice, id, map[string]string{"decision": "resolve", "note": "Answered."}, http.StatusOK)
	answered := s.AwaitStatus(id, certdesk.StatusCompleted)
	s.RecordHistory(answered.WorkflowID, answered.RunID, "inquiry-answered")
	if res := sweep(); res.Purged != 1 {
		t.Errorf("the sweep purged %d attachments, want 1", res.Purged)
	}
	if r := s.Do("GET", "/api/v1/attachments/"+att.ID, alice, nil); r.Code != http.StatusGone || !strings.Contains(errorMessage(t, r), "deleted") {
		t.Errorf("the purged attachment: %d %s", r.Code, r.Body)
	}
	if left := messages(t, s.Stack, alice, id)[0].Attachments; len(left) != 1 || left[0].PurgedAt == nil {
		t.Errorf("the conversation lists %+v", left)
	}
}

// Dara cannot sign in (that is why she recovers): the question's email
// links her case, and by that link she reads it and answers from the
// browser, which moves the recovery on as a reply would. The link opens
// her case only; the dev mailbox's Reply button walks the email loop (its
// posts are unsigned: dev mode without a security policy key takes them).
func TestRecoveringLearnerReachesHerCaseByTheLink(t *testing.T) {
	s := inboundStack{Stack: start(t)}
	id := verifiedRequest(t, s.Stack)
	alice := s.Login("alice.agent@certdesk.example")
	decide(t, s.Stack, alice, id, map[string]string{"decision": "request_info", "note": "Which exams did you take, and when?"}, http.StatusOK)
	ask := s.AwaitMail("dara.m@proton.example", mail.RecoveryRequestInfo)
	s.AwaitStatus(id, certdesk.StatusAwaitingLearner)
	i := strings.Index(ask.Text, "/portal/cases/"+id+"/t/")
	if i < 0 {
		t.Fatalf("the question's email links no case page: %s", ask.Text)
	}
	page := strings.Fields(ask.Text[i:])[0]
	if r := s.Do("GET", page, "", nil); r.Code != http.StatusOK || !strings.Contains(string(r.Body), "Write to support") {
		t.Fatalf("the case by its link: %d", r.Code)
	}
	token := page[strings.LastIndex(page, "/")+1:]
	other := verifiedOther(t, s)
	for name, path := range map[string]string{
		"an altered token":        page[:len(page)-1] + map[bool]string{true: "a", false: "b"}[page[len(page)-1] != 'a'],
		"the token of another":    "/portal/cases/" + other + "/t/" + token,
		"a short token":           page[:len(page)-5],
		"not a case id":           "/portal/cases/nope/t/" + token,
		"the case without a link": "/portal/cases/" + id,
	} {
		if r := s.Do("GET", path, "", nil); r.Code != http.StatusNotFound && r.Code != http.StatusSeeOther {
			t.Errorf("%s: %d, want 404 (or the sign-in)", name, r.Code)
		}
	}
	if r := s.Do("POST", page[:len(page)-1]+"x/messages", "", stacktest.Form{"body": {"forged"}}); r.Code != http.StatusNotFound {
		t.Errorf("a message by an altered link: %d, want 404", r.Code)
	}
	if r := s.Do("POST", page+"/messages", "", stacktest.Form{"body": {"MS-900 in 2019."}}); r.Code != http.StatusSeeOther {
		t.Fatalf("Dara's answer by the link: %d %s", r.Code, r.Body)
	}
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	ms := messages(t, s.Stack, alice, id)
	if len(ms) != 1 || ms[0].Body != "MS-900 in 2019." || ms[0].FromAddr != "dara.m@proton.example" || ms[0].Held {
		t.Errorf("the conversation: %+v", ms)
	}

	// The mailbox's Reply button: the second question answered "by email".
	decide(t, s.Stack, alice, id, map[string]string{"decision": "request_info", "note": "And the second exam?"}, http.StatusOK)
	s.AwaitStatus(id, certdesk.StatusAwaitingLearner)
	var second stacktest.Mail
	for _, m := range s.mailsTo(t, "dara.m@proton.example") {
		if m.Kind == mail.RecoveryRequestInfo && strings.Contains(m.Text, "second exam") {
			second = m
		}
	}
	r := s.Do("POST", "/dev/mail/"+second.ID+"/reply", "", stacktest.Form{"body": {"SC-900 in 2021."}})
	if r.Code != http.StatusSeeOther || !strings.HasSuffix(r.Header.Get("Location"), "?replied=recorded") {
		t.Fatalf("the Reply button: %d %s %s", r.Code, r.Header.Get("Location"), r.Body)
	}
	s.AwaitStatus(id, certdesk.StatusAwaitingAgent)
	if ms := messages(t, s.Stack, alice, id); len(ms) != 2 || ms[1].Body != "SC-900 in 2021." {
		t.Errorf("after the Reply button: %+v", ms)
	}
}

// verifiedOther opens a second recovery (another learner) and returns it.
func verifiedOther(t *testing.T, s inboundStack) string {
	t.Helper()
	req := daraRequest()
	req["legal_name"], req["contact_email"], req["new_account_email"] = "Ana Silva", "ana.new@proton.example", "ana.new@proton.example"
	request(t, s.Stack, req)
	verify := s.AwaitMail("ana.new@proton.example", mail.RecoveryVerify)
	return verify.CaseID
}

// Anyone can write to the support address: one mailbox opens at most five
// questions an hour, however it writes (the portal counts too); what is
// over the limit is dropped, and a retried post of a question already
// opened is still its duplicate.
func TestQuestionsByEmailAreLimitedPerSender(t *testing.T) {
	s := startInbound(t)
	ask := func(n int) (string, string) {
		p := inboundtest.Post{From: "Pat <pat+" + strconv.Itoa(n) + "@flood.example>", To: "support@" + config.DevInboundDomain,
			Subject: "Question " + strconv.Itoa(n), Text: "Hello?", MessageID: "<flood-" + strconv.Itoa(n) + "@flood.example>"}
		_, outcome, id := s.post(t, p, s.key, time.Now())
		return outcome, id
	}
	var first string
	for n := range 5 {
		outcome, id := ask(n)
		if outcome != "inquiry" {
			t.Fatalf("question %d: %s", n, outcome)
		}
		if n == 0 {
			first = id
		}
	}
	if outcome, _ := ask(5); outcome != "dropped" {
		t.Errorf("the sixth question in the hour: %s, want dropped", outcome)
	}
	if outcome, id := ask(0); outcome != "duplicate" || id != first {
		t.Errorf("the first question posted again: %s %s", outcome, id)
	}
	chen := s.Login(chenEmail)
	for n := range 5 {
		if r := s.Do("POST", "/api/v1/inquiries", chen, map[string]string{"subject": "Q" + strconv.Itoa(n), "body": "?"}); r.Code != http.StatusAccepted {
			t.Fatalf("Chen's question %d: %d", n, r.Code)
		}
	}
	if r := s.Do("POST", "/api/v1/inquiries", chen, map[string]string{"subject": "Q6", "body": "?"}); r.Code != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Errorf("Chen's sixth question: %d %v", r.Code, r.Header)
	}
}
