package telemetry_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/grpc"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/devserver"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
	"github.com/certdesk/certdesk/telemetry"
	"github.com/certdesk/certdesk/worker"
)

const dashboardFile = "../deploy/grafana/certdesk.json"

// dashboard is what the test reads of a Grafana dashboard.
type dashboard struct {
	Title      string
	Templating struct {
		List []struct{ Name, Type, Query string }
	}
	Panels []panel
}

type panel struct {
	Type, Title string
	Datasource  *struct{ Type, UID string }
	Targets     []struct {
		Expr       string
		Datasource *struct{ Type, UID string }
	}
	Panels []panel // a collapsed row's
}

func readDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s is not JSON: %v", dashboardFile, err)
	}
	return d
}

// exprs are every PromQL expression of the dashboard's panels.
func (d dashboard) exprs() []string {
	var out []string
	var walk func([]panel)
	walk = func(ps []panel) {
		for _, p := range ps {
			for _, tg := range p.Targets {
				out = append(out, tg.Expr)
			}
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// The dashboard is a Grafana dashboard whose every query panel reads the
// Prometheus chosen by its DS_PROMETHEUS variable and has a query.
func TestDashboardShape(t *testing.T) {
	d := readDashboard(t)
	if d.Title == "" || len(d.Templating.List) == 0 {
		t.Fatal("no title or no variables")
	}
	ds := d.Templating.List[0]
	if ds.Name != "DS_PROMETHEUS" || ds.Type != "datasource" || ds.Query != "prometheus" {
		t.Errorf("first variable = %+v, want the Prometheus datasource DS_PROMETHEUS", ds)
	}
	n := 0
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		n++
		if p.Datasource == nil || p.Datasource.UID != "${DS_PROMETHEUS}" || len(p.Targets) == 0 {
			t.Errorf("panel %q: datasource %+v, %d queries", p.Title, p.Datasource, len(p.Targets))
		}
		for _, tg := range p.Targets {
			if tg.Datasource == nil || tg.Datasource.UID != "${DS_PROMETHEUS}" || strings.TrimSpace(tg.Expr) == "" {
				t.Errorf("panel %q: a query without the datasource or an expression", p.Title)
			}
		}
	}
	if n < 15 {
		t.Errorf("%d panels", n)
	}
}

var (
	// What in PromQL is not a metric name: strings, label matchers,
	// ranges, the label lists of by/without, and function names.
	promStrings  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promCalls    = regexp.MustCompile(`\b[a-zA-Z_]\w*\s*\(`)
	promNames    = regexp.MustCompile(`\b[a-zA-Z_:][a-zA-Z0-9_:]*\b`)
	promKeywords = []string{"by", "without", "and", "or", "unless", "on", "ignoring", "bool", "offset", "group_left", "group_right"}
)

// metricNames are the metric names a PromQL expression reads.
func metricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, `""`)
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	e = promCalls.ReplaceAllString(e, "(")
	var out []string
	for _, n := range promNames.FindAllString(e, -1) {
		if !slices.Contains(promKeywords, n) && !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}

func TestMetricNames(t *testing.T) {
	for expr, want := range map[string][]string{
		`histogram_quantile(0.99, sum by (route, le) (rate(certdesk_http_request_duration_seconds_bucket[$__rate_interval])))`: {"certdesk_http_request_duration_seconds_bucket"},
		`sum by (kind) (rate(certdesk_email_sends_total{outcome="sent", kind=~"a|b"}[5m])) / on (kind) max(certdesk_emails)`:   {"certdesk_email_sends_total", "certdesk_emails"},
		`max by (instance) (temporal_sticky_cache_size)`:                                                                       {"temporal_sticky_cache_size"},
	} {
		if got := metricNames(expr); !slices.Equal(got, want) {
			t.Errorf("metricNames(%s) = %v, want %v", expr, got, want)
		}
	}
}

// flakyMailer refuses the first email for now (a 503), as SendGrid does
// at times, and accepts the rest (the retry goes through the task queue);
// it hands on the links of what it accepted.
type flakyMailer struct {
	n     atomic.Int32
	links chan string
}

func (m *flakyMailer) Send(_ context.Context, msg mail.Message) (string, error) {
	if m.n.Add(1) == 1 {
		return "", &mail.SendError{Status: 503, Retryable: true, Message: "service unavailable"}
	}
	if l, ok := msg.Data["link"].(string); ok {
		m.links <- l
	}
	return "sg-" + certdesk.NewID(), nil
}

// idleWorker polls a task queue that has no work, as a worker of the
// process does (its SDK metrics go to telemetry.SDKMetrics). Its polls are
// cut to 3 s, so the server answers them empty after 2 s, not a minute.
func idleWorker(t *testing.T) {
	t.Helper()
	shortPolls := grpc.WithChainUnaryInterceptor(func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn,
		invoke grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if strings.HasSuffix(method, "/PollWorkflowTaskQueue") {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 3*time.Second)
			defer cancel()
		}
		return invoke(ctx, method, req, reply, cc, opts...)
	})
	c, err := client.Dial(client.Options{
		HostPort: stacktest.Temporal(t).HostPort(), Namespace: devserver.Namespace, MetricsHandler: telemetry.SDKMetrics(),
		Logger:            sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		ConnectionOptions: client.ConnectionOptions{DialOptions: []grpc.DialOption{shortPolls}},
	})
	if err != nil {
		t.Fatal(err)
	}
	w := sdkworker.New(c, "idle-"+certdesk.NewID(), sdkworker.Options{})
	w.RegisterWorkflow(func(workflow.Context) error { return nil })
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		w.Stop()
		c.Close()
	})
}

// seriesNames are the sample names of a scrape.
func seriesNames(t *testing.T, h http.Handler) map[string]bool {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != http.StatusOK {
		t.Fatalf("/metrics = %d %s", rec.Code, body)
	}
	names := map[string]bool{}
	for _, l := range strings.Split(string(body), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			names[l[:strings.IndexAny(l, "{ ")]] = true
		}
	}
	return names
}

// Every metric the dashboard queries is one that a running certdesk
// exports: a stack on the embedded Temporal server runs cases (an email
// retried, a link used, webhook events delivered) beside an idle worker;
// then the dashboard's
// names are looked up in dev mode's single /metrics (the SDK's, the
// worker's and the api's series, as `certdesk dev` serves them) and a
// production worker's. A renamed or removed series fails here.
func TestDashboardQueriesExportedMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	received := make(chan struct{}, 100)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
		received <- struct{}{}
	}))
	defer hook.Close()
	idleWorker(t)
	mailer := &flakyMailer{links: make(chan string, 10)}
	s := stacktest.Start(t, stacktest.Options{Mailer: mailer})
	ctx := context.Background()
	if _, err := s.Store.CreateSubscriber(ctx, hook.URL, []string{"case.*"}, "whsec_"+strings.Repeat("A", 43)+"="); err != nil {
		t.Fatal(err)
	}
	var ana struct{ ID string }
	r := s.Do("POST", "/api/v1/connect-requests", s.Login("ana.silva@outlook.example"), nil)
	if r.Code != http.StatusAccepted {
		t.Fatalf("connect request = %d %s", r.Code, r.Body)
	}
	r.Decode(t, &ana)
	s.AwaitStatus(ana.ID, certdesk.StatusCompleted)
	s.Eventually("Ana's email sent on its second attempt", func() bool {
		es, err := s.Store.EmailsOfCase(ctx, ana.ID)
		return err == nil && len(es) > 0 && es[0].Status == store.EmailSent
	})
	<-received // the case's events reached the receiver
	// A recovery's verification link, used.
	r = s.Do("POST", "/api/v1/recovery-requests", "", map[string]string{
		"legal_name": "Dara Murphy", "contact_email": "dara.m@proton.example", "new_account_email": "dara.m@proton.example",
		"description": "I lost my account",
	})
	if r.Code/100 != 2 {
		t.Fatalf("recovery request = %d %s", r.Code, r.Body)
	}
	link := <-mailer.links
	if r := s.Do("POST", link[strings.Index(link, "/l/"):], "", nil); r.Code/100 != 2 && r.Code/100 != 3 {
		t.Fatalf("POST the link = %d %s", r.Code, r.Body)
	}
	s.Eventually("the link used and a delivery recorded", func() bool {
		f, err := s.Store.Figures(ctx)
		return err == nil && len(f.LinksUsed) > 0 &&
			slices.ContainsFunc(f.Deliveries, func(d store.DeliveryCount) bool { return d.Status == store.DeliveryDelivered })
	})
	s.Eventually("an idle worker's empty poll counted", func() bool { return seriesNames(t, s.API)["temporal_workflow_task_queue_poll_empty"] })

	// Dev mode's single /metrics (the stack's server is in dev mode) has
	// the SDK's, the worker's and the api's series; a production worker's
	// adds whether it polls.
	dev := seriesNames(t, s.API)
	prodWorker := seriesNames(t, worker.Handler(worker.HTTPDeps{Status: &worker.Status{}, Store: s.Store, Temporal: s.Client, Figures: s.Store}))
	d := readDashboard(t)
	used := 0
	for _, expr := range d.exprs() {
		for _, n := range metricNames(expr) {
			used++
			switch {
			case !dev[n] && !prodWorker[n]:
				t.Errorf("the dashboard queries %s, which /metrics does not export (in %s)", n, expr)
			case !dev[n] && n != "certdesk_worker_polling":
				t.Errorf("dev mode's /metrics lacks %s", n)
			}
		}
	}
	for _, n := range []string{"temporal_workflow_task_schedule_to_start_latency_seconds_bucket", "temporal_worker_task_slots_available", "temporal_request"} {
		if !dev[n] || !prodWorker[n] {
			t.Errorf("%s: on dev mode's /metrics %v, on a worker's %v; want both", n, dev[n], prodWorker[n])
		}
	}
	if used < 20 {
		t.Errorf("only %d metric names in the dashboard's queries", used)
	}
}
