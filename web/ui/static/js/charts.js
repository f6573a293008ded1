// Charts drawn as inline SVG (and HTML bars) from the API's views: no
// charting library, nothing fetched. Colours come from CSS classes, so the
// light and the wall theme style them alike. Every chart carries a text
// alternative; the journey page also lists the same facts as text.

import { h, svg } from './dom.js';
import { LEVELS, levelLabel, formatShortDate, formatDay, formatWeekday } from './format.js';

/**
 * occupancyBar shows used of capacity as a horizontal bar; over capacity
 * fills the bar and turns it to the warning colour, since an over-full
 * program is what a director must notice.
 */
export function occupancyBar(used, capacity, label) {
  const share = capacity > 0 ? used / capacity : (used > 0 ? 1 : 0);
  const state = share > 1 ? 'over' : share >= 0.9 ? 'high' : 'normal';
  const text = capacity > 0 ? `${label}: ${used} of ${capacity}` : `${label}: ${used}, no capacity set`;
  return h('div', { class: ['bar', `bar-${state}`], role: 'img', 'aria-label': text },
    h('div', { class: 'bar-fill', style: { width: `${Math.min(100, Math.round(share * 100))}%` } }));
}

/** sparkline draws daily counts as small bars, oldest first. */
export function sparkline(days, pick, label) {
  const width = 84;
  const height = 22;
  const values = days.map(pick);
  const max = Math.max(1, ...values);
  const gap = 2;
  const barWidth = (width - gap * (values.length - 1)) / Math.max(1, values.length);
  const description = days.map((d, i) => `${formatWeekday(d.date)} ${values[i]}`).join(', ');
  return svg('svg', { class: 'sparkline', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `${label}, last 7 days: ${description}` },
    values.map((v, i) => {
      const barHeight = v === 0 ? 1 : Math.max(2, (v / max) * (height - 2));
      return svg('rect', {
        class: v === 0 ? 'spark-zero' : 'spark-bar',
        x: i * (barWidth + gap), y: height - barHeight, width: barWidth, height: barHeight, rx: 1,
      }, svg('title', {}, `${formatShortDate(days[i].date)}: ${v}`));
    }));
}

// The time axis shared by the swimlanes and the measure charts, so a
// step-down lines up with the scores around it.
const CHART_WIDTH = 1000;
const LABEL_WIDTH = 200;
const RIGHT_PAD = 16;
const DAY_MS = 86400000;

function parseTime(iso) {
  return iso ? new Date(iso).getTime() : NaN;
}

/** timeRange is the span a journey's charts cover: its first fact to its last, or now while care goes on. */
export function timeRange(journey, now = Date.now()) {
  const times = journey.timeline.map((e) => parseTime(e.at)).filter(Number.isFinite);
  if (times.length === 0) return { start: now - 30 * DAY_MS, end: now };
  let start = Math.min(...times);
  let end = Math.max(...times);
  const open = journey.levels.some((s) => !s.end) || journey.groups.some((g) => !g.endedAt);
  if (open && now > end) end = now;
  if (end - start < 14 * DAY_MS) {
    const pad = (14 * DAY_MS - (end - start)) / 2;
    start -= pad;
    end += pad;
  }
  const margin = (end - start) * 0.03;
  return { start: start - margin, end: end + margin };
}

function scaleX(range) {
  const span = range.end - range.start;
  return (t) => LABEL_WIDTH + ((t - range.start) / span) * (CHART_WIDTH - LABEL_WIDTH - RIGHT_PAD);
}

/** ticks picks readable dates along the range: weekly, monthly or quarterly. */
function ticks(range) {
  const span = range.end - range.start;
  const out = [];
  const d = new Date(range.start);
  d.setHours(0, 0, 0, 0);
  if (span <= 70 * DAY_MS) {
    // Mondays.
    d.setDate(d.getDate() + ((8 - d.getDay()) % 7));
    const step = span <= 35 * DAY_MS ? 7 : 14;
    for (; d.getTime() <= range.end; d.setDate(d.getDate() + step)) out.push(d.getTime());
  } else {
    d.setDate(1);
    d.setMonth(d.getMonth() + 1);
    const step = span <= 400 * DAY_MS ? 1 : 3;
    for (; d.getTime() <= range.end; d.setMonth(d.getMonth() + step)) out.push(d.getTime());
  }
  return out;
}

function axis(range, x, top, bottom) {
  const tickFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
  return svg('g', { class: 'axis' }, ticks(range).map((t) => svg('g', {},
    svg('line', { class: 'grid', x1: x(t), x2: x(t), y1: top, y2: bottom }),
    svg('text', { class: 'tick', x: x(t), y: bottom + 16, 'text-anchor': 'middle' }, tickFormat.format(new Date(t)))))); 
}

function nowMarker(range, x, top, bottom, now) {
  if (now < range.start || now > range.end) return null;
  return svg('g', { class: 'now' },
    svg('line', { x1: x(now), x2: x(now), y1: top, y2: bottom }),
    svg('text', { x: x(now), y: top - 4, 'text-anchor': 'middle' }, 'now'));
}

const LANE = 28;
const LANE_GAP = 6;

/**
 * swimlanes draws the journey: one lane per level of care with a segment
 * per stay, milestones (referral, intake, discharge), and one lane per
 * group with the waitlist, the seat, completed modules and attendance.
 */
export function swimlanes(journey, catalogGroupName, now = Date.now()) {
  const range = timeRange(journey, now);
  const x = scaleX(range);
  const rows = [];
  const top = 22;
  let y = top;
  const laneY = {};

  // Milestones.
  const milestoneY = y;
  y += LANE + LANE_GAP;
  for (const level of LEVELS) {
    laneY[level] = y;
    y += LANE + LANE_GAP;
  }
  const groupKeys = [];
  for (const g of journey.groups) if (!groupKeys.includes(g.group)) groupKeys.push(g.group);
  const groupY = {};
  if (groupKeys.length) y += 10;
  const groupsTop = y;
  for (const key of groupKeys) {
    groupY[key] = y;
    y += LANE + LANE_GAP;
  }
  const bottom = y;
  const height = bottom + 26;

  rows.push(svg('text', { class: 'lane-label', x: 0, y: milestoneY + LANE / 2 + 5 }, 'Milestones'));
  for (const level of LEVELS) {
    rows.push(svg('rect', { class: 'lane-bg', x: LABEL_WIDTH, y: laneY[level], width: CHART_WIDTH - LABEL_WIDTH - RIGHT_PAD, height: LANE, rx: 3 }));
    rows.push(svg('text', { class: 'lane-label', x: 0, y: laneY[level] + LANE / 2 + 5 }, levelLabel(level)));
  }
  if (groupKeys.length) {
    rows.push(svg('text', { class: 'lane-section', x: 0, y: groupsTop - 2 }, 'Groups'));
  }
  for (const key of groupKeys) {
    const seg = journey.groups.find((g) => g.group === key);
    const name = seg.groupName || catalogGroupName(key);
    rows.push(svg('rect', { class: 'lane-bg', x: LABEL_WIDTH, y: groupY[key], width: CHART_WIDTH - LABEL_WIDTH - RIGHT_PAD, height: LANE, rx: 3 }));
    rows.push(svg('text', { class: 'lane-label', x: 0, y: groupY[key] + LANE / 2 + 5 }, svg('title', {}, name), truncate(name, 27)));
  }

  const end = Math.min(now, range.end);
  for (const s of journey.levels) {
    const x1 = x(parseTime(s.start));
    const x2 = s.end ? x(parseTime(s.end)) : x(Math.max(end, parseTime(s.start)));
    const label = `${levelLabel(s.level)}, ${s.programName || s.program}: ${formatDay(s.start)} – ${s.end ? formatDay(s.end) : 'ongoing'}`;
    rows.push(svg('rect', {
      class: ['segment', `lvl-${s.level}`, !s.end && 'open'], x: x1, y: laneY[s.level] + 3, width: Math.max(3, x2 - x1), height: LANE - 6, rx: 3,
    }, svg('title', {}, label)));
  }

  for (const g of journey.groups) {
    const gy = groupY[g.group];
    const waitStart = parseTime(g.waitlistedAt);
    const seatStart = parseTime(g.joinedAt);
    const stop = g.endedAt ? parseTime(g.endedAt) : Math.max(end, seatStart || waitStart);
    const name = g.groupName || catalogGroupName(g.group);
    if (Number.isFinite(waitStart)) {
      const waitEnd = Number.isFinite(seatStart) ? seatStart : stop;
      rows.push(svg('rect', { class: 'segment waitlist', x: x(waitStart), y: gy + 6, width: Math.max(3, x(waitEnd) - x(waitStart)), height: LANE - 12, rx: 3 },
        svg('title', {}, `${name}: on the waitlist from ${formatDay(g.waitlistedAt)}`)));
    }
    if (Number.isFinite(seatStart)) {
      rows.push(svg('rect', { class: ['segment', 'seat', !g.endedAt && 'open'], x: x(seatStart), y: gy + 3, width: Math.max(3, x(stop) - x(seatStart)), height: LANE - 6, rx: 3 },
        svg('title', {}, `${name}: member from ${formatDay(g.joinedAt)}${g.endedAt ? ` to ${formatDay(g.endedAt)}` : ''}`)));
    }
    for (const m of g.modules || []) {
      const mx = x(parseTime(m.at));
      rows.push(svg('path', { class: 'module-mark', d: `M${mx} ${gy + 2} l6 ${LANE / 2 - 2} l-6 ${LANE / 2 - 2} l-6 ${-(LANE / 2 - 2)} z` },
        svg('title', {}, `${name}: module ${m.module} completed ${formatDay(m.at)}`)));
    }
  }

  for (const e of journey.timeline) {
    const t = parseTime(e.at);
    if (e.type === 'AttendanceRecorded' && groupY[e.group] !== undefined) {
      rows.push(svg('circle', { class: ['attendance', `att-${e.attendance}`], cx: x(t), cy: groupY[e.group] + LANE / 2, r: 4 },
        svg('title', {}, `${e.groupName || e.group}: ${e.attendance} on ${formatDay(e.at)}`)));
    }
    const milestone = { Referred: 'R', IntakeCompleted: 'I', Discharged: 'D', Readmitted: 'A', Admitted: 'A' }[e.type];
    if (milestone) {
      const mx = x(t);
      rows.push(svg('g', { class: ['milestone', `ms-${e.type}`] },
        svg('title', {}, `${milestoneLabel(e.type)} ${formatDay(e.at)}`),
        svg('circle', { cx: mx, cy: milestoneY + LANE / 2, r: 10 }),
        svg('text', { x: mx, y: milestoneY + LANE / 2 + 4, 'text-anchor': 'middle' }, milestone)));
    }
  }

  const summary = journey.levels.map((s) => `${levelLabel(s.level)} from ${formatDay(s.start)}${s.end ? ` to ${formatDay(s.end)}` : ', ongoing'}`).join('; ');
  return svg('svg', {
    class: 'swimlanes', viewBox: `0 0 ${CHART_WIDTH} ${height}`, role: 'img',
    'aria-label': `Levels of care over time. ${summary || 'No admission yet.'}`,
  }, axis(range, x, top - 6, bottom), rows, nowMarker(range, x, top - 6, bottom, now));
}

function milestoneLabel(type) {
  return { Referred: 'Referred', IntakeCompleted: 'Intake completed', Discharged: 'Discharged', Readmitted: 'Readmitted', Admitted: 'Admitted' }[type];
}

function truncate(text, n) {
  return text.length > n ? `${text.slice(0, n - 1)}…` : text;
}

/**
 * measureChart draws one instrument's scores on the journey's time axis,
 * with the clinical cut-off (10: moderate symptoms, the usual threshold for
 * both PHQ-9 and GAD-7) and the remission line (below 5).
 */
export function measureChart(journey, { instrument, label, max, points }, now = Date.now()) {
  const range = timeRange(journey, now);
  const x = scaleX(range);
  const top = 12;
  const plotHeight = 150;
  const bottom = top + plotHeight;
  const y = (score) => bottom - (score / max) * plotHeight;
  const parts = [];
  // Severity bands: none–minimal, mild, moderate, (moderately) severe.
  const bands = instrument === 'phq9'
    ? [[0, 5, 'minimal'], [5, 10, 'mild'], [10, 15, 'moderate'], [15, 20, 'modsevere'], [20, max, 'severe']]
    : [[0, 5, 'minimal'], [5, 10, 'mild'], [10, 15, 'moderate'], [15, max, 'severe']];
  for (const [lo, hi, name] of bands) {
    parts.push(svg('rect', { class: ['band', `band-${name}`], x: LABEL_WIDTH, y: y(hi), width: CHART_WIDTH - LABEL_WIDTH - RIGHT_PAD, height: y(lo) - y(hi) }));
  }
  for (let s = 0; s <= max; s += 5) {
    parts.push(svg('text', { class: 'tick', x: LABEL_WIDTH - 8, y: y(s) + 4, 'text-anchor': 'end' }, String(s)));
  }
  parts.push(svg('text', { class: 'chart-title', x: 0, y: top + 14 }, label));
  parts.push(svg('text', { class: 'chart-subtitle', x: 0, y: top + 32 }, `0–${max}`));
  parts.push(svg('line', { class: 'cutoff', x1: LABEL_WIDTH, x2: CHART_WIDTH - RIGHT_PAD, y1: y(10), y2: y(10) }));
  parts.push(svg('text', { class: 'cutoff-label', x: CHART_WIDTH - RIGHT_PAD - 4, y: y(10) - 5, 'text-anchor': 'end' }, 'clinical cut-off 10'));
  parts.push(svg('line', { class: 'remission', x1: LABEL_WIDTH, x2: CHART_WIDTH - RIGHT_PAD, y1: y(5), y2: y(5) }));
  parts.push(svg('text', { class: 'cutoff-label', x: CHART_WIDTH - RIGHT_PAD - 4, y: y(5) - 5, 'text-anchor': 'end' }, 'remission below 5'));
  const sorted = [...points].sort((a, b) => parseTime(a.at) - parseTime(b.at));
  if (sorted.length > 1) {
    const d = sorted.map((p, i) => `${i === 0 ? 'M' : 'L'}${x(parseTime(p.at)).toFixed(1)} ${y(p.score).toFixed(1)}`).join(' ');
    parts.push(svg('path', { class: `series series-${instrument}`, d }));
  }
  for (const p of sorted) {
    parts.push(svg('circle', { class: ['point', `point-${instrument}`, p.baseline && 'baseline'], cx: x(parseTime(p.at)), cy: y(p.score), r: p.baseline ? 6 : 4.5 },
      svg('title', {}, `${label} ${p.score} on ${formatDay(p.at)}${p.baseline ? ' (intake baseline)' : ''}`)));
  }
  const summary = sorted.length
    ? `${sorted.length} scores, first ${sorted[0].score}, latest ${sorted[sorted.length - 1].score}`
    : 'no scores yet';
  return svg('svg', { class: 'measure-chart', viewBox: `0 0 ${CHART_WIDTH} ${bottom + 26}`, role: 'img', 'aria-label': `${label} over time: ${summary}. Clinical cut-off 10, remission below 5.` },
    axis(range, x, top, bottom), parts, nowMarker(range, x, top + 8, bottom, now));
}
