package pages

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/request"
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
	Count           int64
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
	// Bulk is what a bulk action just did; CanAssign offers assigning.
	Bulk      *bulkView
	CanAssign bool
	BulkURL   string // the bulk form's action: the view and filters ride along
}

// console is the queue: GET /console?view=&kind=&status=&assignee=&q=&order=&cursor=
func (s *Pages) console(c *gin.Context) { s.renderQueue(c, http.StatusOK, nil) }

// renderQueue renders the queue of the request's view and filters; bulk,
// when set, is what a bulk action just did.
func (s *Pages) renderQueue(c *gin.Context, code int, bulk *bulkView) {
	p := request.Caller(c)
	f, err := s.desk.CaseFilter(c.Request.Context(), request.Caller(c), c.Request.URL.Query())
	if err != nil {
		s.html.Error(c, err)
		return
	}
	view := c.DefaultQuery("view", "awaiting")
	applyView(&f, view, p)
	ctx := c.Request.Context()
	page, err := s.store.ListCases(ctx, f)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	agents, names, err := s.agentNames(ctx)
	if err != nil {
		s.html.Error(c, err)
		return
	}
	v := queueView{View: view, Kind: c.Query("kind"), Status: c.Query("status"), Assignee: c.Query("assignee"), Q: c.Query("q"),
		Order: c.DefaultQuery("order", store.OrderNewest), Agents: agents, Kinds: certdesk.Kinds, Statuses: certdesk.Statuses}
	for _, t := range queueViews {
		q := url.Values{"view": {t.Key}}
		var tf store.CaseFilter
		applyView(&tf, t.Key, p)
		n, err := s.store.CountCases(ctx, tf)
		if err != nil {
			s.html.Error(c, err)
			return
		}
		v.Tabs = append(v.Tabs, queueTab{Key: t.Key, Label: t.Label, URL: "/console?" + q.Encode(), Count: n, Active: t.Key == view})
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
	v.Bulk, v.CanAssign, v.BulkURL = bulk, p.Role == certdesk.RoleSupervisor, "/console/bulk"
	if q := c.Request.URL.RawQuery; q != "" {
		v.BulkURL += "?" + q
	}
	s.html.Render(c, code, "console", "Cases", v)
}

// applyView narrows a filter to a tab; explicit filters still apply.
func applyView(f *store.CaseFilter, view string, p *certdesk.Principal) {
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
func (s *Pages) agentNames(ctx context.Context) ([]certdesk.Agent, map[string]string, error) {
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

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
