package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// A receiver of certdesk's domain events written from the README's
// "Domain events" and the Standard Webhooks rules alone: it knows no
// certdesk package, checks the signature itself, and decodes the payloads
// into its own types.

// receivedEvent is the body as the README documents it.
type receivedEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	Version   int             `json:"version"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

type ref struct{ ID, MCID, Email string }

type receiver struct {
	t      *testing.T
	secret string
	srv    *httptest.Server
	// answer, when set, decides the status of a delivery (the receiver is
	// down, gone…); nil is 200.
	answer func(receivedEvent) int

	mu       sync.Mutex
	events   []receivedEvent // accepted (2xx), in arrival order
	ids      map[string]int  // webhook-id → deliveries seen (any status)
	problems []string
}

func newReceiver(t *testing.T) *receiver {
	key := make([]byte, 24)
	for i := range key {
		key[i] = byte(i*7 + 3)
	}
	r := &receiver{t: t, secret: "whsec_" + base64.StdEncoding.EncodeToString(key), ids: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

// verify is Standard Webhooks' check: the signed content is
// id.timestamp.body, HMAC-SHA256 with the secret's base64-decoded key, and
// any of the space-separated "v1,<base64>" signatures may match; the
// timestamp must be within five minutes.
func (r *receiver) verify(h http.Header, body []byte) error {
	id, ts, sigs := h.Get("webhook-id"), h.Get("webhook-timestamp"), h.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return fmt.Errorf("missing headers: id %q timestamp %q signature %q", id, ts, sigs)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("timestamp %q", ts)
	}
	if d := time.Since(time.Unix(sec, 0)); d > 5*time.Minute || d < -5*time.Minute {
		return fmt.Errorf("timestamp %s is %s off", ts, d)
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(r.secret, "whsec_"))
	if err != nil {
		return err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
	for _, s := range strings.Fields(sigs) {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return fmt.Errorf("no signature of %q matches", sigs)
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	if err := r.verify(req.Header, body); err != nil {
		r.problem(err.Error())
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var e receivedEvent
	if err := json.Unmarshal(body, &e); err != nil {
		r.problem("body: " + err.Error())
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	if e.ID != req.Header.Get("webhook-id") {
		r.problem(fmt.Sprintf("body id %s under webhook-id %s", e.ID, req.Header.Get("webhook-id")))
	}
	code := http.StatusOK
	if r.answer != nil {
		code = r.answer(e) // outside the lock: a slow answer holds back no other delivery
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ids[e.ID]++
	if code/100 == 2 {
		if slices.ContainsFunc(r.events, func(x receivedEvent) bool { return x.ID == e.ID }) {
			r.problems = append(r.problems, "delivered twice after a 2xx: "+e.ID)
		}
		r.events = append(r.events, e)
	}
	w.WriteHeader(code)
}

func (r *receiver) problem(p string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.problems = append(r.problems, p)
}

func (r *receiver) received() []receivedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

func (r *receiver) ofType(prefix string) []receivedEvent {
	var out []receivedEvent
	for _, e := range r.received() {
		if strings.HasPrefix(e.Type, prefix) {
			out = append(out, e)
		}
	}
	return out
}

func (r *receiver) checkProblems() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range r.problems {
		r.t.Errorf("receiver: %s", p)
	}
}

func subscribe(t *testing.T, s *stacktest.Stack, r *receiver, patterns ...string) store.Subscriber {
	t.Helper()
	sub, err := s.Store.CreateSubscriber(context.Background(), r.srv.URL, patterns, r.secret)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// A merge, a connection and a recovery reach a subscriber of every event
// and one of certification profiles only, signed, once each, in order.
func TestDomainEventsReachAReceiverInOrder(t *testing.T) {
	s := start(t, func(c *config.Config) { c.CoolingOff = 3 * time.Second })
	all, profiles := newReceiver(t), newReceiver(t)
	subscribe(t, s, all, "*")
	subscribe(t, s, profiles, "certification_profile.*")

	// Chen connects: his two profiles merge first (Bob approves), then the
	// survivor is connected.
	chen := s.Login("chen.wei@outlook.example")
	c := requestConnect(t, s, chen)
	mergeID := mergeChild(t, s, c.ID)
	bob := s.Login("bob.agent@certdesk.example")
	if r := s.Do("POST", "/api/v1/cases/"+mergeID+"/decision", bob, map[string]string{"decision": "approve", "note": "same person"}); r.Code != http.StatusOK {
		t.Fatalf("approve the merge = %d %s", r.Code, r.Body)
	}
	awaitEnd(t, s, c.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)

	// Dara recovers her profile to a new account.
	recovery := verifiedRequest(t, s)
	alice := s.Login("alice.agent@certdesk.example")
	s.Do("POST", "/api/v1/cases/"+recovery+"/claim", alice, nil)
	decide(t, s, alice, recovery, map[string]string{"decision": "approve", "profile_id": store.DemoID("profile:100005"), "note": "matches"}, http.StatusOK)
	s.AwaitStatus(recovery, certdesk.StatusCompleted)

	s.Eventually("the three profile events at the profiles' receiver", func() bool { return len(profiles.ofType("")) >= 3 })
	s.Eventually("every case ended at the receiver of everything", func() bool { return len(all.ofType("case.ended")) >= 3 })
	all.checkProblems()
	profiles.checkProblems()

	got := profiles.received()
	types := make([]string, len(got))
	for i, e := range got {
		types[i] = e.Type
		if e.Version != 1 || !strings.HasPrefix(e.ID, "evt_") || time.Since(e.CreatedAt) > time.Minute {
			t.Errorf("event %+v: want version 1, an evt_ id, a recent created_at", e)
		}
	}
	if want := []string{"certification_profile.merged", "certification_profile.connected", "certification_profile.rebound"}; !slices.Equal(types, want) {
		t.Fatalf("the profiles' receiver got %q, want %q", types, want)
	}
	var merged struct {
		CaseID  string `json:"case_id"`
		Target  ref
		Sources []ref
		Moved   int `json:"certifications_moved"`
	}
	var connected struct {
		Profile         ref    `json:"certification_profile"`
		LearningProfile string `json:"learning_profile_id"`
	}
	var rebound struct {
		Profile  ref  `json:"certification_profile"`
		Previous *ref `json:"previous_account"`
		Account  ref
		Created  bool `json:"account_created"`
	}
	for i, dst := range []any{&merged, &connected, &rebound} {
		if err := json.Unmarshal(got[i].Data, dst); err != nil {
			t.Fatalf("%s data: %v", got[i].Type, err)
		}
	}
	if merged.CaseID != mergeID || merged.Target.MCID != "100003" || len(merged.Sources) != 1 || merged.Sources[0].MCID != "100004" {
		t.Errorf("merged %+v: want case %s, 100004 into 100003", merged, mergeID)
	}
	if connected.Profile.MCID != "100003" || connected.Profile.ID != merged.Target.ID || connected.LearningProfile != store.DemoID("lp:chen") {
		t.Errorf("connected %+v: want the merge's target on Chen's learning profile", connected)
	}
	if rebound.Profile.MCID != "100005" || rebound.Account.Email != "dara.m@proton.example" || !rebound.Created ||
		rebound.Previous == nil || rebound.Previous.Email != "dara.murphy@outlook.example" {
		t.Errorf("rebound %+v: want 100005 from dara.murphy@outlook.example to a new dara.m@proton.example", rebound)
	}

	// The receiver of everything: each case opened before it ended, the
	// merge before the connect case's end, nothing twice.
	evs := all.received()
	pos := map[string]int{}
	for i, e := range evs {
		var d struct {
			CaseID string `json:"case_id"`
			Kind   string
			Status string
		}
		_ = json.Unmarshal(e.Data, &d)
		key := e.Type + " " + d.CaseID
		if e.Type == "certification_profile.merged" || e.Type == "certification_profile.connected" {
			key = e.Type
		}
		if _, seen := pos[key]; seen {
			t.Errorf("%s twice", key)
		}
		pos[key] = i
	}
	for _, id := range []string{c.ID, mergeID, recovery} {
		o, ok1 := pos["case.opened "+id]
		e, ok2 := pos["case.ended "+id]
		if !ok1 || !ok2 || o > e {
			t.Errorf("case %s: opened at %d (%v), ended at %d (%v)", id, o, ok1, e, ok2)
		}
	}
	if pos["certification_profile.merged"] > pos["certification_profile.connected"] {
		t.Errorf("connected arrived before merged")
	}
}

// A receiver that is down gets everything when it comes back, each order
// key in order and every event once accepted; one that answers 410 is
// disabled after its first answer.
func TestDomainEventsWaitForAReceiverThatIsDown(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	down, gone := newReceiver(t), newReceiver(t)
	var upAt time.Time
	var mu sync.Mutex
	down.answer = func(receivedEvent) int {
		mu.Lock()
		defer mu.Unlock()
		if upAt.IsZero() || time.Now().Before(upAt) {
			return http.StatusServiceUnavailable
		}
		return http.StatusNoContent
	}
	gone.answer = func(receivedEvent) int { return http.StatusGone }
	subscribe(t, s, down, "case.*")
	goneSub := subscribe(t, s, gone, "*")

	// Twenty cases open and end (the store's writes, as the workflows
	// make them): forty events over twenty order keys.
	var ids []string
	for range 20 {
		cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorPublic, WorkflowID: "events-" + certdesk.NewID(), MCIDs: []string{"100001"}}
		if _, err := s.Store.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Store.ChangeCase(ctx, store.Change{CaseID: cs.ID, WorkflowStep: 1, Status: certdesk.StatusRejected, Resolution: "test",
			Event: store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventRejected}}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, cs.ID)
	}
	// Down for a while: every first event fails and nothing after it goes.
	s.Eventually("the first attempts", func() bool {
		down.mu.Lock()
		defer down.mu.Unlock()
		return len(down.ids) >= 20
	})
	down.mu.Lock()
	attempted := len(down.ids)
	down.mu.Unlock()
	if attempted != 20 {
		t.Errorf("%d events attempted while the receiver was down, want each case's first (20): the second waits for it", attempted)
	}
	mu.Lock()
	upAt = time.Now()
	mu.Unlock()
	s.Eventually("all forty events after the receiver came back", func() bool { return len(down.received()) >= 40 })
	down.checkProblems()
	order := map[string][]string{}
	for _, e := range down.received() {
		var d struct {
			CaseID string `json:"case_id"`
		}
		_ = json.Unmarshal(e.Data, &d)
		order[d.CaseID] = append(order[d.CaseID], e.Type)
	}
	for _, id := range ids {
		if got := order[id]; !slices.Equal(got, []string{"case.opened", "case.ended"}) {
			t.Errorf("case %s arrived as %q, want opened then ended, once each", id, got)
		}
	}

	// The 410 receiver: disabled, told once.
	s.Eventually("the gone subscriber disabled", func() bool {
		sub, err := s.Store.Subscriber(ctx, goneSub.ID)
		return err == nil && sub.Status == store.SubscriberDisabled && sub.DisabledReason == store.DisabledGone
	})
	time.Sleep(300 * time.Millisecond)
	gone.mu.Lock()
	defer gone.mu.Unlock()
	if n := len(gone.ids); n == 0 || n > 8 {
		t.Errorf("the gone receiver saw %d events, want the first round's only", n)
	}
}

// A receiver slower than the sender's heartbeat timeout: one round of
// deliveries takes longer than five seconds, and still each event is
// posted once (the round beats while it runs, so no second sender starts).
func TestDomainEventsToASlowReceiverGoOnce(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	slow := newReceiver(t)
	slow.answer = func(receivedEvent) int {
		time.Sleep(2500 * time.Millisecond)
		return http.StatusOK
	}
	subscribe(t, s, slow, "case.*")
	for range 16 {
		cs := certdesk.Case{ID: certdesk.NewID(), Kind: certdesk.KindMerge, Requester: certdesk.ActorPublic, WorkflowID: "slow-" + certdesk.NewID()}
		if _, err := s.Store.OpenCase(ctx, &cs, store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventOpened}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Store.ChangeCase(ctx, store.Change{CaseID: cs.ID, WorkflowStep: 1, Status: certdesk.StatusRejected, Resolution: "test",
			Event: store.Event{Actor: certdesk.ActorSystem, Type: certdesk.EventRejected}}); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(40 * time.Second)
	for len(slow.received()) < 32 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	slow.checkProblems()
	slow.mu.Lock()
	defer slow.mu.Unlock()
	if len(slow.events) != 32 {
		t.Fatalf("the slow receiver took %d events, want 32", len(slow.events))
	}
	for id, n := range slow.ids {
		if n != 1 {
			t.Errorf("event %s posted %d times, want once", id, n)
		}
	}
}
