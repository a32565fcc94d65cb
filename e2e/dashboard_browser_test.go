package e2e_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// Sam, a supervisor, opens the dashboard from the menu after a day of
// three cases: Ana connected at once, Ben waits to add his personal
// account, Chen's merge approved by Alice. The charts are drawn (accessible
// SVG), the tables hold those numbers, the CSV and GET /api/v1/stats the
// same; Alice, an agent, gets 403 from both.
func TestBrowserDashboard(t *testing.T) {
	s := start(t)
	samT, aliceT := s.Login("sam.supervisor@certdesk.example"), s.Login("alice.agent@certdesk.example")

	ana := requestConnect(t, s, s.Login("ana.silva@outlook.example"))
	awaitEnd(t, s, ana.ID, certdesk.StatusCompleted, certdesk.ConnectConnected)
	ben := requestConnect(t, s, s.Login(benWork))
	s.AwaitStatus(ben.ID, certdesk.StatusAwaitingLearner)
	merge := chenMerge(t, s)
	if r := s.Do("POST", "/api/v1/cases/"+merge.ID+"/claim", aliceT, nil); r.Code != http.StatusOK {
		t.Fatalf("Alice claims the merge: %d %s", r.Code, r.Body)
	}
	decide(t, s, aliceT, merge.ID, map[string]string{"decision": "approve", "note": "Same person."}, http.StatusOK)
	s.AwaitStatus(merge.ID, certdesk.StatusCompleted)

	// The API: supervisors only, and the figures are the three cases.
	if r := s.Do("GET", "/api/v1/stats", aliceT, nil); r.Code != http.StatusForbidden {
		t.Errorf("Alice GET /api/v1/stats = %d, want 403", r.Code)
	}
	r := s.Do("GET", "/api/v1/stats", samT, nil)
	if r.Code != http.StatusOK {
		t.Fatalf("Sam GET /api/v1/stats = %d %s", r.Code, r.Body)
	}
	var st store.Stats
	r.Decode(t, &st)
	wantOpen := []store.OpenCount{{Kind: certdesk.KindConnect, Status: certdesk.StatusAwaitingLearner, N: 1}}
	if len(st.Open) != 1 || st.Open[0] != wantOpen[0] {
		t.Errorf("open = %+v, want %+v", st.Open, wantOpen)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	opened, closed := map[certdesk.Kind]int64{}, map[certdesk.Kind]int64{}
	for _, d := range st.Days {
		if d.Day == today {
			opened[d.Kind], closed[d.Kind] = d.Opened, d.Closed
		}
	}
	if opened[certdesk.KindConnect] != 2 || opened[certdesk.KindMerge] != 1 || closed[certdesk.KindConnect] != 1 || closed[certdesk.KindMerge] != 1 {
		t.Errorf("today opened %v, closed %v; want 2 connects and a merge opened, one of each closed", opened, closed)
	}
	if len(st.Resolution) != 2 || st.Resolution[0].Kind != certdesk.KindConnect || st.Resolution[0].Closed != 1 ||
		st.Resolution[1].Kind != certdesk.KindMerge || st.Resolution[1].Closed != 1 {
		t.Errorf("resolution = %+v, want a connect and a merge closed", st.Resolution)
	}
	if st.Review.Total != 0 {
		t.Errorf("security review = %+v, want none", st.Review)
	}

	// Alice is refused the page and its CSV.
	alice := newBrowser(t, s, "alice")
	alice.signIn("alice.agent@certdesk.example")
	if n := len(alice.nodes(`nav a[href="/console/dashboard"]`)); n != 0 {
		t.Errorf("an agent's menu offers the dashboard")
	}
	if code := alice.navigate("open the dashboard", chromedp.Navigate(s.URL+"/console/dashboard")); code != http.StatusForbidden {
		t.Errorf("Alice's /console/dashboard = %d, want 403", code)
	}
	alice.shot("dashboard-refused")
	if code := alice.navigate("download the CSV", chromedp.Navigate(s.URL+"/console/dashboard.csv")); code != http.StatusForbidden {
		t.Errorf("Alice's /console/dashboard.csv = %d, want 403", code)
	}

	// Sam opens it from the menu.
	sam := newBrowser(t, s, "sam")
	sam.signIn("sam.supervisor@certdesk.example")
	if code := sam.navigate("open the dashboard", chromedp.Click(chromedp.CSS(`nav a[href="/console/dashboard"]`))); code != http.StatusOK {
		t.Fatalf("Sam's dashboard = %d", code)
	}
	sam.waitText("h1", "Dashboard")
	sam.shot("dashboard")
	for _, id := range []string{"chart-open", "chart-days", "chart-resolution", "chart-sla"} { // each with a title and a description
		sel := `svg[role="img"][aria-labelledby="` + id + `-title ` + id + `-desc"]`
		if len(sam.nodes(sel)) != 1 || len(sam.nodes("#"+id+"-title")) != 1 || len(sam.nodes("#"+id+"-desc")) != 1 {
			t.Errorf("no accessible chart %s", id)
		}
	}
	if n := len(sam.nodes(`#chart-open-title ~ g.bars rect`)); n != 1 {
		t.Errorf("the open-cases chart has %d bars, want 1 (Ben's connect)", n)
	}
	if n := len(sam.nodes(`main script, main [onclick]`)); n != 0 {
		t.Errorf("the dashboard has %d scripts", n)
	}
	openTable := tableOf(t, sam, "#open-table")
	if got := openTable["connect"]; got["awaiting learner"] != "1" || got["Total"] != "1" {
		t.Errorf("open table, connect row = %v, want 1 awaiting learner", got)
	}
	if got := openTable["merge"]; got["Total"] != "0" {
		t.Errorf("open table, merge row = %v, want none open", got)
	}
	sam.waitText("#open-h", "Open cases: 1")
	sam.waitText("#days-h", "3 opened, 2 closed")
	days := tableOf(t, sam, "#days-table")
	if got := days[today]; got["Opened"] != "3" || got["Closed"] != "2" {
		t.Errorf("days table, today = %v, want 3 opened, 2 closed", got)
	}
	res := tableOf(t, sam, "#resolution-table")
	if res["connect"]["Closed"] != "1" || res["merge"]["Closed"] != "1" || res["merge"]["p50 (median)"] == "" {
		t.Errorf("resolution table = %v", res)
	}
	sam.waitText("#review-h", "Security-review queue: 0")

	// The CSV, downloaded with Sam's session: the same numbers.
	csvOut := fetchText(t, sam, "/console/dashboard.csv")
	if !strings.HasPrefix(csvOut[1], "attachment;") || !strings.Contains(csvOut[1], ".csv") {
		t.Errorf("CSV Content-Disposition = %q, want an attachment", csvOut[1])
	}
	rows, err := csv.NewReader(strings.NewReader(csvOut[2])).ReadAll()
	if err != nil {
		t.Fatalf("CSV: %v\n%s", err, csvOut[2])
	}
	values := map[string]string{}
	for _, row := range rows {
		values[strings.Join(row[:3], "/")] = row[3]
	}
	for key, want := range map[string]string{
		"open/connect/awaiting_learner": "1",
		"opened/connect/" + today:       "2",
		"opened/merge/" + today:         "1",
		"closed/connect/" + today:       "1",
		"closed/merge/" + today:         "1",
		"resolved/merge/":               "1",
		"security_review_open//":        "0",
	} {
		if values[key] != want {
			t.Errorf("CSV %s = %q, want %s", key, values[key], want)
		}
	}

	// At phone width the charts scale down with the page: none of the
	// dashboard's charts, headings or tables' boxes reach past the screen
	// (a wide table scrolls in its own box).
	sam.run("phone width", chromedp.EmulateViewport(390, 844))
	sam.visit("/console/dashboard", "dashboard-phone")
	right, err := chromedp.Run(sam.ctx, chromedp.Evaluate[float64](`Math.max(...Array.from(document.querySelectorAll(
		'.dashboard svg, .dashboard h2, .dashboard p, .dashboard .table-scroll')).map(e => e.getBoundingClientRect().right))`))
	if err != nil || right > 390 {
		t.Errorf("the dashboard reaches %.0fpx at 390px wide (%v)", right, err)
	}
}

// tableOf reads a table's body as row header → column header → cell text.
func tableOf(t *testing.T, b *browser, sel string) map[string]map[string]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]map[string]string](`(() => {
		const t = document.querySelector(`+strconvQuote(sel)+`);
		const heads = Array.from(t.querySelectorAll('thead th')).map(th => th.textContent.trim());
		const out = {};
		for (const tr of t.querySelectorAll('tbody tr')) {
			const cells = Array.from(tr.children).map(c => c.textContent.trim());
			const row = {};
			cells.forEach((c, i) => { row[heads[i]] = c; });
			out[cells[0]] = row;
		}
		return out;
	})()`))
	if err != nil {
		t.Fatalf("read table %s: %v", sel, err)
	}
	return out
}

// fetchText GETs a path with the browser's session: status, the
// Content-Disposition header and the body.
func fetchText(t *testing.T, b *browser, path string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`(() => {
		const x = new XMLHttpRequest();
		x.open('GET', `+strconvQuote(path)+`, false);
		x.send();
		return [String(x.status), x.getResponseHeader('Content-Disposition') || '', x.responseText];
	})()`))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if out[0] != "200" {
		t.Fatalf("GET %s = %s", path, out[0])
	}
	return out
}
