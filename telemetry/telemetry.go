// Package telemetry is certdesk's Prometheus metrics: the Temporal SDK's
// worker and client metrics, the store's figures, and the counters the
// activities keep.
//
// # The Temporal SDK's metrics
//
// SDKHandler is a client.MetricsHandler over client_golang (no tally). The
// SDK's names (go.temporal.io/sdk/internal/common/metrics, documented at
// https://docs.temporal.io/references/sdk-metrics) become Prometheus
// series so:
//
//	SDK kind  Prometheus type  series name                     example
//	counter   counter          the SDK's name                  temporal_request, temporal_workflow_task_queue_poll_succeed
//	gauge     gauge            the SDK's name                  temporal_worker_task_slots_available, temporal_sticky_cache_size
//	timer     histogram        the SDK's name + "_seconds"     temporal_activity_schedule_to_start_latency_seconds_bucket
//
// Counters keep the SDK's name without a "_total" (as Temporal's own
// dashboards query them). Timers are histograms in seconds with
// LatencyBuckets (1 ms … 60 s, then +Inf). Tags become labels (namespace,
// task_queue, worker_type, workflow_type, activity_type, operation,
// poller_type, status_code, …: types and queues, never ids). One name may
// be recorded with different tag sets (poller_type on some, not others):
// a family's series all carry the union of its label names, "" where a
// series has none, which Prometheus reads as the label being absent; so
// client_golang's one-set-of-label-names rule holds and nothing panics.
//
// A process has one handler, SDKMetrics: its Temporal clients report to it
// (client.Options.MetricsHandler), and every registry NewRegistry makes
// exports it.
//
// # certdesk's own metrics
//
// Two sources, chosen per metric:
//
//   - From the store (a Collector that reads the figures at most every
//     FiguresTTL, so a scrape costs at most one round of small GROUP BY
//     queries): open cases by kind and status, open escalated and past-SLA
//     cases, emails by kind and status, link uses by purpose, webhook
//     deliveries by status. These are facts of the database, the same
//     whichever process reads them: only workers export them (and dev
//     mode, which is one), and with several workers each reports the same
//     figure: aggregate them with max, not sum.
//   - In the process (counters where the work happens): emails handed to
//     the provider or refused, by kind, in the SendEmail activity; webhook
//     delivery attempts by outcome, in DeliverWebhooks. Each worker counts
//     its own: sum them.
//
// Label values are kinds, statuses, purposes and outcomes only: never ids,
// names, addresses or tokens. HTTP metrics (package server) carry route
// templates, never the path.
package telemetry

import (
	"github.com/prometheus/client_golang/prometheus"
)

// NewRegistry returns a registry with the Go runtime's and the process's
// collectors and the process's Temporal SDK metrics (SDKMetrics).
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}), SDKMetrics())
	return reg
}

// RegisterWorker adds to reg what a worker exports beside the SDK's
// metrics: the store's figures (nil: none) and the activities' counters.
// The api does not call it: its replicas would report the store's figures
// once more each.
func RegisterWorker(reg prometheus.Registerer, src FiguresSource) {
	reg.MustRegister(emailSends, webhookAttempts)
	if src != nil {
		reg.MustRegister(NewFiguresCollector(src, FiguresTTL))
	}
}

// The activities' counters: in-process, each worker its own.
var (
	emailSends = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certdesk_email_sends_total",
		Help: "Emails the SendEmail activity handed to the provider (outcome sent), or the provider refused for good (failed) " +
			"or for now (retry: sent again later), by message kind. Counted by each worker: sum over workers.",
	}, []string{"kind", "outcome"})
	webhookAttempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certdesk_webhook_attempts_total",
		Help: "Webhook delivery attempts recorded by the DeliverWebhooks activity, by outcome (delivered, retry, failed: retries " +
			"ran out, gone: the receiver answered 410). Counted by each worker: sum over workers.",
	}, []string{"outcome"})
)

// Email outcomes of EmailSend.
const (
	EmailSent   = "sent"
	EmailFailed = "failed"
	EmailRetry  = "retry"
)

// EmailSend counts an email handed to the provider or refused by it. kind
// is a message kind (mail.Known), outcome EmailSent, EmailFailed or
// EmailRetry.
func EmailSend(kind, outcome string) { emailSends.WithLabelValues(kind, outcome).Inc() }

// WebhookAttempt counts a recorded webhook delivery attempt by its outcome
// (store.OutcomeDelivered, …).
func WebhookAttempt(outcome string) { webhookAttempts.WithLabelValues(outcome).Inc() }
