// Package stacktest runs certdesk's whole embedded stack for tests: a real
// Temporal server (one per test process, in memory), a worker with the real
// activities on its own task queue, a store on SQLite or PostgreSQL, and the
// HTTP server on a real port. Mail is captured unless a test brings a mailer
// (a SendGrid stand-in).
package stacktest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/codec"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/mail"
	httpserver "github.com/certdesk/certdesk/server"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/store/storetest"
	"github.com/certdesk/certdesk/telemetry"
	"github.com/certdesk/certdesk/tracing"
	"github.com/certdesk/certdesk/webhook"
	"github.com/certdesk/certdesk/worker"
	"github.com/certdesk/certdesk/workflows"
)

var (
	serverOnce sync.Once
	server     *devserver.Server
	serverErr  error
)

// Temporal returns the process's shared embedded Temporal server.
func Temporal(tb testing.TB) *devserver.Server {
	tb.Helper()
	serverOnce.Do(func() {
		server, serverErr = devserver.Start(context.Background(), devserver.Options{})
	})
	if serverErr != nil {
		tb.Fatalf("embedded Temporal server: %v", serverErr)
	}
	return server
}

// PayloadKeys is the stacks' payload key: fixed, so the histories the tests
// record replay with it (workflows/replay_test.go).
const PayloadKeys = "test1:Y2VydGRlc2stdGVzdC1wYXlsb2FkLWtleS0zMmJ5dGU="

// Options shape a stack.
type Options struct {
	// Dialect is "sqlite" (default) or "postgres".
	Dialect string
	// Mailer replaces the captured mailbox.
	Mailer mail.Mailer
	// Configure adjusts the configuration (durations, …) before start.
	Configure func(*config.Config)
	// Register adds test workflows or activities to the worker.
	Register func(sdkworker.Registry)
}

// Stack is a running certdesk.
type Stack struct {
	T        testing.TB
	Config   config.Config
	Store    *store.Store
	Client   client.Client
	Codec    *codec.Codec // the client's (and the server's) payload codec
	Acts     *activities.Activities
	Worker   sdkworker.Worker
	API      *httpserver.Server
	URL      string // the HTTP server's base URL
	HTTP     *http.Client
	stopOnce sync.Once
}

// Start runs a stack for one test; it stops when the test ends.
func Start(tb testing.TB, opts Options) *Stack {
	tb.Helper()
	if opts.Dialect == "" {
		opts.Dialect = "sqlite"
	}
	srv := Temporal(tb)
	st := storetest.Seeded(tb, opts.Dialect)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg, err := config.Load(config.ModeDev, config.MapEnv{})
	if err != nil {
		tb.Fatal(err)
	}
	cfg.PublicURL = base
	cfg.HTTPAddr = ln.Addr().String()
	cfg.Secret = strings.Repeat("t", 40)
	cfg.DatabaseURL = "test"
	cfg.TaskQueue = "test-" + certdesk.NewID()
	cfg.PayloadKeys = PayloadKeys
	cfg.Temporal.Address = srv.HostPort()
	cfg.Inbound.Domain, cfg.Inbound.SupportAddress = config.DevInboundDomain, "support@"+config.DevInboundDomain
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}

	cd, err := codec.Parse(cfg.PayloadKeys)
	if err != nil {
		tb.Fatal(err)
	}
	cd.UseKeyStore(st)
	tc, err := client.Dial(tracing.Client(cd.Client(client.Options{
		HostPort: srv.HostPort(), Namespace: devserver.Namespace,
		Logger:         sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		MetricsHandler: telemetry.SDKMetrics(), // as dev mode's
	}), workflows.TraceSpanKey))
	if err != nil {
		tb.Fatal(err)
	}
	mailer := opts.Mailer
	if mailer == nil {
		mailer = activities.CaptureMailer(st)
	}
	// Tests' receivers are httptest servers on loopback, as in dev.
	acts := &activities.Activities{Store: st, Mailer: mailer, Links: activities.Links{BaseURL: base},
		Webhooks: &activities.Webhooks{Sender: webhook.NewSender(5*time.Second, true), Poll: 20 * time.Millisecond},
		ReplyTo:  inbound.AddressesFor(cfg.Secret, cfg.Inbound.Domain).For, CaseToken: inbound.AddressesFor(cfg.Secret, cfg.Inbound.Domain).Token, AttachmentRetention: cfg.Inbound.AttachmentRetention, Retention: cfg.Retention}
	w := worker.New(tc, cfg, acts)
	if opts.Register != nil {
		opts.Register(w)
	}
	if err := w.Start(); err != nil {
		tb.Fatal(err)
	}
	if err := worker.EnsureSweepSchedule(context.Background(), tc, cfg); err != nil {
		tb.Fatal(err)
	}
	if err := worker.EnsureWebhookDelivery(context.Background(), tc, cfg); err != nil {
		tb.Fatal(err)
	}
	a := httpserver.New(httpserver.Deps{Config: cfg, Store: st, Temporal: tc, Codec: cd})
	hs := httptest.NewUnstartedServer(a)
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()

	s := &Stack{T: tb, Config: cfg, Store: st, Client: tc, Codec: cd, Acts: acts, Worker: w, API: a, URL: base, HTTP: hs.Client()}
	tb.Cleanup(func() {
		hs.Close()
		s.StopWorker()
		s.terminateOpen()
		tc.Close()
	})
	return s
}

// terminateOpen ends the workflows this stack left running: the tests of a
// process share one Temporal server, and a connect workflow's id is its
// learning profile's (the demo ids are fixed), so a case one test left
// waiting would answer the next test's request.
func (s *Stack) terminateOpen() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := s.Client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", s.Config.TaskQueue),
	})
	if err != nil {
		s.T.Logf("list open workflows: %v", err)
		return
	}
	for _, e := range resp.GetExecutions() {
		_ = s.Client.TerminateWorkflow(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), "end of test")
	}
}

// StopWorker stops the worker (cases wait in Temporal until one runs again).
func (s *Stack) StopWorker() { s.stopOnce.Do(s.Worker.Stop) }

// Response is an HTTP answer.
type Response struct {
	Code   int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into a map.
func (r Response) JSON(tb testing.TB) map[string]any {
	tb.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		tb.Fatalf("body is not JSON (%d): %s", r.Code, r.Body)
	}
	return m
}

// Decode decodes the body into v.
func (r Response) Decode(tb testing.TB, v any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		tb.Fatalf("decode %d %s: %v", r.Code, r.Body, err)
	}
}

// NewRequest builds a request with an optional bearer token; a string body
// is sent as it is (as JSON), a Form URL-encoded, anything else as JSON.
func NewRequest(method, target, token string, body any) (*http.Request, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ct = strings.NewReader(b), "application/json"
	case Form:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ct = bytes.NewReader(buf), "application/json"
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req, nil
}

// Do sends a request to the stack (see NewRequest for the body).
func (s *Stack) Do(method, path, token string, body any) Response {
	s.T.Helper()
	req, err := NewRequest(method, s.URL+path, token, body)
	if err != nil {
		s.T.Fatal(err)
	}
	client := *s.HTTP
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Do(req)
	if err != nil {
		s.T.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return Response{Code: resp.StatusCode, Header: resp.Header, Body: b}
}

// Form is a URL-encoded form body for Do.
type Form = url.Values

// Login signs in through /dev/login and returns the bearer token.
func (s *Stack) Login(email string) string {
	s.T.Helper()
	r := s.Do("POST", "/dev/login", "", map[string]string{"email": email})
	if r.Code != http.StatusOK {
		s.T.Fatalf("login %s: %d %s", email, r.Code, r.Body)
	}
	return r.JSON(s.T)["token"].(string)
}

// Mail is a captured message with its links.
type Mail struct {
	ID      string      `json:"id"`
	To      string      `json:"to"`
	Subject string      `json:"subject"`
	Kind    string      `json:"kind"`
	CaseID  string      `json:"case_id"`
	Step    string      `json:"step"`
	Links   []mail.Link `json:"links"`
	Text    string      `json:"text"`
	// ReplyTo is the case's reply address for the recipient.
	ReplyTo string `json:"reply_to"`
}

// Link returns the path of the message's first token link (/l/…).
func (m Mail) Link(tb testing.TB) string {
	tb.Helper()
	for _, l := range m.Links {
		if i := strings.Index(l.URL, "/l/"); i >= 0 {
			return l.URL[i:]
		}
	}
	tb.Fatalf("mail %q has no link: %+v", m.Subject, m.Links)
	return ""
}

// AwaitMail waits for a captured message of a kind to a recipient.
func (s *Stack) AwaitMail(to, kind string) Mail {
	s.T.Helper()
	var found Mail
	s.Eventually("mail "+kind+" to "+to, func() bool {
		var list struct{ Items []Mail }
		s.Do("GET", "/api/v1/dev/mail?to="+url.QueryEscape(to), "", nil).Decode(s.T, &list)
		for _, m := range list.Items {
			if m.Kind == kind {
				found = m
				return true
			}
		}
		return false
	})
	return found
}

// AwaitCase waits until a case satisfies ok, and returns it.
func (s *Stack) AwaitCase(id string, what string, ok func(certdesk.Case) bool) certdesk.Case {
	s.T.Helper()
	var c certdesk.Case
	s.Eventually("case "+id+" "+what, func() bool {
		var err error
		c, err = s.Store.Case(context.Background(), id)
		return err == nil && ok(c)
	})
	return c
}

// AwaitStatus waits for a case status.
func (s *Stack) AwaitStatus(id string, want certdesk.Status) certdesk.Case {
	s.T.Helper()
	return s.AwaitCase(id, "status "+string(want), func(c certdesk.Case) bool { return c.Status == want })
}

// Eventually polls ok for up to 15 seconds.
func (s *Stack) Eventually(what string, ok func() bool) {
	s.T.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			s.T.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// RecordHistory saves a workflow's history as workflows/testdata/histories/
// NAME.json when CERTDESK_RECORD_HISTORIES=1, for the replay tests that keep
// running cases replayable across deployments. It waits for the workflow to
// close first.
func (s *Stack) RecordHistory(workflowID, runID, name string) {
	s.T.Helper()
	if os.Getenv("CERTDESK_RECORD_HISTORIES") != "1" {
		return
	}
	ctx := context.Background()
	// A history is recorded whole: wait for the run to close.
	_ = s.Client.GetWorkflow(ctx, workflowID, runID).Get(ctx, nil)
	var hist historypb.History
	it := s.Client.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			s.T.Fatal(err)
		}
		hist.Events = append(hist.Events, ev)
	}
	// The replay tests have the payload key, not the key store: what a
	// person's own key sealed is sealed again by the payload key.
	err := proxy.VisitPayloads(ctx, &hist, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, ps []*commonpb.Payload) ([]*commonpb.Payload, error) {
			out := make([]*commonpb.Payload, len(ps))
			for i, p := range ps {
				out[i] = p
				if len(p.GetMetadata()[codec.SubjectKeyIDKey]) == 0 {
					continue
				}
				plain, err := s.Codec.Decode([]*commonpb.Payload{p})
				if err == nil {
					plain, err = s.Codec.Encode(plain)
				}
				if err != nil {
					return nil, err
				}
				out[i] = plain[0]
			}
			return out, nil
		}})
	if err != nil {
		s.T.Fatal(err)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(&hist)
	if err != nil {
		s.T.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "workflows", "testdata", "histories")
	if err := os.WriteFile(filepath.Join(dir, name+".json"), b, 0o644); err != nil {
		s.T.Fatal(err)
	}
	s.T.Logf("recorded history %s (%d events)", name, len(hist.Events))
}
