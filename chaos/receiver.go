package chaos

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/certdesk/certdesk/webhook"
)

// The webhook subscriber's stand-in: a receiver that answers 500 now and
// then, takes longer than the sender waits, and goes away for a while (its
// port closed). The worker runs in production mode, which never posts to
// loopback: the receiver listens on this machine's first other address.

const (
	rateHook500     = 0.08
	rateHookTimeout = 0.03
	// hookTimeout is the workers' CERTDESK_WEBHOOK_TIMEOUT; a slow answer
	// takes longer.
	hookTimeout = 2 * time.Second
)

type receiver struct {
	addr   string // host:port
	secret string

	mu       sync.Mutex
	srv      *http.Server
	faulty   bool
	rnd      *rand.Rand
	accepted map[string][]time.Time // webhook-id → each 2xx answered
	order    []string               // webhook-ids in the order first accepted
	slow     map[string]bool        // taken, and answered after the sender's timeout
	answers  map[string]int
	bad      []string // deliveries whose signature did not verify
}

// hostAddress is this machine's first address that is not loopback or
// link-local, or "" when it has none.
func hostAddress() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, a := range addrs {
		ip, ok := a.(*net.IPNet)
		if ok && ip.IP.To4() != nil && !ip.IP.IsLoopback() && !ip.IP.IsLinkLocalUnicast() {
			return ip.IP.String()
		}
	}
	return ""
}

// newReceiver listens on host; seed makes its faults repeatable.
func newReceiver(host string, seed uint64) (*receiver, error) {
	r := &receiver{secret: webhook.NewSecret(), faulty: true, rnd: rand.New(rand.NewPCG(seed, 7)),
		accepted: map[string][]time.Time{}, answers: map[string]int{}, slow: map[string]bool{}}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return nil, err
	}
	r.addr = ln.Addr().String()
	r.serve(ln)
	return r, nil
}

func (r *receiver) URL() string { return "http://" + r.addr + "/hooks" }

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
	if err := webhook.Verify(r.secret, req.Header, body, time.Now()); err != nil {
		r.mu.Lock()
		r.bad = append(r.bad, err.Error())
		r.answers["401"]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := req.Header.Get(webhook.HeaderID)
	r.mu.Lock()
	p := 1.0
	if r.faulty {
		p = r.rnd.Float64()
	}
	switch {
	case p < rateHook500:
		r.answers["500"]++
		r.mu.Unlock()
		w.WriteHeader(http.StatusInternalServerError)
		return
	case p < rateHook500+rateHookTimeout:
		// Taken, but answered after the sender gave up: the sender sends
		// it again, with the same id.
		r.answers["slow"]++
		r.slow[id] = true
		r.take(id)
		r.mu.Unlock()
		time.Sleep(hookTimeout + time.Second)
		w.WriteHeader(http.StatusOK)
		return
	}
	r.answers["accepted"]++
	r.take(id)
	r.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// take notes an accepted delivery (mu held).
func (r *receiver) take(id string) {
	if len(r.accepted[id]) == 0 {
		r.order = append(r.order, id)
	}
	r.accepted[id] = append(r.accepted[id], time.Now())
}

// away closes the port for d, then listens on it again.
func (r *receiver) away(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	srv := r.srv
	r.answers["away"]++
	r.mu.Unlock()
	_ = srv.Close()
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	var ln net.Listener
	var err error
	for range 50 { // the port may linger a moment
		if ln, err = net.Listen("tcp", r.addr); err == nil {
			r.serve(ln)
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("chaos: the webhook receiver could not listen on %s again: %w", r.addr, err)
}

// calm stops the faults (the run's faults have ended).
func (r *receiver) calm() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faulty = false
}

func (r *receiver) close() {
	r.mu.Lock()
	srv := r.srv
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// snapshot is what the receiver holds, for the checks.
func (r *receiver) snapshot() (accepted map[string][]time.Time, order []string, answers map[string]int, bad []string, slow map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	accepted = map[string][]time.Time{}
	for k, v := range r.accepted {
		accepted[k] = append([]time.Time(nil), v...)
	}
	answers = map[string]int{}
	for k, v := range r.answers {
		answers[k] = v
	}
	slow = map[string]bool{}
	for k, v := range r.slow {
		slow[k] = v
	}
	return accepted, append([]string(nil), r.order...), answers, append([]string(nil), r.bad...), slow
}
