package golive_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/mail/mailtest"
)

// sendGrid is the SendGrid the worker sends to: the stand-in
// (mailtest.SendGrid) behind a front that holds every request to the shape
// of SendGrid's v3 mail/send and keeps what is not.
type sendGrid struct {
	sg    *mailtest.SendGrid
	front *httptest.Server
	key   string
	// webhook signs the event webhook's posts; WebhookKey is its
	// verification key (SENDGRID_WEBHOOK_PUBLIC_KEY).
	webhook    *ecdsa.PrivateKey
	WebhookKey string

	mu      sync.Mutex
	refused []string
}

func newSendGrid(t *testing.T, apiKey string) *sendGrid {
	s := &sendGrid{sg: mailtest.NewSendGrid(), key: apiKey}
	s.webhook, s.WebhookKey = mailtest.WebhookKey(t)
	s.front = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(func() { s.front.Close(); s.sg.Close() })
	return s
}

// URL is SENDGRID_BASE_URL.
func (s *sendGrid) URL() string { return s.front.URL }

func (s *sendGrid) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var wrong []string
	if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
		wrong = append(wrong, r.Method+" "+r.URL.Path)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+s.key {
		wrong = append(wrong, fmt.Sprintf("Authorization %q", got))
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		wrong = append(wrong, fmt.Sprintf("Content-Type %q", ct))
	}
	if len(wrong) > 0 {
		s.mu.Lock()
		s.refused = append(s.refused, strings.Join(wrong, ", "))
		s.mu.Unlock()
		http.Error(w, `{"errors":[{"message":"bad request"}]}`, http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.sg.Config.Handler.ServeHTTP(w, r)
}

// message is an accepted mail/send request as a recipient would see it.
type message struct {
	Kind   string
	To     string
	CaseID string
	Step   string
	Data   map[string]any // dynamic_template_data
	// Problems says where the request is not what SendGrid expects.
	Problems []string
}

// Link is the token link the message carries ("" for none).
func (m message) Link() string {
	l, _ := m.Data["link"].(string)
	return l
}

// messages lists the accepted messages, in order.
func (s *sendGrid) messages() []message {
	var out []message
	for _, r := range s.sg.Requests() {
		if r.Status/100 != 2 {
			continue
		}
		m := message{Kind: kindOf(r.Template), To: r.To, CaseID: r.CaseID, Step: r.Step}
		if !mail.Known(m.Kind) {
			m.Problems = append(m.Problems, m.Kind)
		}
		if from, _ := r.Body["from"].(map[string]any); from["email"] != mailFrom {
			m.Problems = append(m.Problems, fmt.Sprintf("from %v", r.Body["from"]))
		}
		ps, _ := r.Body["personalizations"].([]any)
		if len(ps) != 1 {
			m.Problems = append(m.Problems, fmt.Sprintf("%d personalizations", len(ps)))
		} else {
			p, _ := ps[0].(map[string]any)
			m.Data, _ = p["dynamic_template_data"].(map[string]any)
		}
		if m.To == "" || m.Data == nil {
			m.Problems = append(m.Problems, "no personalizations[0].to or dynamic_template_data")
		}
		if m.Link() != "" {
			ts, _ := r.Body["tracking_settings"].(map[string]any)
			if ct, _ := ts["click_tracking"].(map[string]any); ct["enable"] != false {
				m.Problems = append(m.Problems, "click tracking on a message with a link")
			}
		}
		out = append(out, m)
	}
	return out
}

// await waits for the last accepted message of a kind to an address (the
// last one's link is the live one).
func (s *sendGrid) await(t *testing.T, kind, to string) message {
	t.Helper()
	var found message
	eventually(t, kind+" mail to "+to, func() bool {
		for _, m := range s.messages() {
			if m.Kind == kind && m.To == to {
				found = m
			}
		}
		return found.Kind != ""
	})
	return found
}

// check holds every request to SendGrid's shape and each (case, step, to)
// to one message, and the messages to the ones want lists (kind → to).
func (s *sendGrid) check(t *testing.T, want map[string][]string) {
	t.Helper()
	s.mu.Lock()
	for _, r := range s.refused {
		t.Errorf("SendGrid stand-in refused a request: %s", r)
	}
	s.mu.Unlock()
	seen := map[[3]string]int{}
	got := map[string][]string{}
	for _, m := range s.messages() {
		for _, p := range m.Problems {
			t.Errorf("%s mail to %s: %s", m.Kind, m.To, p)
		}
		seen[[3]string{m.CaseID, m.Step, m.To}]++
		got[m.Kind] = append(got[m.Kind], m.To)
	}
	for k, n := range seen {
		if n > 1 {
			t.Errorf("case %s step %s: %d emails to %s, want one", k[0], k[1], n, k[2])
		}
	}
	for kind, to := range want {
		slices.Sort(got[kind])
		if fmt.Sprint(got[kind]) != fmt.Sprint(slices.Sorted(slices.Values(to))) {
			t.Errorf("%s mail went to %v, want %v", kind, got[kind], to)
		}
	}
	for kind, to := range got {
		if _, ok := want[kind]; !ok {
			t.Errorf("unexpected %s mail to %v", kind, to)
		}
	}
}

// delivered posts SendGrid's signed event webhook saying m was delivered,
// to certdesk at base, and returns the status certdesk answered.
func (s *sendGrid) delivered(t *testing.T, base string, m message) int {
	t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	body, _ := json.Marshal([]map[string]any{{"sg_event_id": "ev-" + m.CaseID + "-" + m.Step, "event": "delivered", "email": m.To,
		"timestamp": time.Now().Unix(), "case_id": m.CaseID, "step": m.Step}})
	req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/sendgrid", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(mail.SignatureHeader, mailtest.SignWebhook(t, s.webhook, ts, body))
	req.Header.Set(mail.TimestampHeader, ts)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}
