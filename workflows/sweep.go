package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/activities"
)

// SweepScheduleID is the id of the Temporal Schedule that runs the sweep daily.
const SweepScheduleID = "certdesk-inactivity-sweep"

// SweepWorkflowID is the id of the sweep's runs (the schedule appends the
// time of each run).
const SweepWorkflowID = "inactivity-sweep"

// The sweep's rules: an account unused for RemindAfterMonths gets one
// reminder; unused for InactiveAfterMonths it becomes inactive, and the
// email says how to recover it (RecoveryPath on the public URL).
const (
	RemindAfterMonths   = 23
	InactiveAfterMonths = 24
	RecoveryPath        = "/portal/recovery"
	sweepPageSize       = 100
)

// SweepInput is the sweep's input (empty: it reads the time from the workflow).
type SweepInput struct {
	// AsOf, when set, is the time the sweep runs as (a backfill); zero is
	// the workflow's time.
	AsOf time.Time `json:",omitzero"`
}

// SweepResult counts what one sweep did.
type SweepResult struct {
	Reminded    int
	Inactivated int
	// Sent counts the emails sent, Failed those the provider refused.
	Sent   int
	Failed int
	// Purged counts the attachments deleted at the end of their retention.
	Purged int64 `json:",omitempty"`
	// Redacted counts the cases whose personal data went at the end of
	// their retention.
	Redacted int `json:",omitempty"`
}

// InactivitySweep reminds accounts unused for 23 months and makes those
// unused for 24 months inactive. See docs/design.md, "The three case workflows". Both
// steps are activities that page through the accounts and heartbeat: the
// decisions and their notices are queued in one transaction per page, then
// the notices are sent, each once.
func InactivitySweep(ctx workflow.Context, in SweepInput) (SweepResult, error) {
	asOf := in.AsOf
	if asOf.IsZero() {
		asOf = workflow.Now(ctx)
	}
	si := activities.SweepInput{AsOf: asOf.UTC(), RemindMonths: RemindAfterMonths, InactiveMonths: InactiveAfterMonths,
		PageSize: sweepPageSize, RecoveryPath: RecoveryPath}
	paged := sweepActivity(ctx)
	var queued, sent activities.SweepProgress
	if err := workflow.ExecuteActivity(paged, acts.QueueInactivityNotices, si).Get(ctx, &queued); err != nil {
		return SweepResult{}, err
	}
	if err := workflow.ExecuteActivity(paged, acts.SendInactivityNotices, si).Get(ctx, &sent); err != nil {
		return SweepResult{}, err
	}
	// Daily housekeeping: rate-limit windows are at most a day long.
	if err := workflow.ExecuteActivity(storeActivity(ctx), acts.PruneRateLimits, si.AsOf.Add(-24*time.Hour)).Get(ctx, nil); err != nil {
		return SweepResult{}, err
	}
	res := SweepResult{Reminded: queued.Reminded, Inactivated: queued.Inactivated, Sent: sent.Sent, Failed: sent.Failed}
	// Evidence is kept only as long as the retention after its case ends
	// (a step added later: sweeps that ran before it replay without it).
	if workflow.GetVersion(ctx, "purge-attachments", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(storeActivity(ctx), acts.PurgeAttachments, si.AsOf).Get(ctx, &res.Purged); err != nil {
			return res, err
		}
	}
	// Cases past the retention keep their shape, not their personal data.
	if workflow.GetVersion(ctx, "redact-ended-cases", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(paged, acts.RedactEndedCases, si.AsOf).Get(ctx, &res.Redacted); err != nil {
			return res, err
		}
	}
	// The day's open cases by kind and status, for the dashboard's history.
	if workflow.GetVersion(ctx, "record-open-counts", workflow.DefaultVersion, 1) == 1 {
		if err := workflow.ExecuteActivity(storeActivity(ctx), acts.RecordOpenCounts, si.AsOf).Get(ctx, nil); err != nil {
			return res, err
		}
	}
	workflow.GetLogger(ctx).Info("inactivity sweep done", "as_of", si.AsOf, "reminded", res.Reminded,
		"inactivated", res.Inactivated, "sent", res.Sent, "failed", res.Failed, "attachments_purged", res.Purged, "cases_redacted", res.Redacted)
	return res, nil
}
