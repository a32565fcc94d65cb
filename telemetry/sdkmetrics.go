package telemetry

import (
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"
)

// LatencyBuckets are the histogram buckets of the SDK's timers, in
// seconds: task latencies from a millisecond (a sticky workflow task) to a
// minute (a slow SendGrid send, a backlog); longer ones fall in +Inf.
var LatencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// sdkHelp is the HELP text of every SDK series: the SDK names them, its
// reference says what they mean.
const sdkHelp = "Temporal Go SDK metric %s (see https://docs.temporal.io/references/sdk-metrics)."

// kind is what a Prometheus family of SDK metrics is.
type kind int

const (
	kindCounter kind = iota
	kindGauge
	kindHistogram
)

var kindWords = [...]string{kindCounter: "counter", kindGauge: "gauge", kindHistogram: "timer"}

// SDKHandler is a client.MetricsHandler that keeps the Temporal SDK's
// metrics for Prometheus (see the package doc for the names), and the
// prometheus.Collector that exports them. Handlers made by WithTags share
// the metrics of the one they came from.
type SDKHandler struct {
	m    *sdkMetrics
	tags map[string]string // label name → value, names already valid
	key  string            // tags in a canonical form: the series' key
}

// NewSDKHandler returns a handler with no metrics yet. Tests make their own;
// a process uses SDKMetrics.
func NewSDKHandler() *SDKHandler {
	return &SDKHandler{m: &sdkMetrics{families: map[string]*family{}}, tags: map[string]string{}}
}

var process = NewSDKHandler()

// SDKMetrics is the process's handler: every Temporal client of the process
// reports to it (client.Options.MetricsHandler), and every registry that
// NewRegistry makes exports it, so the api's, the worker's and dev mode's
// single /metrics show the SDK's metrics of the whole process.
func SDKMetrics() *SDKHandler { return process }

// sdkMetrics are the metrics every handler of one root shares.
type sdkMetrics struct {
	mu       sync.RWMutex
	families map[string]*family // by Prometheus name
	warned   sync.Map           // names whose kind clash was logged
}

// family is one Prometheus metric: its series by label set. Series of one
// family may carry different label names (the SDK adds poller_type to some
// of a name's recordings and not others); Collect gives every series the
// union of the names, "" where it has none, which Prometheus reads as no
// label at all, so client_golang's rule that a family has one set of label
// names holds.
type family struct {
	name   string
	kind   kind
	desc   *prometheus.Desc // built for names; nil when they changed
	names  []string         // the union of the series' label names, sorted
	series map[string]*series
}

// series is one label set's value.
type series struct {
	labels map[string]string
	bits   atomic.Uint64 // a counter's count, or a gauge's float64 bits

	mu      sync.Mutex // a histogram's
	buckets []uint64   // per bucket, not cumulative; the last is +Inf
	sum     float64
}

// WithTags returns a handler whose metrics carry tags as well; a tag with
// the name of one already set replaces it.
func (h *SDKHandler) WithTags(tags map[string]string) client.MetricsHandler {
	merged := make(map[string]string, len(h.tags)+len(tags))
	for k, v := range h.tags {
		merged[k] = v
	}
	for k, v := range tags {
		switch k = labelName(k); {
		case k == "":
		case v == "":
			// An empty label is no label to Prometheus: kept, it would
			// make two series of one.
			delete(merged, k)
		default:
			merged[k] = v
		}
	}
	return &SDKHandler{m: h.m, tags: merged, key: keyOf(merged)}
}

// Counter returns the counter of a name with this handler's tags.
func (h *SDKHandler) Counter(name string) client.MetricsCounter {
	s := h.series(name, kindCounter)
	if s == nil {
		return client.MetricsNopHandler.Counter(name)
	}
	return counter{s}
}

// Gauge returns the gauge of a name with this handler's tags.
func (h *SDKHandler) Gauge(name string) client.MetricsGauge {
	s := h.series(name, kindGauge)
	if s == nil {
		return client.MetricsNopHandler.Gauge(name)
	}
	return gauge{s}
}

// Timer returns the timer of a name with this handler's tags: a histogram
// in seconds named name_seconds.
func (h *SDKHandler) Timer(name string) client.MetricsTimer {
	s := h.series(name+"_seconds", kindHistogram)
	if s == nil {
		return client.MetricsNopHandler.Timer(name)
	}
	return timer{s}
}

type (
	counter struct{ s *series }
	gauge   struct{ s *series }
	timer   struct{ s *series }
)

// Inc adds d; a counter never goes down, so a negative d is ignored.
func (c counter) Inc(d int64) {
	if d > 0 {
		c.s.bits.Add(uint64(d))
	}
}

func (g gauge) Update(v float64) { g.s.bits.Store(math.Float64bits(v)) }

func (t timer) Record(d time.Duration) {
	v := d.Seconds()
	i := sort.SearchFloat64s(LatencyBuckets, v) // the first bucket ≥ v; len: +Inf
	t.s.mu.Lock()
	t.s.buckets[i]++
	t.s.sum += v
	t.s.mu.Unlock()
}

// series finds or makes the series of a name with this handler's tags. A
// name the SDK used as another kind before gets nil (a no-op metric, and
// a warning once): client_golang could not export both.
func (h *SDKHandler) series(name string, k kind) *series {
	name = metricName(name)
	m := h.m
	m.mu.RLock()
	f := m.families[name]
	var s *series
	if f != nil && f.kind == k {
		s = f.series[h.key]
	}
	m.mu.RUnlock()
	if s != nil {
		return s
	}
	if f != nil && f.kind != k {
		if _, logged := m.warned.LoadOrStore(name, true); !logged {
			slog.Warn("a Temporal SDK metric is used as two kinds: the second is not exported",
				"metric", name, "exported_as", kindWords[f.kind], "dropped", kindWords[k])
		}
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if f = m.families[name]; f == nil {
		f = &family{name: name, kind: k, series: map[string]*series{}}
		m.families[name] = f
	} else if f.kind != k {
		return nil
	}
	if s = f.series[h.key]; s != nil {
		return s
	}
	s = &series{labels: h.tags}
	if k == kindHistogram {
		s.buckets = make([]uint64, len(LatencyBuckets)+1)
	}
	f.series[h.key] = s
	for n := range h.tags {
		if !slices.Contains(f.names, n) {
			f.names = append(f.names, n)
			slices.Sort(f.names)
			f.desc = nil
		}
	}
	return s
}

// Describe sends nothing: the SDK's metrics are known only once it
// records them, so the collector is unchecked.
func (h *SDKHandler) Describe(chan<- *prometheus.Desc) {}

// Collect sends every series the SDK has recorded. The families are read
// under the lock, the values after it: a scrape never holds up the SDK.
func (h *SDKHandler) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		desc   *prometheus.Desc
		kind   kind
		s      *series
		values []string
	}
	m := h.m
	m.mu.Lock() // a family's desc may be built here
	rows := make([]row, 0, 64)
	for _, f := range m.families {
		if f.desc == nil {
			f.desc = prometheus.NewDesc(f.name, fmt.Sprintf(sdkHelp, f.name), f.names, nil)
		}
		for _, s := range f.series {
			values := make([]string, len(f.names))
			for i, n := range f.names {
				values[i] = s.labels[n]
			}
			rows = append(rows, row{f.desc, f.kind, s, values})
		}
	}
	m.mu.Unlock()
	for _, r := range rows {
		switch r.kind {
		case kindCounter:
			ch <- prometheus.MustNewConstMetric(r.desc, prometheus.CounterValue, float64(r.s.bits.Load()), r.values...)
		case kindGauge:
			ch <- prometheus.MustNewConstMetric(r.desc, prometheus.GaugeValue, math.Float64frombits(r.s.bits.Load()), r.values...)
		case kindHistogram:
			count, sum, cum := r.s.snapshot()
			ch <- prometheus.MustNewConstHistogram(r.desc, count, sum, cum, r.values...)
		}
	}
}

// snapshot is a histogram's count, sum and cumulative buckets.
func (s *series) snapshot() (uint64, float64, map[float64]uint64) {
	cum := make(map[float64]uint64, len(LatencyBuckets))
	var count uint64
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range s.buckets {
		count += b
		if i < len(LatencyBuckets) {
			cum[LatencyBuckets[i]] = count
		}
	}
	return count, s.sum, cum
}

var (
	invalidName  = regexp.MustCompile(`[^a-zA-Z0-9_:]`)
	invalidLabel = regexp.MustCompile(`[^a-zA-Z0-9_]`)
)

// metricName is name with what Prometheus does not take in a metric name
// replaced by "_" (the SDK's own names are valid as they are).
func metricName(name string) string {
	if validName(name) {
		return name // the SDK's: no allocation on the hot path
	}
	name = invalidName.ReplaceAllString(name, "_")
	if name == "" || (name[0] >= '0' && name[0] <= '9') {
		name = "_" + name
	}
	return name
}

func validName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c == ':' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9') {
			return false
		}
	}
	return name != ""
}

// labelName is a tag name as a Prometheus label name, or "" for one that
// cannot be one (empty, or reserved: "__…").
func labelName(k string) string {
	k = invalidLabel.ReplaceAllString(k, "_")
	if k != "" && k[0] >= '0' && k[0] <= '9' {
		k = "_" + k
	}
	if k == "" || strings.HasPrefix(k, "__") {
		return ""
	}
	return k
}

// keyOf is a label set in a canonical form.
func keyOf(tags map[string]string) string {
	names := make([]string, 0, len(tags))
	for k := range tags {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	for _, k := range names {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(tags[k])
		b.WriteByte(0)
	}
	return b.String()
}
