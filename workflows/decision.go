package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// UpdateDecide is the Temporal Update through which an agent decides a case
// that awaits one (merge, recovery). Its validator refuses a decision the
// case cannot take now, so the console gets an immediate yes or a reason.
const UpdateDecide = "decide"

// DecisionInput is an agent's decision (the domain's DecisionRequest; the
// same fields, so histories read the same).
type DecisionInput = certdesk.DecisionRequest

// RefusalType is the error type of a decision the case refuses (its
// validator's answer); its message is written for the agent. Any other
// error of the update is the engine's and stays out of the agent's sight.
const RefusalType = "decision_refused"

// refuse is a validator's refusal, in words for the agent.
func refuse(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), RefusalType, nil)
}

// DecisionResult is what the update answers once the decision is on the
// case: the case as the workflow recorded it (zero for cases started before
// this answer existed, which answered at once).
type DecisionResult struct {
	Accepted certdesk.Decision
	Case     certdesk.Case
	// Audited: the decision's audit row was written with it (the caller
	// writes none).
	Audited bool `json:",omitempty"`
}

// agentDesk is the part of a case workflow that waits for agents: the
// decision update with its validator, and the SLA escalation.
type agentDesk struct {
	c *caseRun
	// awaiting is true while the case accepts decisions.
	awaiting bool
	// check adds the kind's own rules (four-eyes, the candidate profiles…).
	check   func(DecisionInput) error
	pending *DecisionInput
	// answering is true while the update waits for its decision to be
	// recorded: the record then carries the audit row, and the update
	// says so.
	answering bool
	// trace is the span of the update that brought the last decision (set
	// when tracing is on), so the work the decision starts continues the
	// agent's request's trace.
	trace any
	// recorded counts the decisions on the timeline: the update answers
	// once its decision is among them.
	recorded int
	// escalated is set once: the SLA timer fires once per case.
	escalated bool
	sla       time.Duration
	subject   string
	kind      certdesk.Kind
	since     time.Time
}

// newAgentDesk registers the decision update on the workflow.
func newAgentDesk(ctx workflow.Context, c *caseRun, kind certdesk.Kind, sla time.Duration, check func(DecisionInput) error) (*agentDesk, error) {
	d := &agentDesk{c: c, kind: kind, sla: sla, check: check}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide,
		func(ctx workflow.Context, in DecisionInput) (DecisionResult, error) {
			in.Note = strings.TrimSpace(in.Note)
			d.pending = &in
			d.trace = ctx.Value(TraceSpanKey)
			// The agent gets the case with the decision on it, not a
			// promise to go and look. Cases started before answered at once.
			if workflow.GetVersion(ctx, "decision-answers-recorded", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
				return DecisionResult{Accepted: in.Decision}, nil
			}
			seen := d.recorded
			d.answering = true
			err := workflow.Await(ctx, func() bool { return d.recorded > seen || d.c.ended })
			d.answering = false
			return DecisionResult{Accepted: in.Decision, Case: d.c.last, Audited: d.recorded > seen}, err
		},
		workflow.UpdateHandlerOptions{Validator: d.validate})
	return d, err
}

// validate refuses what the case cannot take now; a refusal changes nothing.
// The rules are the domain's (certdesk.CheckDecision and the kind's own).
func (d *agentDesk) validate(in DecisionInput) error {
	if !d.awaiting || d.pending != nil {
		return refuse("this case is not awaiting a decision")
	}
	if err := certdesk.CheckDecision(d.kind, in); err != nil {
		return refuse("%s", certdesk.ErrorMessage(err))
	}
	if d.check != nil {
		if err := d.check(in); err != nil {
			return refuse("%s", certdesk.ErrorMessage(err))
		}
	}
	return nil
}

// await moves the case to awaiting_agent (with its SLA due time) and waits
// for a decision. When the SLA passes first, the case is escalated once,
// supervisors are emailed, and it keeps waiting.
func (d *agentDesk) await(ctx workflow.Context, subject string) (DecisionInput, error) {
	d.subject = subject
	now := workflow.Now(ctx)
	if d.since.IsZero() {
		d.since = now
	}
	due := d.since.Add(d.sla)
	if _, err := d.c.change(ctx, activities.ChangeCaseInput{Status: certdesk.StatusAwaitingAgent, SLADueAt: &due,
		Event: certdesk.EventAwaitingAgent, Data: mustJSON(map[string]any{"sla_due_at": due})}); err != nil {
		return DecisionInput{}, err
	}
	d.awaiting = true
	defer func() { d.awaiting = false }()
	for {
		if d.escalated {
			if err := workflow.Await(ctx, func() bool { return d.pending != nil }); err != nil {
				return DecisionInput{}, err
			}
		} else {
			wait := max(due.Sub(workflow.Now(ctx)), 0)
			fired, err := workflow.AwaitWithTimeout(ctx, wait, func() bool { return d.pending != nil })
			if err != nil {
				return DecisionInput{}, err
			}
			if !fired {
				if err := d.escalate(ctx); err != nil {
					return DecisionInput{}, err
				}
				continue
			}
		}
		in := *d.pending
		d.pending = nil
		return in, nil
	}
}

// TraceSpanKey is the workflow-context key of the tracing interceptor's
// span (tracing.Interceptor takes it): the agent desk carries a decision's
// span from its update into the work the decision starts.
var TraceSpanKey any = traceSpanKey{}

type traceSpanKey struct{}

// traced is ctx as the work of the last decision runs in: in the trace of
// the agent's request when tracing is on (else ctx itself). Only what the
// trace sees changes; the commands are the same.
func (d *agentDesk) traced(ctx workflow.Context) workflow.Context {
	if d.trace == nil {
		return ctx
	}
	return workflow.WithValue(ctx, TraceSpanKey, d.trace)
}

// restartSLA makes the next wait's SLA count from its start (after the
// learner answered); a case still escalates at most once.
func (d *agentDesk) restartSLA() { d.since = time.Time{} }

// escalate flags the case and emails every supervisor.
func (d *agentDesk) escalate(ctx workflow.Context) error {
	d.escalated = true
	if _, err := d.c.change(ctx, activities.ChangeCaseInput{Escalated: boolp(true), Event: certdesk.EventEscalated,
		Data: mustJSON(map[string]any{"waiting_since": d.since, "sla": d.sla.String()})}); err != nil {
		return err
	}
	data := map[string]any{"kind": string(d.kind), "subject": d.subject, "waiting_since": d.since.Format(timeFormat),
		"case_url": "/console/cases/" + d.c.ID}
	if workflow.GetVersion(ctx, "escalation-mail-beside", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return d.c.tellSupervisors(ctx, "escalated", mail.CaseEscalated, data)
	}
	// The emails go beside the wait: a provider outage must not hold up a
	// decision that arrives meanwhile.
	workflow.Go(ctx, func(ctx workflow.Context) {
		if err := d.c.tellSupervisors(ctx, "escalated", mail.CaseEscalated, data); err != nil {
			workflow.GetLogger(ctx).Error("escalation not emailed", "case", d.c.ID, "err", err)
		}
	})
	return nil
}

// decided records an agent's decision on the timeline.
func (d *agentDesk) decided(ctx workflow.Context, in DecisionInput, data map[string]any) error {
	if data == nil {
		data = map[string]any{}
	}
	data["decision"] = in.Decision
	if in.Note != "" {
		data["note"] = in.Note
	}
	// Decided, the case awaits no agent any more: it moves on (open) until
	// its next step says where it went.
	ch := activities.ChangeCaseInput{Status: certdesk.StatusOpen, Actor: certdesk.AgentActor(in.AgentID),
		Event: certdesk.EventDecided, ClearSLA: true, Data: mustJSON(data)}
	if d.answering {
		audit := in.AuditData()
		audit["outcome"] = "done"
		ch.Audit = &activities.AuditInput{Action: "decide", ClientAddr: in.ClientAddr, Data: mustJSON(audit)}
	}
	_, err := d.c.change(ctx, ch)
	if err == nil {
		d.recorded++
	}
	return err
}
