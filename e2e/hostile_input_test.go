package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/api"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/store"
)

// hostileValue is a string sent where a caller may put text: raw (the bytes
// as they go into a query, a path or a form, and into a JSON string with
// only its control characters escaped) or, for what only JSON can say, a
// JSON token.
type hostileValue struct {
	name, raw, json string
	short           bool // also in -short mode
}

var hostileValues = []hostileValue{
	{name: "NUL", raw: "\x00", short: true},
	{name: "NUL inside", raw: "Dara\x00Murphy"},
	{name: "invalid UTF-8", raw: "\xff\xfe", short: true},
	{name: "overlong slash", raw: "\xc0\xaf"},
	{name: "UTF-8 surrogate", raw: "\xed\xa0\x80"},
	{name: "lone surrogate escape", json: `"x\ud800y"`, short: true},
	{name: "reversed surrogates", json: `"\udc00\ud800"`},
	{name: "NUL escape", json: `"a\u0000b"`, short: true},
	{name: "terminal escapes", raw: "\x1b[2J\x1b[31mred", short: true},
	{name: "DEL and C1", raw: "\x7f\u0085\u009b"},
	{name: "RTL override", raw: "\u202egnp.exe\u202c Murphy", short: true},
	{name: "zero-width", raw: "Da\u200bra\ufeff"},
	{name: "noncharacters", raw: "\uffff\ufffe"},
	{name: "lines and tabs", raw: "line\r\nline\n\ttab", short: true},
	{name: "percent escapes as text", raw: "%00%ff%fe", short: true},
	{name: "1 MB", raw: strings.Repeat("x", 1<<20), short: true},
	{name: "long accents", raw: strings.Repeat("é", 3000)},
	{name: "SQL", raw: "' OR '1'='1' --"},
	{name: "markup", raw: "<script>alert(1)</script>{{.}}"},
	{name: "empty", raw: ""},
}

// Raw escapes that go into a URL as they are (not escaped again).
var (
	rawQueryValues = []string{"%00", "%ff%fe", "%C0%AF", "%ED%A0%80", "%1b", "%zz", "%"}
	rawPathValues  = []string{"%00", "%ff%fe", "%C0%AF", "%ED%A0%80", "%1b", "%2e%2e", "..%2f..%2f"}
)

// jsonToken is a hostile value as a JSON string token; invalid UTF-8 stays
// as it is.
func (v hostileValue) jsonToken() string {
	if v.json != "" {
		return v.json
	}
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v.raw); i++ {
		switch c := v.raw[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// hostileOp is an operation of the OpenAPI document (or a page), with where
// text goes into it.
type hostileOp struct {
	method, path string // path with {param}s
	pathParams   []string
	query        []string
	body         map[string]any // a valid body, as JSON
	bodySlots    []string       // "field" or "field[i]"
	form         []string       // form fields (pages)
}

// hostileOps reads the operations of the OpenAPI document: their path and
// query parameters, and the string fields of their bodies (from the
// schemas), each filled in from the example.
func hostileOps(t *testing.T) []hostileOp {
	t.Helper()
	type schema struct {
		Ref        string `json:"$ref"`
		Properties map[string]struct {
			Type  any `json:"type"`
			Enum  []any
			Items *struct {
				Type string `json:"type"`
			} `json:"items"`
		} `json:"properties"`
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct {
				Ref  string `json:"$ref"`
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
			RequestBody struct {
				Content map[string]struct {
					Schema  schema         `json:"schema"`
					Example map[string]any `json:"example"`
				} `json:"content"`
			} `json:"requestBody"`
		} `json:"paths"`
		Components struct {
			Schemas    map[string]schema `json:"schemas"`
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := json.Unmarshal(api.OpenAPI(), &doc); err != nil {
		t.Fatal(err)
	}
	var ops []hostileOp
	for path, methods := range doc.Paths {
		for m, op := range methods {
			o := hostileOp{method: strings.ToUpper(m), path: "/api/v1" + path}
			for _, p := range op.Parameters {
				if p.Ref != "" {
					ref := doc.Components.Parameters[strings.TrimPrefix(p.Ref, "#/components/parameters/")]
					p.Name, p.In = ref.Name, ref.In
				}
				switch p.In {
				case "path":
					o.pathParams = append(o.pathParams, p.Name)
				case "query":
					o.query = append(o.query, p.Name)
				}
			}
			for _, seg := range strings.Split(path, "/") {
				if name, ok := strings.CutPrefix(seg, "{"); ok && !slices.Contains(o.pathParams, strings.TrimSuffix(name, "}")) {
					o.pathParams = append(o.pathParams, strings.TrimSuffix(name, "}"))
				}
			}
			if c, ok := op.RequestBody.Content["application/json"]; ok {
				o.body = map[string]any{}
				for k, v := range c.Example {
					o.body[k] = v
				}
				sc := c.Schema
				if sc.Ref != "" {
					sc = doc.Components.Schemas[strings.TrimPrefix(sc.Ref, "#/components/schemas/")]
				}
				for name, p := range sc.Properties {
					switch {
					case p.Type == "string" || len(p.Enum) > 0 && p.Type == nil:
						o.bodySlots = append(o.bodySlots, name)
					case p.Type == "array" && p.Items != nil && p.Items.Type == "string":
						o.bodySlots = append(o.bodySlots, name+"[0]", name+"[1]")
					}
				}
				sort.Strings(o.bodySlots)
			}
			ops = append(ops, o)
		}
	}
	// The pages and their forms, which the document does not list.
	ops = append(ops,
		hostileOp{method: "GET", path: "/console/cases/{id}", pathParams: []string{"id"}, query: []string{"done"}},
		hostileOp{method: "GET", path: "/console", query: []string{"view", "kind", "status", "assignee", "q", "order"}},
		hostileOp{method: "POST", path: "/console/cases/{id}/notes", pathParams: []string{"id"}, form: []string{"note"}},
		hostileOp{method: "POST", path: "/console/cases/{id}/decision", pathParams: []string{"id"}, form: []string{"decision", "note", "profile_id", "version"}},
		hostileOp{method: "POST", path: "/console/cases/{id}/claim", pathParams: []string{"id"}, form: []string{"assignee"}},
		hostileOp{method: "POST", path: "/portal/recovery", form: []string{"legal_name", "contact_email", "mcid", "description", "csrf_token"}},
		hostileOp{method: "GET", path: "/portal", query: []string{"done", "lang"}},
		hostileOp{method: "GET", path: "/l/{token}", pathParams: []string{"token"}},
		hostileOp{method: "POST", path: "/l/{token}", pathParams: []string{"token"}, form: []string{"reply"}},
		hostileOp{method: "POST", path: "/dev/login", form: []string{"email"}},
		hostileOp{method: "GET", path: "/auth/login", query: []string{"next"}},
	)
	sort.Slice(ops, func(i, j int) bool { return ops[i].path+ops[i].method < ops[j].path+ops[j].method })
	return ops
}

// hostileCall is one request of the run.
type hostileCall struct {
	what, role   string
	method, path string
	body, ct     string
}

// Every route of the OpenAPI document (and the pages' forms), called by an
// anonymous visitor, a learner and an agent (and a supervisor, without
// -short) with hostile text in each path
// parameter, query parameter and body field, on PostgreSQL: nothing answers
// 5xx, and every 202 ends in a case the agent sees whose workflow did not
// fail or stall.
func TestHostileInputNeverBreaksACase(t *testing.T) {
	// Thousands of refused requests: their log lines say nothing new.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	defer slog.SetDefault(prev)
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres", Configure: func(c *config.Config) {
		// Each request comes from an address of its own, so the per-client
		// limits of the public form and the sign-in do not hide what the
		// handlers do.
		c.TrustedProxies = []string{"127.0.0.1"}
	}})
	ctx := context.Background()
	chen := s.Login(chenEmail)
	tokens := map[string]string{"anonymous": "", "learner": chen, "agent": s.Login("alice.agent@certdesk.example")}
	if !testing.Short() {
		tokens["supervisor"] = s.Login("sam.supervisor@certdesk.example")
	}
	lp := store.DemoID("lp:chen")
	// A case the learner and the agent both see: Chen's connect case.
	r := s.Do("POST", "/api/v1/connect-requests", chen, map[string]any{})
	if r.Code != http.StatusAccepted && r.Code != http.StatusOK {
		t.Fatalf("Chen's connect request = %d %s", r.Code, r.Body)
	}
	caseID := r.JSON(t)["id"].(string)

	values := hostileValues
	if testing.Short() {
		values = nil
		for _, v := range hostileValues {
			if v.short {
				values = append(values, v)
			}
		}
	}
	var calls []hostileCall // of the operation being built
	unique := 0
	add := func(op hostileOp, what string, fill func(params map[string]string, q url.Values, body map[string]any) (path, rawQuery, bodyText string)) {
		for role := range tokens {
			params := map[string]string{"id": caseID, "token": "bm90LWEtbGluaw"}
			if strings.Contains(op.path, "learning-profiles") {
				params["id"] = lp
			}
			q := url.Values{}
			var body map[string]any
			if op.body != nil {
				body = map[string]any{}
				for k, v := range op.body {
					body[k] = v
				}
				if strings.Contains(op.path, "recovery-requests") {
					unique++ // a mailbox of its own: under the per-address limit
					body["contact_email"] = fmt.Sprintf("hostile.%d@proton.example", unique)
					body["new_account_email"] = body["contact_email"]
				}
			}
			path, rawQuery, bodyText := fill(params, q, body)
			c := hostileCall{what: what, role: role, method: op.method, path: path}
			if rawQuery != "" {
				c.path += "?" + rawQuery
			}
			switch {
			case op.body != nil:
				c.body, c.ct = bodyText, "application/json"
			case op.form != nil:
				c.body, c.ct = bodyText, "application/x-www-form-urlencoded"
			}
			calls = append(calls, c)
		}
	}
	expand := func(op hostileOp, params map[string]string) string {
		p := op.path
		for k, v := range params {
			p = strings.ReplaceAll(p, "{"+k+"}", v)
		}
		return p
	}
	const slot = "HOSTILE-SLOT"
	marshal := func(body map[string]any, field string) string {
		if body == nil {
			return ""
		}
		name, index, isArray := strings.Cut(strings.TrimSuffix(field, "]"), "[")
		if field != "" {
			if isArray {
				list, _ := body[name].([]any)
				list = append([]any{}, list...)
				for len(list) < 2 {
					list = append(list, "x")
				}
				list[map[string]int{"0": 0, "1": 1}[index]] = slot
				body[name] = list
			} else {
				body[name] = slot
			}
		}
		b, _ := json.Marshal(body)
		return string(b)
	}
	form := func(op hostileOp, field, value string) string {
		f := url.Values{}
		for _, k := range op.form {
			f.Set(k, "x")
		}
		if field != "" {
			f.Set(field, value)
		}
		return f.Encode()
	}
	type opCalls struct {
		op       hostileOp
		baseline []hostileCall // the same calls with plain text
		calls    []hostileCall
	}
	var byOp []opCalls
	for _, op := range hostileOps(t) {
		calls = nil
		for _, plain := range []string{"x", ""} {
			add(op, "plain text", func(params map[string]string, q url.Values, body map[string]any) (string, string, string) {
				for _, name := range op.query {
					q.Set(name, plain)
				}
				f := url.Values{}
				for _, k := range op.form {
					f.Set(k, plain)
				}
				return expand(op, params), q.Encode(), marshal(body, "") + f.Encode()
			})
		}
		baseline := calls
		calls = nil
		for _, v := range values {
			if v.json != "" {
				// Only JSON can say it: in bodies only.
				for _, field := range op.bodySlots {
					add(op, fmt.Sprintf("%s in body %s", v.name, field), func(params map[string]string, _ url.Values, body map[string]any) (string, string, string) {
						return expand(op, params), "", strings.Replace(marshal(body, field), `"`+slot+`"`, v.jsonToken(), 1)
					})
				}
				continue
			}
			for _, p := range op.pathParams {
				add(op, fmt.Sprintf("%s in path %s", v.name, p), func(params map[string]string, _ url.Values, body map[string]any) (string, string, string) {
					params[p] = url.PathEscape(v.raw)
					return expand(op, params), "", marshal(body, "") + form(op, "", "")
				})
			}
			for _, name := range op.query {
				add(op, fmt.Sprintf("%s in query %s", v.name, name), func(params map[string]string, q url.Values, body map[string]any) (string, string, string) {
					q.Set(name, v.raw)
					return expand(op, params), q.Encode(), marshal(body, "") + form(op, "", "")
				})
			}
			for _, field := range op.bodySlots {
				add(op, fmt.Sprintf("%s in body %s", v.name, field), func(params map[string]string, _ url.Values, body map[string]any) (string, string, string) {
					return expand(op, params), "", strings.Replace(marshal(body, field), `"`+slot+`"`, v.jsonToken(), 1)
				})
			}
			for _, field := range op.form {
				add(op, fmt.Sprintf("%s in form %s", v.name, field), func(params map[string]string, _ url.Values, _ map[string]any) (string, string, string) {
					return expand(op, params), "", form(op, field, v.raw)
				})
			}
		}
		for _, raw := range rawPathValues {
			for _, p := range op.pathParams {
				add(op, fmt.Sprintf("raw %s in path %s", raw, p), func(params map[string]string, _ url.Values, body map[string]any) (string, string, string) {
					params[p] = raw
					return expand(op, params), "", marshal(body, "") + form(op, "", "")
				})
			}
		}
		for _, raw := range rawQueryValues {
			for _, name := range op.query {
				add(op, fmt.Sprintf("raw %s in query %s", raw, name), func(params map[string]string, _ url.Values, body map[string]any) (string, string, string) {
					return expand(op, params), url.QueryEscape(name) + "=" + raw, marshal(body, "") + form(op, "", "")
				})
			}
		}
		byOp = append(byOp, opCalls{op: op, baseline: baseline, calls: calls})
	}

	// Send them, a few at a time, each from its own address.
	var (
		mu          sync.Mutex
		statuses    = map[int]int{}
		accepted    = map[string]string{} // case id → the call that opened it
		recoveries  []string              // 202s without an id (the public form)
		sent        atomic.Int64
		unsendable  atomic.Int64
		client      = *s.HTTP
		started     = time.Now()
		forwardedIP atomic.Int64
	)
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	send := func(t *testing.T, c hostileCall) (int, []byte) {
		req, err := http.NewRequest(c.method, s.URL+c.path, strings.NewReader(c.body))
		if err != nil {
			unsendable.Add(1) // Go's client refuses to write it (a raw "%" in a path)
			return 0, nil
		}
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		if tok := tokens[c.role]; tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		n := forwardedIP.Add(1)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
		resp, err := client.Do(req)
		if err != nil {
			t.Errorf("%s %s (%s, %s): %v", c.method, clip(c.path), c.role, c.what, err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		sent.Add(1)
		mu.Lock()
		defer mu.Unlock()
		statuses[resp.StatusCode]++
		if resp.StatusCode == http.StatusAccepted {
			var out struct {
				ID string `json:"id"`
			}
			_ = json.Unmarshal(b, &out)
			if out.ID != "" {
				accepted[out.ID] = c.method + " " + clip(c.path) + " (" + c.role + ", " + c.what + ")"
			} else {
				recoveries = append(recoveries, c.what)
			}
		}
		return resp.StatusCode, b
	}
	for _, oc := range byOp {
		t.Run(oc.op.method+" "+oc.op.path, func(t *testing.T) {
			// A route that fails without any hostile text has a defect of its
			// own: it fails the test, named, before its hostile calls.
			for _, c := range oc.baseline {
				if code, b := send(t, c); code >= 500 {
					t.Fatalf("defect, not of the input: %s %s (%s) answers %d without any hostile text: %s", c.method, clip(c.path), c.role, code, clip(string(b)))
				}
			}
			next := make(chan hostileCall)
			var wg sync.WaitGroup
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for c := range next {
						if code, b := send(t, c); code >= 500 {
							t.Errorf("%s %s (%s, %s) = %d %s", c.method, clip(c.path), c.role, c.what, code, clip(string(b)))
						}
					}
				}()
			}
			for _, c := range oc.calls {
				next <- c
			}
			close(next)
			wg.Wait()
		})
	}
	t.Logf("%d requests (%d not sendable by Go's client) in %v, statuses %v; %d cases opened, %d recovery requests accepted",
		sent.Load(), unsendable.Load(), time.Since(started).Round(time.Millisecond), statuses, len(accepted), len(recoveries))

	// Every public recovery request that was accepted is a case the agent
	// sees, with the others accepted here.
	agent := tokens["agent"]
	var recoveryCases []string
	s.Eventually(fmt.Sprintf("%d recovery cases in the agent's list", len(recoveries)), func() bool {
		recoveryCases = listCases(t, s, agent, "recovery")
		return len(recoveryCases) >= len(recoveries)
	})
	for _, id := range recoveryCases {
		if _, ok := accepted[id]; !ok {
			accepted[id] = "POST /api/v1/recovery-requests (a public request)"
		}
	}
	// Each is visible and its workflow neither failed nor stalls on a
	// retrying activity.
	ids := make([]string, 0, len(accepted))
	for id := range accepted {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		var cs certdesk.Case
		s.Eventually("case "+id+" visible", func() bool {
			r := s.Do("GET", "/api/v1/cases/"+id, agent, nil)
			if r.Code != http.StatusOK {
				return false
			}
			r.Decode(t, &cs)
			return true
		})
		if cs.Status == certdesk.StatusFailed {
			t.Errorf("case %s from %s ended failed", id, accepted[id])
		}
		c, err := s.Store.Case(ctx, id)
		if err != nil {
			t.Errorf("case %s from %s: %v", id, accepted[id], err)
			continue
		}
		if problem := workflowProblem(ctx, s, c.WorkflowID); problem != "" {
			t.Errorf("case %s from %s: its workflow %s", id, accepted[id], problem)
		}
	}
}

// listCases lists every case of a kind the caller sees, page by page.
func listCases(t *testing.T, s *stacktest.Stack, token string, kind certdesk.Kind) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for {
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
			NextCursor string `json:"next_cursor"`
		}
		r := s.Do("GET", "/api/v1/cases?limit=100&kind="+string(kind)+"&cursor="+cursor, token, nil)
		if r.Code != http.StatusOK {
			t.Fatalf("case list = %d %s", r.Code, r.Body)
		}
		r.Decode(t, &page)
		for _, it := range page.Items {
			ids = append(ids, it.ID)
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

// workflowProblem waits a little for a case's workflow to settle (no
// activity retrying) and says what is wrong with it, or "".
func workflowProblem(ctx context.Context, s *stacktest.Stack, workflowID string) string {
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := s.Client.DescribeWorkflowExecution(ctx, workflowID, "")
		if err != nil {
			return "cannot be described: " + err.Error()
		}
		switch st := d.GetWorkflowExecutionInfo().GetStatus(); st {
		case enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED, enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:
			return "ended " + st.String()
		}
		retrying := ""
		for _, a := range d.GetPendingActivities() {
			if a.GetAttempt() > 1 {
				retrying = fmt.Sprintf("retries %s (attempt %d): %s", a.GetActivityType().GetName(), a.GetAttempt(), a.GetLastFailure().GetMessage())
			}
		}
		if retrying == "" {
			return ""
		}
		if time.Now().After(deadline) {
			return retrying
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func clip(s string) string {
	if len(s) > 160 {
		return fmt.Sprintf("%q…", s[:160])
	}
	return fmt.Sprintf("%q", s)
}
