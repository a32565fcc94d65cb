package pages

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
)

// Bulk actions on the queue's selected rows: claim, assign or add a note,
// each case through the desk's own action; the queue then says what was
// done and what was refused, case by case.

type bulkView struct {
	Action  string
	Done    int
	Refused []bulkRefusal
	Error   string
}

type bulkRefusal struct {
	CaseID, Subject, Reason string
}

// bulk is POST /console/bulk (the queue's view and filters ride along in
// the query, so the queue renders again as it was).
func (s *Pages) bulk(c *gin.Context) {
	req := desk.BulkRequest{Action: c.PostForm("action"), CaseIDs: c.PostFormArray("case"), Assignee: c.PostForm("assignee"), Note: formText(c, "note")}
	outs, err := s.desk.Bulk(c.Request.Context(), request.Caller(c), req)
	v := &bulkView{Action: req.Action}
	if err != nil {
		v.Error = refusalText(err)
		s.renderQueue(c, respond.Status(err), v)
		return
	}
	for _, o := range outs {
		if o.Refusal == nil {
			v.Done++
			continue
		}
		subject := o.Case.Subject
		if subject == "" {
			subject = "case " + certdesk.Reference(o.CaseID)
		}
		v.Refused = append(v.Refused, bulkRefusal{CaseID: o.CaseID, Subject: subject, Reason: refusalText(o.Refusal)})
	}
	s.renderQueue(c, http.StatusOK, v)
}
