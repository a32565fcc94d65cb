// Package tracing turns on OpenTelemetry traces when the standard OTel
// variables ask for them, and gives the pieces that carry one trace across
// certdesk: the HTTP middleware's server span, the Temporal SDK's tracing
// interceptor (client → workflow → activity, through Temporal's headers),
// the store's query spans and the SendGrid client's spans.
//
// Off (no exporter, the no-op tracer: nearly free) unless
// OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set;
// then spans go over OTLP (OTEL_EXPORTER_OTLP_PROTOCOL grpc, the default,
// or http/protobuf), named by OTEL_SERVICE_NAME or the process's role, and
// sampled as OTEL_TRACES_SAMPLER says (parent-based always-on by default).
// Every other OTEL_* variable is the exporter's own.
//
// Spans carry route templates, activity and workflow types, table names and
// case ids, never names, addresses or link tokens.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"
)

// Name is the instrumentation scope of certdesk's own spans.
const Name = "github.com/certdesk/certdesk"

// Enabled reports whether the environment asks for traces.
func Enabled() bool {
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup installs the global tracer provider and the W3C propagators when
// the environment asks for traces (see the package doc), and returns what
// flushes and stops it. Off, it changes nothing and shutdown is a no-op.
// service names the process when OTEL_SERVICE_NAME does not
// ("certdesk-api", "certdesk-worker", "certdesk-dev").
func Setup(ctx context.Context, service string) (shutdown func(context.Context) error, err error) {
	if !Enabled() {
		return func(context.Context) error { return nil }, nil
	}
	var exp sdktrace.SpanExporter
	switch p := protocol(); p {
	case "grpc":
		exp, err = otlptracegrpc.New(ctx)
	case "http/protobuf":
		exp, err = otlptracehttp.New(ctx)
	default:
		return nil, fmt.Errorf("tracing: OTEL_EXPORTER_OTLP_PROTOCOL %q: use grpc or http/protobuf", p)
	}
	if err != nil {
		return nil, fmt.Errorf("tracing: the OTLP exporter: %w", err)
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(semconv.ServiceName(service)))
	if err != nil && !errors.Is(err, resource.ErrSchemaURLConflict) {
		return nil, fmt.Errorf("tracing: resource: %w", err)
	}
	// resource.Default reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES;
	// an explicit OTEL_SERVICE_NAME wins over the role's name.
	if name := os.Getenv("OTEL_SERVICE_NAME"); name != "" {
		res, _ = resource.Merge(res, resource.NewSchemaless(semconv.ServiceName(name)))
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	Install(tp)
	return tp.Shutdown, nil
}

func protocol() string {
	for _, k := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if v := strings.TrimSpace(os.Getenv(k)); v != "" {
			return v
		}
	}
	return "grpc"
}

// Install makes tp the global tracer provider, with the W3C trace context
// and baggage propagators (tests install one with an in-memory exporter).
func Install(tp trace.TracerProvider) {
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
}

// Tracer is certdesk's tracer from the global provider (no-op when off).
func Tracer() trace.Tracer { return otel.Tracer(Name) }

// Client adds to a Temporal client's options (and so to the workers made
// from it) the SDK's OpenTelemetry interceptor — a client call (start,
// update, signal) writes its span into Temporal's headers, and the
// workflow, its updates and its activities continue that trace — and the
// request id's propagation into workflow and activity logs. spanKey is the
// workflow-context key the workflows use to carry an update's span into
// the work it starts. With tracing off the spans are the no-op tracer's.
func Client(opts client.Options, spanKey any) client.Options {
	tracer, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{
		Tracer:         otel.Tracer(Name + "/temporal"),
		SpanContextKey: spanKey,
	})
	if err != nil {
		// Only a custom propagator or tracer can fail, and neither is set.
		panic("tracing: the Temporal interceptor: " + err.Error())
	}
	opts.Interceptors = append(opts.Interceptors, tracer, &requestIDLogs{})
	opts.ContextPropagators = append(opts.ContextPropagators, RequestIDPropagator())
	return opts
}
