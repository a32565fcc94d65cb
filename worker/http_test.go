package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
)

// fakePing is the store, answering or not.
type fakePing struct{ err error }

func (f fakePing) Ping(context.Context) error { return f.err }

// fakeHealth is Temporal, answering or not.
type fakeHealth struct{ err error }

func (f fakeHealth) CheckHealth(context.Context, *client.CheckHealthRequest) (*client.CheckHealthResponse, error) {
	return &client.CheckHealthResponse{}, f.err
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// /readyz is 200 only while the worker polls and the database and Temporal
// answer; otherwise 503 in the error shape, saying what is not ready.
// /healthz is 200 whatever the rest says.
func TestReadyz(t *testing.T) {
	down := errors.New("connection refused")
	tests := []struct {
		name     string
		state    state
		db, tmp  error
		status   int
		checks   map[string]string
		messages []string
	}{
		{"polling", statePolling, nil, nil, 200, map[string]string{"worker": "polling", "database": "ok", "temporal": "ok"}, nil},
		{"starting", stateStarting, nil, nil, 503, map[string]string{"worker": "starting"}, []string{"the worker is starting"}},
		{"stopping", stateStopping, nil, nil, 503, map[string]string{"worker": "stopping"}, []string{"the worker is stopping"}},
		{"stopped", stateStopped, nil, nil, 503, map[string]string{"worker": "stopped"}, []string{"the worker is stopped"}},
		{"database down", statePolling, down, nil, 503, map[string]string{"worker": "polling", "database": "unreachable", "temporal": "ok"},
			[]string{"the database does not answer"}},
		{"Temporal down", statePolling, nil, down, 503, map[string]string{"database": "ok", "temporal": "unreachable"},
			[]string{"Temporal does not answer"}},
		{"both down while stopping", stateStopping, down, down, 503, map[string]string{"worker": "stopping", "database": "unreachable", "temporal": "unreachable"},
			[]string{"stopping", "database", "Temporal"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := &Status{}
			st.set(tc.state)
			h := Handler(HTTPDeps{Status: st, Store: fakePing{tc.db}, Temporal: fakeHealth{tc.tmp}})
			code, body := get(t, h, "/readyz")
			if code != tc.status {
				t.Fatalf("/readyz = %d %s, want %d", code, body, tc.status)
			}
			var got struct {
				Status string            `json:"status"`
				Checks map[string]string `json:"checks"`
				Error  *struct{ Code, Message string }
			}
			if err := json.Unmarshal([]byte(body), &got); err != nil {
				t.Fatalf("/readyz body is not JSON: %s", body)
			}
			for k, v := range tc.checks {
				if got.Checks[k] != v {
					t.Errorf("checks[%s] = %q, want %q (%s)", k, got.Checks[k], v, body)
				}
			}
			if tc.status == 200 {
				if got.Status != "ready" || got.Error != nil {
					t.Errorf("ready body %s", body)
				}
			} else {
				if got.Status != "unavailable" || got.Error == nil || got.Error.Code != "unavailable" {
					t.Fatalf("unready body %s", body)
				}
				for _, m := range tc.messages {
					if !strings.Contains(got.Error.Message, m) {
						t.Errorf("reason %q does not say %q", got.Error.Message, m)
					}
				}
			}
			if code, body := get(t, h, "/healthz"); code != 200 || !strings.Contains(body, `"ok"`) {
				t.Errorf("/healthz = %d %s, want 200 while alive", code, body)
			}
		})
	}
}

// Run's status moves from starting to polling to stopping and stopped; a
// nil status is allowed (Run without HTTP).
func TestStatus(t *testing.T) {
	var none *Status
	none.set(statePolling)
	if none.Polling() {
		t.Error("a nil status polls")
	}
	st := &Status{}
	if st.Polling() || st.get() != stateStarting {
		t.Error("a new status is not starting")
	}
	st.set(statePolling)
	if !st.Polling() {
		t.Error("not polling after set")
	}
}

// /metrics is Prometheus text with the Go and process collectors and the
// worker's own gauge, which follows the status.
func TestMetrics(t *testing.T) {
	st := &Status{}
	h := Handler(HTTPDeps{Status: st, Store: fakePing{}, Temporal: fakeHealth{}})
	code, body := get(t, h, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics = %d", code)
	}
	for _, want := range []string{"go_goroutines", "process_cpu_seconds_total", "certdesk_worker_polling 0"} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	st.set(statePolling)
	if _, body := get(t, h, "/metrics"); !strings.Contains(body, "certdesk_worker_polling 1") {
		t.Errorf("the gauge does not follow the status:\n%s", body)
	}
	if code, body := get(t, h, "/cases"); code != 404 || !strings.Contains(body, `"code":"not_found"`) {
		t.Errorf("an unknown path = %d %s, want 404 in the error shape", code, body)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/readyz", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /readyz = %d, want 405", rec.Code)
	}
}
