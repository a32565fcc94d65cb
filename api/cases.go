package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// caseJSON is a case as the API shows it: the projection's fields, and the
// kind's details (a merge's preview, a recovery's candidates…) both under
// "details" and spread at the top level for convenience.
type caseJSON struct {
	certdesk.Case
	ProfileIDs []string `json:"profile_ids"`
}

// MarshalJSON writes the case's fields, then the details' keys that are
// not one of them, in their sorted order, appended to the same object (no
// round trip through a map: a page of cases is written on every list).
func (c caseJSON) MarshalJSON() ([]byte, error) {
	type plain caseJSON // without this method
	b, err := json.Marshal(plain(c))
	if err != nil || len(c.Details) < 2 || c.Details[0] != '{' {
		return b, err
	}
	var details map[string]json.RawMessage
	if json.Unmarshal(c.Details, &details) != nil {
		return b, nil
	}
	keys := make([]string, 0, len(details))
	for k := range details {
		if !caseFields[k] {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return b, nil
	}
	slices.Sort(keys)
	out := bytes.NewBuffer(b[:len(b)-1]) // without the closing brace
	for _, k := range keys {
		name, _ := json.Marshal(k)
		out.WriteByte(',')
		out.Write(name)
		out.WriteByte(':')
		json.HTMLEscape(out, details[k]) // as json.Marshal escapes the rest
	}
	out.WriteByte('}')
	return out.Bytes(), nil
}

// caseFields are the JSON names of a case's own fields, present or
// omitted: a detail never stands in for one of them.
var caseFields = func() map[string]bool {
	names := map[string]bool{"profile_ids": true}
	t := reflect.TypeFor[certdesk.Case]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			names[name] = true
		}
	}
	return names
}()

func toCaseJSON(c certdesk.Case) caseJSON {
	ids := strings.Fields(c.ProfileIDs)
	if ids == nil {
		ids = []string{}
	}
	return caseJSON{Case: c, ProfileIDs: ids}
}

type listJSON[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

// listCases lists cases: all of them for staff, their own for a learner.
func (s *Server) listCases(c *gin.Context) {
	f, err := s.caseFilter(c)
	if err != nil {
		fail(c, err)
		return
	}
	page, err := s.store.ListCases(c.Request.Context(), f)
	if err != nil {
		fail(c, err)
		return
	}
	body, err := casePageJSON(page)
	if err != nil {
		fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", body)
}

// casePageJSON writes a page of cases as listJSON[caseJSON] does, each case
// encoded once (json.Marshal of the list would check and re-indent every
// case's own encoding a second time).
func casePageJSON(page store.Page) ([]byte, error) {
	out := append(make([]byte, 0, 1024*len(page.Items)+64), `{"items":[`...)
	for i, cs := range page.Items {
		b, err := toCaseJSON(cs).MarshalJSON()
		if err != nil {
			return nil, err
		}
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, b...)
	}
	out = append(out, ']')
	if page.NextCursor != "" {
		cursor, _ := json.Marshal(page.NextCursor)
		out = append(append(out, `,"next_cursor":`...), cursor...)
	}
	return append(out, '}'), nil
}

// caseFilter reads the list's query: kind, status (comma-separated),
// assignee (an agent id, "me" or "none"), q, order, limit, cursor.
func (s *Server) caseFilter(c *gin.Context) (store.CaseFilter, error) {
	p := caller(c)
	f := store.CaseFilter{Kind: certdesk.Kind(c.Query("kind")), Q: c.Query("q"), Cursor: c.Query("cursor"), Order: c.Query("order")}
	fields := map[string]string{}
	if f.Kind != "" && !f.Kind.Valid() {
		fields["kind"] = "must be connect, merge or recovery"
	}
	if st := c.Query("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if !certdesk.Status(v).Valid() {
				fields["status"] = "unknown status " + strconv.Quote(v)
				break
			}
			f.Statuses = append(f.Statuses, certdesk.Status(v))
		}
	}
	// Assignment is staff business; a learner's list ignores the filter.
	if p.Role.Staff() {
		f.Assignee = c.Query("assignee")
		if f.Assignee == "me" {
			f.Assignee = p.AgentID
		}
	}
	for name, dst := range map[string]**bool{"escalated": &f.Escalated, "security_review": &f.SecurityReview} {
		if v := c.Query(name); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				fields[name] = "must be true or false"
			}
			*dst = &b
		}
	}
	if l := c.Query("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxPageSize {
			fields["limit"] = "must be a number from 1 to " + strconv.Itoa(store.MaxPageSize)
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		return f, certdesk.Invalid(fields)
	}
	if !p.Role.Staff() {
		scope, err := s.learnerScope(c.Request.Context(), p)
		if err != nil {
			return f, err
		}
		f.Learner = &scope
	}
	return f, nil
}

func (s *Server) learnerScope(ctx context.Context, p *Principal) (store.LearnerScope, error) {
	l, err := s.store.Learner(ctx, p.AccountID)
	if err != nil {
		return store.LearnerScope{}, err
	}
	scope := store.LearnerScope{}
	for _, a := range l.Accounts {
		scope.AccountIDs = append(scope.AccountIDs, a.ID)
	}
	if l.LearningProfile != nil {
		scope.LearningProfileID = l.LearningProfile.ID
	}
	return scope, nil
}

// visibleCase loads a case the caller may see. A learner asking for someone
// else's case gets the same 404 as for a case that does not exist.
func (s *Server) visibleCase(c *gin.Context) (certdesk.Case, bool) {
	id := c.Param("id")
	notFound := certdesk.Errorf(certdesk.ENOTFOUND, "no case %q", id)
	if !certdesk.ValidID(id) {
		fail(c, notFound)
		return certdesk.Case{}, false
	}
	cs, err := s.store.Case(c.Request.Context(), id)
	if err != nil {
		fail(c, err)
		return cs, false
	}
	p := caller(c)
	if p.Role.Staff() {
		return cs, true
	}
	scope, err := s.learnerScope(c.Request.Context(), p)
	if err != nil {
		fail(c, err)
		return cs, false
	}
	if cs.LearningProfileID != nil && *cs.LearningProfileID == scope.LearningProfileID && scope.LearningProfileID != "" {
		return cs, true
	}
	for _, a := range scope.AccountIDs {
		if cs.AccountID != nil && *cs.AccountID == a {
			return cs, true
		}
	}
	fail(c, notFound)
	return cs, false
}

func (s *Server) getCase(c *gin.Context) {
	if cs, ok := s.visibleCase(c); ok {
		c.JSON(http.StatusOK, toCaseJSON(cs))
	}
}

// caseEvents lists a case's timeline; ?after=SEQ returns what came since.
func (s *Server) caseEvents(c *gin.Context) {
	cs, ok := s.visibleCase(c)
	if !ok {
		return
	}
	after, err := strconv.ParseInt(c.DefaultQuery("after", "0"), 10, 64)
	if err != nil || after < 0 {
		fail(c, certdesk.Invalid(map[string]string{"after": "must be an event seq (a whole number)"}))
		return
	}
	evs, err := s.store.Events(c.Request.Context(), cs.ID, after, 0)
	if err != nil {
		fail(c, err)
		return
	}
	if evs == nil {
		evs = []certdesk.CaseEvent{}
	}
	c.JSON(http.StatusOK, listJSON[certdesk.CaseEvent]{Items: evs})
}
