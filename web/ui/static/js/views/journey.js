// A person's journey: where they are, the timeline of their levels of care
// with groups, modules and attendance, their PHQ-9/GAD-7 trend, and the
// forms for what happened today. The journey follows "patient:<id>" live;
// the name and contact come from the API response, never the websocket.

import { h, replace, announce } from '../dom.js';
import { getJSON } from '../api.js';
import { loadCatalog, programOptions, groupOptions, groupName } from '../catalog.js';
import { commandForm, whenField } from '../forms.js';
import { swimlanes, measureChart } from '../charts.js';
import {
  levelLabel, levelRank, humanize, formatDate, formatDay, formatDateTime, formatPercent, personName,
} from '../format.js';

// A person referred a moment ago may not have reached the read models
// yet: the journey asks again a few times before giving up on the topic.
const RETRY_NOT_FOUND_MS = 1000;
const RETRY_NOT_FOUND_TIMES = 10;

/** mount shows the journey of the patient params.id in root. */
export function mount(root, { id }, { live, setTitle }) {
  const heading = h('h1', { tabindex: '-1' }, 'Patient');
  const facts = h('dl', { class: 'facts person-facts' });
  const statusBadge = h('span', { class: 'status' });
  const actions = h('section', { class: 'card actions-card', 'aria-labelledby': 'journey-record' });
  const journeyBody = h('div', { class: 'journey-body', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading the journey…'));
  root.append(
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/patients' }, 'Patients'), ' / ', h('span', { 'aria-current': 'page' }, 'Journey')),
    h('header', { class: 'page-header person-header' }, h('div', {}, h('div', { class: 'title-row' }, heading, statusBadge), facts)),
    actions, journeyBody);

  let stopped = false;
  let person = null;
  let journey = null;
  let catalog = null;
  let renderedTimeline = '';

  async function loadPerson() {
    try {
      const [r, c] = await Promise.all([getJSON(`/api/patients/${encodeURIComponent(id)}`), loadCatalog()]);
      if (stopped) return;
      catalog = c;
      person = r.patient;
      if (!journey) journey = r.journey;
      renderHeader();
      renderActions();
      renderJourney();
    } catch (err) {
      if (stopped) return;
      journeyBody.removeAttribute('aria-busy');
      journeyBody.replaceChildren(h('p', { class: 'notice is-error' }, err.status === 404 || err.status === 400 ? 'There is no such patient.' : `The journey could not be loaded: ${err.message}`));
    }
  }

  function renderHeader() {
    const name = personName(person);
    heading.textContent = name;
    setTitle(name);
    const status = journey?.status || person.status;
    statusBadge.className = `status status-${status}`;
    statusBadge.textContent = humanize(status);
    const level = journey?.level || person.level;
    const current = journey?.levels?.find((s) => !s.end);
    replace(facts,
      fact('Level of care', level ? `${levelLabel(level)}${current ? `, ${current.programName || current.program} since ${formatDay(current.start)}` : ''}` : 'Not in care'),
      person.dateOfBirth ? fact('Date of birth', formatDate(person.dateOfBirth)) : null,
      person.contact ? fact('Contact', person.contact) : null,
      fact('Episodes of care', String(person.episodes)),
      person.source ? fact('Referred by', humanize(person.source)) : null);
  }

  // The actions offered follow the person's status; the domain still
  // decides, and its refusal is shown in the form. Forms read the journey
  // through current(), and refresh() keeps an open form's choices in step
  // with live updates.
  const current = () => journey;
  const ACTIONS = {
    intake: { label: 'Intake', when: ['referred'], build: () => intakeForm(id, catalog, done) },
    admit: { label: 'Admit', when: ['intake_done'], build: () => placementForm('admit', id, catalog, done) },
    readmit: { label: 'Readmit', when: ['discharged'], build: () => placementForm('readmit', id, catalog, done) },
    measure: { label: 'Measure', when: ['intake_done', 'admitted', 'discharged'], build: () => measureForm(id, catalog, done) },
    'step-down': { label: 'Step down', when: ['admitted'], build: () => levelChangeForm('step-down', id, catalog, current, done) },
    'step-up': { label: 'Step up', when: ['admitted'], build: () => levelChangeForm('step-up', id, catalog, current, done) },
    join: { label: 'Join group', when: ['admitted', 'discharged'], build: () => joinForm(id, catalog, done) },
    module: { label: 'Module completed', when: ['admitted', 'discharged'], build: () => moduleForm(id, catalog, current, done) },
    leave: { label: 'Leave group', when: ['admitted', 'discharged'], build: () => leaveForm(id, catalog, current, done) },
    discharge: { label: 'Discharge', when: ['admitted'], build: () => dischargeForm(id, catalog, done) },
  };
  const panel = h('div', { class: 'action-panel', id: 'journey-action-panel' });
  const toolbar = h('div', { class: 'action-buttons', role: 'group', 'aria-label': 'Record for this patient' });
  let openAction = null;
  actions.append(h('h2', { id: 'journey-record' }, 'Record'), toolbar, panel);

  function done(message) {
    announce(message);
    loadPerson();
  }

  function renderActions() {
    const status = journey?.status || person.status;
    const buttons = Object.entries(ACTIONS).filter(([, a]) => a.when.includes(status)).map(([key, a]) => {
      const button = h('button', {
        type: 'button', class: ['button', openAction === key && 'is-active'], id: `action-${key}`,
        'aria-expanded': String(openAction === key), 'aria-controls': 'journey-action-panel',
      }, a.label);
      button.addEventListener('click', () => toggle(key));
      return button;
    });
    toolbar.replaceChildren(...buttons);
  }

  function toggle(key) {
    if (openAction === key) {
      openAction = null;
      panel.replaceChildren();
      renderActions();
      document.getElementById(`action-${key}`)?.focus();
      return;
    }
    openAction = key;
    const form = ACTIONS[key].build();
    panel.replaceChildren(form);
    renderActions();
    form.querySelector('input, select, textarea, button')?.focus();
  }

  function renderJourney() {
    if (!journey || !catalog) return;
    journeyBody.removeAttribute('aria-busy');
    // Live updates re-render only when the journey changed.
    const key = JSON.stringify(journey);
    if (key === renderedTimeline) return;
    renderedTimeline = key;
    const nameOf = (g) => groupName(catalog, g);
    journeyBody.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'journey-timeline-title' },
        h('h2', { id: 'journey-timeline-title' }, 'Journey'),
        journey.timeline.length ? h('div', { class: 'chart-scroll' }, swimlanes(journey, nameOf)) : h('p', { class: 'empty' }, 'Nothing recorded yet.'),
        legend()),
      h('section', { class: 'card', 'aria-labelledby': 'journey-measures-title' },
        h('h2', { id: 'journey-measures-title' }, 'Measures'),
        h('div', { class: 'chart-scroll' },
          measureChart(journey, { instrument: 'phq9', label: 'PHQ-9', max: 27, points: journey.measures.phq9 }),
          measureChart(journey, { instrument: 'gad7', label: 'GAD-7', max: 21, points: journey.measures.gad7 })),
        measureTable(journey)),
      h('div', { class: 'columns' },
        h('section', { class: 'card', 'aria-labelledby': 'journey-groups-title' },
          h('h2', { id: 'journey-groups-title' }, 'Groups'), groupsList(journey, nameOf)),
        h('section', { class: 'card', 'aria-labelledby': 'journey-events-title' },
          h('h2', { id: 'journey-events-title' }, 'Timeline'), timelineList(journey, nameOf))));
  }

  loadPerson();
  const topic = `patient:${id}`;
  let retry = 0;
  let retries = 0;
  const stopLive = live.subscribe(topic, (data) => {
    const before = journey;
    journey = data;
    if (!person) return;
    const moved = before && (before.status !== data.status || before.level !== data.level);
    renderHeader();
    if (moved) renderActions();
    renderJourney();
    panel.firstElementChild?.refresh?.();
  }, (err) => {
    if (err.code === 'not_found' && !stopped && retries < RETRY_NOT_FOUND_TIMES) {
      retries += 1;
      retry = setTimeout(() => live.resubscribe(topic), RETRY_NOT_FOUND_MS);
    }
  });
  return () => { stopped = true; clearTimeout(retry); stopLive(); };
}

function fact(term, value) {
  return h('div', { class: 'fact' }, h('dt', {}, term), h('dd', {}, value));
}

function legend() {
  const item = (cls, label) => h('li', {}, h('span', { class: ['swatch', cls], 'aria-hidden': 'true' }), label);
  return h('ul', { class: 'legend', 'aria-label': 'Legend' },
    ['inpatient', 'residential', 'php', 'iop', 'outpatient'].map((l) => item(`lvl-${l}`, levelLabel(l))),
    item('swatch-seat', 'Group seat'), item('swatch-waitlist', 'Waitlist'), item('swatch-module', 'Module completed'),
    item('att-present', 'Present'), item('att-absent', 'Absent'), item('att-excused', 'Excused'));
}

function measureTable(journey) {
  const rows = [
    ...journey.measures.phq9.map((p) => ({ ...p, instrument: 'PHQ-9' })),
    ...journey.measures.gad7.map((p) => ({ ...p, instrument: 'GAD-7' })),
  ].sort((a, b) => new Date(a.at) - new Date(b.at));
  if (rows.length === 0) return h('p', { class: 'empty' }, 'No scores yet.');
  return h('details', { class: 'as-table' },
    h('summary', {}, 'Scores as a table'),
    h('table', { class: 'data' },
      h('thead', {}, h('tr', {}, ['Date', 'Instrument', 'Score', ''].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('td', {}, formatDay(r.at)), h('td', {}, r.instrument), h('td', { class: 'num' }, String(r.score)),
        h('td', {}, r.baseline ? 'intake baseline' : ''))))));
}

function groupsList(journey, nameOf) {
  if (journey.groups.length === 0) return h('p', { class: 'empty' }, 'No groups yet.');
  return h('ul', { class: 'group-segments' }, journey.groups.map((g) => {
    const name = g.groupName || nameOf(g.group);
    let state;
    if (g.endedAt) state = `${humanize(g.endedBy === 'GroupCompleted' ? 'completed' : g.endedBy === 'WaitlistLeft' ? 'left the waitlist' : 'left')} ${formatDay(g.endedAt)}${g.reason ? ` (${humanize(g.reason)})` : ''}`;
    else if (g.joinedAt) state = `member since ${formatDay(g.joinedAt)}`;
    else state = `on the waitlist since ${formatDay(g.waitlistedAt)}`;
    const a = g.attendance;
    const total = a.present + a.absent + a.excused;
    return h('li', {},
      h('a', { href: `#/groups/${g.group}` }, name),
      h('span', { class: 'muted' }, ` — ${state}`),
      g.entryModule ? h('div', { class: 'small' }, `Entered at module ${g.entryModule}; completed: ${(g.modules || []).map((m) => m.module).join(', ') || 'none yet'}`) : null,
      total ? h('div', { class: 'small' }, `Attendance ${formatPercent(a.rate)}: ${a.present} present, ${a.absent} absent, ${a.excused} excused`) : null);
  }));
}

/** describe says what a timeline entry records, in words. */
function describe(e, nameOf) {
  const group = e.groupName || (e.group ? nameOf(e.group) : '');
  const program = e.programName || e.program || '';
  switch (e.type) {
    case 'Referred': return `Referred${e.reason ? ` (${humanize(e.reason)})` : ''}`;
    case 'IntakeCompleted': return `Intake completed: ${levelLabel(e.level)} recommended; PHQ-9 ${e.phq9}, GAD-7 ${e.gad7}`;
    case 'Admitted': return `Admitted to ${levelLabel(e.level)}, ${program}`;
    case 'Readmitted': return `Readmitted to ${levelLabel(e.level)}, ${program}`;
    case 'SteppedDown': return `Stepped down from ${levelLabel(e.from)} to ${levelLabel(e.level)}, ${program}`;
    case 'SteppedUp': return `Stepped up from ${levelLabel(e.from)} to ${levelLabel(e.level)}, ${program}`;
    case 'Discharged': return `Discharged from ${levelLabel(e.level)} (${humanize(e.reason)})${e.alumniGroup ? `, alumni group ${nameOf(e.alumniGroup)}` : ''}`;
    case 'MeasureRecorded': return `${humanize(e.instrument)}: ${e.score}`;
    case 'MemberJoined': return `Joined ${group}${e.module ? ` at module ${e.module}` : ''}`;
    case 'MemberWaitlisted': return `Waitlisted for ${group}`;
    case 'WaitlistPromoted': return `Got a seat in ${group}${e.module ? ` at module ${e.module}` : ''}`;
    case 'WaitlistLeft': return `Left the waitlist of ${group}${e.reason ? ` (${humanize(e.reason)})` : ''}`;
    case 'MemberLeft': return `Left ${group}${e.reason ? ` (${humanize(e.reason)})` : ''}`;
    case 'AttendanceRecorded': return `${humanize(e.attendance)} at ${group}`;
    case 'ModuleCompleted': return `Completed module ${e.module} of ${group}`;
    case 'GroupCompleted': return `Completed ${group}`;
    default: return humanize(e.type);
  }
}

function timelineList(journey, nameOf) {
  if (journey.timeline.length === 0) return h('p', { class: 'empty' }, 'Nothing recorded yet.');
  const entries = [...journey.timeline].reverse();
  return h('ol', { class: 'timeline', reversed: true }, entries.map((e) => h('li', { class: ['timeline-entry', `tl-${e.type}`], dataset: { type: e.type } },
    h('time', { datetime: e.at }, formatDateTime(e.at)),
    h('span', { class: 'timeline-text' }, describe(e, nameOf)))));
}

// Forms for the clinician's commands on this person.

function placementForm(kind, id, catalog, done) {
  const readmit = kind === 'readmit';
  return commandForm({
    id: kind,
    title: readmit ? 'Readmit' : 'Admit',
    description: readmit ? 'Start a new episode of care after a discharge.' : 'Admit to a program; its level of care follows from the program.',
    fields: [
      { name: 'program', label: 'Program', type: 'select', required: true, options: programOptions(catalog) },
      whenField(),
    ],
    submitLabel: readmit ? 'Readmit' : 'Admit',
    steps: (v) => [{ name: kind, request: () => ({ path: `/api/patients/${id}/${kind}`, body: { program: v.program, level: catalog.programById.get(v.program)?.level || '', occurredAt: v.occurredAt } }) }],
    success: (r, v) => `${readmit ? 'Readmitted' : 'Admitted'} to ${catalog.programById.get(v.program)?.name || v.program}.`,
    onSuccess: (r, v, message) => done(message),
  });
}

function levelChangeForm(kind, id, catalog, current, done) {
  const up = kind === 'step-up';
  const options = () => {
    const level = current()?.level;
    return programOptions(catalog, (p) => !level || (up ? levelRank(p.level) < levelRank(level) : levelRank(p.level) > levelRank(level)));
  };
  const form = commandForm({
    id: kind,
    title: up ? 'Step up' : 'Step down',
    description: `To a ${up ? 'more' : 'less'} intensive level of care than the current one; the level follows from the program.`,
    fields: [
      { name: 'program', label: 'To program', type: 'select', required: true, options: options() },
      whenField(),
    ],
    submitLabel: up ? 'Record step-up' : 'Record step-down',
    steps: (v) => [{ name: kind, request: () => ({ path: `/api/patients/${id}/${kind}`, body: { to: catalog.programById.get(v.program)?.level || '', program: v.program, occurredAt: v.occurredAt } }) }],
    success: (r, v) => {
      const p = catalog.programById.get(v.program);
      return `Stepped ${up ? 'up' : 'down'} to ${levelLabel(p?.level)}, ${p?.name || v.program}.`;
    },
    onSuccess: (r, v, message) => done(message),
  });
  form.refresh = () => form.updateOptions('program', options());
  return form;
}

function measureForm(id, catalog, done) {
  const ranges = Object.fromEntries(catalog.instruments.map((i) => [i.id, i]));
  const form = commandForm({
    id: 'measure',
    title: 'Measure',
    description: `Total score: PHQ-9 ${ranges.phq9?.min ?? 0}–${ranges.phq9?.max ?? 27}, GAD-7 ${ranges.gad7?.min ?? 0}–${ranges.gad7?.max ?? 21}.`,
    fields: [
      { name: 'instrument', label: 'Instrument', type: 'select', required: true, options: catalog.instruments.map((i) => ({ value: i.id, label: humanize(i.id) })) },
      { name: 'score', label: 'Score', type: 'number', required: true, min: 0, max: 27 },
      whenField(),
    ],
    submitLabel: 'Record score',
    steps: (v) => [{ name: 'measure', request: () => ({ path: `/api/patients/${id}/measures`, body: { instrument: v.instrument, score: v.score, occurredAt: v.occurredAt } }) }],
    success: (r, v) => `${humanize(v.instrument)} ${v.score} recorded.`,
    onSuccess: (r, v, message) => done(message),
  });
  // The score's bounds follow the instrument chosen.
  const instrument = form.querySelector('#form-measure-instrument');
  const score = form.querySelector('#form-measure-score');
  instrument.addEventListener('change', () => {
    const range = ranges[instrument.value];
    if (range) { score.min = String(range.min); score.max = String(range.max); }
  });
  return form;
}

/** intakeFields are the assessment's controls, shared by the referral page. */
export function intakeFields(catalog) {
  return [
    { name: 'phq9', label: 'PHQ-9 total', type: 'number', required: true, min: 0, max: 27 },
    { name: 'gad7', label: 'GAD-7 total', type: 'number', required: true, min: 0, max: 21 },
    { name: 'recommendedLevel', label: 'Recommended level of care', type: 'select', required: true, options: catalog.levels.map((l) => ({ value: l, label: levelLabel(l) })) },
    { name: 'ageYears', label: 'Age in years', type: 'number', required: true, min: 0, max: 130 },
    { name: 'primaryCare', label: 'Has a primary-care provider or psychiatrist here', type: 'checkbox' },
    { name: 'individualTherapy', label: 'In concurrent individual therapy', type: 'checkbox' },
  ];
}

/** intakeBody turns the intake controls' values into the command's body. */
export function intakeBody(v) {
  return {
    phq9: v.phq9, gad7: v.gad7, recommendedLevel: v.recommendedLevel, ageYears: v.ageYears,
    primaryCare: v.primaryCare, individualTherapy: v.individualTherapy, occurredAt: v.occurredAt,
  };
}

function intakeForm(id, catalog, done) {
  return commandForm({
    id: 'intake',
    title: 'Intake',
    description: 'The intake assessment: baseline scores and the recommended level of care.',
    fields: [...intakeFields(catalog), whenField()],
    submitLabel: 'Record intake',
    steps: (v) => [{ name: 'intake', request: () => ({ path: `/api/patients/${id}/intake`, body: intakeBody(v) }) }],
    success: () => 'Intake recorded.',
    onSuccess: (r, v, message) => done(message),
  });
}

function joinForm(id, catalog, done) {
  return commandForm({
    id: 'join',
    title: 'Join group',
    description: 'Groups check their entry rules and requirements; a full group can take the person on its waitlist.',
    fields: [
      { name: 'group', label: 'Group', type: 'select', required: true, options: groupOptions(catalog) },
      { name: 'waitlistIfFull', label: 'Put on the waitlist if the group is full', type: 'checkbox', value: true },
      whenField(),
    ],
    submitLabel: 'Join',
    steps: (v) => [{ name: 'join', request: () => ({ path: `/api/groups/${v.group}/join`, body: { patient: id, waitlistIfFull: v.waitlistIfFull, occurredAt: v.occurredAt } }) }],
    success: (r, v) => {
      const name = groupName(catalog, v.group);
      return r.join.events.includes('MemberWaitlisted') ? `The group is full: waitlisted for ${name}.` : `Joined ${name}.`;
    },
    onSuccess: (r, v, message) => done(message),
  });
}

/** nextModule is the module a member completes next, as the domain orders them; 0 when all are done. */
function nextModule(segment, n) {
  const done = segment.modules || [];
  if (n === 0 || done.length >= n) return 0;
  if (done.length === 0) return segment.entryModule || 1;
  return (done[done.length - 1].module % n) + 1;
}

function moduleChoices(catalog, journey) {
  return journey.groups
    .filter((g) => g.joinedAt && !g.endedAt && (catalog.groupById.get(g.group)?.modules || []).length > 0)
    .map((g) => {
      const spec = catalog.groupById.get(g.group);
      const n = nextModule(g, spec.modules.length);
      return { value: g.group, label: n ? `${spec.name} — module ${n}: ${spec.modules[n - 1].name}` : `${spec.name} — all modules completed`, module: n };
    });
}

function moduleForm(id, catalog, current, done) {
  const form = commandForm({
    id: 'module',
    title: 'Module completed',
    description: 'The next module in order, for each group with modules the person holds a seat in.',
    fields: [
      { name: 'group', label: 'Group and module', type: 'select', required: true, options: moduleChoices(catalog, current()) },
      whenField(),
    ],
    submitLabel: 'Record completion',
    steps: (v) => {
      const o = moduleChoices(catalog, current()).find((x) => x.value === v.group);
      if (!o || !o.module) throw new Error('All modules of this group are completed already.');
      return [{ name: 'module', request: () => ({ path: `/api/groups/${v.group}/modules/${o.module}/complete`, body: { patient: id, occurredAt: v.occurredAt } }) }];
    },
    success: (r, v) => `Module completion recorded for ${groupName(catalog, v.group)}.`,
    onSuccess: (r, v, message) => done(message),
  });
  form.refresh = () => form.updateOptions('group', moduleChoices(catalog, current()));
  return form;
}

function leaveChoices(catalog, journey) {
  return journey.groups.filter((g) => !g.endedAt)
    .map((g) => ({ value: g.group, label: `${g.groupName || groupName(catalog, g.group)}${g.joinedAt ? '' : ' (waitlist)'}` }));
}

function leaveForm(id, catalog, current, done) {
  const form = commandForm({
    id: 'leave',
    title: 'Leave group',
    description: 'Free a seat, or leave a waitlist. The next person waiting gets the seat.',
    fields: [
      { name: 'group', label: 'Group', type: 'select', required: true, options: leaveChoices(catalog, current()) },
      { name: 'reason', label: 'Reason', type: 'select', required: true, options: catalog.leaveReasons.map((r) => ({ value: r, label: humanize(r) })) },
      whenField(),
    ],
    submitLabel: 'Record leaving',
    steps: (v) => [{ name: 'leave', request: () => ({ path: `/api/groups/${v.group}/leave`, body: { patient: id, reason: v.reason, occurredAt: v.occurredAt } }) }],
    success: (r, v) => `Left ${groupName(catalog, v.group)}.`,
    onSuccess: (r, v, message) => done(message),
  });
  form.refresh = () => form.updateOptions('group', leaveChoices(catalog, current()));
  return form;
}

function dischargeForm(id, catalog, done) {
  const alumni = catalog.groups.filter((g) => g.modality === 'support');
  return commandForm({
    id: 'discharge',
    title: 'Discharge',
    description: 'End the episode of care. Group seats are released.',
    fields: [
      { name: 'reason', label: 'Reason', type: 'select', required: true, options: catalog.dischargeReasons.map((r) => ({ value: r, label: humanize(r) })) },
      { name: 'alumniGroup', label: 'Alumni or support group', type: 'select', placeholder: 'None', options: alumni.map((g) => ({ value: g.id, label: g.name })) },
      whenField(),
    ],
    submitLabel: 'Discharge',
    steps: (v) => [{ name: 'discharge', request: () => ({ path: `/api/patients/${id}/discharge`, body: { reason: v.reason, alumniGroup: v.alumniGroup, occurredAt: v.occurredAt } }) }],
    success: () => 'Discharged.',
    onSuccess: (r, v, message) => done(message),
  });
}
