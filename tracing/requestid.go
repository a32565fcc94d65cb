package tracing

import (
	"context"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/workflow"
)

// The request id that started some work travels with it: the HTTP layer
// puts it on the request's context, a Temporal client call carries it in
// a header, and the workflow and activities it reaches log it, so one grep
// finds a request's lines on both sides.

type requestIDKey struct{}

// requestIDHeader is the Temporal header that carries it.
const requestIDHeader = "certdesk-request-id"

// WithRequestID returns ctx carrying a request id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID is the request id ctx carries, or "".
func RequestID(ctx interface{ Value(any) any }) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// RequestIDPropagator carries the request id through Temporal's headers:
// from a client call into the workflow, from the workflow into its
// activities and children.
func RequestIDPropagator() workflow.ContextPropagator { return requestIDPropagator{} }

type requestIDPropagator struct{}

func (requestIDPropagator) Inject(ctx context.Context, w workflow.HeaderWriter) error {
	return writeRequestID(RequestID(ctx), w)
}

func (requestIDPropagator) InjectFromWorkflow(ctx workflow.Context, w workflow.HeaderWriter) error {
	return writeRequestID(RequestID(ctx), w)
}

func (requestIDPropagator) Extract(ctx context.Context, r workflow.HeaderReader) (context.Context, error) {
	if id := readRequestID(r); id != "" {
		return WithRequestID(ctx, id), nil
	}
	return ctx, nil
}

func (requestIDPropagator) ExtractToWorkflow(ctx workflow.Context, r workflow.HeaderReader) (workflow.Context, error) {
	if id := readRequestID(r); id != "" {
		return workflow.WithValue(ctx, requestIDKey{}, id), nil
	}
	return ctx, nil
}

func writeRequestID(id string, w workflow.HeaderWriter) error {
	if id == "" {
		return nil
	}
	p, err := converter.GetDefaultDataConverter().ToPayload(id)
	if err != nil {
		return err
	}
	w.Set(requestIDHeader, p)
	return nil
}

func readRequestID(r workflow.HeaderReader) string {
	p, ok := r.Get(requestIDHeader)
	if !ok {
		return ""
	}
	var id string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &id); err != nil {
		return ""
	}
	return id
}

// WorkerInterceptors are the interceptors a worker made without
// tracing.Client's options needs for the request id's log lines.
func WorkerInterceptors() []interceptor.WorkerInterceptor {
	return []interceptor.WorkerInterceptor{&requestIDLogs{}}
}

// requestIDLogs is an interceptor that adds the request id to the loggers
// of the workflows and activities it reached (a client interceptor that
// does nothing on the client's side, so that workers made from the client
// take it).
type requestIDLogs struct{ interceptor.InterceptorBase }

func (*requestIDLogs) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &activityLogs{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

func (*requestIDLogs) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &workflowLogs{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type activityLogs struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *activityLogs) Init(outbound interceptor.ActivityOutboundInterceptor) error {
	return a.Next.Init(&activityLogger{ActivityOutboundInterceptorBase: interceptor.ActivityOutboundInterceptorBase{Next: outbound}})
}

type activityLogger struct {
	interceptor.ActivityOutboundInterceptorBase
}

func (a *activityLogger) GetLogger(ctx context.Context) log.Logger {
	return withRequestID(a.Next.GetLogger(ctx), RequestID(ctx))
}

type workflowLogs struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (w *workflowLogs) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	return w.Next.Init(&workflowLogger{WorkflowOutboundInterceptorBase: interceptor.WorkflowOutboundInterceptorBase{Next: outbound}})
}

type workflowLogger struct {
	interceptor.WorkflowOutboundInterceptorBase
}

func (w *workflowLogger) GetLogger(ctx workflow.Context) log.Logger {
	return withRequestID(w.Next.GetLogger(ctx), RequestID(ctx))
}

func withRequestID(l log.Logger, id string) log.Logger {
	if id == "" {
		return l
	}
	return log.With(l, "request_id", id)
}
