package pages

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/desk"
	"github.com/certdesk/certdesk/request"
	"github.com/certdesk/certdesk/respond"
	"github.com/certdesk/certdesk/store"
)

// The case page of the console: the case, its subject (the kind's details
// side by side), the actions the viewer may take now, its timeline and
// emails; and the forms' actions.

type eventRow struct {
	certdesk.CaseEvent
	Who     string
	Summary []string
}

type casePage struct {
	Case      certdesk.Case
	Row       queueRow
	Requester string
	Events    []eventRow
	Emails    []store.Email
	Details   map[string]any
	// The kind's details, typed, for the subject section.
	Merge    *certdesk.MergeDetails
	Connect  *certdesk.ConnectDetails
	Recovery *certdesk.RecoveryDetails
	Unmerge  *certdesk.UnmergeDetails
	// Undo is what the page says about undoing a completed merge.
	Undo *undoView
	// Actions offered now.
	CanClaim    bool
	CanReassign bool
	// CanClearReview offers a supervisor the end of a security review.
	CanClearReview bool
	// CanConvert offers to turn an inquiry into the case the learner needs.
	CanConvert bool
	// HeldBy names the agent who claimed the case, when it is not the
	// viewer: an agent then takes it over before deciding.
	HeldBy      string
	CanTakeOver bool
	Decisions   []certdesk.Decision
	// WhyNoApprove says why approve is not offered (four-eyes).
	WhyNoApprove string
	Agents       []certdesk.Agent
	TemporalURL  string
	Error        string
	Notice       string
	Form         desk.DecisionRequest // what the agent typed, kept on a refusal
	// The conversation and the public reply: the canned responses filled
	// for this case, what the agent typed (kept on a refusal), and why a
	// reply cannot be sent (no learner address).
	Conversation conversationView
	Canned       []cannedOption
	ReplyForm    desk.ReplyRequest
	NoReply      string
	MaxMessage   int
}

// caseForms is what the agent typed in the case page's forms, shown again
// with a refusal.
type caseForms struct {
	Decision desk.DecisionRequest
	Reply    desk.ReplyRequest
}

// consoleCase is the case page: GET /console/cases/:id
func (s *Pages) consoleCase(c *gin.Context) {
	p := request.Caller(c)
	cs, err := s.store.Case(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.renderCase(c, http.StatusOK, p, cs, noticeOf(c.Query("done")), nil, caseForms{})
}

// renderCase renders the case page with its fresh state; refusal, when set,
// is shown inline.
func (s *Pages) renderCase(c *gin.Context, code int, p *certdesk.Principal, cs certdesk.Case, notice string, refusal error, forms caseForms) {
	ctx := c.Request.Context()
	agents, names, err := s.agentNames(ctx)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	evs, err := s.store.Events(ctx, cs.ID, 0, 0)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	emails, err := s.store.EmailsOfCase(ctx, cs.ID)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	conv, err := s.conversation(ctx, p, cs, names)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	canned, err := s.cannedFor(ctx, p, cs)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := casePage{Case: cs, Row: rowOf(cs, names, s.now()), Requester: s.actorName(ctx, cs.Requester, names), Emails: emails,
		Agents: agents, Notice: notice, Form: forms.Decision, Conversation: conv, Canned: canned, ReplyForm: forms.Reply,
		MaxMessage: desk.MaxMessage}
	if cs.LearnerEmail == "" {
		v.NoReply = "This case has no learner address to reply to."
	}
	_ = json.Unmarshal(cs.Details, &v.Details)
	switch cs.Kind {
	case certdesk.KindMerge:
		v.Merge = &certdesk.MergeDetails{}
		if json.Unmarshal(cs.Details, v.Merge) != nil || len(v.Merge.Profiles) == 0 {
			v.Merge = nil
		}
	case certdesk.KindConnect:
		v.Connect = &certdesk.ConnectDetails{}
		if json.Unmarshal(cs.Details, v.Connect) != nil {
			v.Connect = nil
		}
	case certdesk.KindRecovery:
		v.Recovery = &certdesk.RecoveryDetails{}
		if json.Unmarshal(cs.Details, v.Recovery) != nil || v.Recovery.Claim.ContactEmail == "" {
			v.Recovery = nil
		}
	case certdesk.KindUnmerge:
		v.Unmerge = &certdesk.UnmergeDetails{}
		if json.Unmarshal(cs.Details, v.Unmerge) != nil || len(v.Unmerge.Profiles) == 0 {
			v.Unmerge = nil
		}
	}
	if v.Undo, err = s.undoOf(ctx, p, cs, evs); err != nil {
		s.html.Error(c, err)
		return
	}
	for _, ev := range evs {
		v.Events = append(v.Events, eventRow{CaseEvent: ev, Who: s.actorName(ctx, ev.Actor, names), Summary: summarize(ev.Data)})
	}
	if refusal != nil {
		v.Error = refusalText(refusal)
	}
	open := !cs.Status.Terminal()
	v.CanClaim = open && (cs.AssigneeID == nil || *cs.AssigneeID != p.AgentID) && (cs.AssigneeID == nil || p.Role == certdesk.RoleSupervisor)
	v.CanReassign = open && p.Role == certdesk.RoleSupervisor
	v.CanClearReview = cs.SecurityReview && p.Role == certdesk.RoleSupervisor
	v.CanConvert = cs.Kind == certdesk.KindInquiry && cs.Status == certdesk.StatusAwaitingAgent && !certdesk.HeldByAnother(cs, p.AgentID, p.Role)
	if cs.AssigneeID != nil && *cs.AssigneeID != p.AgentID {
		v.HeldBy = names[*cs.AssigneeID]
		v.CanTakeOver = open && p.Role != certdesk.RoleSupervisor
	}
	// What the viewer may decide now is the kind's rule (certdesk.Offer):
	// the page does not know four-eyes or claims itself.
	v.Decisions, v.WhyNoApprove = certdesk.Offer(cs, p.AgentID, p.Role)
	if certdesk.HeldByAnother(cs, p.AgentID, p.Role) && cs.Status == certdesk.StatusAwaitingAgent {
		v.WhyNoApprove = v.HeldBy + " claimed this case: take it over to decide it."
	}
	if s.cfg.TemporalUIURL != "" {
		v.TemporalURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.cfg.TemporalUIURL,
			url.PathEscape(s.cfg.Temporal.Namespace), url.PathEscape(cs.WorkflowID), url.PathEscape(cs.RunID))
	}
	s.html.Render(c, code, "console_case", cs.Subject, v)
}

// undoView is the merge page's "Undo this merge" part: the undo that is
// open or that happened, the reason it cannot be undone, or the form.
type undoView struct {
	OpenID   string // an unmerge case waiting for its approval
	UndoneBy string // the unmerge case that undid it
	Refusal  string // why it cannot be undone (supervisors only)
	CanUndo  bool
}

// undoOf says what the page offers about undoing cs, a completed merge:
// everyone on staff sees an open or finished undo; a supervisor sees the
// form, or why the store refuses (the same check the request makes).
func (s *Pages) undoOf(ctx context.Context, p *certdesk.Principal, cs certdesk.Case, evs []certdesk.CaseEvent) (*undoView, error) {
	if cs.Kind != certdesk.KindMerge || cs.Status != certdesk.StatusCompleted || cs.Resolution != certdesk.MergeMerged {
		return nil, nil
	}
	u := &undoView{}
	for _, ev := range evs {
		if ev.Type == certdesk.EventMergeUndone {
			var d struct {
				UnmergeCaseID string `json:"unmerge_case_id"`
			}
			_ = json.Unmarshal(ev.Data, &d)
			u.UndoneBy = d.UnmergeCaseID
			return u, nil
		}
	}
	open, ok, err := s.store.OpenChild(ctx, cs.ID, certdesk.KindUnmerge)
	if err != nil {
		return nil, err
	}
	if ok {
		u.OpenID = open.ID
		return u, nil
	}
	if p.Role != certdesk.RoleSupervisor {
		return nil, nil
	}
	if _, err := s.store.ReviewUnmerge(ctx, cs.ID, s.cfg.UnmergeWindow); err != nil {
		if certdesk.ErrorCode(err) != certdesk.ECONFLICT {
			return nil, err
		}
		u.Refusal = certdesk.ErrorMessage(err)
		return u, nil
	}
	u.CanUndo = true
	return u, nil
}

// actorName says who an actor is, in words.
func (s *Pages) actorName(ctx context.Context, a certdesk.Actor, agents map[string]string) string {
	if id, ok := a.Agent(); ok {
		if n := agents[id]; n != "" {
			return n + " (agent)"
		}
	}
	if id, ok := a.Learner(); ok {
		if acct, err := s.store.Account(ctx, id); err == nil {
			return acct.DisplayName + " <" + acct.Email + "> (learner)"
		}
		return "the learner"
	}
	if _, ok := a.Owner(); ok {
		return "the profile's owner (an address on file)"
	}
	if addr, ok := a.Email(); ok {
		return addr + " (by email)"
	}
	switch a {
	case certdesk.ActorSystem:
		return "certdesk"
	case certdesk.ActorPublic:
		return "the requester (public form)"
	}
	return string(a)
}

// summarize turns an event's data into short "key: value" lines.
func summarize(data json.RawMessage) []string {
	var m map[string]any
	if json.Unmarshal(data, &m) != nil {
		return nil
	}
	var out []string
	for _, k := range sortedKeys(m) {
		switch v := m[k].(type) {
		case nil:
		case string:
			if v != "" {
				out = append(out, k+": "+v)
			}
		default:
			b, _ := json.Marshal(v)
			out = append(out, k+": "+string(b))
		}
	}
	return out
}

// noticeOf says what a successful action did, after the redirect.
func noticeOf(done string) string {
	switch done {
	case "claimed":
		return "The case is yours."
	case "assigned":
		return "The case is reassigned."
	case "noted":
		return "Internal note added."
	case "replied":
		return "Reply sent to the learner."
	case "reviewed":
		return "Security review closed."
	case "converted":
		return "The inquiry is now this case: it names the inquiry as its parent."
	case "undo_requested":
		return "Undo requested: another member of staff approves it here."
	case "undo_open":
		return "An undo of this merge is already waiting for its approval: here it is."
	case "approve", "reject", "request_info":
		return "Decision recorded: " + strings.ReplaceAll(done, "_", " ") + "."
	}
	return ""
}

// consoleAction handles the case page's forms: claim, decision, reply,
// notes, security review, undo. A success redirects to the case (so a
// reload does not repeat it); a refusal renders the case's fresh state with
// the reason.
func (s *Pages) consoleAction(c *gin.Context) {
	p := request.Caller(c)
	ctx := c.Request.Context()
	cs, err := s.store.Case(ctx, c.Param("id"))
	if err != nil {
		s.html.Error(c, err)
		return
	}
	version, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	form := desk.DecisionRequest{Decision: certdesk.Decision(c.PostForm("decision")), Note: c.PostForm("note"), ProfileID: c.PostForm("profile_id"),
		Version: version, Reply: formText(c, "reply")}
	var (
		done  string
		reply desk.ReplyRequest
	)
	switch c.Param("action") {
	case "claim":
		_, err = s.desk.Claim(ctx, p, cs, desk.ClaimRequest{Assignee: c.PostForm("assignee"), TakeOver: c.PostForm("take_over") == "1", Version: version})
		done = "claimed"
		if a := c.PostForm("assignee"); a != "" && a != p.AgentID {
			done = "assigned"
		}
	case "decision":
		_, err = s.desk.Decide(ctx, p, cs, form)
		done = string(form.Decision)
	case "reply":
		form, reply = desk.DecisionRequest{}, desk.ReplyRequest{Body: formText(c, "body"), CannedID: c.PostForm("canned_id")}
		if c.PostForm("insert") != "" {
			// Without JavaScript: insert the chosen canned response, send nothing.
			reply, err = s.insertCanned(ctx, p, cs, reply, c.PostForm("insert_id"))
			code := http.StatusOK
			if err != nil {
				code = respond.Status(err)
			}
			s.renderCase(c, code, p, cs, "", err, caseForms{Reply: reply})
			return
		}
		_, err = s.desk.Reply(ctx, p, cs, reply)
		done = "replied"
	case "notes":
		_, err = s.desk.Note(ctx, p, cs, desk.NoteRequest{Note: form.Note})
		done, form = "noted", desk.DecisionRequest{}
	case "security-review":
		_, err = s.desk.ClearReview(ctx, p, cs, desk.NoteRequest{Note: form.Note})
		done, form = "reviewed", desk.DecisionRequest{}
	case "convert":
		// The new case is where the agent lands.
		req := desk.ConvertRequest{Kind: certdesk.Kind(c.PostForm("kind")), MCIDs: strings.FieldsFunc(c.PostForm("mcids"), func(r rune) bool { return r == ',' || r == ' ' }),
			Note: formText(c, "note")}
		child, cerr := s.desk.Convert(ctx, p, cs, req)
		if cerr == nil {
			c.Redirect(http.StatusSeeOther, "/console/cases/"+child.ID+"?done=converted")
			return
		}
		err, form = cerr, desk.DecisionRequest{}
	case "undo":
		// The undo is a case of its own: the supervisor lands on it.
		un, existing, uerr := s.desk.RequestUnmerge(ctx, p, cs, desk.UndoRequest{Note: form.Note})
		if uerr == nil {
			done = "undo_requested"
			if existing {
				done = "undo_open"
			}
			c.Redirect(http.StatusSeeOther, "/console/cases/"+un.ID+"?done="+done)
			return
		}
		err = uerr
	default:
		s.html.Error(c, certdesk.Errorf(certdesk.ENOTFOUND, "no such action"))
		return
	}
	if err != nil {
		fresh, ferr := s.store.Case(ctx, cs.ID)
		if ferr != nil {
			s.html.Error(c, ferr)
			return
		}
		s.renderCase(c, respond.Status(err), p, fresh, "", err, caseForms{Decision: form, Reply: reply})
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/cases/"+cs.ID+"?done="+url.QueryEscape(done))
}

// refusalText says why an action was refused, with its fields.
func refusalText(err error) string {
	text := certdesk.ErrorMessage(err)
	f := certdesk.ErrorFields(err)
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		text += " (" + k + " " + f[k] + ")"
	}
	return text
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
