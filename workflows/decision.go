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

// DecisionInput is an agent's decision.
type DecisionInput struct {
	Decision certdesk.Decision
	Note     string
	// ProfileID names the profile a recovery is approved for.
	ProfileID string
	AgentID   string
	Role      certdesk.Role
}

// RefusalType is the error type of a decision the case refuses (its
// validator's answer); its message is written for the agent. Any other
// error of the update is the engine's and stays out of the agent's sight.
const RefusalType = "decision_refused"

// refuse is a validator's refusal, in words for the agent.
func refuse(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), RefusalType, nil)
}

// DecisionResult is what the update answers once the decision is accepted.
type DecisionResult struct {
	Accepted certdesk.Decision
}

// maxNote bounds a decision's note.
const maxNote = 4000

// agentDesk is the part of a case workflow that waits for agents: the
// decision update with its validator, and the SLA escalation.
type agentDesk struct {
	c *caseRun
	// awaiting is true while the case accepts decisions.
	awaiting bool
	// allowed lists the decisions the case takes while awaiting.
	allowed []certdesk.Decision
	// check adds the kind's own rules (four-eyes, the candidate profiles…).
	check   func(DecisionInput) error
	pending *DecisionInput
	// escalated is set once: the SLA timer fires once per case.
	escalated bool
	sla       time.Duration
	subject   string
	kind      certdesk.Kind
	since     time.Time
}

// newAgentDesk registers the decision update on the workflow.
func newAgentDesk(ctx workflow.Context, c *caseRun, kind certdesk.Kind, sla time.Duration, allowed []certdesk.Decision, check func(DecisionInput) error) (*agentDesk, error) {
	d := &agentDesk{c: c, kind: kind, sla: sla, allowed: allowed, check: check}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide,
		func(ctx workflow.Context, in DecisionInput) (DecisionResult, error) {
			in.Note = strings.TrimSpace(in.Note)
			d.pending = &in
			return DecisionResult{Accepted: in.Decision}, nil
		},
		workflow.UpdateHandlerOptions{Validator: d.validate})
	return d, err
}

// validate refuses what the case cannot take now; a refusal changes nothing.
func (d *agentDesk) validate(in DecisionInput) error {
	if !d.awaiting || d.pending != nil {
		return refuse("this case is not awaiting a decision")
	}
	if !in.Role.Staff() || in.AgentID == "" {
		return refuse("only agents decide cases")
	}
	ok := false
	for _, a := range d.allowed {
		ok = ok || a == in.Decision
	}
	if !ok {
		return refuse("%q is not a decision this case takes (it takes %s)", in.Decision, joinDecisions(d.allowed))
	}
	note := strings.TrimSpace(in.Note)
	switch {
	case in.Decision == certdesk.DecisionReject && note == "":
		return refuse("a rejection needs a note saying why (the learner is told)")
	case in.Decision == certdesk.DecisionRequestInfo && note == "":
		return refuse("say what information you need: the note is emailed to the learner")
	case len(note) > maxNote:
		return refuse("the note is longer than %d characters", maxNote)
	}
	if d.check != nil {
		return d.check(in)
	}
	return nil
}

func joinDecisions(ds []certdesk.Decision) string {
	s := make([]string, len(ds))
	for i, d := range ds {
		s[i] = string(d)
	}
	return strings.Join(s, ", ")
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
		Event: "awaiting_agent", Data: mustJSON(map[string]any{"sla_due_at": due})}); err != nil {
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

// restartSLA makes the next wait's SLA count from its start (after the
// learner answered); a case still escalates at most once.
func (d *agentDesk) restartSLA() { d.since = time.Time{} }

// escalate flags the case and emails every supervisor.
func (d *agentDesk) escalate(ctx workflow.Context) error {
	d.escalated = true
	if _, err := d.c.change(ctx, activities.ChangeCaseInput{Escalated: boolp(true), Event: "escalated",
		Data: mustJSON(map[string]any{"waiting_since": d.since, "sla": d.sla.String()})}); err != nil {
		return err
	}
	return d.c.tellSupervisors(ctx, "escalated", mail.CaseEscalated, map[string]any{"kind": string(d.kind), "subject": d.subject,
		"waiting_since": d.since.Format(timeFormat), "case_url": "/console/cases/" + d.c.ID})
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
	_, err := d.c.change(ctx, activities.ChangeCaseInput{Actor: certdesk.AgentActor(in.AgentID), Event: "decided", ClearSLA: true, Data: mustJSON(data)})
	return err
}
