package store

import (
	"errors"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"gorm.io/gorm"
)

// Every statement is a span of the trace that asked for it (an HTTP
// request, an activity), when tracing is on: "db.<operation> <table>",
// never its values. Without a trace in the statement's context (tracing
// off, or work no trace started) nothing is made.

const spanInstanceKey = "certdesk:span"

type statementSpan struct {
	span trace.Span
	op   string
}

func traceStatements(db *gorm.DB, dialect string) error {
	tracer := otel.Tracer("github.com/certdesk/certdesk/store")
	before := func(op string) func(*gorm.DB) {
		return func(tx *gorm.DB) {
			ctx := tx.Statement.Context
			if ctx == nil || !trace.SpanFromContext(ctx).SpanContext().IsValid() {
				return
			}
			_, span := tracer.Start(ctx, "db."+op, trace.WithSpanKind(trace.SpanKindClient),
				trace.WithAttributes(attribute.String("db.system", dialect), attribute.String("db.operation", op)))
			tx.InstanceSet(spanInstanceKey, statementSpan{span, op})
		}
	}
	after := func(tx *gorm.DB) {
		v, ok := tx.InstanceGet(spanInstanceKey)
		if !ok {
			return
		}
		s := v.(statementSpan)
		if table := tx.Statement.Table; table != "" {
			s.span.SetName("db." + s.op + " " + table)
			s.span.SetAttributes(attribute.String("db.sql.table", table))
		}
		s.span.SetAttributes(attribute.Int64("db.rows_affected", tx.Statement.RowsAffected))
		if err := tx.Error; err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			s.span.RecordError(err)
			s.span.SetStatus(codes.Error, "statement failed")
		}
		s.span.End()
	}
	const b, a = "certdesk:trace_start", "certdesk:trace_end"
	cb := db.Callback()
	return errors.Join(
		cb.Create().Before("gorm:create").Register(b, before("create")),
		cb.Create().After("gorm:create").Register(a, after),
		cb.Query().Before("gorm:query").Register(b, before("query")),
		cb.Query().After("gorm:query").Register(a, after),
		cb.Update().Before("gorm:update").Register(b, before("update")),
		cb.Update().After("gorm:update").Register(a, after),
		cb.Delete().Before("gorm:delete").Register(b, before("delete")),
		cb.Delete().After("gorm:delete").Register(a, after),
		cb.Row().Before("gorm:row").Register(b, before("row")),
		cb.Row().After("gorm:row").Register(a, after),
		cb.Raw().Before("gorm:raw").Register(b, before("raw")),
		cb.Raw().After("gorm:raw").Register(a, after),
	)
}
