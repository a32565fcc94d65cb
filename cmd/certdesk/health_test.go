package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// `certdesk health URL` is 0 on a 2xx answer, 1 on any other answer, on
// none (nobody listens, or not in time), and 2 on a usage mistake; a
// failure repeats what the URL said (the /readyz reason).
func TestHealthExitStatus(t *testing.T) {
	answer := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodGet {
				t.Errorf("health asked with %s", r.Method)
			}
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL + "/readyz"
	}
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	t.Cleanup(slow.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name   string
		args   []string
		status int
		says   string // in the error, when it fails
	}{
		{"200", []string{answer(200, `{"status":"ready"}`)}, 0, ""},
		{"204", []string{answer(204, "")}, 0, ""},
		{"503 with its reason", []string{answer(503, `{"error":{"message":"not ready: the worker is stopping"}}`)}, 1, "the worker is stopping"},
		{"404", []string{answer(404, "")}, 1, "404"},
		{"nobody listens", []string{closed.URL + "/healthz"}, 1, "GET"},
		{"too slow", []string{"--timeout", "200ms", slow.URL + "/healthz"}, 1, "deadline"},
		{"no URL", nil, 2, "name one URL"},
		{"two URLs", []string{answer(200, ""), answer(200, "")}, 2, "name one URL"},
		{"not http", []string{"ftp://127.0.0.1/healthz"}, 2, "not an http(s) URL"},
		{"no scheme", []string{"127.0.0.1:8080/healthz"}, 2, "not an http(s) URL"},
		{"bad timeout", []string{"--timeout", "soon", answer(200, "")}, 2, "timeout"},
		{"zero timeout", []string{"--timeout", "0s", answer(200, "")}, 2, "positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			start := time.Now()
			err := run(context.Background(), append([]string{"health"}, tc.args...), &out)
			if status := exitStatus(err); status != tc.status {
				t.Fatalf("exit status %d (%v), want %d", status, err, tc.status)
			}
			if tc.status != 0 && !strings.Contains(err.Error(), tc.says) {
				t.Errorf("error %q does not say %q", err, tc.says)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("took %v: the probe must give up quickly", took)
			}
		})
	}
}
