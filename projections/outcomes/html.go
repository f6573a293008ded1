package outcomes

import (
	"fmt"
	"html"
	"html/template"
	"io"
	"strconv"
	"strings"

	"github.com/continuum-care/continuum/domain"
)

// WriteHTML writes the report as one self-contained page: inline styles and
// inline SVG charts, no script and nothing fetched, so it opens offline and
// can be mailed as a file. The same report always gives the same bytes.
func (r *Report) WriteHTML(w io.Writer) error {
	return reportPage.Execute(w, htmlView{
		Report:           r,
		CompletionChart:  completionChart(r.CompletionByLevel),
		StayCharts:       stayCharts(r.LengthOfStayHistogram),
		TransitionChart:  transitionChart(r.Transitions),
		TrendChart:       trendChart(r.MeasureTrends),
		AttendanceChart:  attendanceChart(r.AttendanceByPerson),
		PeopleAttending:  len(r.AttendanceByPerson),
		HasSourceSetting: len(r.CompletionBySourceSetting) > 0,
	})
}

// htmlView is what the page template renders: the report and its charts.
type htmlView struct {
	*Report
	CompletionChart, TransitionChart, TrendChart, AttendanceChart template.HTML
	StayCharts                                                    []template.HTML
	PeopleAttending                                               int
	HasSourceSetting                                              bool
}

var reportPage = template.Must(template.New("report").Funcs(template.FuncMap{
	"pct": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v*100, 'f', 1, 64) + " %"
	},
	"num": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return strconv.FormatFloat(*v, 'f', 1, 64)
	},
	"plus": func(a, b int) int { return a + b },
	"opt": func(s *string) string {
		if s == nil {
			return "—"
		}
		return *s
	},
	"episodeStay": func(o Outcomes) *float64 {
		for _, s := range o.LengthOfStay {
			if s.Scope == "episode" && s.Level == "all" {
				return s.Median
			}
		}
		return nil
	},
	"phqResponse": func(o Outcomes) *float64 {
		for _, m := range o.Measures {
			if m.Instrument == domain.PHQ9.String() && m.Population == "clinical" {
				return m.ResponseRate
			}
		}
		return nil
	},
}).Parse(reportTemplate))

const reportTemplate = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>continuum outcomes{{if .AsOf}} as of {{opt .AsOf}}{{end}}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1d2430;background:#fff}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2.2rem;border-bottom:1px solid #d6dbe3;padding-bottom:.3rem}
.meta{color:#566070;font-size:.9rem}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #d6dbe3;border-radius:6px;padding:.6rem .9rem;min-width:9rem}.card b{display:block;font-size:1.4rem}
.card span{color:#566070;font-size:.8rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.88rem}
th,td{border-bottom:1px solid #e4e8ee;padding:.25rem .6rem;text-align:right}th{background:#f3f5f8}
td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1rem}
svg{font-family:inherit;font-size:11px}.note{color:#566070;font-size:.85rem;max-width:60rem}
</style>
</head>
<body>
<h1>Outcomes</h1>
<p class="meta">As of {{opt .AsOf}} · horizon {{opt .Horizon}} · episodes started {{opt .From}} to {{opt .To}} · cohorts by {{.CohortPeriod}} · days in {{.TimeZone}} · {{.EventsReplayed}} events replayed{{if .EventsAfterAsOf}}, {{.EventsAfterAsOf}} after the as-of date ignored{{end}}</p>
{{if .Episodes.EstimatedDates}}<p class="note">{{.Episodes.EstimatedDates}} episodes have estimated dates (imported records that publish only a year).</p>{{end}}
<div class="cards">
<div class="card"><b>{{.Episodes.Total}}</b><span>episodes ({{.Episodes.Open}} open)</span></div>
<div class="card"><b>{{pct .Episodes.CompletionRate}}</b><span>completed ({{.Episodes.Completed}} of {{.Episodes.Closed}} closed)</span></div>
<div class="card"><b>{{pct .Readmission.Rate}}</b><span>readmitted within 30 days ({{.Readmission.Readmitted}} of {{plus .Readmission.Readmitted .Readmission.NotReadmitted}}; {{.Readmission.Pending}} pending)</span></div>
<div class="card"><b>{{pct .StepDown.Rate}}</b><span>step-downs held ({{.StepDown.Successful}} of {{plus .StepDown.Successful .StepDown.Failed}}; {{.StepDown.Pending}} pending)</span></div>
<div class="card"><b>{{pct .StepUp.Rate}}</b><span>episodes with a step-up ({{.StepUp.SteppedUp}} of {{.StepUp.Episodes}})</span></div>
</div>
<p class="note">Rates count closed episodes; open episodes are shown as open, not as drop-outs. A dash is a rate with nobody to count.</p>

<h2>Completion by level at the start of the episode</h2>
{{.CompletionChart}}
<table><tr><th>level</th><th>closed episodes</th><th>completed</th><th>rate</th><th>open</th></tr>
{{range .CompletionByLevel}}<tr><td>{{.Level}}</td><td>{{.Episodes}}</td><td>{{.Completed}}</td><td>{{pct .Rate}}</td><td>{{.Open}}</td></tr>
{{end}}</table>
{{if .HasSourceSetting}}<h2>Completion by source setting (imported episodes)</h2>
<table><tr><th>setting</th><th>closed episodes</th><th>completed</th><th>rate</th><th>open</th></tr>
{{range .CompletionBySourceSetting}}<tr><td>{{.Setting}}</td><td>{{.Episodes}}</td><td>{{.Completed}}</td><td>{{pct .Rate}}</td><td>{{.Open}}</td></tr>
{{end}}</table>{{end}}
<h2>How episodes ended</h2>
<table><tr><th>discharge reason</th><th>episodes</th><th>share</th></tr>
{{range .CompletionByReason}}<tr><td>{{.Reason}}</td><td>{{.Episodes}}</td><td>{{pct .Rate}}</td></tr>
{{end}}</table>

<h2>Length of stay (days)</h2>
<div class="charts">{{range .StayCharts}}{{.}}{{end}}</div>
<table><tr><th>scope</th><th>level</th><th>n</th><th>median</th><th>quartiles</th><th>mean</th><th>open</th><th>length unknown</th></tr>
{{range .LengthOfStay}}<tr><td>{{.Scope}}</td><td>{{.Level}}</td><td>{{.Count}}</td><td>{{num .Median}}</td><td>{{num .P25}} – {{num .P75}}</td><td>{{num .Mean}}</td><td>{{.Open}}</td><td>{{.UnknownLength}}</td></tr>
{{end}}</table>

<h2>Transitions between levels</h2>
{{.TransitionChart}}
<table><tr><th>from</th><th>to</th><th>stays</th><th>share of stays ending at the level</th></tr>
{{range .Transitions}}<tr><td>{{.From}}</td><td>{{.To}}</td><td>{{.Count}}</td><td>{{pct .Rate}}</td></tr>
{{end}}</table>

<h2>PHQ-9 and GAD-7</h2>
{{.TrendChart}}
<table><tr><th>instrument</th><th>population</th><th>with baseline</th><th>followed up</th><th>baseline</th><th>last</th><th>change</th><th>response</th><th>remission</th><th>reliable improvement</th></tr>
{{range .Measures}}<tr><td>{{.Instrument}}</td><td>{{.Population}}</td><td>{{.WithBaseline}}</td><td>{{.FollowedUp}}</td><td>{{num .BaselineMean}}</td><td>{{num .LastMean}}</td><td>{{num .ChangeMean}}</td><td>{{pct .ResponseRate}} ({{.Response}})</td><td>{{pct .RemissionRate}} ({{.Remission}})</td><td>{{pct .ReliableImprovementRate}} ({{.ReliableImprovement}})</td></tr>
{{end}}</table>
<p class="note">Clinical population: baseline PHQ-9 ≥ 10 or GAD-7 ≥ 8. Response: a drop of at least 50 %; remission: last score below 5; reliable improvement: a drop of at least 6 (PHQ-9) or 4 (GAD-7) points.</p>

<h2>By cohort</h2>
<table><tr><th>cohort</th><th>episodes</th><th>open</th><th>completed</th><th>30-day readmission</th><th>step-downs held</th><th>median stay</th><th>PHQ-9 response (clinical)</th></tr>
{{range .ByCohort}}<tr><td>{{.Cohort}}</td><td>{{.Episodes.Total}}</td><td>{{.Episodes.Open}}</td><td>{{pct .Episodes.CompletionRate}} ({{.Episodes.Completed}}/{{.Episodes.Closed}})</td><td>{{pct .Readmission.Rate}} ({{.Readmission.Readmitted}})</td><td>{{pct .StepDown.Rate}} ({{.StepDown.Successful}})</td><td>{{num (episodeStay .Outcomes)}}</td><td>{{pct (phqResponse .Outcomes)}}</td></tr>
{{end}}</table>
<h2>By program of admission</h2>
<table><tr><th>program</th><th>episodes</th><th>open</th><th>completed</th><th>30-day readmission</th><th>step-downs held</th><th>median stay</th><th>PHQ-9 response (clinical)</th></tr>
{{range .ByProgram}}<tr><td>{{.Program}}</td><td>{{.Episodes.Total}}</td><td>{{.Episodes.Open}}</td><td>{{pct .Episodes.CompletionRate}} ({{.Episodes.Completed}}/{{.Episodes.Closed}})</td><td>{{pct .Readmission.Rate}} ({{.Readmission.Readmitted}})</td><td>{{pct .StepDown.Rate}} ({{.StepDown.Successful}})</td><td>{{num (episodeStay .Outcomes)}}</td><td>{{pct (phqResponse .Outcomes)}}</td></tr>
{{end}}</table>

<h2>Groups</h2>
<table><tr><th>group</th><th>program</th><th>members</th><th>completed</th><th>left</th><th>active</th><th>completion</th><th>sessions recorded</th><th>attendance</th></tr>
{{range .Groups}}<tr><td>{{.Group}}</td><td>{{.Program}}</td><td>{{.Members}}</td><td>{{.Completed}}</td><td>{{.Left}}</td><td>{{.Active}}</td><td>{{pct .CompletionRate}}</td><td>{{.Recorded}}</td><td>{{pct .AttendanceRate}}</td></tr>
{{end}}</table>
{{if .Modules}}<table><tr><th>group</th><th>module</th><th>members</th><th>completed</th><th>rate</th></tr>
{{range .Modules}}<tr><td>{{.Group}}</td><td>{{.Module}}</td><td>{{.Members}}</td><td>{{.Completed}}</td><td>{{pct .Rate}}</td></tr>
{{end}}</table>{{end}}
<h2>Attendance per person</h2>
<p class="note">{{.PeopleAttending}} people with recorded attendance, by their share of sessions attended (the CSV export lists them under pseudonyms).</p>
{{.AttendanceChart}}
</body>
</html>
`

// svgText escapes a label for an SVG text node.
func svgText(s string) string { return html.EscapeString(s) }

// completionChart draws completion rates by level as horizontal bars.
func completionChart(rows []LevelCompletion) template.HTML {
	const width, barMax, rowHeight, left = 720, 320, 26, 90
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="completion rate by level">`, width, rowHeight*len(rows)+10)
	for i, c := range rows {
		y := 5 + i*rowHeight
		fmt.Fprintf(&b, `<text x="0" y="%d">%s</text>`, y+15, svgText(c.Level))
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="18" fill="#eef1f5"/>`, left, y+2, barMax)
		label := "no closed episodes"
		if c.Rate != nil {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="18" fill="#3b6ea8"/>`, left, y+2, *c.Rate*barMax)
			label = fmt.Sprintf("%.1f %% (%d of %d)", *c.Rate*100, c.Completed, c.Episodes)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`, left+barMax+8, y+15, svgText(label))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// binLabel names a histogram bin, e.g. "8–14" or "366+".
func binLabel(bin HistogramBin) string {
	if bin.MaxDays == nil {
		return strconv.Itoa(bin.MinDays) + "+"
	}
	return strconv.Itoa(bin.MinDays) + "–" + strconv.Itoa(*bin.MaxDays)
}

// stayCharts draws one length-of-stay histogram per level with stays.
func stayCharts(bins []HistogramBin) []template.HTML {
	var charts []template.HTML
	for start := 0; start < len(bins); start += len(histogramBins) {
		level := bins[start : start+len(histogramBins)]
		total, most := 0, 0
		for _, bin := range level {
			total += bin.Count
			most = max(most, bin.Count)
		}
		if total == 0 {
			continue
		}
		const width, height, top, plot, barWidth = 400, 190, 22, 120, 44
		var b strings.Builder
		fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="length of stay at %s">`, width, height, svgText(level[0].Level))
		fmt.Fprintf(&b, `<text x="0" y="14" font-weight="bold">%s (%d stays)</text>`, svgText(level[0].Level), total)
		for i, bin := range level {
			h := float64(bin.Count) / float64(most) * plot
			x := 4 + i*(barWidth+4)
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="#5a8f5a"><title>%s days: %d</title></rect>`,
				x, float64(top+plot)-h, barWidth, h, binLabel(bin), bin.Count)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%d</text>`, x+barWidth/2, top+plot+14, bin.Count)
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#566070">%s</text>`, x+barWidth/2, top+plot+30, binLabel(bin))
		}
		b.WriteString(`</svg>`)
		charts = append(charts, template.HTML(b.String()))
	}
	return charts
}

// transitionChart draws the moves between levels as bands from the level
// left to where the stay led (another level, or discharge), as wide as
// their counts.
func transitionChart(transitions []Transition) template.HTML {
	targets := []string{"inpatient", "residential", "php", "iop", "outpatient", discharged}
	row := func(name string) int {
		for i, t := range targets {
			if t == name {
				return i
			}
		}
		return len(targets) - 1
	}
	const width, rowHeight, top, nodeWidth, leftX, rightX = 560, 44, 16, 100, 0, 440
	most := 0
	for _, t := range transitions {
		most = max(most, t.Count)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="transitions between levels of care">`, width, top+rowHeight*len(targets))
	for _, t := range transitions {
		y1 := top + row(t.From)*rowHeight + 14
		y2 := top + row(t.To)*rowHeight + 14
		stroke := 2 + 22*float64(t.Count)/float64(most)
		x1, x2 := leftX+nodeWidth, rightX
		fmt.Fprintf(&b, `<path d="M%d %d C%d %d %d %d %d %d" fill="none" stroke="#3b6ea8" stroke-opacity="0.45" stroke-width="%.1f"><title>%s → %s: %d</title></path>`,
			x1, y1, (x1+x2)/2, y1, (x1+x2)/2, y2, x2, y2, stroke, svgText(t.From), svgText(t.To), t.Count)
		// The count sits on the band: further along for each lower source,
		// and near the end of upward bands, so counts of bands that cross
		// or share an end stay apart.
		along := 0.25 + 0.1*float64(row(t.From))
		if row(t.To) < row(t.From) {
			along = 0.85
		}
		lx, ly := bezierPoint(along, x1, y1, x2, y2)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%d</text>`, lx, ly-4, t.Count)
	}
	for i, name := range targets {
		y := top + i*rowHeight
		if i < len(targets)-1 {
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="28" rx="4" fill="#dde6f1"/><text x="%d" y="%d">%s</text>`, leftX, y, nodeWidth, leftX+8, y+18, svgText(name))
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="28" rx="4" fill="#dde6f1"/><text x="%d" y="%d">%s</text>`, rightX, y, nodeWidth, rightX+8, y+18, svgText(name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// bezierPoint is the point at parameter at (0–1) of the band drawn from
// (x1, y1) to (x2, y2) with both control points at the middle x.
func bezierPoint(at float64, x1, y1, x2, y2 int) (float64, float64) {
	mid := float64(x1+x2) / 2
	u := 1 - at
	x := u*u*u*float64(x1) + 3*u*u*at*mid + 3*u*at*at*mid + at*at*at*float64(x2)
	y := float64(y1) + float64(y2-y1)*(3*u*at*at+at*at*at)
	return x, y
}

// trendChart draws the mean score of each instrument by week of episode.
func trendChart(points []TrendPoint) template.HTML {
	const width, height, left, top, plotW, plotH = 560, 240, 36, 14, 500, 180
	lastWeek := 1
	for _, p := range points {
		lastWeek = max(lastWeek, p.Week)
	}
	x := func(week int) float64 { return left + float64(week)/float64(lastWeek)*plotW }
	y := func(score float64) float64 { return top + plotH - score/float64(domain.PHQ9.MaxScore())*plotH }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="mean scores by week of episode">`, width, height)
	for score := 0; score <= domain.PHQ9.MaxScore(); score += 5 {
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#e4e8ee"/><text x="0" y="%.1f">%d</text>`, left, left+plotW, y(float64(score)), y(float64(score)), y(float64(score))+4, score)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" fill="#566070">weeks since admission (0–%d)</text>`, left, height-6, lastWeek)
	colors := map[string]string{domain.PHQ9.String(): "#b5473a", domain.GAD7.String(): "#3b6ea8"}
	for i, in := range instrumentList {
		var line []string
		for _, p := range points {
			if p.Instrument != in.String() || p.Mean == nil {
				continue
			}
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.Week), y(*p.Mean)))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2.5" fill="%s"><title>%s week %d: %.1f (%d scores)</title></circle>`,
				x(p.Week), y(*p.Mean), colors[in.String()], in.String(), p.Week, *p.Mean, p.Scores)
		}
		if len(line) > 0 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(line, " "), colors[in.String()])
		}
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="10" height="10" fill="%s"/><text x="%d" y="%d">%s</text>`,
			left+plotW-110+i*60, top, colors[in.String()], left+plotW-96+i*60, top+9, in.String())
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// attendanceChart draws how many people attended what share of their
// sessions, in tenths.
func attendanceChart(people []PersonAttendance) template.HTML {
	var counts [10]int
	for _, p := range people {
		if p.Rate != nil {
			counts[min(int(*p.Rate*10), 9)]++
		}
	}
	most := 1
	for _, c := range counts {
		most = max(most, c)
	}
	const width, height, top, plot, barWidth = 460, 180, 10, 120, 40
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" role="img" aria-label="people by attendance rate">`, width, height)
	for i, c := range counts {
		h := float64(c) / float64(most) * plot
		x := 4 + i*(barWidth+4)
		fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="#8a6bb0"/>`, x, float64(top+plot)-h, barWidth, h)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">%d</text>`, x+barWidth/2, top+plot+14, c)
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle" fill="#566070">%d–%d %%</text>`, x+barWidth/2, top+plot+30, i*10, i*10+10)
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
