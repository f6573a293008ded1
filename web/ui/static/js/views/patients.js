// The clinician's patient list: search by name (names are opened by the
// server for this list only) and filter by status, level, program and
// group. Each row opens the person's journey. What was typed stays in the
// page, never in its address: a name in a URL ends up in history and logs.

import { h } from '../dom.js';
import { getJSON } from '../api.js';
import { loadCatalog, programOptions, groupOptions } from '../catalog.js';
import { levelLabel, humanize, formatDate, plural, personName } from '../format.js';

const SEARCH_DELAY_MS = 250;
const PAGE_SIZE = 200;

// Filters survive a visit to a journey and back within the page's life.
const remembered = { q: '', status: '', level: '', program: '', group: '' };

function select(id, label, options, value) {
  const control = h('select', { id, name: id },
    h('option', { value: '' }, 'All'),
    options.map((o) => (o.group
      ? h('optgroup', { label: o.group }, o.options.map((x) => h('option', { value: x.value, selected: x.value === value }, x.label)))
      : h('option', { value: o.value, selected: o.value === value }, o.label))));
  return { control, element: h('div', { class: 'field' }, h('label', { for: id }, label), control) };
}

/** mount shows the patient list in root. */
export function mount(root, _params, { live }) {
  const count = h('p', { class: 'result-count', id: 'patients-count', role: 'status', 'aria-live': 'polite' }, 'Loading…');
  const results = h('div', { class: 'results' });
  const filters = h('form', { class: 'filters card', role: 'search', 'aria-label': 'Find patients' });
  root.append(
    h('header', { class: 'page-header' },
      h('div', {}, h('h1', { tabindex: '-1' }, 'Patients'), h('p', { class: 'page-subtitle' }, 'Search by name, or filter by where people are in their care.')),
      h('a', { class: 'button primary', href: '#/patients/new' }, 'New referral')),
    filters, count, results);

  let controller = null;
  let timer = 0;
  let stopped = false;

  async function refresh() {
    if (controller) controller.abort();
    controller = new AbortController();
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(remembered)) if (v) params.set(k, v);
    params.set('limit', String(PAGE_SIZE));
    results.setAttribute('aria-busy', 'true');
    try {
      const page = await getJSON(`/api/patients?${params}`, { signal: controller.signal });
      if (stopped) return;
      count.textContent = page.total > page.patients.length
        ? `${plural(page.total, 'person', 'people')} match; showing the first ${page.patients.length}. Narrow the search to see others.`
        : `${plural(page.total, 'person', 'people')} match.`;
      results.replaceChildren(table(page.patients));
    } catch (err) {
      if (err.name === 'AbortError') return;
      count.textContent = '';
      results.replaceChildren(h('p', { class: 'notice is-error' }, `The list could not be loaded: ${err.message}`));
    } finally {
      results.removeAttribute('aria-busy');
    }
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(refresh, SEARCH_DELAY_MS);
  }

  loadCatalog().then((catalog) => {
    if (stopped) return;
    const search = h('input', { id: 'q', name: 'q', type: 'search', value: remembered.q, autocomplete: 'off', spellcheck: 'false', placeholder: 'Name' });
    const status = select('status', 'Status', catalog.patientStatuses.filter((s) => s !== 'unknown').map((s) => ({ value: s, label: humanize(s) })), remembered.status);
    const level = select('level', 'Level of care', catalog.levels.map((l) => ({ value: l, label: levelLabel(l) })), remembered.level);
    const program = select('program', 'Program', programOptions(catalog), remembered.program);
    const group = select('group', 'Group', groupOptions(catalog), remembered.group);
    const clear = h('button', { type: 'button', class: 'button' }, 'Clear');
    filters.append(
      h('div', { class: 'field field-search' }, h('label', { for: 'q' }, 'Search'), search),
      status.element, level.element, program.element, group.element,
      h('div', { class: 'field field-actions' }, clear));
    search.addEventListener('input', () => { remembered.q = search.value.trim(); later(); });
    for (const [name, s] of Object.entries({ status, level, program, group })) {
      s.control.addEventListener('change', () => { remembered[name] = s.control.value; refresh(); });
    }
    filters.addEventListener('submit', (e) => { e.preventDefault(); refresh(); });
    clear.addEventListener('click', () => {
      for (const k of Object.keys(remembered)) remembered[k] = '';
      search.value = '';
      for (const s of [status, level, program, group]) s.control.value = '';
      refresh();
      search.focus();
    });
  }).catch((err) => {
    filters.append(h('p', { class: 'notice is-error' }, `Filters are not available: ${err.message}`));
  });
  refresh();

  // The list has no topic of its own; the census changes whenever someone
  // is referred, admitted, moved or discharged, so it is the cue to reload.
  let first = true;
  const stopLive = live.subscribe('census', () => {
    if (first) { first = false; return; }
    later();
  });

  return () => {
    stopped = true;
    clearTimeout(timer);
    if (controller) controller.abort();
    stopLive();
  };
}

function table(patients) {
  if (patients.length === 0) return h('p', { class: 'empty' }, 'Nobody matches. Change the search or the filters.');
  const rows = patients.map((p) => {
    const href = `#/patients/${p.patient}`;
    const where = p.level ? levelLabel(p.level) : '—';
    const groups = (p.groups || []).map((g) => (g.role === 'waitlisted' ? `${g.name || g.group} (waitlist)` : (g.name || g.group)));
    const tr = h('tr', { class: 'clickable' },
      h('th', { scope: 'row' }, h('a', { href, class: 'patient-link' }, personName(p))),
      h('td', {}, h('span', { class: ['status', `status-${p.status}`] }, humanize(p.status))),
      h('td', {}, where),
      h('td', {}, p.programName || p.program || '—'),
      h('td', {}, p.levelSince ? formatDate(p.levelSince) : '—'),
      h('td', { class: 'groups-cell' }, groups.length ? groups.join(', ') : '—'),
      h('td', {}, p.lastActivity ? formatDate(p.lastActivity) : '—'));
    // The link is the keyboard's way in; the row is a larger target for the mouse.
    tr.addEventListener('click', (e) => {
      if (e.target.closest('a') || window.getSelection().toString()) return;
      window.location.hash = href;
    });
    return tr;
  });
  return h('table', { class: 'data patients' },
    h('caption', { class: 'visually-hidden' }, 'Patients matching the search'),
    h('thead', {}, h('tr', {},
      ['Name', 'Status', 'Level of care', 'Program', 'Since', 'Groups', 'Last activity'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows));
}
