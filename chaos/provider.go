package chaos

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
)

// How often the SendGrid stand-in misbehaves, per request.
const (
	rate429      = 0.08 // 429 with X-RateLimit-Reset 1–2 s ahead
	rate500      = 0.08 // 500 at once
	rateSlow500  = 0.03 // 500 after 1–3 s
	rateSlowSend = 0.05 // accepted after 1–3 s
)

// provider is the SendGrid the workers send to: the stand-in
// (mailtest.SendGrid), which records every request and answers 429 and 500
// at random (Otherwise), behind a front that holds some requests 1–3 s
// before the stand-in takes them.
//
// A slow acceptance is held in front of the stand-in, not by its Delay: the
// stand-in records a request as accepted when it arrives and only then
// sleeps, which would model SendGrid accepting a message and its answer
// being lost on the way back for seconds. SendGrid answers 202 once it has
// queued the message, so a sender gone while the answer is slow never had
// it accepted: the front drops the request when its sender goes away.
type provider struct {
	sg    *mailtest.SendGrid
	front *httptest.Server

	mu  sync.Mutex
	rnd *rand.Rand

	slow, slow500, dropped atomic.Int64
}

func newProvider(seed int64) *provider {
	p := &provider{sg: mailtest.NewSendGrid(), rnd: rand.New(rand.NewPCG(uint64(seed), 0x5e9d))}
	p.sg.Otherwise(p.answer)
	p.front = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

func (p *provider) close() {
	p.front.Close()
	p.sg.Close()
}

// URL is SENDGRID_BASE_URL for the workers.
func (p *provider) URL() string { return p.front.URL }

func (p *provider) float() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rnd.Float64()
}

func (p *provider) between(lo, hi time.Duration) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return lo + time.Duration(p.rnd.Int64N(int64(hi-lo)))
}

// answer is the stand-in's answer once its script is used up.
func (p *provider) answer(mailtest.Request) mailtest.Answer {
	switch r := p.float(); {
	case r < rate429:
		return mailtest.Answer{Status: http.StatusTooManyRequests, ResetIn: p.between(0, time.Second),
			Body: `{"errors":[{"message":"too many requests"}]}`}
	case r < rate429+rate500:
		return mailtest.Answer{Status: http.StatusInternalServerError, Body: `{"errors":[{"message":"internal error"}]}`}
	case r < rate429+rate500+rateSlow500:
		p.slow500.Add(1)
		return mailtest.Answer{Status: http.StatusInternalServerError, Delay: p.between(time.Second, 3*time.Second)}
	}
	return mailtest.Answer{Status: http.StatusAccepted}
}

// serve holds some requests before the stand-in takes them; a request whose
// sender went away meanwhile (a killed worker) never reaches it.
func (p *provider) serve(w http.ResponseWriter, r *http.Request) {
	// Reading the body first lets the server notice a closed connection.
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if p.float() < rateSlowSend {
		p.slow.Add(1)
		select {
		case <-time.After(p.between(time.Second, 3*time.Second)):
		case <-r.Context().Done():
			p.dropped.Add(1)
			return
		}
	}
	p.sg.Config.Handler.ServeHTTP(w, r)
}

// sent is one accepted request, as the scripts read it.
type sent struct {
	At     time.Time
	CaseID string
	Step   string
	Kind   string
	To     string
	Link   string
}

// accepted lists the accepted requests, in order.
func (p *provider) accepted() []sent {
	var out []sent
	for _, r := range p.sg.Requests() {
		if r.Status/100 != 2 {
			continue
		}
		s := sent{At: r.At, CaseID: r.CaseID, Step: r.Step, To: r.To, Kind: kindOf(r.Template)}
		if ps, ok := r.Body["personalizations"].([]any); ok && len(ps) > 0 {
			pm, _ := ps[0].(map[string]any)
			data, _ := pm["dynamic_template_data"].(map[string]any)
			s.Link, _ = data["link"].(string)
		}
		out = append(out, s)
	}
	return out
}

// templateID is the template id the workers are given for a kind.
func templateID(kind string) string { return "d-" + kind }

func kindOf(template string) string {
	for _, k := range mail.Kinds {
		if templateID(k.Kind) == template {
			return k.Kind
		}
	}
	return template
}

// awaitMail waits for the accepted message of a case step and returns it
// (the last accepted, whose link is the live one).
func (p *provider) awaitMail(ctx context.Context, c *apiClient, caseID, step string) (sent, error) {
	return p.await(ctx, c, "mail "+step+" of case "+caseID, func(s sent) bool { return s.CaseID == caseID && s.Step == step })
}

func (p *provider) await(ctx context.Context, c *apiClient, what string, ok func(sent) bool) (sent, error) {
	for {
		var found *sent
		for _, s := range p.accepted() {
			if ok(s) {
				found = &s
			}
		}
		if found != nil {
			return *found, nil
		}
		if err := c.pause(ctx); err != nil {
			return sent{}, errorf("waited for %s: %w", what, err)
		}
	}
}

// counts says how the stand-in answered.
func (p *provider) counts() map[string]int {
	out := map[string]int{}
	for _, r := range p.sg.Requests() {
		switch {
		case r.Status/100 == 2:
			out["accepted"]++
		case r.Status == http.StatusTooManyRequests:
			out["429"]++
		default:
			out["500"]++
		}
	}
	out["slow_500"] = int(p.slow500.Load())
	out["slow_sends"] = int(p.slow.Load())
	out["slow_sends_abandoned"] = int(p.dropped.Load())
	return out
}
