package pages

import (
	"encoding/csv"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/certdesk/certdesk"
	"github.com/certdesk/certdesk/store"
)

// The supervisor's dashboard: the store's figures (store.Stats) drawn as
// server-side SVG charts, each followed by its numbers in a table, and the
// same numbers as CSV. The charts' geometry is computed here, so the
// template only places ready values.

// dashboardView is the page's data.
type dashboardView struct {
	Since, Now string
	Charts     dashboardCharts
	Open       openTable
	Days       []dayRow
	OpenByDay  []openDayRow
	Kinds      []certdesk.Kind
	// OpenByStatus: the days a sweep counted, by status (Statuses).
	OpenByStatus   []openDayRow
	Statuses       []certdesk.Status
	Resolution     []resolutionRow
	SLA            []slaRow
	Review         store.ReviewQueue
	ReviewLimit    int
	TotalOpened    int64
	TotalClosed    int64
	ReviewOverflow bool
}

type dashboardCharts struct {
	Open, OpenByDay, OpenByStatus, Days, Resolution, SLA chart
}

// openDayRow is the cases open at the end of a day, by kind.
type openDayRow struct {
	Day   string
	N     []int64 // by certdesk.Kinds
	Total int64
}

// openTable is open cases as kind rows and status columns.
type openTable struct {
	Statuses []certdesk.Status
	Rows     []openRow
	Total    int64
}

type openRow struct {
	Kind      certdesk.Kind
	N         []int64 // by Statuses
	Total     int64
	Escalated int64
}

type dayRow struct {
	Day            string
	Opened, Closed int64
}

type resolutionRow struct {
	Kind     certdesk.Kind
	Closed   int64
	P50, P90 string
}

type slaRow struct {
	store.SLACount
	Attainment string // "67 %", or "–" without closed cases under an SLA
}

// chart is an SVG chart: a viewBox, its shapes and its text.
type chart struct {
	ID, Title, Desc string
	W, H            int
	Lines           []svgLine
	Bars            []svgBar
	Texts           []svgText
	Legend          []legendItem
}

type svgLine struct{ X1, Y1, X2, Y2 float64 }

type svgBar struct {
	X, Y, W, H float64
	Class, Tip string
}

type svgText struct {
	X, Y   float64
	Anchor string // start, middle, end
	Class  string
	Text   string
	Rotate bool // a vertical axis title
}

type legendItem struct{ Class, Text string }

// dashboardPage is GET /console/dashboard.
func (s *Pages) dashboardPage(c *gin.Context) {
	st, err := s.store.Stats(c.Request.Context())
	if err != nil {
		s.html.Error(c, err)
		return
	}
	s.html.Render(c, http.StatusOK, "console_dashboard", "Dashboard", dashboardOf(st))
}

// dashboardCSV is GET /console/dashboard.csv: every number of the page, one
// a row: figure, kind, key (a status or a day), value.
func (s *Pages) dashboardCSV(c *gin.Context) {
	st, err := s.store.Stats(c.Request.Context())
	if err != nil {
		s.html.Error(c, err)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="certdesk-dashboard-%s.csv"`, st.Now.Format(time.DateOnly)))
	c.Header("Cache-Control", "no-store")
	w := csv.NewWriter(c.Writer)
	row := func(figure string, kind certdesk.Kind, key string, v any) {
		_ = w.Write([]string{figure, string(kind), key, fmt.Sprint(v)})
	}
	_ = w.Write([]string{"figure", "kind", "key", "value"})
	for _, o := range st.Open {
		row("open", o.Kind, string(o.Status), o.N)
	}
	for _, o := range st.Open {
		row("open_escalated", o.Kind, string(o.Status), o.Escalated)
	}
	for _, d := range st.OpenByDay {
		row("open_at_end_of_day", d.Kind, d.Day, d.N)
	}
	for _, d := range st.OpenByStatus {
		row("open_by_status", d.Kind, d.Day+" "+string(d.Status), d.N)
	}
	for _, d := range st.Days {
		row("opened", d.Kind, d.Day, d.Opened)
	}
	for _, d := range st.Days {
		row("closed", d.Kind, d.Day, d.Closed)
	}
	for _, r := range st.Resolution {
		row("resolved", r.Kind, "", r.Closed)
		row("resolution_p50_seconds", r.Kind, "", strconv.FormatFloat(r.P50, 'f', -1, 64))
		row("resolution_p90_seconds", r.Kind, "", strconv.FormatFloat(r.P90, 'f', -1, 64))
	}
	for _, r := range st.SLA {
		row("sla_met", r.Kind, "", r.Met)
		row("sla_breached", r.Kind, "", r.Breached)
		row("sla_overdue_open", r.Kind, "", r.Overdue)
		row("escalated", r.Kind, "", r.Escalated)
	}
	row("security_review_open", "", "", st.Review.Total)
	w.Flush()
}

func dashboardOf(st store.Stats) dashboardView {
	v := dashboardView{Since: st.Since.Format("2 Jan 2006"), Now: st.Now.Format("2 Jan 2006 15:04 UTC"),
		Review: st.Review, ReviewLimit: store.ReviewQueueLimit, ReviewOverflow: st.Review.Total > int64(len(st.Review.Cases))}
	v.Open = openTableOf(st.Open)
	byDay := map[string]int{}
	for _, d := range st.Days {
		i, ok := byDay[d.Day]
		if !ok {
			i = len(v.Days)
			byDay[d.Day] = i
			v.Days = append(v.Days, dayRow{Day: d.Day})
		}
		v.Days[i].Opened += d.Opened
		v.Days[i].Closed += d.Closed
		v.TotalOpened += d.Opened
		v.TotalClosed += d.Closed
	}
	for _, r := range st.Resolution {
		v.Resolution = append(v.Resolution, resolutionRow{Kind: r.Kind, Closed: r.Closed, P50: resolutionTime(r.P50), P90: resolutionTime(r.P90)})
	}
	sla := slaOfEveryKind(st.SLA)
	for _, r := range sla {
		row := slaRow{SLACount: r, Attainment: "–"}
		if n := r.Met + r.Breached; n > 0 {
			row.Attainment = fmt.Sprintf("%.0f %%", 100*float64(r.Met)/float64(n))
		}
		v.SLA = append(v.SLA, row)
	}
	v.Kinds, v.Statuses = certdesk.Kinds, v.Open.Statuses
	kinds := dayRows(len(v.Kinds))
	for _, o := range st.OpenByDay {
		kinds.add(o.Day, slices.Index(v.Kinds, o.Kind), o.N)
	}
	byStatus := dayRows(len(v.Statuses))
	for _, o := range st.OpenByStatus {
		byStatus.add(o.Day, slices.Index(v.Statuses, o.Status), o.N)
	}
	v.OpenByDay, v.OpenByStatus = kinds.rows, byStatus.rows
	statusChart := stackedChart("chart-open-status", "Open cases by status, at each daily count",
		"Stacked bars, one per day the daily sweep counted (and today), a segment per status; the numbers are in the table below.",
		v.OpenByStatus, func(i int) (string, string) { return "s-" + string(v.Statuses[i]), humanStatus(v.Statuses[i]) }, len(v.Statuses))
	v.Charts = dashboardCharts{Open: openChart(v.Open), OpenByDay: openByDayChart(v.OpenByDay), OpenByStatus: statusChart, Days: daysChart(v.Days), Resolution: resolutionChart(st.Resolution), SLA: slaChart(sla)}
	return v
}

// slaOfEveryKind gives every kind a row, zeros included, so the chart and
// the table keep their shape from one day to the next.
func slaOfEveryKind(sla []store.SLACount) []store.SLACount {
	by := map[certdesk.Kind]store.SLACount{}
	for _, r := range sla {
		by[r.Kind] = r
	}
	out := make([]store.SLACount, len(certdesk.Kinds))
	for i, k := range certdesk.Kinds {
		out[i] = by[k]
		out[i].Kind = k
	}
	return out
}

func openTableOf(open []store.OpenCount) openTable {
	var t openTable
	col := map[certdesk.Status]int{}
	for _, s := range certdesk.Statuses {
		if !s.Terminal() {
			col[s] = len(t.Statuses)
			t.Statuses = append(t.Statuses, s)
		}
	}
	row := map[certdesk.Kind]int{}
	for _, k := range certdesk.Kinds {
		row[k] = len(t.Rows)
		t.Rows = append(t.Rows, openRow{Kind: k, N: make([]int64, len(t.Statuses))})
	}
	for _, o := range open {
		i, ok := row[o.Kind]
		j, ok2 := col[o.Status]
		if !ok || !ok2 {
			continue
		}
		t.Rows[i].N[j] += o.N
		t.Rows[i].Total += o.N
		t.Rows[i].Escalated += o.Escalated
		t.Total += o.N
	}
	return t
}

// resolutionTime reads seconds as a person would: minutes, hours or days.
func resolutionTime(sec float64) string {
	switch d := time.Duration(sec * float64(time.Second)); {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d < 2*time.Minute:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < time.Hour:
		return fmt.Sprintf("%.0f min", d.Minutes())
	case d < 48*time.Hour:
		return fmt.Sprintf("%.1f h", d.Hours())
	default:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	}
}

// niceMax rounds a chart's largest value up to 1, 2 or 5 times a power of
// ten, and gives the step of its four or five gridlines.
func niceMax(v float64) (top, step float64) {
	if v <= 0 {
		return 4, 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(v/4)))
	for _, m := range []float64{1, 2, 5, 10} {
		step = m * mag
		if step*4 >= v {
			break
		}
	}
	if step < 1 {
		step = 1
	}
	return step * math.Ceil(v/step), step
}

// The horizontal charts: one row per kind, the value axis along the bottom.
const (
	hW, hLeft, hRight, hTop, hRow, hAxis = 640, 150, 40, 12, 40, 60
)

// hFrame draws a horizontal chart's gridlines, value ticks, axis titles and
// kind labels; x maps a value to its position.
func hFrame(c *chart, kinds []certdesk.Kind, maxV float64, unit string, tick func(float64) string) (x func(float64) float64, rowY func(int) float64) {
	c.W = hW
	c.H = hTop + hRow*len(kinds) + hAxis
	top, step := niceMax(maxV)
	plot := float64(hW - hLeft - hRight)
	x = func(v float64) float64 { return hLeft + plot*v/top }
	rowY = func(i int) float64 { return float64(hTop + hRow*i) }
	bottom := float64(hTop + hRow*len(kinds))
	for v := 0.0; v <= top+step/2; v += step {
		c.Lines = append(c.Lines, svgLine{X1: x(v), Y1: hTop, X2: x(v), Y2: bottom})
		c.Texts = append(c.Texts, svgText{X: x(v), Y: bottom + 18, Anchor: "middle", Class: "tick", Text: tick(v)})
	}
	for i, k := range kinds {
		c.Texts = append(c.Texts, svgText{X: hLeft - 8, Y: rowY(i) + hRow/2 + 5, Anchor: "end", Class: "cat", Text: string(k)})
	}
	c.Texts = append(c.Texts,
		svgText{X: hLeft + plot/2, Y: bottom + 44, Anchor: "middle", Class: "axis", Text: unit},
		svgText{X: 14, Y: hTop + float64(hRow*len(kinds))/2, Anchor: "middle", Class: "axis", Text: "Kind", Rotate: true})
	return x, rowY
}

func count(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func openChart(t openTable) chart {
	c := chart{ID: "chart-open", Title: "Open cases by kind and status",
		Desc: fmt.Sprintf("Stacked bars, one per kind, of the %d open cases, split by status; the numbers are in the table below.", t.Total)}
	kinds := make([]certdesk.Kind, len(t.Rows))
	var maxV float64
	for i, r := range t.Rows {
		kinds[i] = r.Kind
		maxV = math.Max(maxV, float64(r.Total))
	}
	x, rowY := hFrame(&c, kinds, maxV, "Open cases", count)
	for i, r := range t.Rows {
		at := 0.0
		for j, n := range r.N {
			if n == 0 {
				continue
			}
			s := t.Statuses[j]
			c.Bars = append(c.Bars, svgBar{X: x(at), Y: rowY(i) + 8, W: x(at+float64(n)) - x(at), H: hRow - 16,
				Class: "s-" + string(s), Tip: fmt.Sprintf("%s, %s: %d", r.Kind, humanStatus(s), n)})
			at += float64(n)
		}
	}
	for _, s := range t.Statuses {
		c.Legend = append(c.Legend, legendItem{Class: "s-" + string(s), Text: humanStatus(s)})
	}
	return c
}

func humanStatus(s certdesk.Status) string {
	b := []byte(s)
	for i, ch := range b {
		if ch == '_' {
			b[i] = ' '
		}
	}
	return string(b)
}

// openDays gathers figures into a row per day (in the order first seen)
// and a column per series.
type openDays struct {
	series int
	at     map[string]int
	rows   []openDayRow
}

func dayRows(series int) *openDays { return &openDays{series: series, at: map[string]int{}} }

// add counts n in a day's column col (-1: a series not shown).
func (d *openDays) add(day string, col int, n int64) {
	i, ok := d.at[day]
	if !ok {
		i = len(d.rows)
		d.at[day] = i
		d.rows = append(d.rows, openDayRow{Day: day, N: make([]int64, d.series)})
	}
	if col >= 0 {
		d.rows[i].N[col] += n
		d.rows[i].Total += n
	}
}

// openByDayChart stacks, for each day of the window, the cases of each
// kind open at its end.
func openByDayChart(days []openDayRow) chart {
	return stackedChart("chart-open-days", "Open cases at the end of each day, by kind",
		fmt.Sprintf("Stacked bars, one per day for the last %d days (UTC), a segment per kind; the numbers are in the table below.", len(days)),
		days, func(i int) (string, string) { return "k-" + string(certdesk.Kinds[i]), string(certdesk.Kinds[i]) }, len(certdesk.Kinds))
}

// stackedChart draws a bar per day, a segment per series (series(i) gives
// its class and name).
func stackedChart(id, title, desc string, days []openDayRow, series func(int) (class, name string), n int) chart {
	const w, left, right, top, plotH, axis = 640, 64, 36, 12, 180, 60
	c := chart{ID: id, Title: title, Desc: desc, W: w, H: top + plotH + axis}
	for i := range n {
		class, name := series(i)
		c.Legend = append(c.Legend, legendItem{Class: class, Text: name})
	}
	var maxV float64
	for _, d := range days {
		maxV = math.Max(maxV, float64(d.Total))
	}
	topV, step := niceMax(maxV)
	y := func(v float64) float64 { return top + plotH - plotH*v/topV }
	for v := 0.0; v <= topV+step/2; v += step {
		c.Lines = append(c.Lines, svgLine{X1: left, Y1: y(v), X2: w - right, Y2: y(v)})
		c.Texts = append(c.Texts, svgText{X: left - 6, Y: y(v) + 4, Anchor: "end", Class: "tick", Text: count(v)})
	}
	slot := float64(w-left-right) / float64(max(len(days), 1))
	bw := slot * 0.8
	for i, d := range days {
		x0 := left + slot*float64(i) + slot*0.1
		var below int64
		for k, v := range d.N {
			if v == 0 {
				continue
			}
			class, name := series(k)
			c.Bars = append(c.Bars, svgBar{X: x0, Y: y(float64(below + v)), W: bw, H: y(float64(below)) - y(float64(below+v)),
				Class: class, Tip: fmt.Sprintf("%s: %d %s", d.Day, v, name)})
			below += v
		}
		if (len(days)-1-i)%7 == 0 {
			day, _ := time.Parse(time.DateOnly, d.Day)
			c.Texts = append(c.Texts, svgText{X: x0 + bw/2, Y: top + plotH + 18, Anchor: "middle", Class: "tick", Text: day.Format("2 Jan")})
		}
	}
	c.Texts = append(c.Texts,
		svgText{X: left + float64(w-left-right)/2, Y: top + plotH + 44, Anchor: "middle", Class: "axis", Text: "Day (UTC)"},
		svgText{X: 12, Y: top + plotH/2, Anchor: "middle", Class: "axis", Text: "Open cases", Rotate: true})
	return c
}

func daysChart(days []dayRow) chart {
	const w, left, right, top, plotH, axis = 640, 64, 36, 12, 180, 60
	c := chart{ID: "chart-days", Title: "Cases opened and closed per day",
		Desc: fmt.Sprintf("Bars, two per day for the last %d days (UTC): cases opened and cases closed; the numbers are in the table below.", len(days)),
		W:    w, H: top + plotH + axis,
		Legend: []legendItem{{Class: "opened", Text: "opened"}, {Class: "closed", Text: "closed"}}}
	var maxV float64
	for _, d := range days {
		maxV = math.Max(maxV, float64(max(d.Opened, d.Closed)))
	}
	topV, step := niceMax(maxV)
	y := func(v float64) float64 { return top + plotH - plotH*v/topV }
	for v := 0.0; v <= topV+step/2; v += step {
		c.Lines = append(c.Lines, svgLine{X1: left, Y1: y(v), X2: w - right, Y2: y(v)})
		c.Texts = append(c.Texts, svgText{X: left - 6, Y: y(v) + 4, Anchor: "end", Class: "tick", Text: count(v)})
	}
	slot := float64(w-left-right) / float64(max(len(days), 1))
	bw := slot*0.5 - 1
	for i, d := range days {
		x0 := left + slot*float64(i) + slot*0.05
		for j, v := range []int64{d.Opened, d.Closed} {
			if v == 0 {
				continue
			}
			cls, what := "opened", "opened"
			if j == 1 {
				cls, what = "closed", "closed"
			}
			c.Bars = append(c.Bars, svgBar{X: x0 + float64(j)*(bw+1), Y: y(float64(v)), W: bw, H: y(0) - y(float64(v)),
				Class: cls, Tip: fmt.Sprintf("%s: %d %s", d.Day, v, what)})
		}
		// A date every week, and the last day.
		if (len(days)-1-i)%7 == 0 {
			day, _ := time.Parse(time.DateOnly, d.Day)
			c.Texts = append(c.Texts, svgText{X: x0 + bw, Y: top + plotH + 18, Anchor: "middle", Class: "tick", Text: day.Format("2 Jan")})
		}
	}
	c.Texts = append(c.Texts,
		svgText{X: left + float64(w-left-right)/2, Y: top + plotH + 44, Anchor: "middle", Class: "axis", Text: "Day (UTC)"},
		svgText{X: 12, Y: top + plotH/2, Anchor: "middle", Class: "axis", Text: "Cases", Rotate: true})
	return c
}

func resolutionChart(res []store.ResolutionTime) chart {
	c := chart{ID: "chart-resolution", Title: "Time to resolution by kind",
		Desc:   "Two bars per kind, in hours: the median (p50) and the 90th percentile (p90) of the time from opening to closing of the cases closed in the window; the numbers are in the table below.",
		Legend: []legendItem{{Class: "p50", Text: "p50 (median)"}, {Class: "p90", Text: "p90"}}}
	kinds := make([]certdesk.Kind, len(res))
	var maxS float64
	for i, r := range res {
		kinds[i] = r.Kind
		maxS = math.Max(maxS, r.P90)
	}
	unit, per := "Seconds", 1.0
	switch {
	case maxS >= 2*86400:
		unit, per = "Days", 86400
	case maxS >= 2*3600:
		unit, per = "Hours", 3600
	case maxS >= 2*60:
		unit, per = "Minutes", 60
	}
	c.Desc = strings.Replace(c.Desc, "in hours", "in "+strings.ToLower(unit), 1)
	x, rowY := hFrame(&c, kinds, maxS/per, unit, count)
	for i, r := range res {
		for j, v := range []float64{r.P50, r.P90} {
			cls := []string{"p50", "p90"}[j]
			c.Bars = append(c.Bars, svgBar{X: x(0), Y: rowY(i) + 6 + float64(j)*14, W: x(v/per) - x(0), H: 12,
				Class: cls, Tip: fmt.Sprintf("%s %s: %s", r.Kind, cls, resolutionTime(v))})
		}
	}
	return c
}

func slaChart(sla []store.SLACount) chart {
	c := chart{ID: "chart-sla", Title: "SLA attainment by kind",
		Desc:   "A bar per kind, as a share of the cases closed in the window that had an SLA: closed within it, and breached; the numbers, with the open cases past their SLA and the escalations, are in the table below.",
		Legend: []legendItem{{Class: "met", Text: "within SLA"}, {Class: "breached", Text: "breached"}}}
	kinds := make([]certdesk.Kind, len(sla))
	for i, r := range sla {
		kinds[i] = r.Kind
	}
	x, rowY := hFrame(&c, kinds, 100, "Share of closed cases with an SLA (%)", func(v float64) string { return count(v) + "%" })
	for i, r := range sla {
		n := float64(r.Met + r.Breached)
		if n == 0 {
			continue
		}
		met := 100 * float64(r.Met) / n
		if r.Met > 0 {
			c.Bars = append(c.Bars, svgBar{X: x(0), Y: rowY(i) + 8, W: x(met) - x(0), H: hRow - 16, Class: "met",
				Tip: fmt.Sprintf("%s: %d within SLA", r.Kind, r.Met)})
		}
		if r.Breached > 0 {
			c.Bars = append(c.Bars, svgBar{X: x(met), Y: rowY(i) + 8, W: x(100) - x(met), H: hRow - 16, Class: "breached",
				Tip: fmt.Sprintf("%s: %d breached", r.Kind, r.Breached)})
		}
	}
	return c
}
