package workflows

import (
	"encoding/json"
	"errors"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// acts is only for method references: workflows never call activities
// directly, they schedule them.
var acts *activities.Activities

// caseRun is what every case workflow keeps about its case: the id and its
// own count of transitions. Each projection write carries the next count, so
// a retried activity or a replayed workflow writes nothing twice.
type caseRun struct {
	ID   string
	step int64
	// last is the projection as the workflow last wrote it: what its
	// updates answer, so nobody reads the store to learn what it did.
	last certdesk.Case
	// ended is set as the workflow returns: updates still waiting answer
	// with the case as it is.
	ended bool
	// moves counts the changes that set the case's status (where the
	// case went, even when it stays where it was); taken maps the links
	// the workflow took (token ids) to the count when it took each. A
	// link's update answers at the first move after it: where the link
	// led (with the support team, stopped, moving on), neither before
	// the case took it in (an event on the timeline alone) nor after all
	// the work it starts, which can take activities and retries.
	moves int
	taken map[string]int
	// search is whether this run keeps its search attributes current (a
	// workflow.GetVersion asked once: search.go); holder is who holds the
	// case, as of which version of its projection.
	search *bool
	holder AssigneeChanged
	// lang is the language of the learner the case is about (its input's
	// Language): toLearner writes to them in it.
	lang string
}

func newCase(id string) *caseRun { return &caseRun{ID: id, step: 1} } // step 1 is "opened"

// toLearner is an email to the learner the case is about, in their
// language. (Choosing it changes no command: activity inputs are not part
// of what a replay compares.)
func (c *caseRun) toLearner(in activities.SendEmailInput) activities.SendEmailInput {
	in.Locale = c.lang
	return in
}

// Updates every case workflow answers.
const (
	// UpdateCase answers the case's projection once the workflow has
	// written it. The API starts a case with UpdateWithStartWorkflow and
	// this update, so it answers with the case the workflow opened (or,
	// for a connect case already open, the one it joined).
	UpdateCase = "case"
	// UpdateLinkOutcome answers where a link led: its argument is the link
	// token's id, sent before as SignalLink (durable, in the same
	// transaction that used the token); the answer is the case once the
	// workflow has recorded where that link led (the first status it set).
	UpdateLinkOutcome = "link_outcome"
)

// serve registers the updates every case answers. Call it before the
// workflow's first wait.
func (c *caseRun) serve(ctx workflow.Context) error {
	c.listenAssignee(ctx)
	err := workflow.SetUpdateHandler(ctx, UpdateCase, func(ctx workflow.Context) (certdesk.Case, error) {
		err := workflow.Await(ctx, func() bool { return c.last.Version > 0 || c.ended })
		return c.last, err
	})
	if err != nil {
		return err
	}
	return workflow.SetUpdateHandler(ctx, UpdateLinkOutcome, func(ctx workflow.Context, tokenID string) (certdesk.Case, error) {
		err := workflow.Await(ctx, func() bool {
			at, ok := c.taken[tokenID]
			return ok && c.moves > at || c.ended
		})
		return c.last, err
	})
}

// took records that the workflow took a link (by its token): its outcome
// is the next move.
func (c *caseRun) took(tokenID string) {
	if c.taken == nil {
		c.taken = map[string]int{}
	}
	if _, ok := c.taken[tokenID]; !ok {
		c.taken[tokenID] = c.moves
	}
}

// settle lets the updates in progress answer before the workflow ends.
// Every case workflow defers it first, so it runs last.
func (c *caseRun) settle(ctx workflow.Context) {
	c.ended = true
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
}

// open writes the case's projection (a no-op when the API already did).
func (c *caseRun) open(ctx workflow.Context, cs certdesk.Case, actor certdesk.Actor, data any) (certdesk.Case, error) {
	cs.ID = c.ID
	info := workflow.GetInfo(ctx)
	cs.WorkflowID, cs.RunID = info.WorkflowExecution.ID, info.WorkflowExecution.RunID
	var out certdesk.Case
	err := workflow.ExecuteLocalActivity(projection(ctx), acts.OpenCase, activities.OpenCaseInput{Case: cs, Actor: actor, Data: mustJSON(data)}).Get(ctx, &out)
	if err == nil {
		c.wrote(out)
		c.index(ctx)
	}
	return out, err
}

// change applies the next transition to the projection.
func (c *caseRun) change(ctx workflow.Context, in activities.ChangeCaseInput) (certdesk.Case, error) {
	c.step++
	in.CaseID, in.Step = c.ID, c.step
	if in.Actor == "" {
		in.Actor = certdesk.ActorSystem
	}
	var out certdesk.Case
	err := workflow.ExecuteLocalActivity(projection(ctx), acts.ChangeCase, in).Get(ctx, &out)
	if err == nil {
		c.wrote(out)
		if in.Status != "" {
			c.moves++
		}
		c.index(ctx)
	}
	return out, err
}

// event appends an event to the timeline without changing the case.
func (c *caseRun) event(ctx workflow.Context, actor certdesk.Actor, typ certdesk.EventType, data any) error {
	_, err := c.change(ctx, activities.ChangeCaseInput{Actor: actor, Event: typ, Data: mustJSON(data)})
	return err
}

// email sends one email of the case. A refusal by the provider is already
// on the case's timeline (email_failed); the case carries on without it.
func (c *caseRun) email(ctx workflow.Context, in activities.SendEmailInput) error {
	_, err := c.send(ctx, in)
	return err
}

// send is email that also says whether the provider accepted the message
// (false: it refused it for good).
func (c *caseRun) send(ctx workflow.Context, in activities.SendEmailInput) (bool, error) {
	in.CaseID = c.ID
	err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, EmailActivityOptions), acts.SendEmail, in).Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.Type() == "email_failed" {
		workflow.GetLogger(ctx).Warn("email refused by the provider", "case", c.ID, "step", in.Step)
		return false, nil
	}
	return err == nil, err
}

// failVisibly is deferred by every case workflow: when the workflow is
// about to fail for a reason nobody planned for, the case shows failed
// (opened first from opening, if its projection was never written) with
// the reason on its timeline, and every supervisor is emailed — a request
// answered 2xx is never lost. The workflow then fails as it would have.
func (c *caseRun) failVisibly(ctx workflow.Context, kind certdesk.Kind, opening func() certdesk.Case, err *error) {
	if *err == nil || temporal.IsCanceledError(*err) {
		return
	}
	if workflow.GetVersion(ctx, "fail-visibly", workflow.DefaultVersion, 1) != 1 {
		return
	}
	log := workflow.GetLogger(ctx)
	cs := opening()
	info := workflow.GetInfo(ctx)
	cs.ID, cs.Kind, cs.WorkflowID, cs.RunID = c.ID, kind, info.WorkflowExecution.ID, info.WorkflowExecution.RunID
	c.step++
	reason := (*err).Error()
	if len(reason) > 500 {
		reason = reason[:500] + "…"
	}
	var failed certdesk.Case
	in := activities.FailCaseInput{Case: cs, Step: c.step, Reason: "the case's workflow failed: " + reason}
	if ferr := workflow.ExecuteLocalActivity(projection(ctx), acts.FailCase, in).Get(ctx, &failed); ferr != nil {
		log.Error("the failed case could not be recorded", "case", c.ID, "err", ferr)
		return
	}
	c.wrote(failed)
	c.moves++
	c.index(ctx)
	ferr := c.tellSupervisors(ctx, "failed", mail.CaseFailed, map[string]any{"kind": string(kind), "subject": failed.Subject,
		"case_url": "/console/cases/" + c.ID})
	if ferr != nil {
		log.Error("supervisors not told of a failed case", "case", c.ID, "err", ferr)
	}
}

// tellSupervisors emails every supervisor one message of the case (the
// step is prefix-<supervisor id>).
func (c *caseRun) tellSupervisors(ctx workflow.Context, prefix, kind string, data map[string]any) error {
	var sups []certdesk.Agent
	if err := workflow.ExecuteLocalActivity(projection(ctx), acts.Supervisors).Get(ctx, &sups); err != nil {
		return err
	}
	for _, s := range sups {
		err := c.email(ctx, activities.SendEmailInput{Step: prefix + "-" + s.ID, Kind: kind, To: s.Email, ToName: s.Name, Data: data})
		if err != nil {
			return err
		}
	}
	return nil
}

// mustJSON encodes event or details data; the types are ours, so a failure
// is a bug.
func mustJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	if raw, ok := v.(json.RawMessage); ok {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// refusal is how every activity says the domain refused what it was asked
// (not found, conflict, the connection rules…): a non-retryable error whose
// type is a code and whose message says why, in words for the case's
// timeline. ok is false for nil and for outages (those are retried).
func refusal(err error) (code, message string, ok bool) {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) && appErr.NonRetryable() {
		return appErr.Type(), appErr.Message(), true
	}
	return "", "", false
}

func boolp(b bool) *bool { return &b }
