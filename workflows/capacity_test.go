package workflows_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/proto"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/config"
	"github.com/certdesk/certdesk/mail"
	"github.com/certdesk/certdesk/stacktest"
	"github.com/certdesk/certdesk/workflows"
)

// What one case costs Temporal, read from the committed replay corpus
// (testdata/histories: real runs recorded by the end-to-end tests, with
// encrypted payloads, so the sizes are what a deployment stores). The
// figures feed docs/capacity.md; `go test -run Capacity -v ./workflows`
// prints them as the document's table.

// historyCost is what one recorded history costs.
type historyCost struct {
	name, kind string
	events     int
	tasks      int // workflow tasks completed
	protoBytes int // the events as Temporal stores them (protobuf)
	jsonBytes  int // the file
	// actions are Temporal Cloud's billable actions by its documented
	// definitions (docs.temporal.io/cloud/actions); actionsHigh also counts
	// what the definitions leave open: a GetVersion-only marker task and a
	// TemporalChangeVersion-only upsert.
	actions, actionsHigh int
}

// The documented action definitions, as they apply to certdesk's events:
//   - a workflow start is one (a schedule's run is three: two for the
//     schedule, one for the start);
//   - an activity scheduled is one, each retried attempt one more (the
//     started event's attempt − 1);
//   - all the local activities of one workflow task are one, plus their
//     retried attempts (metering metadata of the task's completion);
//   - a timer started, a signal received, an update accepted are one each
//     (rejected updates are not in the history: see the document);
//   - a child workflow's initiation is one here, its start one in its own
//     history;
//   - a search-attribute upsert is one, unless it only sets
//     TemporalChangeVersion (exempt).
func costOf(name string, h *historypb.History) historyCost {
	c := historyCost{name: name, kind: strings.SplitN(name, "-", 2)[0]}
	laTask, markerTask := false, false // the current workflow task recorded such a marker
	closeTask := func() {
		if laTask {
			c.actions++
			c.actionsHigh++
		} else if markerTask {
			c.actionsHigh++
		}
		laTask, markerTask = false, false
	}
	for _, ev := range h.GetEvents() {
		c.events++
		c.protoBytes += proto.Size(ev)
		switch ev.GetEventType() {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			n := 1
			if _, ok := ev.GetWorkflowExecutionStartedEventAttributes().GetSearchAttributes().GetIndexedFields()["TemporalScheduledById"]; ok {
				n = 3
			}
			c.actions += n
			c.actionsHigh += n
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
			closeTask()
			c.tasks++
			n := int(ev.GetWorkflowTaskCompletedEventAttributes().GetMeteringMetadata().GetNonfirstLocalActivityExecutionAttempts())
			c.actions += n
			c.actionsHigh += n
		case enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED:
			closeTask()
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			if ev.GetMarkerRecordedEventAttributes().GetMarkerName() == "LocalActivity" {
				laTask = true
			} else {
				markerTask = true
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if n := int(ev.GetActivityTaskStartedEventAttributes().GetAttempt()) - 1; n > 0 {
				c.actions += n
				c.actionsHigh += n
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
			enumspb.EVENT_TYPE_TIMER_STARTED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
			enumspb.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
			enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
			c.actions++
			c.actionsHigh++
		case enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			fields := ev.GetUpsertWorkflowSearchAttributesEventAttributes().GetSearchAttributes().GetIndexedFields()
			if _, ok := fields["TemporalChangeVersion"]; !ok || len(fields) > 1 {
				c.actions++
			}
			c.actionsHigh++
		}
	}
	closeTask()
	return c
}

// readCosts reads every committed history.
func readCosts(t *testing.T) []historyCost {
	t.Helper()
	files, err := filepath.Glob("testdata/histories/*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no histories under testdata/histories")
	}
	sort.Strings(files)
	var out []historyCost
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		h, err := client.HistoryFromJSON(strings.NewReader(string(raw)), client.HistoryJSONOptions{})
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		c := costOf(strings.TrimSuffix(filepath.Base(f), ".json"), h)
		c.jsonBytes = len(raw)
		out = append(out, c)
	}
	return out
}

// historyBounds are the most a case of each kind may cost before the
// document has to be redone: about 1.5× the largest recorded branch when
// they were set (docs/capacity.md, "Temporal"). A history that grows past
// one is a workflow change that changes the sizing.
var historyBounds = map[string]struct{ events, protoBytes, actions int }{
	"connect":  {events: 100, protoBytes: 32_000, actions: 27},
	"merge":    {events: 70, protoBytes: 39_000, actions: 17},
	"recovery": {events: 140, protoBytes: 57_000, actions: 42},
	"sweep":    {events: 55, protoBytes: 9_000, actions: 11},
	"unmerge":  {events: 75, protoBytes: 45_000, actions: 21},
	"inquiry":  {events: 60, protoBytes: 30_000, actions: 15},
	"reply":    {events: 20, protoBytes: 8_000, actions: 4},
}

// historyTable is the document's table of every recorded branch.
func historyTable(costs []historyCost) string {
	var b strings.Builder
	b.WriteString("| history | events | workflow tasks | bytes (protobuf) | bytes (JSON file) | actions | actions, upper bound |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|\n")
	for _, c := range costs {
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d | %d |\n", c.name, c.events, c.tasks, c.protoBytes, c.jsonBytes, c.actions, c.actionsHigh)
	}
	return b.String()
}

var docTable = regexp.MustCompile(`(?s)<!-- capacity:histories -->\n(.*?)<!-- /capacity:histories -->`)

func TestCapacityHistories(t *testing.T) {
	costs := readCosts(t)
	table := historyTable(costs)
	t.Logf("per-case cost of every recorded history (paste between the capacity:histories markers of docs/capacity.md):\n%s", table)

	for _, c := range costs {
		b, ok := historyBounds[c.kind]
		if !ok {
			t.Errorf("%s: kind %q has no bound in historyBounds: add one, and its row in docs/capacity.md", c.name, c.kind)
			continue
		}
		if c.events > b.events || c.protoBytes > b.protoBytes || c.actions > b.actions {
			t.Errorf("%s: %d events, %d bytes, %d actions; the %s bound is %d events, %d bytes, %d actions: the sizing in docs/capacity.md no longer holds; redo it and raise the bound",
				c.name, c.events, c.protoBytes, c.actions, c.kind, b.events, b.protoBytes, b.actions)
		}
		if c.actions == 0 || c.actions > c.actionsHigh {
			t.Errorf("%s: %d actions, upper bound %d: the count is broken", c.name, c.actions, c.actionsHigh)
		}
	}

	doc, err := os.ReadFile(filepath.Join("..", "docs", "capacity.md"))
	if err != nil {
		t.Fatalf("docs/capacity.md: %v", err)
	}
	m := docTable.FindSubmatch(doc)
	if m == nil {
		t.Fatal("docs/capacity.md has no table between <!-- capacity:histories --> and <!-- /capacity:histories -->")
	}
	if got := string(m[1]); got != table {
		t.Errorf("docs/capacity.md's history table is not what the corpus gives; it should read:\n%s", table)
	}
}

// The case kinds' ordinary paths: the costs the sizing multiplies.
func TestCapacityHistoriesKnowTheSizedPaths(t *testing.T) {
	have := map[string]bool{}
	for _, c := range readCosts(t) {
		have[c.name] = true
	}
	for _, name := range []string{"connect-ana-at-once", "connect-ben-link", "connect-chen-merge-into-owned", "merge-child-approved",
		"merge-approve", "recovery-completed", "recovery-info-then-completed", "sweep-daily"} {
		if !have[name] {
			t.Errorf("the sizing in docs/capacity.md multiplies %s's cost, and its history is gone: record it again or redo the sizing", name)
		}
	}
}

// What one case leaves in PostgreSQL: whole cases of each kind run through
// the HTTP API on the embedded stack (the real workflows and activities,
// PostgreSQL, one webhook subscriber of every event), the tables measured
// before and after each batch. `CERTDESK_CAPACITY_CASES=200 go test -run
// CapacityDatabase -v ./workflows` is the run docs/capacity.md quotes.
func TestCapacityDatabase(t *testing.T) {
	if testing.Short() {
		t.Skip("runs whole cases on PostgreSQL")
	}
	n := 30
	if v := os.Getenv("CERTDESK_CAPACITY_CASES"); v != "" {
		if _, err := fmt.Sscan(v, &n); err != nil || n < 1 {
			t.Fatalf("CERTDESK_CAPACITY_CASES=%q: want a positive number", v)
		}
	}
	h := newCapacityHarness(t, n)
	report := map[string]tableDelta{}
	took := map[string]time.Duration{}
	measure := func(phase string, run func()) {
		before := h.tables()
		began := time.Now()
		run()
		defer func() { took[phase] = time.Since(began) }()
		// The webhook sender's last round, and PostgreSQL's statistics:
		// a backend flushes its counters within 10 s of going idle.
		time.Sleep(11 * time.Second)
		report[phase] = h.tables().minus(before)
	}
	time.Sleep(11 * time.Second) // the set-up's counters
	// The stack's own work with no case: the webhook sender's polls.
	measure("idle", func() { time.Sleep(10 * time.Second) })
	measure("sign-in", h.signIn)
	measure("connect", h.connectAtOnce)
	measure("connect+merge", h.connectWithMerge)
	measure("recovery", h.recovery)
	var swept workflows.SweepResult
	measure("sweep", func() { swept = h.sweep() })
	t.Logf("sweep over %d stale accounts: %+v in %.1f s (with the 11 s wait)", 2*h.stale, swept, took["sweep"].Seconds())
	if swept.Reminded != h.stale || swept.Inactivated != h.stale || swept.Sent != 2*h.stale {
		t.Errorf("sweep = %+v, want %d reminded, %d inactivated, %d sent", swept, h.stale, h.stale, 2*h.stale)
	}

	var b strings.Builder
	idle := report["idle"]
	idleSecs := took["idle"].Seconds()
	fmt.Fprintf(&b, "\nidle stack (the test's webhook sender polls every 20 ms; production's 100 ms): %.1f transactions/s, %.1f rows written/s\n",
		float64(idle[statXact].rows)/idleSecs, float64(idle[statIns].rows+idle[statUpd].rows+idle[statDel].rows)/idleSecs)
	for _, phase := range []string{"sign-in", "connect", "connect+merge", "recovery", "sweep"} {
		d := report[phase]
		learners := n
		switch phase {
		case "sign-in":
			learners = 2 * n // Ana's and Chen's
		case "sweep":
			learners = 2 * h.stale // per account reminded or made inactive
		}
		// Rows written, per learner (the idle stack writes none).
		perN := func(k string) float64 { return float64(d[k].rows) / float64(learners) }
		fmt.Fprintf(&b, "\n%s: per learner, rows inserted %.1f, updated %.1f, deleted %.1f\n", phase, perN(statIns), perN(statUpd), perN(statDel))
		fmt.Fprintf(&b, "%s (per learner, %d learners, %.1f s):\n| table | rows | bytes (table + indexes) | bytes (row data) |\n|---|--:|--:|--:|\n", phase, learners, took[phase].Seconds())
		var total, data float64
		for _, name := range capacityTables {
			r := d[name]
			if r.rows == 0 && r.bytes == 0 {
				continue
			}
			per := float64(learners)
			fmt.Fprintf(&b, "| %s | %.2f | %.0f | %.0f |\n", name, float64(r.rows)/per, float64(r.bytes)/per, float64(r.data)/per)
			if name != "captured_mails" && name != "dev_webhook_receipts" {
				total += float64(r.bytes) / per
				data += float64(r.data) / per
			}
		}
		fmt.Fprintf(&b, "| **all but dev-only tables** | | %.0f | %.0f |\n", total, data)
		// Row data is exact; table sizes move a page (8 KB) at a time.
		if bound := databaseBounds[phase]; data > bound {
			t.Errorf("%s: %.0f bytes of rows per learner, over the %0.f the sizing in docs/capacity.md assumes: redo it", phase, data, bound)
		}
	}
	t.Logf("database cost per learner (rows and bytes added, divided by %d):%s", n, b.String())

	// Each kind writes its case, its timeline and its domain events.
	for phase, want := range map[string][]string{"connect": {"cases", "case_events", "domain_events", "emails"},
		"connect+merge": {"cases", "case_events", "domain_events", "emails", "audit_log"},
		"recovery":      {"cases", "case_events", "domain_events", "emails", "link_tokens", "audit_log"}} {
		for _, table := range want {
			if report[phase][table].rows <= 0 {
				t.Errorf("%s added no rows to %s: the measurement is broken", phase, table)
			}
		}
	}
}

// databaseBounds are the bytes of row data per learner the sizing in
// docs/capacity.md assumes (about 1.5× what it measured), before indexes,
// dead row versions and page overhead.
var databaseBounds = map[string]float64{"sign-in": 550, "connect": 5_300, "connect+merge": 15_000, "recovery": 12_000, "sweep": 1_500}

// capacityTables are the tables a case can write.
var capacityTables = []string{"cases", "case_events", "emails", "link_tokens", "audit_log", "domain_events",
	"webhook_deliveries", "webhook_attempts", "sessions", "accounts", "learning_profiles", "certification_profiles",
	"certifications", "transcript_entries", "certification_profile_history", "account_notices", "rate_limits",
	"captured_mails", "dev_webhook_receipts"}

type tableSize struct{ rows, bytes, data int64 }

type tableDelta map[string]tableSize

func (a tableDelta) minus(b tableDelta) tableDelta {
	out := tableDelta{}
	for k, v := range a {
		out[k] = tableSize{rows: v.rows - b[k].rows, bytes: v.bytes - b[k].bytes, data: v.data - b[k].data}
	}
	return out
}

// capacityHarness is a stack with n learners of each shape.
type capacityHarness struct {
	t     *testing.T
	s     *stacktest.Stack
	n     int
	ana   []capacityLearner
	chen  []capacityLearner
	dara  []capacityLearner
	agent string
	hits  int // distinct client addresses, so per-client limits do not refuse the run
	stale int // accounts due a reminder, and as many due to become inactive
}

type capacityLearner struct {
	signIn, token, mcid, newEmail string
	profiles                      []string
	caseID                        string
}

func newCapacityHarness(t *testing.T, n int) *capacityHarness {
	s := stacktest.Start(t, stacktest.Options{Dialect: "postgres", Configure: func(c *config.Config) {
		c.CoolingOff = time.Second
		c.TrustedProxies = []string{"127.0.0.1"}
	}})
	h := &capacityHarness{t: t, s: s, n: n}
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) }))
	t.Cleanup(recv.Close)
	if _, err := s.Store.CreateSubscriber(context.Background(), recv.URL, []string{"*"}, "whsec_"+base64.StdEncoding.EncodeToString([]byte("capacity-test-secret-32-bytes!!!"))); err != nil {
		t.Fatal(err)
	}
	db := s.Store.SQL()
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	lp := func(name string) string {
		id := certdesk.NewID()
		exec("INSERT INTO learning_profiles (id, display_name, created_at) VALUES ($1, $2, $3)", id, name, now.AddDate(-3, 0, 0))
		return id
	}
	account := func(email, name, status string, lastSignIn time.Time, lpID any) string {
		id := certdesk.NewID()
		exec("INSERT INTO accounts (id, email, kind, display_name, status, last_sign_in_at, learning_profile_id, created_at) VALUES ($1, $2, 'personal', $3, $4, $5, $6, $7)",
			id, email, name, status, lastSignIn, lpID, now.AddDate(-4, 0, 0))
		return id
	}
	profile := func(mcid, name, email, owner string, created time.Time) string {
		id := certdesk.NewID()
		exec("INSERT INTO certification_profiles (id, mcid, legal_name, email, owner_account_id, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'active', $6, $6)",
			id, mcid, name, email, owner, created)
		// Two certifications and their exams, as the demo profiles carry.
		for j, code := range []string{"AZ-900", "MS-900"} {
			earned := created.AddDate(0, j+1, 0)
			exec("INSERT INTO certifications (id, profile_id, code, title, earned_at, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $5)",
				certdesk.NewID(), id, code, "Microsoft Certified: "+code+" Fundamentals", earned, earned.AddDate(3, 0, 0))
			exec("INSERT INTO transcript_entries (id, profile_id, exam_code, exam_title, score, passed, taken_at, created_at) VALUES ($1, $2, $3, $4, 800, TRUE, $5, $5)",
				certdesk.NewID(), id, code, "Microsoft "+code+" Fundamentals", earned)
		}
		return id
	}
	recent := now.Add(-72 * time.Hour)
	for i := range n {
		name := "Ana Capacity " + capacityLetters(i)
		email := fmt.Sprintf("ana.capacity.%d@outlook.example", i)
		a := account(email, name, "active", recent, lp(name))
		h.ana = append(h.ana, capacityLearner{signIn: email, profiles: []string{profile(fmt.Sprint(70_000_000+i), name, email, a, now.AddDate(-2, 0, 0))}})

		name = "Chen Capacity " + capacityLetters(i)
		email = fmt.Sprintf("chen.capacity.%d@outlook.example", i)
		a = account(email, name, "active", recent, lp(name))
		b := account(fmt.Sprintf("c.capacity.%d@gmail.example", i), name, "active", recent, nil)
		h.chen = append(h.chen, capacityLearner{signIn: email, profiles: []string{
			profile(fmt.Sprint(71_000_000+i), name, email, a, now.AddDate(-2, 0, 0)),
			profile(fmt.Sprint(72_000_000+i), name, email, b, now.AddDate(-3, 0, 0))}})

		name = "Dara Capacity " + capacityLetters(i)
		email = fmt.Sprintf("dara.capacity.%d@outlook.example", i)
		a = account(email, name, "inactive", now.AddDate(-3, 0, 0), lp(name))
		mcid := fmt.Sprint(73_000_000 + i)
		h.dara = append(h.dara, capacityLearner{signIn: email, mcid: mcid, newEmail: fmt.Sprintf("dara.capacity.%d@proton.example", i),
			profiles: []string{profile(mcid, name, email, a, now.AddDate(-5, 0, 0))}})
	}
	// The sweep's: accounts unused for 23½ months (a reminder) and for 25
	// (inactive), ten of each per learner of a shape.
	h.stale = 10 * n
	for i := range h.stale {
		for _, k := range []struct {
			who    string
			months int
		}{{"remind", -23}, {"lapse", -25}} {
			name := "Sweep Capacity " + capacityLetters(i)
			account(fmt.Sprintf("%s.capacity.%d@outlook.example", k.who, i), name, "active", now.AddDate(0, k.months, -15), lp(name))
		}
	}
	exec("ANALYZE")
	h.agent = h.login("bob.agent@certdesk.example")
	return h
}

func capacityLetters(n int) string {
	b := []byte{'A' + byte(n%26)}
	for n /= 26; n > 0; n /= 26 {
		b = append(b, 'a'+byte(n%26))
	}
	return string(b)
}

// PostgreSQL's counters, kept in tableDelta's rows beside the tables.
const (
	statXact = "_transactions"
	statIns  = "_inserted"
	statUpd  = "_updated"
	statDel  = "_deleted"
)

// tables reads the row count and size of every table a case can write, and
// the database's transaction and row counters.
func (h *capacityHarness) tables() tableDelta {
	h.t.Helper()
	out := tableDelta{}
	var xact, ins, upd, del int64
	db := h.s.Store.SQL()
	if err := db.QueryRow("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").Scan(&xact); err != nil {
		h.t.Fatal(err)
	}
	if err := db.QueryRow("SELECT sum(n_tup_ins), sum(n_tup_upd), sum(n_tup_del) FROM pg_stat_user_tables").Scan(&ins, &upd, &del); err != nil {
		h.t.Fatal(err)
	}
	out[statXact], out[statIns], out[statUpd], out[statDel] = tableSize{rows: xact}, tableSize{rows: ins}, tableSize{rows: upd}, tableSize{rows: del}
	for _, name := range capacityTables {
		var sz tableSize
		q := fmt.Sprintf("SELECT count(*), pg_total_relation_size('%s'), COALESCE(sum(pg_column_size(t.*)), 0) FROM %s t", name, name)
		if err := h.s.Store.SQL().QueryRow(q).Scan(&sz.rows, &sz.bytes, &sz.data); err != nil {
			h.t.Fatalf("%s: %v", q, err)
		}
		out[name] = sz
	}
	return out
}

// do sends a request from its own client address (behind the trusted
// proxy), as learners on their own machines would.
func (h *capacityHarness) do(method, path, token string, body any) (int, []byte) {
	h.t.Helper()
	req, err := stacktest.NewRequest(method, h.s.URL+path, token, body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.hits++
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", h.hits>>16&255, h.hits>>8&255, h.hits&255))
	c := *h.s.HTTP
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := c.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func (h *capacityHarness) expect(want int, method, path, token string, body any, out any) {
	h.t.Helper()
	code, b := h.do(method, path, token, body)
	if code != want {
		h.t.Fatalf("%s %s = %d %s, want %d", method, path, code, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			h.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

func (h *capacityHarness) login(email string) string {
	h.t.Helper()
	var out struct{ Token string }
	h.expect(http.StatusOK, "POST", "/dev/login", "", map[string]string{"email": email}, &out)
	return out.Token
}

func (h *capacityHarness) signIn() {
	for _, group := range [][]capacityLearner{h.ana, h.chen} {
		for i := range group {
			group[i].token = h.login(group[i].signIn)
		}
	}
}

func (h *capacityHarness) connect(l *capacityLearner) {
	var c certdesk.Case
	h.expect(http.StatusAccepted, "POST", "/api/v1/connect-requests", l.token, nil, &c)
	l.caseID = c.ID
}

func (h *capacityHarness) awaitEnd(id string, want certdesk.Status) {
	h.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		c, err := h.s.Store.Case(context.Background(), id)
		if err == nil && c.Status == want {
			return
		}
		if err == nil && c.Status.Terminal() {
			h.t.Fatalf("case %s ended %s/%s, want %s", id, c.Status, c.Resolution, want)
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("case %s: still %s after a minute, want %s", id, c.Status, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *capacityHarness) connectAtOnce() {
	for i := range h.ana {
		h.connect(&h.ana[i])
	}
	for _, l := range h.ana {
		h.awaitEnd(l.caseID, certdesk.StatusCompleted)
	}
}

func (h *capacityHarness) connectWithMerge() {
	for i := range h.chen {
		h.connect(&h.chen[i])
	}
	for _, l := range h.chen {
		var mergeID string
		deadline := time.Now().Add(time.Minute)
		for mergeID == "" {
			c, err := h.s.Store.Case(context.Background(), l.caseID)
			if err == nil {
				var d certdesk.ConnectDetails
				_ = json.Unmarshal(c.Details, &d)
				if m, err := h.s.Store.Case(context.Background(), d.MergeCaseID); d.MergeCaseID != "" && err == nil && m.Status == certdesk.StatusAwaitingAgent {
					mergeID = m.ID
				}
			}
			if time.Now().After(deadline) {
				h.t.Fatalf("connect case %s: no merge awaiting an agent after a minute", l.caseID)
			}
			time.Sleep(20 * time.Millisecond)
		}
		h.expect(http.StatusOK, "POST", "/api/v1/cases/"+mergeID+"/decision", h.agent, map[string]string{"decision": "approve", "note": "same person"}, nil)
	}
	for _, l := range h.chen {
		h.awaitEnd(l.caseID, certdesk.StatusCompleted)
	}
}

// sweep runs the inactivity sweep once, as its schedule would.
func (h *capacityHarness) sweep() workflows.SweepResult {
	h.t.Helper()
	ctx := context.Background()
	run, err := h.s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "capacity-sweep-" + certdesk.NewID(), TaskQueue: h.s.Config.TaskQueue},
		workflows.InactivitySweep, workflows.SweepInput{})
	var res workflows.SweepResult
	if err == nil {
		err = run.Get(ctx, &res)
	}
	if err != nil {
		h.t.Fatalf("sweep: %v", err)
	}
	return res
}

func (h *capacityHarness) recovery() {
	for i, l := range h.dara {
		h.expect(http.StatusAccepted, "POST", "/api/v1/recovery-requests", "", map[string]string{
			"legal_name": "Dara Capacity " + capacityLetters(i), "contact_email": l.newEmail, "mcid": l.mcid,
			"previous_email": l.signIn, "new_account_email": l.newEmail, "exam": "MS-900",
			"description": "My old account was closed; I can't sign in to my certification profile."}, nil)
	}
	for i := range h.dara {
		l := &h.dara[i]
		m := h.s.AwaitMail(l.newEmail, mail.RecoveryVerify)
		l.caseID = m.CaseID
		link := m.Link(h.t)
		h.expect(http.StatusOK, "GET", link, "", nil, nil)
		h.expect(http.StatusOK, "POST", link, "", stacktest.Form{}, nil)
	}
	for _, l := range h.dara {
		h.s.AwaitStatus(l.caseID, certdesk.StatusAwaitingAgent)
		h.expect(http.StatusOK, "POST", "/api/v1/cases/"+l.caseID+"/claim", h.agent, nil, nil)
		h.expect(http.StatusOK, "POST", "/api/v1/cases/"+l.caseID+"/decision", h.agent,
			map[string]string{"decision": "approve", "profile_id": l.profiles[0], "note": "MCID, name and old address match"}, nil)
	}
	for _, l := range h.dara {
		h.awaitEnd(l.caseID, certdesk.StatusCompleted)
	}
}
