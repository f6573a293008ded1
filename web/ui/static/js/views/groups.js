// Groups: the index of every group's occupancy (from the census topic, so
// aggregates only) and one group's roster with names, for clinicians, with
// attendance entry and module completion.

import { h } from '../dom.js';
import { getJSON } from '../api.js';
import { loadCatalog, programName } from '../catalog.js';
import { commandForm, whenField } from '../forms.js';
import { groupList } from './census.js';
import { levelLabel, humanize, formatDate, formatDay, formatPercent, plural, personName } from '../format.js';

/** mountIndex lists every group with its seats and waitlist, live. */
export function mountIndex(root, _params, { live }) {
  const body = h('div', { class: 'card groups-card', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading groups…'));
  root.append(
    h('header', { class: 'page-header' }, h('div', {},
      h('h1', { tabindex: '-1' }, 'Groups'),
      h('p', { class: 'page-subtitle' }, 'Seats, waitlists and rosters. Open a group to record attendance.'))),
    body);
  return live.subscribe('census', (view) => {
    body.removeAttribute('aria-busy');
    body.replaceChildren(groupList(view.groups, (g) => `#/groups/${g.group}`));
  }, (err) => body.replaceChildren(h('p', { class: 'notice is-error' }, `Groups are not available: ${err.message}`)));
}

const WEEKDAYS = { monday: 'Mon', tuesday: 'Tue', wednesday: 'Wed', thursday: 'Thu', friday: 'Fri', saturday: 'Sat', sunday: 'Sun' };

function schedule(spec) {
  const slots = (spec.slots || []).map((s) => `${WEEKDAYS[s.day] || humanize(s.day)} ${s.start}–${s.end}${s.weekOfMonth ? ` (week ${s.weekOfMonth} of the month)` : ''}`);
  return `${humanize(spec.cadence)}${slots.length ? `: ${slots.join(', ')}` : ''}`;
}

function progress(member, spec) {
  const n = (spec?.modules || []).length;
  if (n === 0) return 'Open-ended';
  const parts = [`entered at module ${member.entryModule}`, `${member.modulesCompleted} of ${n} completed`];
  if (member.currentModule) parts.unshift(`module ${member.currentModule}: ${spec.modules[member.currentModule - 1]?.name || ''}`.trim());
  else parts.unshift('all modules completed');
  return parts.join(' · ');
}

/** mountRoster shows one group's roster in root and follows it live. */
export function mountRoster(root, { id }, { live, setTitle }) {
  const heading = h('h1', { tabindex: '-1' }, 'Group');
  const subtitle = h('p', { class: 'page-subtitle' });
  const details = h('div', { class: 'roster-body', 'aria-busy': 'true' }, h('p', { class: 'loading' }, 'Loading the roster…'));
  const forms = h('div', { class: 'roster-forms' });
  root.append(
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/groups' }, 'Groups'), ' / ', h('span', { 'aria-current': 'page' }, id)),
    h('header', { class: 'page-header' }, h('div', {}, heading, subtitle)),
    details, forms);

  let stopped = false;
  let roster = null;
  let catalog = null;

  async function load() {
    try {
      const [r, c] = await Promise.all([getJSON(`/api/groups/${encodeURIComponent(id)}`), loadCatalog()]);
      if (stopped) return;
      const firstLoad = roster === null;
      roster = r;
      catalog = c;
      render();
      if (firstLoad) renderForms();
      else refreshForms();
    } catch (err) {
      if (stopped) return;
      details.removeAttribute('aria-busy');
      details.replaceChildren(h('p', { class: 'notice is-error' }, err.status === 404 ? 'There is no such group.' : `The roster could not be loaded: ${err.message}`));
    }
  }

  function render() {
    const spec = roster.definition || {};
    const name = spec.name || id;
    heading.textContent = name;
    setTitle(name);
    subtitle.textContent = [humanize(spec.modality), levelLabel(spec.level), spec.program ? programName(catalog, spec.program) : null, spec.status === 'running' ? null : 'not running']
      .filter(Boolean).join(' · ');
    details.removeAttribute('aria-busy');
    const modules = spec.modules || [];
    details.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'roster-about' },
        h('h2', { id: 'roster-about' }, 'About the group'),
        h('dl', { class: 'facts' },
          fact('Meets', schedule(spec)),
          fact('Seats', `${roster.members.length} of ${spec.capacity || '—'} taken`),
          fact('Waitlist', roster.waitlist.length ? plural(roster.waitlist.length, 'person', 'people') : 'nobody waiting'),
          fact('Entry', humanize(spec.entry)),
          modules.length ? fact('Modules', modules.map((m, i) => `${i + 1}. ${m.name} (${m.weeks} weeks)`).join('; ')) : null,
          spec.cycleStart ? fact('Cycle started', formatDate(spec.cycleStart)) : null,
          spec.minCommitmentWeeks ? fact('Commitment', `at least ${spec.minCommitmentWeeks} weeks`) : null,
          fact('Sessions held', roster.lastSession
            ? `${roster.sessionsHeld}; last on ${formatDate(roster.lastSession.date)}${roster.lastSession.module ? ` (module ${roster.lastSession.module})` : ''}`
            : String(roster.sessionsHeld))),
        spec.eligibility ? h('p', { class: 'eligibility' }, spec.eligibility) : null),
      h('section', { class: 'card', 'aria-labelledby': 'roster-members' },
        h('h2', { id: 'roster-members' }, 'Members'),
        roster.members.length === 0 ? h('p', { class: 'empty' }, 'No members yet.') : h('table', { class: 'data roster' },
          h('thead', {}, h('tr', {}, ['Name', 'Joined', 'Progress', 'Attendance'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, roster.members.map((m) => h('tr', {},
            h('th', { scope: 'row' }, h('a', { href: `#/patients/${m.patient}` }, personName(m))),
            h('td', {}, formatDay(m.joinedAt)),
            h('td', {}, progress(m, spec)),
            h('td', {}, attendanceSummary(m.attendance))))))),
      h('section', { class: 'card', 'aria-labelledby': 'roster-waitlist' },
        h('h2', { id: 'roster-waitlist' }, 'Waitlist'),
        roster.waitlist.length === 0 ? h('p', { class: 'empty' }, 'Nobody is waiting.') : h('ol', { class: 'waitlist-list' },
          roster.waitlist.map((w) => h('li', {},
            h('a', { href: `#/patients/${w.patient}` }, personName(w)),
            h('span', { class: 'muted' }, ` waiting since ${formatDay(w.since)}`))))));
  }

  let attendanceHost = null;
  let moduleHost = null;
  let attendance = null;
  let modules = null;
  let membersKey = '';
  let lastSession = '';

  function renderForms() {
    attendanceHost = h('div', {});
    moduleHost = h('div', {});
    forms.replaceChildren(
      h('section', { class: 'card', 'aria-labelledby': 'roster-record' },
        h('h2', { id: 'roster-record' }, 'Record'),
        h('div', { class: 'form-columns' }, attendanceHost, moduleHost)));
    refreshForms();
  }

  // Live updates change the forms' choices in place, so neither what a
  // clinician is entering nor the outcome of the last submission is lost.
  // Only a change of members rebuilds the attendance list, and never in
  // the middle of a submission.
  function refreshForms() {
    const key = roster.members.map((m) => m.patient).join(',');
    if (key !== membersKey && !(attendance?.isBusy?.())) {
      membersKey = key;
      attendance = attendanceForm(id, () => roster);
      attendanceHost.replaceChildren(attendance);
      lastSession = roster.lastSession?.session || '';
    } else if (attendance?.updateOptions && (roster.lastSession?.session || '') !== lastSession) {
      lastSession = roster.lastSession?.session || '';
      // A session was just held: further marks go to it unless changed.
      attendance.updateOptions('session', sessionOptions(roster), lastSession);
    }
    if (!modules) {
      modules = moduleForm(id, () => roster);
      moduleHost.replaceChildren(modules);
    } else if (modules.updateOptions) {
      modules.updateOptions('patient', moduleCandidates(roster));
    }
  }

  load();
  let first = true;
  const stopLive = live.subscribe(`group:${id}`, () => {
    // The live view has no names; it is the cue to fetch the roster with them.
    if (first) { first = false; return; }
    load();
  });
  return () => { stopped = true; stopLive(); };
}

function fact(term, value) {
  return [h('dt', {}, term), h('dd', {}, value)];
}

function attendanceSummary(a) {
  const total = a.present + a.absent + a.excused;
  if (total === 0) return 'No sessions recorded';
  return `${formatPercent(a.rate)} (${a.present} present, ${a.absent} absent, ${a.excused} excused)`;
}

const NEW_SESSION = '__new__';

function sessionOptions(roster) {
  const options = [];
  if (roster.lastSession) {
    options.push({ value: roster.lastSession.session, label: `Last session, ${formatDate(roster.lastSession.date)}` });
  }
  options.push({ value: NEW_SESSION, label: 'A session held now (or at the time below)' });
  return options;
}

function attendanceForm(groupId, current) {
  const members = current().members;
  const sessions = sessionOptions(current());
  const memberField = {
    name: 'attendance',
    custom: (formId) => {
      const rows = members.map((m, i) => {
        const name = personName(m);
        const radios = ['present', 'absent', 'excused'].map((status) => {
          const rid = `${formId}-m${i}-${status}`;
          return h('span', { class: 'radio' },
            h('input', { type: 'radio', id: rid, name: `${formId}-m${i}`, value: status, checked: status === 'present' }),
            h('label', { for: rid }, humanize(status)));
        });
        return h('fieldset', { class: 'attendance-row', dataset: { patient: m.patient } }, h('legend', {}, name), radios);
      });
      const element = h('div', { class: 'field field-wide attendance-list' },
        rows.length ? rows : h('p', { class: 'empty' }, 'The group has no members to mark.'));
      return {
        element,
        read: () => rows.map((row) => ({ patient: row.dataset.patient, status: row.querySelector('input:checked')?.value || '' }))
          .filter((x) => x.status),
      };
    },
  };
  return commandForm({
    id: 'attendance',
    title: 'Attendance',
    description: 'Mark each member for one session. A new session is recorded first, named by its day and time.',
    fields: [
      { name: 'session', label: 'Session', type: 'select', options: sessions, required: true, value: sessions[0].value, placeholder: null },
      { ...whenField(), label: 'Held at', hint: 'For a new session only. Leave empty for now.' },
      memberField,
    ],
    submitLabel: 'Save attendance',
    nothingToSend: 'There is nobody to mark.',
    steps: (v) => {
      const steps = [];
      const fresh = v.session === NEW_SESSION;
      if (fresh) {
        steps.push({ name: 'session', request: () => ({ path: `/api/groups/${groupId}/sessions`, body: v.occurredAt ? { occurredAt: v.occurredAt } : {} }) });
      }
      for (const a of v.attendance) {
        steps.push({
          name: `attendance-${a.patient}`,
          request: (results) => ({
            path: `/api/groups/${groupId}/sessions/${fresh ? results.session.session : v.session}/attendance`,
            body: { patient: a.patient, status: a.status },
          }),
        });
      }
      return v.attendance.length ? steps : [];
    },
    success: (results, v) => `Attendance saved for ${plural(v.attendance.length, 'member', 'members')}.`,
    resetOnSuccess: false,
  });
}

function moduleCandidates(roster) {
  const modules = roster.definition?.modules || [];
  return roster.members.filter((m) => m.currentModule > 0).map((m) => ({
    value: m.patient,
    label: `${personName(m)} — module ${m.currentModule}: ${modules[m.currentModule - 1]?.name || ''}`,
  }));
}

function moduleForm(groupId, current) {
  if ((current().definition?.modules || []).length === 0) {
    return h('div', { class: 'command-form' }, h('h3', {}, 'Module completion'), h('p', { class: 'muted' }, 'This group is open-ended: it has no modules.'));
  }
  return commandForm({
    id: 'module',
    title: 'Module completion',
    description: 'Members complete modules in order from the one they entered at.',
    fields: [
      { name: 'patient', label: 'Member', type: 'select', required: true, options: moduleCandidates(current()) },
      whenField(),
    ],
    submitLabel: 'Record completion',
    steps: (v) => {
      const member = current().members.find((m) => m.patient === v.patient && m.currentModule > 0);
      if (!member) throw new Error('Choose a member with a module to complete.');
      return [{ name: 'module', request: () => ({ path: `/api/groups/${groupId}/modules/${member.currentModule}/complete`, body: { patient: v.patient, occurredAt: v.occurredAt } }) }];
    },
    success: () => 'Module completion recorded.',
  });
}
