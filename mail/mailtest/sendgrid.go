// Package mailtest is a stand-in for SendGrid's mail/send API: it records
// every request and answers from a script (429, 500, 400, slow…), so tests
// can check what certdesk sends and how it retries.
package mailtest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"

	"github.com/certdesk/certdesk/mail"
)

// Answer is one scripted answer.
type Answer struct {
	Status int
	// ResetIn sets X-RateLimit-Reset (for 429) this far in the future.
	ResetIn time.Duration
	// Delay holds the answer this long.
	Delay time.Duration
	Body  string
}

// Request is a request SendGrid received.
type Request struct {
	At       time.Time
	Status   int // what it answered
	Auth     string
	Body     map[string]any
	CaseID   string
	Step     string
	Template string
	To       string
}

// SendGrid is the stand-in.
type SendGrid struct {
	*httptest.Server
	mu       sync.Mutex
	script   []Answer
	fallback func(Request) Answer
	requests []Request
	seq      int
}

// NewSendGrid starts a stand-in that accepts everything (202) unless
// scripted otherwise.
func NewSendGrid() *SendGrid {
	s := &SendGrid{}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Script queues answers for the next requests, in order.
func (s *SendGrid) Script(answers ...Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, answers...)
}

// Otherwise decides the answers once the script is used up (default 202).
func (s *SendGrid) Otherwise(f func(Request) Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = f
}

func (s *SendGrid) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	req := Request{At: time.Now(), Auth: r.Header.Get("Authorization")}
	_ = json.Unmarshal(body, &req.Body)
	req.Template, _ = req.Body["template_id"].(string)
	// custom_args may sit on the message or on its personalization.
	args, _ := req.Body["custom_args"].(map[string]any)
	if ps, ok := req.Body["personalizations"].([]any); ok && len(ps) > 0 {
		p, _ := ps[0].(map[string]any)
		if to, ok := p["to"].([]any); ok && len(to) > 0 {
			req.To, _ = to[0].(map[string]any)["email"].(string)
		}
		if pa, ok := p["custom_args"].(map[string]any); ok {
			args = pa
		}
	}
	req.CaseID, _ = args["case_id"].(string)
	req.Step, _ = args["step"].(string)
	s.mu.Lock()
	ans := Answer{Status: http.StatusAccepted}
	switch {
	case len(s.script) > 0:
		ans, s.script = s.script[0], s.script[1:]
	case s.fallback != nil:
		ans = s.fallback(req)
	}
	req.Status = ans.Status
	s.seq++
	id := "msg-" + strconv.Itoa(s.seq)
	s.requests = append(s.requests, req)
	s.mu.Unlock()

	if ans.Delay > 0 {
		time.Sleep(ans.Delay)
	}
	if ans.ResetIn > 0 {
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(time.Now().Add(ans.ResetIn).Unix()+1, 10))
	}
	if ans.Status/100 == 2 {
		w.Header().Set("X-Message-Id", id)
	}
	w.WriteHeader(ans.Status)
	if ans.Body != "" {
		_, _ = io.WriteString(w, ans.Body)
	}
}

// Requests returns what SendGrid received so far.
func (s *SendGrid) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Accepted counts the accepted messages per (case, step): a count above
// one is a duplicate email.
func (s *SendGrid) Accepted() map[[2]string]int {
	out := map[[2]string]int{}
	for _, r := range s.Requests() {
		if r.Status/100 == 2 {
			out[[2]string{r.CaseID, r.Step}]++
		}
	}
	return out
}

// Mailer returns a SendGrid mailer pointed at the stand-in, with a template
// id for every message kind.
func (s *SendGrid) Mailer() *mail.SendGrid {
	templates := map[string]string{}
	for _, k := range mail.Kinds {
		templates[k.Kind] = "d-" + k.Kind
	}
	return &mail.SendGrid{APIKey: "SG.test-key", BaseURL: s.URL, From: "support@certdesk.example", FromName: "Certification Support", Templates: templates}
}
