// Outcomes: the analyst's page. It asks GET /api/outcomes for a replay of
// the whole log (or of what was known at an as-of date) and draws the
// figures: completion, length of stay, transitions, readmission, PHQ-9 and
// GAD-7, by cohort and by program. The analyst sees aggregates only — no
// name, no identifier; the API's per-person attendance carries pseudonyms
// and is summarised here as a distribution.

import { h, svg } from '../dom.js';
import { getJSON } from '../api.js';
import { LEVELS, levelLabel, humanize, formatDate, formatPercent, formatDays, plural } from '../format.js';

const PARAMS = ['as_of', 'from', 'to', 'cohort'];

/** queryOf reads the page's options from the route's query (#/outcomes?as_of=…). */
function queryOf() {
  const hash = window.location.hash;
  const i = hash.indexOf('?');
  const all = new URLSearchParams(i < 0 ? '' : hash.slice(i + 1));
  const q = new URLSearchParams();
  for (const p of PARAMS) if (all.get(p)) q.set(p, all.get(p));
  return q;
}

function count(n) {
  return (n ?? 0).toLocaleString();
}

function number(v) {
  return v === null || v === undefined ? '—' : (Math.round(v * 10) / 10).toLocaleString();
}

/** rateCell shows a rate with the counts behind it, so small numbers show. */
function rateCell(rate, part, whole) {
  return h('td', { class: 'num' }, formatPercent(rate), h('span', { class: 'small' }, ` ${count(part)}/${count(whole)}`));
}

function table(caption, head, rows) {
  return h('table', { class: 'data' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', {}, h('tr', {}, head.map((c, i) => h('th', { scope: 'col', class: i > 0 ? 'num' : null }, c)))),
    h('tbody', {}, rows));
}

function section(title, ...children) {
  return h('section', { class: 'card', 'aria-label': title }, h('h2', {}, title), children);
}

function kpis(r) {
  const kpi = (label, value, detail) => h('div', { class: 'kpi' }, h('dt', {}, label), h('dd', {}, h('span', { class: 'kpi-value' }, value), h('span', { class: 'kpi-detail' }, detail)));
  return h('section', { class: 'card kpis-card', 'aria-label': 'Key figures' }, h('dl', { class: 'kpis' },
    kpi('Episodes', count(r.episodes.total), `${count(r.episodes.open)} open`),
    kpi('Completed', formatPercent(r.episodes.completion_rate), `${count(r.episodes.completed)} of ${count(r.episodes.closed)} closed`),
    kpi('Readmitted ≤ 30 days', formatPercent(r.readmission_30d.rate), `${count(r.readmission_30d.readmitted)} of ${count(r.readmission_30d.readmitted + r.readmission_30d.not_readmitted)}, ${count(r.readmission_30d.pending)} pending`),
    kpi('Step-downs held', formatPercent(r.step_down.rate), `${count(r.step_down.successful)} of ${count(r.step_down.successful + r.step_down.failed)}, ${count(r.step_down.pending)} pending`),
    kpi('Stepped up', formatPercent(r.step_up.rate), `${count(r.step_up.stepped_up)} of ${count(r.step_up.episodes)} episodes`)));
}

function completionTable(rows, key, label) {
  return table(`Completion by ${label}`, [label, 'Closed episodes', 'Completed', 'Open', ''], rows.map((c) =>
    h('tr', {},
      h('th', { scope: 'row' }, key(c)),
      h('td', { class: 'num' }, count(c.episodes)),
      rateCell(c.rate, c.completed, c.episodes),
      h('td', { class: 'num' }, count(c.open)),
      h('td', { class: 'bar-cell' }, h('div', { class: 'bar', role: 'img', 'aria-label': `${key(c)}: ${formatPercent(c.rate)} completed` },
        h('div', { class: 'bar-fill', style: { width: `${Math.round((c.rate || 0) * 100)}%` } }))))));
}

/** stayHistogram draws the lengths of ended stays at each level as small bar charts. */
function stayHistogram(bins) {
  const levels = LEVELS.filter((l) => bins.some((b) => b.level === l && b.count > 0));
  if (levels.length === 0) return h('p', { class: 'hint' }, 'No ended stays yet.');
  const width = 400;
  const height = 150;
  const plot = 100;
  return h('div', { class: 'level-cards' }, levels.map((level) => {
    const mine = bins.filter((b) => b.level === level);
    const most = Math.max(1, ...mine.map((b) => b.count));
    const barWidth = width / mine.length - 4;
    const label = (b) => (b.max_days === null ? `${b.min_days}+` : `${b.min_days}–${b.max_days}`);
    const description = mine.map((b) => `${label(b)} days: ${b.count}`).join(', ');
    return h('figure', { class: 'stay-histogram' },
      h('figcaption', {}, `${levelLabel(level)}: stays by length (days from)`),
      svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `Length of stay at ${levelLabel(level)}: ${description}` },
        mine.map((b, i) => {
          const bh = (b.count / most) * plot;
          const x = i * (barWidth + 4);
          return [
            svg('rect', { class: ['segment', `lvl-${level}`], x, y: 10 + plot - bh, width: barWidth, height: bh }, svg('title', {}, `${label(b)} days: ${b.count}`)),
            svg('text', { class: 'tick', x: x + barWidth / 2, y: plot + 24, 'text-anchor': 'middle' }, String(b.count)),
            svg('text', { class: 'tick', x: x + barWidth / 2, y: plot + 38, 'text-anchor': 'middle' }, b.max_days === null ? `${b.min_days}+` : String(b.min_days)),
          ];
        })));
  }));
}

/** transitionDiagram draws moves between levels as bands as wide as their counts. */
function transitionDiagram(transitions) {
  if (transitions.length === 0) return h('p', { class: 'hint' }, 'No stay has ended yet.');
  const targets = [...LEVELS, 'discharged'];
  const rowHeight = 40;
  const nodeWidth = 140;
  const right = 860;
  const width = right + nodeWidth;
  const height = rowHeight * targets.length + 8;
  const y = (name) => targets.indexOf(name) * rowHeight + 18;
  const most = Math.max(1, ...transitions.map((t) => t.count));
  const name = (n) => (n === 'discharged' ? 'Discharged' : levelLabel(n));
  const description = transitions.map((t) => `${name(t.from)} to ${name(t.to)}: ${t.count}`).join('; ');
  const bands = transitions.map((t) => {
    const y1 = y(t.from);
    const y2 = y(t.to);
    const mid = (nodeWidth + right) / 2;
    return [
      svg('path', {
        d: `M${nodeWidth} ${y1} C${mid} ${y1} ${mid} ${y2} ${right} ${y2}`, fill: 'none',
        stroke: '#3b6ea8', 'stroke-opacity': '0.4', 'stroke-width': (2 + 22 * t.count / most).toFixed(1),
      }, svg('title', {}, `${name(t.from)} → ${name(t.to)}: ${t.count} (${formatPercent(t.rate)})`)),
      svg('text', { class: 'tick', x: mid, y: (y1 + y2) / 2 - 4, 'text-anchor': 'middle' }, String(t.count)),
    ];
  });
  const nodes = targets.map((n) => [
    n === 'discharged' ? null : svg('rect', { class: ['segment', `lvl-${n}`], x: 0, y: y(n) - 14, width: nodeWidth, height: 28, rx: 4 }),
    n === 'discharged' ? null : svg('text', { x: 8, y: y(n) + 5 }, name(n)),
    svg('rect', { class: n === 'discharged' ? 'segment seat' : ['segment', `lvl-${n}`], x: right, y: y(n) - 14, width: nodeWidth, height: 28, rx: 4 }),
    svg('text', { x: right + 8, y: y(n) + 5 }, name(n)),
  ]);
  return h('div', { class: 'chart-scroll' }, svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `Transitions between levels: ${description}` }, bands, nodes));
}

/** trendChart draws the mean PHQ-9 and GAD-7 score by week of episode. */
function trendChart(points) {
  if (points.length === 0) return h('p', { class: 'hint' }, 'No scores recorded yet.');
  const width = 900;
  const left = 40;
  const top = 10;
  const plot = 180;
  const lastWeek = Math.max(1, ...points.map((p) => p.week));
  const x = (week) => left + (week / lastWeek) * (width - left - 20);
  const y = (score) => top + plot - (score / 27) * plot;
  const grid = [0, 5, 10, 15, 20, 25].map((s) => [
    svg('line', { class: 'grid', x1: left, x2: width - 20, y1: y(s), y2: y(s) }),
    svg('text', { class: 'tick', x: left - 6, y: y(s) + 4, 'text-anchor': 'end' }, String(s)),
  ]);
  const series = ['phq9', 'gad7'].map((instrument) => {
    const mine = points.filter((p) => p.instrument === instrument && p.mean !== null);
    if (mine.length === 0) return null;
    const d = mine.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(p.week).toFixed(1)} ${y(p.mean).toFixed(1)}`).join(' ');
    return [
      svg('path', { class: `series series-${instrument}`, d, fill: 'none' }),
      mine.map((p) => svg('circle', { class: ['point', `point-${instrument}`], cx: x(p.week), cy: y(p.mean), r: 3 },
        svg('title', {}, `${humanize(instrument)}, week ${p.week}: mean ${number(p.mean)} (${plural(p.scores, 'score', 'scores')})`))),
    ];
  });
  const summary = ['phq9', 'gad7'].map((i) => {
    const mine = points.filter((p) => p.instrument === i && p.mean !== null);
    return mine.length ? `${humanize(i)} from ${number(mine[0].mean)} in week ${mine[0].week} to ${number(mine[mine.length - 1].mean)} in week ${mine[mine.length - 1].week}` : null;
  }).filter(Boolean).join('; ');
  return h('div', {},
    h('div', { class: 'chart-scroll' }, svg('svg', { class: 'measure-chart', viewBox: `0 0 ${width} ${top + plot + 30}`, role: 'img', 'aria-label': `Mean scores by week since admission: ${summary}` },
      svg('g', { class: 'axis' }, grid), series,
      svg('text', { class: 'tick', x: left, y: top + plot + 24 }, `weeks since admission (0–${lastWeek})`))),
    h('ul', { class: 'legend' },
      h('li', {}, svg('svg', { width: 14, height: 4, 'aria-hidden': 'true' }, svg('line', { class: 'series series-phq9', x1: 0, x2: 14, y1: 2, y2: 2 })), ' PHQ-9'),
      h('li', {}, svg('svg', { width: 14, height: 4, 'aria-hidden': 'true' }, svg('line', { class: 'series series-gad7', x1: 0, x2: 14, y1: 2, y2: 2 })), ' GAD-7')));
}

function measureTable(measures) {
  return table('PHQ-9 and GAD-7 outcomes', ['Measure', 'With baseline', 'Followed up', 'Baseline', 'Last', 'Change', 'Response', 'Remission', 'Reliable improvement'],
    measures.map((m) => h('tr', {},
      h('th', { scope: 'row' }, `${humanize(m.instrument)}, ${m.population === 'clinical' ? 'clinical baseline' : 'all'}`),
      h('td', { class: 'num' }, count(m.with_baseline)),
      h('td', { class: 'num' }, count(m.followed_up)),
      h('td', { class: 'num' }, number(m.baseline_mean)),
      h('td', { class: 'num' }, number(m.last_mean)),
      h('td', { class: 'num' }, number(m.change_mean)),
      rateCell(m.response_rate, m.response, m.followed_up),
      rateCell(m.remission_rate, m.remission, m.followed_up),
      rateCell(m.reliable_improvement_rate, m.reliable_improvement, m.followed_up))));
}

function medianStay(o) {
  const all = o.length_of_stay.find((s) => s.scope === 'episode' && s.level === 'all');
  return all ? all.median : null;
}

function sliceTable(caption, rows, key) {
  return table(caption, [caption, 'Episodes', 'Open', 'Completed', 'Readmitted ≤ 30 days', 'Step-downs held', 'Median stay'], rows.map((o) =>
    h('tr', {},
      h('th', { scope: 'row' }, key(o)),
      h('td', { class: 'num' }, count(o.episodes.total)),
      h('td', { class: 'num' }, count(o.episodes.open)),
      rateCell(o.episodes.completion_rate, o.episodes.completed, o.episodes.closed),
      rateCell(o.readmission_30d.rate, o.readmission_30d.readmitted, o.readmission_30d.readmitted + o.readmission_30d.not_readmitted),
      rateCell(o.step_down.rate, o.step_down.successful, o.step_down.successful + o.step_down.failed),
      h('td', { class: 'num' }, formatDays(medianStay(o))))));
}

function groupTable(groups) {
  if (groups.length === 0) return h('p', { class: 'hint' }, 'No group memberships recorded.');
  return table('Group completion and attendance', ['Group', 'Members', 'Completed', 'Left', 'Active', 'Completion', 'Attendance'], groups.map((g) =>
    h('tr', {},
      h('th', { scope: 'row' }, g.group),
      h('td', { class: 'num' }, count(g.members)),
      h('td', { class: 'num' }, count(g.completed)),
      h('td', { class: 'num' }, count(g.left)),
      h('td', { class: 'num' }, count(g.active)),
      rateCell(g.completion_rate, g.completed, g.completed + g.left),
      rateCell(g.attendance_rate, g.present, g.attendance_recorded))));
}

/** attendanceSpread counts people by the share of their sessions attended, in fifths. */
function attendanceSpread(people) {
  const bands = [0, 0, 0, 0, 0];
  for (const p of people) if (p.rate !== null) bands[Math.min(4, Math.floor(p.rate * 5))]++;
  const labels = ['under 20 %', '20–40 %', '40–60 %', '60–80 %', '80 % and more'];
  return table('People by attendance', ['Sessions attended', 'People'], bands.map((n, i) =>
    h('tr', {}, h('th', { scope: 'row' }, labels[i]), h('td', { class: 'num' }, count(n)))));
}

function filterForm(query, navigate) {
  const field = (name, label, input) => h('div', { class: 'field' }, h('label', { for: `outcomes-${name}` }, label), input);
  const date = (name) => h('input', { id: `outcomes-${name}`, name, type: 'date', value: query.get(name) || undefined });
  const cohort = h('select', { id: 'outcomes-cohort', name: 'cohort' },
    h('option', { value: 'month' }, 'Month'), h('option', { value: 'quarter' }, 'Quarter'));
  cohort.value = query.get('cohort') || 'month';
  const form = h('form', { class: 'filters outcome-filters', 'aria-label': 'Replay options' },
    field('as_of', 'As of (clinical date)', date('as_of')),
    field('from', 'Episodes from', date('from')),
    field('to', 'Episodes to', date('to')),
    field('cohort', 'Cohorts by', cohort),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button' }, 'Replay')));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const p of PARAMS) {
      const v = form.elements[p].value;
      if (v && !(p === 'cohort' && v === 'month')) q.set(p, v);
    }
    navigate(`#/outcomes${q.toString() ? `?${q}` : ''}`);
  });
  return form;
}

function render(body, r, query) {
  const reportLink = new URLSearchParams(query);
  reportLink.set('format', 'html');
  const known = r.as_of ? `as known on ${formatDate(r.as_of)}` : `up to ${r.horizon ? formatDate(r.horizon) : 'now'}`;
  const parts = [
    h('p', { class: 'page-subtitle outcome-meta' },
      `${count(r.events_replayed)} events replayed, ${known}; cohorts by ${r.cohort_period}; days in ${r.time_zone}. `,
      r.episodes.estimated_dates ? `${count(r.episodes.estimated_dates)} episodes have estimated dates (imports). ` : null,
      h('a', { href: `/api/outcomes?${reportLink}`, download: 'outcomes.html' }, 'Download the report (HTML, opens offline)')),
    kpis(r),
    section('Completion by level at the start of the episode', completionTable(r.completion_by_level, (c) => levelLabel(c.level), 'Level')),
    r.completion_by_source_setting.length
      ? section('Completion by source setting (imported episodes)', completionTable(r.completion_by_source_setting, (c) => `Setting ${c.setting}`, 'Setting'))
      : null,
    section('How episodes ended', table('Discharge reasons', ['Reason', 'Episodes', 'Share'], r.completion_by_reason.map((c) =>
      h('tr', {}, h('th', { scope: 'row' }, humanize(c.reason)), h('td', { class: 'num' }, count(c.episodes)), h('td', { class: 'num' }, formatPercent(c.rate)))))),
    section('Length of stay', stayHistogram(r.length_of_stay_histogram),
      table('Length of stay in days', ['', 'Ended', 'Median', 'Quartiles', 'Mean', 'Open'], r.length_of_stay.filter((s) => s.count > 0 || s.open > 0).map((s) =>
        h('tr', {},
          h('th', { scope: 'row' }, `${s.scope === 'stay' ? 'Stay at' : 'Episode from'} ${s.level === 'all' ? 'any level' : levelLabel(s.level)}`),
          h('td', { class: 'num' }, count(s.count)),
          h('td', { class: 'num' }, formatDays(s.median)),
          h('td', { class: 'num' }, s.p25 === null ? '—' : `${number(s.p25)}–${number(s.p75)}`),
          h('td', { class: 'num' }, formatDays(s.mean)),
          h('td', { class: 'num' }, count(s.open)))))),
    section('Transitions between levels', transitionDiagram(r.transitions)),
    section('PHQ-9 and GAD-7', trendChart(r.measure_trends), measureTable(r.measures)),
    section('By cohort', sliceTable('Cohort', r.by_cohort, (o) => o.cohort)),
    section('By program of admission', sliceTable('Program', r.by_program, (o) => o.program)),
    section('Groups', groupTable(r.groups), attendanceSpread(r.attendance_by_person)),
  ];
  body.replaceChildren(...parts.filter(Boolean));
}

/** mount shows the outcomes for the route's options. */
export function mount(root, _params, { navigate }) {
  const query = queryOf();
  const body = h('div', { class: 'outcomes-body', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Replaying the event log…'));
  root.append(
    h('header', { class: 'page-header' }, h('div', {},
      h('h1', { tabindex: '-1' }, 'Outcomes'),
      h('p', { class: 'page-subtitle' }, 'Replayed from the event log. Aggregates only: no names, no identifiers.'))),
    filterForm(query, navigate),
    body);
  const controller = new AbortController();
  getJSON(`/api/outcomes?${query}`, { signal: controller.signal }).then((report) => {
    body.removeAttribute('aria-busy');
    render(body, report, query);
  }, (err) => {
    if (err.name === 'AbortError') return;
    body.removeAttribute('aria-busy');
    body.replaceChildren(h('p', { class: 'notice is-error' }, `The outcomes could not be replayed: ${err.message}`));
  });
  return () => controller.abort();
}
