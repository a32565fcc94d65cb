package server

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/inbound"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/telemetry"
)

const requestIDHeader = "X-Request-ID"

var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID takes a sane incoming X-Request-ID or makes one, and echoes it.
func withRequestID(c *gin.Context) {
	id := c.GetHeader(requestIDHeader)
	if !validRequestID.MatchString(id) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		id = hex.EncodeToString(b[:])
	}
	request.SetID(c, id)
	c.Header(requestIDHeader, id)
	c.Next()
}

// logRequests writes one slog line per request.
func logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	level := slog.LevelInfo
	switch {
	case c.Writer.Status() >= 500:
		level = slog.LevelError
	case route == "/healthz" || route == "/readyz" || route == "/metrics":
		level = slog.LevelDebug
	}
	attrs := []any{"method", c.Request.Method, "route", route, "status", c.Writer.Status(),
		"ms", float64(time.Since(start).Microseconds()) / 1000, "request_id", request.ID(c),
		"caller", request.CallerOf(c)}
	if sc := trace.SpanContextFromContext(c.Request.Context()); sc.IsValid() {
		attrs = append(attrs, "trace_id", sc.TraceID().String())
	}
	slog.Log(c.Request.Context(), level, "http", attrs...)
}

// recoverPanics turns a panic into a logged internal error.
func recoverPanics(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			slog.ErrorContext(c.Request.Context(), "panic", "value", fmt.Sprint(p), "stack", string(debug.Stack()))
			respond.Fail(c, fmt.Errorf("panic: %v", p))
		}
	}()
	c.Next()
}

// limitBody bounds every request body.
func limitBody(c *gin.Context) {
	if c.Request.Body != nil {
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, bodyLimit(c.Request))
	}
	c.Next()
}

// MaxUpload bounds a portal form with files: desk.MaxAttachments files of
// desk.MaxAttachmentSize and the text.
const MaxUpload = desk.MaxAttachments*desk.MaxAttachmentSize + request.MaxBody

// bodyLimit is the most a request's body may hold: request.MaxBody, but
// for SendGrid's inbound posts (an email with its attachments) and the
// portal's forms with files.
func bodyLimit(r *http.Request) int64 {
	switch {
	case r.URL.Path == inbound.WebhookPath:
		return inbound.MaxPostSize
	case strings.HasPrefix(r.URL.Path, "/portal/") && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data"):
		return MaxUpload
	}
	return request.MaxBody
}

// securityHeaders go on every answer. The CSP allows only our own scripts
// and styles: no inline script, no framing. No answer is kept by a browser
// or a proxy (they carry people's names, emails and cases) but the few that
// are the same for everyone.
func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	if !public(c.Request.URL.Path) {
		h.Set("Cache-Control", "no-store")
	}
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
		"connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'")
	if !s.dev {
		h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
	}
	c.Next()
}

// public reports whether a path answers the same to everyone, so that a
// cache may keep it: static assets, health, metrics, the API's document.
func public(path string) bool {
	switch path {
	case "/healthz", "/readyz", "/metrics", "/api/v1/openapi.json":
		return true
	}
	return strings.HasPrefix(path, "/static/")
}

// metrics counts requests and their latency by route template (never the
// path: it holds case ids and link tokens).
type metrics struct {
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// newMetrics registers the HTTP metrics on a registry with the process's
// (telemetry.NewRegistry); in dev mode, which is also the worker, the
// worker's own as well (the store's figures from figures, the activities'
// counters): dev mode has one /metrics.
func newMetrics(dev bool, figures telemetry.FiguresSource) *metrics {
	m := &metrics{
		registry: telemetry.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certdesk_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "certdesk_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
	}
	m.registry.MustRegister(m.requests, m.latency)
	if dev {
		telemetry.RegisterWorker(m.registry, figures)
	}
	return m
}

func (m *metrics) observe(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := c.FullPath()
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(c.Request.Method, route, strconv.Itoa(c.Writer.Status())).Inc()
	m.latency.WithLabelValues(c.Request.Method, route).Observe(time.Since(start).Seconds())
}

// checkInput refuses a request whose path, path parameters, query or form
// values are not text (400, the fields named), and a body over the limit
// (413). Forms are parsed here, so a handler never meets an unreadable one.
func (s *Server) checkInput(c *gin.Context) {
	if c.Request.ContentLength > bodyLimit(c.Request) {
		s.html.Refuse(c, request.ErrTooLarge)
		return
	}
	fields := map[string]string{}
	if msg := certdesk.TextProblem(c.Request.URL.Path, false); msg != "" {
		fields["path"] = msg
	}
	for _, p := range c.Params {
		if msg := certdesk.TextProblem(p.Value, false); msg != "" {
			fields[p.Key] = msg
		}
	}
	query, err := url.ParseQuery(c.Request.URL.RawQuery)
	if err != nil {
		fields["query"] = "is not a valid query string (a % must start an escape such as %20)"
	}
	request.CheckValues(query, false, fields)
	// An inbound post is read raw: its signature is over its bytes, and
	// an email's text is what it is (the desk cleans it).
	if c.Request.URL.Path != inbound.WebhookPath {
		if err := request.ParseForm(c.Request); err != nil {
			s.html.Refuse(c, err)
			return
		}
		request.CheckValues(c.Request.PostForm, true, fields)
	}
	if len(fields) > 0 {
		s.html.Refuse(c, certdesk.Invalid(fields))
		return
	}
	c.Next()
}
