package worker

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/telemetry"
)

// state is where a worker is in its life.
type state int32

const (
	stateStarting state = iota
	statePolling
	stateStopping
	stateStopped
)

// what /readyz says of a worker in each state.
var stateWords = [...]string{stateStarting: "starting", statePolling: "polling", stateStopping: "stopping", stateStopped: "stopped"}

// Status says whether a worker polls for tasks: Run keeps it, /readyz and
// /metrics read it. The zero value is a worker that has not started.
type Status struct{ s atomic.Int32 }

// Polling reports whether the worker takes tasks.
func (s *Status) Polling() bool { return s.get() == statePolling }

func (s *Status) get() state {
	if s == nil {
		return stateStarting
	}
	return state(s.s.Load())
}

func (s *Status) set(st state) {
	if s != nil {
		s.s.Store(int32(st))
	}
}

// Pinger is the store as /readyz asks it.
type Pinger interface {
	Ping(ctx context.Context) error
}

// HealthChecker is Temporal as /readyz asks it (client.Client is one).
type HealthChecker interface {
	CheckHealth(ctx context.Context, req *client.CheckHealthRequest) (*client.CheckHealthResponse, error)
}

// HTTPDeps are what the worker's HTTP surface reports on.
type HTTPDeps struct {
	Status   *Status
	Store    Pinger
	Temporal HealthChecker
	// Figures are the store's figures /metrics exports (nil: none).
	Figures telemetry.FiguresSource
}

// readyWait bounds /readyz's questions to the database and Temporal, so a
// probe gets its answer before it gives up.
const readyWait = 2 * time.Second

// Handler serves the worker's /healthz (the process is alive), /readyz (it
// polls, and the database and Temporal answer; else 503 saying what is not)
// and /metrics (Prometheus: the Go runtime, the process, the Temporal SDK's
// metrics of the process, the store's figures, the activities' counters
// and whether the worker polls; see package telemetry), in the shapes the
// api answers them.
func Handler(d HTTPDeps) http.Handler {
	reg := telemetry.NewRegistry()
	telemetry.RegisterWorker(reg, d.Figures)
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "certdesk_worker_polling", Help: "1 while the worker takes tasks, 0 while it starts or stops.",
	}, func() float64 {
		if d.Status.Polling() {
			return 1
		}
		return 0
	}))
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /readyz", d.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, certdesk.ToStatus(certdesk.ENOTFOUND), respond.ErrorBody{Error: respond.ErrorDetail{
			Code: certdesk.ENOTFOUND, Message: "the worker serves /healthz, /readyz and /metrics only",
		}})
	})
	return mux
}

func (d HTTPDeps) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), readyWait)
	defer cancel()
	st := d.Status.get()
	checks := map[string]string{"worker": stateWords[st], "database": "ok", "temporal": "ok"}
	var down []string
	if st != statePolling {
		down = append(down, "the worker is "+stateWords[st])
	}
	if d.Store == nil || d.Store.Ping(ctx) != nil {
		checks["database"] = "unreachable"
		down = append(down, "the database does not answer")
	}
	if d.Temporal == nil {
		checks["temporal"] = "not configured"
		down = append(down, "Temporal is not configured")
	} else if _, err := d.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"] = "unreachable"
		down = append(down, "Temporal does not answer")
	}
	if len(down) > 0 {
		writeJSON(w, certdesk.ToStatus(certdesk.EUNAVAILABLE), map[string]any{
			"status": "unavailable", "checks": checks,
			"error": respond.ErrorDetail{Code: certdesk.EUNAVAILABLE, Message: "not ready: " + strings.Join(down, "; ")},
		})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready", "checks": checks})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
