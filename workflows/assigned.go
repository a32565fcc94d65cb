package workflows

import (
	"strconv"

	"go.temporal.io/sdk/workflow"

	"github.com/certdesk/certdesk/activities"
	"github.com/certdesk/certdesk/mail"
)

// assignNoticeVersion is the change that emails a staff member a case
// assigned to them by someone else, when they asked for it. Runs that took
// an assignment before it send nothing (their histories have no marker).
const assignNoticeVersion = "assign-notice"

// tellAssignee emails the assignee of an assignment someone else made,
// if they asked to be told (their "Email me when a case is assigned to
// me"), beside the case's own work: the assignment is already made and
// shown in their console, so a failure here is logged and nothing more.
// One email per assignment: its step is the projection's version.
func (c *caseRun) tellAssignee(ctx workflow.Context, who AssigneeChanged) {
	if workflow.GetVersion(ctx, assignNoticeVersion, workflow.DefaultVersion, 1) != 1 {
		return
	}
	log := workflow.GetLogger(ctx)
	var n activities.AssigneeNotice
	err := workflow.ExecuteLocalActivity(projection(ctx), acts.AssigneeNoticeFor,
		activities.AssigneeNoticeInput{AgentID: who.Assignee, By: who.By}).Get(ctx, &n)
	if err != nil {
		log.Warn("assignee not told", "case", c.ID, "err", err)
		return
	}
	if !n.Wanted {
		return
	}
	err = c.email(ctx, activities.SendEmailInput{Step: "assigned-" + strconv.FormatInt(who.Version, 10), Kind: mail.CaseAssigned,
		To: n.Email, ToName: n.Name, Data: map[string]any{"assigned_by": n.ByName, "subject": c.last.Subject, "case_url": "/console/cases/" + c.ID}})
	if err != nil {
		log.Warn("assignee not emailed", "case", c.ID, "err", err)
	}
}
