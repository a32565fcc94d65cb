package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/workflows"
)

// sweepAt is when the sweep runs each day (UTC): a quiet hour.
const sweepAt = 3

// sweepAction is the sweep as the schedule starts it.
func sweepAction(cfg config.Config) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:        workflows.SweepWorkflowID,
		Workflow:  workflows.InactivitySweep,
		Args:      []any{workflows.SweepInput{}},
		TaskQueue: cfg.TaskQueue,
		// A sweep that cannot finish in a day gives way to the next one,
		// which takes up what is left.
		WorkflowExecutionTimeout: 23 * time.Hour,
	}
}

// EnsureSweepSchedule creates the inactivity sweep's daily schedule when it
// does not exist. Every worker calls it at start: the first creates it, the
// others find it. A schedule that starts the sweep on another task queue
// (the configuration changed) is moved to this one.
func EnsureSweepSchedule(ctx context.Context, c client.Client, cfg config.Config) error {
	sc := c.ScheduleClient()
	_, err := sc.Create(ctx, client.ScheduleOptions{
		ID: workflows.SweepScheduleID,
		Spec: client.ScheduleSpec{
			Calendars: []client.ScheduleCalendarSpec{{
				Hour: []client.ScheduleRange{{Start: sweepAt}}, Minute: []client.ScheduleRange{{Start: 0}},
				Comment: "daily",
			}},
		},
		Action:        sweepAction(cfg),
		Overlap:       enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 24 * time.Hour,
		Note:          "certdesk: remind accounts unused for 23 months, make those unused for 24 months inactive",
	})
	switch {
	case err == nil:
		slog.InfoContext(ctx, "sweep schedule created", "schedule", workflows.SweepScheduleID, "task_queue", cfg.TaskQueue)
		return nil
	case !errors.Is(err, temporal.ErrScheduleAlreadyRunning):
		return fmt.Errorf("worker: create the sweep schedule: %w", err)
	}
	err = sc.GetHandle(ctx, workflows.SweepScheduleID).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			a, ok := in.Description.Schedule.Action.(*client.ScheduleWorkflowAction)
			if ok && a.TaskQueue == cfg.TaskQueue {
				return nil, temporal.ErrSkipScheduleUpdate
			}
			s := in.Description.Schedule
			s.Action = sweepAction(cfg)
			return &client.ScheduleUpdate{Schedule: &s}, nil
		},
	})
	if err != nil {
		return fmt.Errorf("worker: update the sweep schedule: %w", err)
	}
	return nil
}
