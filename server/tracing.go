package server

import (
	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/tracing"
)

// traceRequests makes each request a server span named by its route
// template (never the path: it holds ids and link tokens), continuing the
// caller's trace from a traceparent header, and puts the request id on the
// request's context for the Temporal calls it makes. Health and metrics
// are not traced.
func traceRequests(c *gin.Context) {
	ctx := tracing.WithRequestID(c.Request.Context(), request.ID(c))
	route := c.FullPath()
	switch route {
	case "/healthz", "/readyz", "/metrics":
		c.Request = c.Request.WithContext(ctx)
		c.Next()
		return
	case "":
		route = "unmatched"
	}
	ctx = otel.GetTextMapPropagator().Extract(ctx, propagation.HeaderCarrier(c.Request.Header))
	ctx, span := tracing.Tracer().Start(ctx, c.Request.Method+" "+route, trace.WithSpanKind(trace.SpanKindServer),
		trace.WithAttributes(
			attribute.String("http.request.method", c.Request.Method),
			attribute.String("http.route", route),
			attribute.String("certdesk.request_id", request.ID(c)),
		))
	defer span.End()
	c.Request = c.Request.WithContext(ctx)
	c.Next()
	status := c.Writer.Status()
	span.SetAttributes(attribute.Int("http.response.status_code", status))
	if status >= 500 {
		span.SetStatus(codes.Error, "server error")
	}
}
