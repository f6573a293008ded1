// The admin's audit page: the access audit, newest first, filtered by
// patient, user or action. People appear by patient ID only; the audit
// never holds a name.

import { h, replace } from './dom.js';
import { session, showAccount, toSignIn, roleLabel } from './session.js';
import { formatDateTime } from './format.js';

const ACTIONS = {
  '': 'Every action',
  SignedIn: 'Signed in',
  SignInFailed: 'Sign-in failed',
  SignedOut: 'Signed out',
  PatientViewed: 'Opened a record',
  PatientsListed: 'Listed or searched people',
  RosterViewed: 'Opened a roster',
  PatientFollowed: 'Followed a record live',
  Exported: 'Exported',
  PersonErased: 'Erased a person',
  AuditViewed: 'Read the audit',
  UserAdded: 'Added a user',
  UserChanged: 'Changed a user',
  TokenIssued: 'Issued a token',
  TokenRevoked: 'Revoked a token',
};

const form = document.getElementById('audit-filters');
const results = document.getElementById('audit-results');
const count = document.getElementById('audit-count');
const errorBox = document.getElementById('audit-error');

function showError(text) {
  errorBox.textContent = text;
  errorBox.hidden = !text;
}

function row(e) {
  const patients = e.patients || [];
  return h('tr', { class: e.outcome ? 'audit-refused' : null },
    h('td', {}, h('time', { datetime: e.at }, formatDateTime(e.at))),
    h('td', {}, ACTIONS[e.action] || e.action, e.outcome ? h('div', { class: 'small' }, e.outcome.replaceAll('_', ' ')) : null),
    h('td', {}, e.user || h('span', { class: 'muted' }, 'unknown'), e.role ? h('div', { class: 'small' }, roleLabel(e.role)) : null),
    h('td', { class: 'audit-route' }, e.route || ''),
    h('td', { class: 'audit-patients' },
      patients.length > 3
        ? h('details', {}, h('summary', {}, `${patients.length} people`), patients.map((p) => h('div', {}, p)))
        : patients.map((p) => h('div', {}, p))),
    h('td', {}, e.remote || '', e.forwarded ? h('div', { class: 'small' }, `via ${e.forwarded}`) : null),
    h('td', {}, e.detail || ''));
}

async function show() {
  showError('');
  const params = new URLSearchParams();
  for (const name of ['patient', 'user', 'action', 'limit']) {
    const value = form.elements[name].value.trim();
    if (value) params.set(name, name === 'user' ? value.toLowerCase() : value);
  }
  count.textContent = 'Loading…';
  let response;
  try {
    response = await fetch(`/api/audit?${params}`, { headers: { Accept: 'application/json' }, cache: 'no-store' });
  } catch {
    count.textContent = '';
    showError('The server could not be reached.');
    return;
  }
  if (response.status === 401) {
    toSignIn();
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    count.textContent = '';
    showError((body.error && body.error.message) || `The server answered ${response.status}.`);
    return;
  }
  const entries = body.entries || [];
  count.textContent = entries.length === 1 ? '1 entry' : `${entries.length} entries`;
  replace(results, entries.length === 0 ? h('p', { class: 'empty audit-empty' }, 'No entries.') : h('table', { class: 'data', id: 'audit-table' },
    h('thead', {}, h('tr', {}, ['When', 'Action', 'Who', 'Route', 'Patients', 'From', 'Detail'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, entries.map(row))));
}

async function start() {
  const select = form.elements.action;
  replace(select, Object.entries(ACTIONS).map(([value, label]) => h('option', { value }, label)));
  const patient = new URLSearchParams(window.location.search).get('patient');
  if (patient) form.elements.patient.value = patient;
  form.addEventListener('submit', (event) => { event.preventDefault(); show(); });
  const s = await session();
  showAccount(s);
  if (s.role !== 'admin') {
    showError('Only admins may read the audit.');
    form.hidden = true;
    return;
  }
  show();
}

start();
