package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// The agent console: the queue and the case page. Pages are rendered on the
// server and every action is a plain form (it works without JavaScript);
// web/static/app.js adds keyboard moves and live refresh.

// openStatuses are the statuses of cases that still need something.
var openStatuses = []certdesk.Status{certdesk.StatusOpen, certdesk.StatusAwaitingLearner, certdesk.StatusAwaitingAgent, certdesk.StatusCoolingOff}

// queueViews are the console's tabs.
var queueViews = []struct{ Key, Label string }{
	{"mine", "My cases"}, {"unassigned", "Unassigned"}, {"awaiting", "Awaiting agent"}, {"escalated", "Escalated"},
	{"security", "Security review"}, {"all", "All"},
}

type queueTab struct {
	Key, Label, URL string
	Active          bool
}

type queueRow struct {
	Case     certdesk.Case
	Assignee string
	Age      string
	SLA      string
	Overdue  bool
	Flags    []string
}

type queueView struct {
	Tabs                                   []queueTab
	View, Kind, Status, Assignee, Q, Order string
	Rows                                   []queueRow
	NextURL                                string
	Agents                                 []certdesk.Agent
	Kinds                                  []certdesk.Kind
	Statuses                               []certdesk.Status
}

// console is the queue: GET /console?view=&kind=&status=&assignee=&q=&order=&cursor=
func (s *Server) console(c *gin.Context) {
	p := caller(c)
	f, err := s.caseFilter(c)
	if err != nil {
		s.errorPage(c, err)
		return
	}
	view := c.DefaultQuery("view", "awaiting")
	applyView(&f, view, p)
	ctx := c.Request.Context()
	page, err := s.store.ListCases(ctx, f)
	if err != nil {
		s.errorPage(c, err)
		return
	}
	agents, names, err := s.agentNames(ctx)
	if err != nil {
		s.errorPage(c, err)
		return
	}
	v := queueView{View: view, Kind: c.Query("kind"), Status: c.Query("status"), Assignee: c.Query("assignee"), Q: c.Query("q"),
		Order: c.DefaultQuery("order", store.OrderNewest), Agents: agents, Kinds: certdesk.Kinds, Statuses: certdesk.Statuses}
	for _, t := range queueViews {
		q := url.Values{"view": {t.Key}}
		v.Tabs = append(v.Tabs, queueTab{Key: t.Key, Label: t.Label, URL: "/console?" + q.Encode(), Active: t.Key == view})
	}
	now := s.now()
	for _, cs := range page.Items {
		v.Rows = append(v.Rows, rowOf(cs, names, now))
	}
	if page.NextCursor != "" {
		q := c.Request.URL.Query()
		q.Set("cursor", page.NextCursor)
		v.NextURL = "/console?" + q.Encode()
	}
	s.pages.Render(c.Writer, http.StatusOK, "console", s.pageData(c, "Cases", v))
}

// applyView narrows a filter to a tab; explicit filters still apply.
func applyView(f *store.CaseFilter, view string, p *Principal) {
	open := func() {
		if len(f.Statuses) == 0 {
			f.Statuses = openStatuses
		}
	}
	switch view {
	case "mine":
		f.Assignee = p.AgentID
		open()
	case "unassigned":
		f.Assignee = "none"
		open()
	case "awaiting":
		if len(f.Statuses) == 0 {
			f.Statuses = []certdesk.Status{certdesk.StatusAwaitingAgent}
		}
	case "escalated":
		t := true
		f.Escalated = &t
		open()
	case "security":
		// Cases a "this wasn't me" stopped: closed, but not done with.
		t := true
		f.SecurityReview = &t
	}
}

func rowOf(cs certdesk.Case, names map[string]string, now time.Time) queueRow {
	r := queueRow{Case: cs, Age: ago(now.Sub(cs.CreatedAt))}
	if cs.AssigneeID != nil {
		r.Assignee = names[*cs.AssigneeID]
	}
	if cs.SLADueAt != nil && !cs.Status.Terminal() {
		left := cs.SLADueAt.Sub(now)
		if left < 0 {
			r.SLA, r.Overdue = "overdue "+ago(-left), true
		} else {
			r.SLA = "in " + ago(left)
		}
	}
	if cs.Escalated {
		r.Flags = append(r.Flags, "escalated")
	}
	if cs.Unreachable {
		r.Flags = append(r.Flags, "unreachable")
	}
	if cs.SecurityReview {
		r.Flags = append(r.Flags, "security review")
	}
	return r
}

// ago says a duration the way a queue shows it: 45s, 12m, 5h, 3d.
func ago(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

// agentNames lists the agents and maps their ids to names.
func (s *Server) agentNames(ctx context.Context) ([]certdesk.Agent, map[string]string, error) {
	agents, err := s.store.Agents(ctx, "")
	if err != nil {
		return nil, nil, err
	}
	names := map[string]string{}
	for _, a := range agents {
		names[a.ID] = a.Name
	}
	return agents, names, nil
}

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
	// Actions offered now.
	CanClaim    bool
	CanReassign bool
	// CanClearReview offers a supervisor the end of a security review.
	CanClearReview bool
	// HeldBy names the agent who claimed the case, when it is not the
	// viewer: an agent then takes it over before deciding.
	HeldBy      string
	CanTakeOver bool
	Decisions      []certdesk.Decision
	// WhyNoApprove says why approve is not offered (four-eyes).
	WhyNoApprove string
	Agents       []certdesk.Agent
	TemporalURL  string
	Error        string
	Notice       string
	Form         decisionRequest // what the agent typed, kept on a refusal
}

// consoleCase is the case page: GET /console/cases/:id
func (s *Server) consoleCase(c *gin.Context) {
	p := caller(c)
	cs, err := s.store.Case(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.errorPage(c, err)
		return
	}
	s.renderCase(c, http.StatusOK, p, cs, noticeOf(c.Query("done")), nil, decisionRequest{})
}

// renderCase renders the case page with its fresh state; refusal, when set,
// is shown inline.
func (s *Server) renderCase(c *gin.Context, code int, p *Principal, cs certdesk.Case, notice string, refusal error, form decisionRequest) {
	ctx := c.Request.Context()
	agents, names, err := s.agentNames(ctx)
	if err != nil {
		s.errorPage(c, err)
		return
	}
	evs, err := s.store.Events(ctx, cs.ID, 0, 0)
	if err != nil {
		s.errorPage(c, err)
		return
	}
	emails, err := s.store.EmailsOfCase(ctx, cs.ID)
	if err != nil {
		s.errorPage(c, err)
		return
	}
	v := casePage{Case: cs, Row: rowOf(cs, names, s.now()), Requester: s.actorName(ctx, cs.Requester, names), Emails: emails,
		Agents: agents, Notice: notice, Form: form}
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
	}
	for _, ev := range evs {
		v.Events = append(v.Events, eventRow{CaseEvent: ev, Who: s.actorName(ctx, ev.Actor, names), Summary: summarize(ev.Data)})
	}
	if refusal != nil {
		v.Error = certdesk.ErrorMessage(refusal)
		if f := certdesk.ErrorFields(refusal); len(f) > 0 {
			for k, m := range f {
				v.Error += " (" + k + " " + m + ")"
			}
		}
	}
	open := !cs.Status.Terminal()
	v.CanClaim = open && (cs.AssigneeID == nil || *cs.AssigneeID != p.AgentID) && (cs.AssigneeID == nil || p.Role == certdesk.RoleSupervisor)
	v.CanReassign = open && p.Role == certdesk.RoleSupervisor
	v.CanClearReview = cs.SecurityReview && p.Role == certdesk.RoleSupervisor
	if cs.AssigneeID != nil && *cs.AssigneeID != p.AgentID {
		v.HeldBy = names[*cs.AssigneeID]
		v.CanTakeOver = open && p.Role != certdesk.RoleSupervisor
	}
	if cs.Status == certdesk.StatusAwaitingAgent {
		switch cs.Kind {
		case certdesk.KindMerge:
			v.Decisions = []certdesk.Decision{certdesk.DecisionApprove, certdesk.DecisionReject}
		case certdesk.KindRecovery:
			v.Decisions = []certdesk.Decision{certdesk.DecisionApprove, certdesk.DecisionRequestInfo, certdesk.DecisionReject}
		}
		if cs.Kind == certdesk.KindMerge && cs.Requester == p.Actor() {
			v.Decisions = []certdesk.Decision{certdesk.DecisionReject}
			v.WhyNoApprove = "You requested this merge, so another agent approves it (four-eyes)."
		}
		if v.CanTakeOver {
			v.Decisions = nil
			v.WhyNoApprove = v.HeldBy + " claimed this case: take it over to decide it."
		}
	}
	if s.cfg.TemporalUIURL != "" {
		v.TemporalURL = fmt.Sprintf("%s/namespaces/%s/workflows/%s/%s/history", s.cfg.TemporalUIURL,
			url.PathEscape(s.cfg.Temporal.Namespace), url.PathEscape(cs.WorkflowID), url.PathEscape(cs.RunID))
	}
	s.pages.Render(c.Writer, code, "console_case", s.pageData(c, cs.Subject, v))
}

// actorName says who an actor is, in words.
func (s *Server) actorName(ctx context.Context, a certdesk.Actor, agents map[string]string) string {
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
		return "Note added."
	case "reviewed":
		return "Security review closed."
	case "approve", "reject", "request_info":
		return "Decision recorded: " + strings.ReplaceAll(done, "_", " ") + "."
	}
	return ""
}

// consoleAction handles the case page's forms: claim, decision, notes. A
// success redirects to the case (so a reload does not repeat it); a refusal
// renders the case's fresh state with the reason.
func (s *Server) consoleAction(c *gin.Context) {
	p := caller(c)
	ctx := c.Request.Context()
	cs, err := s.store.Case(ctx, c.Param("id"))
	if err != nil {
		s.errorPage(c, err)
		return
	}
	version, _ := strconv.ParseInt(c.PostForm("version"), 10, 64)
	form := decisionRequest{Decision: certdesk.Decision(c.PostForm("decision")), Note: c.PostForm("note"), ProfileID: c.PostForm("profile_id"), Version: version}
	var done string
	switch c.Param("action") {
	case "claim":
		_, err = s.claimCase(ctx, p, cs, claimRequest{Assignee: c.PostForm("assignee"), TakeOver: c.PostForm("take_over") == "1", Version: version})
		done = "claimed"
		if a := c.PostForm("assignee"); a != "" && a != p.AgentID {
			done = "assigned"
		}
	case "decision":
		_, err = s.decideCase(ctx, p, cs, form)
		done = string(form.Decision)
	case "notes":
		_, err = s.noteCase(ctx, p, cs, noteRequest{Note: form.Note})
		done, form = "noted", decisionRequest{}
	case "security-review":
		_, err = s.clearReview(ctx, p, cs, noteRequest{Note: form.Note})
		done, form = "reviewed", decisionRequest{}
	default:
		s.errorPage(c, certdesk.Errorf(certdesk.ENOTFOUND, "no such action"))
		return
	}
	if err != nil {
		fresh, ferr := s.store.Case(ctx, cs.ID)
		if ferr != nil {
			s.errorPage(c, ferr)
			return
		}
		s.renderCase(c, status(certdesk.ErrorCode(err)), p, fresh, "", err, form)
		return
	}
	c.Redirect(http.StatusSeeOther, "/console/cases/"+cs.ID+"?done="+url.QueryEscape(done))
}

// errorPage shows an error as a page, in the error mapper's status.
func (s *Server) errorPage(c *gin.Context, err error) {
	logIfInternal(c, err)
	code := status(certdesk.ErrorCode(err))
	v := errorView{Code: code, Message: certdesk.ErrorMessage(err), RequestID: requestID(c)}
	v.Link, v.LinkText = errorLink(err)
	s.pages.Render(c.Writer, code, "error", s.pageData(c, "Something went wrong", v))
	c.Abort()
}

type errorView struct {
	Code      int
	Message   string
	RequestID string
	// Link and LinkText are the way on, when the error has one (an
	// inactive account's sign-in links the recovery form).
	Link, LinkText string
}
