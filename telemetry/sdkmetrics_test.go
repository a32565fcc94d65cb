package telemetry

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func registryOf(t *testing.T, h *SDKHandler) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	return reg
}

// help is the HELP line of an SDK series.
func help(name, typ string) string {
	return fmt.Sprintf("# HELP %s "+sdkHelp+"\n# TYPE %s %s\n", name, name, name, typ)
}

// The SDK's counters and gauges keep their names, its timers become
// histograms in seconds named …_seconds, and its tags become labels.
func TestSDKNamesAndTypes(t *testing.T) {
	h := NewSDKHandler()
	ns := h.WithTags(map[string]string{"namespace": "default", "task_queue": "certdesk"})
	ns.Counter("temporal_request").Inc(2)
	ns.Counter("temporal_request").Inc(1)
	ns.WithTags(map[string]string{"worker_type": "ActivityWorker"}).Gauge("temporal_worker_task_slots_available").Update(99)
	ns.Timer("temporal_activity_execution_latency").Record(3 * time.Millisecond)
	ns.Timer("temporal_activity_execution_latency").Record(2 * time.Minute)

	want := help("temporal_request", "counter") + `temporal_request{namespace="default",task_queue="certdesk"} 3
` + help("temporal_worker_task_slots_available", "gauge") +
		`temporal_worker_task_slots_available{namespace="default",task_queue="certdesk",worker_type="ActivityWorker"} 99
` + help("temporal_activity_execution_latency_seconds", "histogram")
	var b strings.Builder
	cum := 0
	for _, le := range LatencyBuckets {
		if le >= .003 && cum == 0 {
			cum = 1
		}
		fmt.Fprintf(&b, "temporal_activity_execution_latency_seconds_bucket{namespace=\"default\",task_queue=\"certdesk\",le=\"%v\"} %d\n", le, cum)
	}
	want += b.String() + `temporal_activity_execution_latency_seconds_bucket{namespace="default",task_queue="certdesk",le="+Inf"} 2
temporal_activity_execution_latency_seconds_sum{namespace="default",task_queue="certdesk"} 120.003
temporal_activity_execution_latency_seconds_count{namespace="default",task_queue="certdesk"} 2
`
	compare(t, registryOf(t, h), want, "temporal_request", "temporal_worker_task_slots_available", "temporal_activity_execution_latency_seconds")
}

// A name recorded with one tag set and then others (the SDK adds
// poller_type to some recordings) is one family whose series carry the
// union of the label names, "" where a series has none; nothing panics
// and the scrape succeeds.
func TestSDKChangingLabelSets(t *testing.T) {
	h := NewSDKHandler()
	root := h.WithTags(map[string]string{"namespace": "default"})
	root.Counter("temporal_request").Inc(1)
	root.WithTags(map[string]string{"operation": "StartWorkflowExecution"}).Counter("temporal_request").Inc(1)
	root.WithTags(map[string]string{"operation": "PollActivityTaskQueue", "poller_type": "activity_task"}).Counter("temporal_request").Inc(4)
	h.Counter("temporal_request").Inc(7) // no tags at all
	root.WithTags(map[string]string{"poller_type": "workflow_task"}).Timer("temporal_request_latency").Record(time.Millisecond)
	root.Timer("temporal_request_latency").Record(time.Millisecond)

	want := help("temporal_request", "counter") + `temporal_request{namespace="",operation="",poller_type=""} 7
temporal_request{namespace="default",operation="",poller_type=""} 1
temporal_request{namespace="default",operation="PollActivityTaskQueue",poller_type="activity_task"} 4
temporal_request{namespace="default",operation="StartWorkflowExecution",poller_type=""} 1
`
	reg := registryOf(t, h)
	compare(t, reg, want, "temporal_request")
	if n := count(t, reg, "temporal_request_latency_seconds"); n != 2 {
		t.Fatalf("latency series = %d; want 2", n)
	}
	// Another scrape after yet another label appears still works.
	root.WithTags(map[string]string{"status_code": "UNAVAILABLE"}).Counter("temporal_request").Inc(1)
	if n := count(t, reg, "temporal_request"); n != 5 {
		t.Fatalf("after a new label: %d series; want 5", n)
	}
}

// WithTags overrides a tag of the same name, an empty value removes it
// (to Prometheus it is absent: kept, it would make two series of one),
// and names Prometheus refuses are made valid or dropped.
func TestSDKTags(t *testing.T) {
	h := NewSDKHandler()
	a := h.WithTags(map[string]string{"worker_type": "none", "task_queue": "q"})
	a.WithTags(map[string]string{"worker_type": "WorkflowWorker"}).Gauge("g").Update(1)
	a.WithTags(map[string]string{"task_queue": ""}).Gauge("g").Update(2)
	h.WithTags(map[string]string{"worker_type": "none"}).Gauge("g").Update(3) // the same series as the line above
	a.WithTags(map[string]string{"bad-name": "x", "__reserved": "y", "": "z"}).Counter("c").Inc(1)
	h.Counter("temporal.weird name").Inc(1)
	want := `# HELP g Temporal Go SDK metric g (see https://docs.temporal.io/references/sdk-metrics).
# TYPE g gauge
g{task_queue="",worker_type="none"} 3
g{task_queue="q",worker_type="WorkflowWorker"} 1
# HELP c Temporal Go SDK metric c (see https://docs.temporal.io/references/sdk-metrics).
# TYPE c counter
c{bad_name="x",task_queue="q",worker_type="none"} 1
` + help("temporal_weird_name", "counter") + "temporal_weird_name 1\n"
	compare(t, registryOf(t, h), want, "g", "c", "temporal_weird_name")
}

// A name used as two kinds exports the first; the second is a no-op, not
// a panic nor a failed scrape. A negative counter increment is ignored.
func TestSDKKindClash(t *testing.T) {
	h := NewSDKHandler()
	h.Counter("x").Inc(1)
	h.Gauge("x").Update(5)
	h.Timer("x").Record(time.Second) // x_seconds: another name, fine
	h.Counter("x").Inc(-3)
	reg := registryOf(t, h)
	want := "# HELP x Temporal Go SDK metric x (see https://docs.temporal.io/references/sdk-metrics).\n# TYPE x counter\nx 1\n"
	compare(t, reg, want, "x")
	if n := count(t, reg, "x_seconds"); n != 1 {
		t.Fatalf("x_seconds = %d", n)
	}
}

// The SDK records from many goroutines while Prometheus scrapes: counts
// add up (run with -race to see it is safe).
func TestSDKConcurrent(t *testing.T) {
	h := NewSDKHandler()
	reg := registryOf(t, h)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			tagged := h.WithTags(map[string]string{"worker_type": fmt.Sprint("w", i%2)})
			for range 500 {
				tagged.Counter("temporal_request").Inc(1)
				tagged.Timer("temporal_request_latency").Record(time.Millisecond)
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := reg.Gather(); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Wait()
	want := help("temporal_request", "counter") + "temporal_request{worker_type=\"w0\"} 2000\ntemporal_request{worker_type=\"w1\"} 2000\n"
	compare(t, reg, want, "temporal_request")
}

func BenchmarkSDKCounter(b *testing.B) {
	h := NewSDKHandler().WithTags(map[string]string{"namespace": "default", "task_queue": "certdesk", "worker_type": "WorkflowWorker"})
	for b.Loop() {
		h.Counter("temporal_request").Inc(1)
	}
}
