// The director's census board: aggregates only. It is built from the
// "census" topic alone, whose view carries no name and no identifier, and
// it never calls an endpoint that does.

import { h, announce } from '../dom.js';
import { occupancyBar, sparkline } from '../charts.js';
import {
  LEVELS, levelLabel, levelDescription, formatDate, formatDays, formatPercent, plural, humanize,
} from '../format.js';

const MOVEMENTS = [
  ['admissions', 'Admissions'],
  ['readmissions', 'of which readmissions'],
  ['stepDowns', 'Step-downs'],
  ['stepUps', 'Step-ups'],
  ['discharges', 'Discharges'],
  ['referrals', 'Referrals'],
  ['intakes', 'Intakes'],
];

/** mount shows the census board in root and follows it live. */
export function mount(root, _params, { live, relayout }) {
  const body = h('div', { class: 'census-body', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading the census…'));
  const subtitle = h('p', { class: 'page-subtitle' }, 'People in care, group occupancy and movement. Aggregates only.');
  root.append(
    h('header', { class: 'page-header' }, h('div', {}, h('h1', { tabindex: '-1' }, 'Census'), subtitle)),
    body);

  let previous = null;
  const stop = live.subscribe('census', (view) => {
    body.removeAttribute('aria-busy');
    subtitle.textContent = `${formatDate(view.today)} · people in care, group occupancy and movement. Aggregates only.`;
    body.replaceChildren(...render(view, previous));
    relayout();
    if (previous) announceChanges(previous, view);
    previous = view;
  }, (err) => {
    body.replaceChildren(h('p', { class: 'notice is-error' }, `The census is not available: ${err.message || 'unknown error'}`));
  });
  return stop;
}

function announceChanges(before, after) {
  const changes = [];
  for (const level of after.levels) {
    const old = before.levels.find((l) => l.level === level.level);
    if (old && old.people !== level.people) changes.push(`${levelLabel(level.level)} ${level.people} (was ${old.people})`);
  }
  if (changes.length) announce(`Census updated: ${changes.join(', ')}.`);
}

function changed(before, after) {
  return before !== null && before !== undefined && before !== after;
}

function render(view, previous) {
  return [
    kpis(view, previous),
    levels(view, previous),
    h('div', { class: 'census-grid' }, movement(view), pipeline(view), programs(view)),
    groups(view),
  ];
}

function kpi(label, value, detail, id, flash) {
  return h('div', { class: ['kpi', flash && 'flash'] },
    h('dt', {}, label),
    h('dd', {}, h('span', { class: 'kpi-value', id }, value), detail ? h('span', { class: 'kpi-detail' }, detail) : null));
}

function kpis(view, previous) {
  const today = view.movements.today;
  const was = previous?.movements.today;
  return h('section', { class: 'card kpis-card', 'aria-label': 'Today at a glance' },
    h('dl', { class: 'kpis' },
      kpi('In care', String(view.inCare), view.capacity ? `of ${view.capacity} places · ${formatPercent(view.inCare / view.capacity)}` : '', 'census-in-care', changed(previous?.inCare, view.inCare)),
      kpi('Admissions today', String(today.admissions), `${view.movements.last7Days.admissions} in 7 days`, 'census-admissions-today', changed(was?.admissions, today.admissions)),
      kpi('Step-downs today', String(today.stepDowns), `${today.stepUps} step-ups`, 'census-stepdowns-today', changed(was?.stepDowns, today.stepDowns)),
      kpi('Discharges today', String(today.discharges), `${view.movements.last7Days.discharges} in 7 days`, 'census-discharges-today', changed(was?.discharges, today.discharges)),
      kpi('Waiting for admission', String(view.pipeline.waitingForAdmission), `${view.pipeline.referred} referred, intake pending`, 'census-waiting', changed(previous?.pipeline.waitingForAdmission, view.pipeline.waitingForAdmission))));
}

function levels(view, previous) {
  const cards = LEVELS.map((level) => {
    const l = view.levels.find((x) => x.level === level) || { level, people: 0, capacity: 0, medianStayDays: null };
    const old = previous?.levels.find((x) => x.level === level);
    return h('li', { class: ['level-card', `lvl-card-${level}`, changed(old?.people, l.people) && 'flash'], dataset: { level } },
      h('h3', {}, levelLabel(level)),
      h('p', { class: 'level-description' }, levelDescription(level)),
      h('p', { class: 'level-count' },
        h('span', { class: 'count', id: `census-level-${level}` }, String(l.people)),
        h('span', { class: 'of' }, l.capacity ? ` of ${l.capacity}` : '')),
      occupancyBar(l.people, l.capacity, `${levelLabel(level)} occupancy`),
      h('p', { class: 'level-stay' }, 'Median stay ', h('strong', {}, formatDays(l.medianStayDays))));
  });
  return h('section', { class: 'levels', 'aria-labelledby': 'census-levels-title' },
    h('h2', { id: 'census-levels-title' }, 'Levels of care'),
    h('ol', { class: 'level-cards' }, cards));
}

function movement(view) {
  const m = view.movements;
  const rows = MOVEMENTS.map(([key, label]) => h('tr', { class: key === 'readmissions' ? 'sub' : null },
    h('th', { scope: 'row' }, label),
    h('td', { class: 'num', id: `census-today-${key}` }, String(m.today[key])),
    h('td', { class: 'num' }, String(m.last7Days[key])),
    h('td', { class: 'spark' }, sparkline(m.days, (d) => d[key], label))));
  return h('section', { class: 'card', 'aria-labelledby': 'census-movement-title' },
    h('h2', { id: 'census-movement-title' }, 'Movement'),
    h('table', { class: 'data movement' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Movement')), h('th', { scope: 'col', class: 'num' }, 'Today'), h('th', { scope: 'col', class: 'num' }, '7 days'), h('th', { scope: 'col' }, 'Per day'))),
      h('tbody', {}, rows)));
}

function pipeline(view) {
  const p = view.pipeline;
  const step = (label, n, hint) => h('li', { class: 'pipeline-step' },
    h('span', { class: 'pipeline-count' }, String(n)),
    h('span', { class: 'pipeline-label' }, label),
    h('span', { class: 'pipeline-hint' }, hint));
  return h('section', { class: 'card', 'aria-labelledby': 'census-pipeline-title' },
    h('h2', { id: 'census-pipeline-title' }, 'Intake pipeline'),
    h('ol', { class: 'pipeline' },
      step('Referred', p.referred, 'intake not yet done'),
      step('Intake done', p.waitingForAdmission, 'waiting for admission'),
      step('In care', view.inCare, 'admitted at a level of care')));
}

function programs(view) {
  const rows = [...view.programs]
    .sort((a, b) => LEVELS.indexOf(a.level) - LEVELS.indexOf(b.level) || a.name.localeCompare(b.name))
    .map((p) => h('tr', {},
      h('th', { scope: 'row' }, p.name || humanize(p.program)),
      h('td', {}, levelLabel(p.level)),
      h('td', { class: 'num' }, p.capacity ? `${p.people} / ${p.capacity}` : String(p.people)),
      h('td', { class: 'bar-cell' }, occupancyBar(p.people, p.capacity, p.name || p.program))));
  return h('section', { class: 'card', 'aria-labelledby': 'census-programs-title' },
    h('h2', { id: 'census-programs-title' }, 'Programs'),
    h('table', { class: 'data programs' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Program'), h('th', { scope: 'col' }, 'Level'), h('th', { scope: 'col', class: 'num' }, 'People'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Occupancy')))),
      h('tbody', {}, rows)));
}

/**
 * groupList lists groups by level as occupancy bars with their waitlists;
 * the groups page reuses it with links to the rosters (link(g) → href).
 */
export function groupList(groups, link) {
  const byLevel = new Map();
  for (const g of groups) {
    const key = g.level || '';
    if (!byLevel.has(key)) byLevel.set(key, []);
    byLevel.get(key).push(g);
  }
  const sections = [...byLevel.entries()]
    .sort(([a], [b]) => LEVELS.indexOf(a) - LEVELS.indexOf(b))
    .map(([level, list]) => h('div', { class: 'group-level' },
      h('h3', {}, level ? levelLabel(level) : 'Any level'),
      h('ul', { class: 'group-bars' }, list.sort((a, b) => a.name.localeCompare(b.name)).map((g) => {
        const name = link ? h('a', { href: link(g) }, g.name || g.group) : (g.name || g.group);
        return h('li', { class: ['group-bar', `lvl-card-${g.level}`, !g.running && 'not-running'], dataset: { group: g.group } },
          h('span', { class: 'group-name' }, name),
          g.running ? occupancyBar(g.members, g.capacity, `${g.name} seats`) : h('span', { class: 'tag' }, 'Not running'),
          h('span', { class: 'group-seats num' }, `${g.members}/${g.capacity}`),
          h('span', { class: ['group-waitlist', g.waitlist > 0 && 'has-waitlist'] }, g.waitlist > 0 ? plural(g.waitlist, 'waiting', 'waiting') : 'no waitlist'));
      }))));
  return h('div', { class: 'group-levels' }, sections);
}

function groups(view) {
  const full = view.groups.filter((g) => g.running && g.members >= g.capacity).length;
  const waiting = view.groups.reduce((n, g) => n + g.waitlist, 0);
  return h('section', { class: 'card groups-card', 'aria-labelledby': 'census-groups-title' },
    h('h2', { id: 'census-groups-title' }, 'Groups'),
    h('p', { class: 'card-summary' }, `${plural(full, 'group', 'groups')} full · ${plural(waiting, 'person', 'people')} on waitlists`),
    groupList(view.groups, null));
}
