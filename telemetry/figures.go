package telemetry

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/certdesk/certdesk/store"
)

// FiguresTTL is how long the worker keeps the store's figures: scrapes in
// between (several Prometheis, a dashboard's refresh) cost no query.
const FiguresTTL = 15 * time.Second

// figuresWait bounds a read of the figures, so a scrape is answered (with
// certdesk_store_figures_up 0) while the database is away.
const figuresWait = 5 * time.Second

// FiguresSource is where the figures come from (store.Store is one).
type FiguresSource interface {
	Figures(ctx context.Context) (store.Figures, error)
}

// fromStore says so in every store-derived series' HELP.
const fromStore = " From the store, read at most every 15 s by each worker (not the api): every worker reports the same figure, aggregate with max, not sum."

var (
	descOpen = prometheus.NewDesc("certdesk_cases_open",
		"Cases not ended yet, by kind and status."+fromStore, []string{"kind", "status"}, nil)
	descEscalated = prometheus.NewDesc("certdesk_cases_escalated",
		"Open cases escalated to supervisors (an agent SLA ran out), by kind."+fromStore, []string{"kind"}, nil)
	descPastSLA = prometheus.NewDesc("certdesk_cases_past_sla",
		"Open cases whose SLA is due and past (breached, not decided yet), by kind."+fromStore, []string{"kind"}, nil)
	descEmails = prometheus.NewDesc("certdesk_emails",
		"Emails by message kind and current status (pending, sending, sent, failed, delivered, bounced)."+fromStore, []string{"kind", "status"}, nil)
	descLinks = prometheus.NewDesc("certdesk_links_used_total",
		"Email links used (a learner pressed the button), ever, by purpose."+fromStore, []string{"purpose"}, nil)
	descDeliveries = prometheus.NewDesc("certdesk_webhook_deliveries",
		"Webhook deliveries (one per subscriber and event) by status: pending (the backlog), delivered, failed."+fromStore, []string{"status"}, nil)
	descUp = prometheus.NewDesc("certdesk_store_figures_up",
		"1 when the last read of the store's figures succeeded, 0 when it failed (the certdesk_cases_… series are then absent).", nil, nil)
)

// figures is the Collector of the store's figures.
type figures struct {
	src FiguresSource
	ttl time.Duration
	now func() time.Time

	mu   sync.Mutex // one read at a time; the others wait for its answer
	at   time.Time
	last store.Figures
	ok   bool
}

// NewFiguresCollector exports src's figures, read at most every ttl.
func NewFiguresCollector(src FiguresSource, ttl time.Duration) prometheus.Collector {
	return &figures{src: src, ttl: ttl, now: time.Now}
}

func (c *figures) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descOpen, descEscalated, descPastSLA, descEmails, descLinks, descDeliveries, descUp} {
		ch <- d
	}
}

func (c *figures) Collect(ch chan<- prometheus.Metric) {
	f, ok := c.read()
	if !ok {
		ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(descUp, prometheus.GaugeValue, 1)
	open := map[[2]string]int64{}
	escalated, past := map[string]int64{}, map[string]int64{}
	for _, o := range f.OpenCases {
		open[[2]string{string(o.Kind), string(o.Status)}] += o.N
		if o.Escalated {
			escalated[string(o.Kind)] += o.N
		}
		if o.PastSLA {
			past[string(o.Kind)] += o.N
		}
		// Zeros for the kinds with open cases, so a panel shows 0, not
		// "no data", once the last escalation is decided.
		escalated[string(o.Kind)] += 0
		past[string(o.Kind)] += 0
	}
	for k, n := range open {
		ch <- prometheus.MustNewConstMetric(descOpen, prometheus.GaugeValue, float64(n), k[0], k[1])
	}
	for k, n := range escalated {
		ch <- prometheus.MustNewConstMetric(descEscalated, prometheus.GaugeValue, float64(n), k)
	}
	for k, n := range past {
		ch <- prometheus.MustNewConstMetric(descPastSLA, prometheus.GaugeValue, float64(n), k)
	}
	for _, e := range f.Emails {
		ch <- prometheus.MustNewConstMetric(descEmails, prometheus.GaugeValue, float64(e.N), e.Kind, e.Status)
	}
	for _, l := range f.LinksUsed {
		ch <- prometheus.MustNewConstMetric(descLinks, prometheus.CounterValue, float64(l.N), l.Purpose)
	}
	for _, d := range f.Deliveries {
		ch <- prometheus.MustNewConstMetric(descDeliveries, prometheus.GaugeValue, float64(d.N), d.Status)
	}
}

// read returns the figures, from the store when the last read is older
// than the ttl or failed.
func (c *figures) read() (store.Figures, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ok && c.now().Sub(c.at) < c.ttl {
		return c.last, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), figuresWait)
	defer cancel()
	f, err := c.src.Figures(ctx)
	if err != nil {
		slog.Warn("metrics: the store's figures could not be read", "err", err)
		c.ok = false
		return store.Figures{}, false
	}
	c.last, c.at, c.ok = f, c.now(), true
	return f, true
}
