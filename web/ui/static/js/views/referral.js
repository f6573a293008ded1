// A new person: the referral (with the personal data sealed by the server
// under the person's own key) and, usually in the same sitting, the intake
// assessment. On success the journey opens.

import { h } from '../dom.js';
import { loadCatalog } from '../catalog.js';
import { commandForm, whenField } from '../forms.js';
import { humanize } from '../format.js';
import { intakeFields, intakeBody } from './journey.js';

/** mount shows the referral and intake form in root. */
export function mount(root, _params, { navigate }) {
  const body = h('div', { class: 'card narrow' }, h('p', { class: 'loading' }, 'Loading…'));
  root.append(
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/patients' }, 'Patients'), ' / ', h('span', { 'aria-current': 'page' }, 'New referral')),
    h('header', { class: 'page-header' }, h('div', {},
      h('h1', { tabindex: '-1' }, 'New referral'),
      h('p', { class: 'page-subtitle' }, 'Name, birth date and contact are encrypted for this person alone and shown only to clinicians.'))),
    body);
  let stopped = false;
  loadCatalog().then((catalog) => {
    if (stopped) return;
    const today = new Date().toISOString().slice(0, 10);
    body.replaceChildren(commandForm({
      id: 'referral',
      title: 'Referral and intake',
      fields: [
        {
          fieldset: 'Referral',
          fields: [
            { name: 'name', label: 'Name', type: 'text', required: true, autocomplete: 'off', maxlength: 200 },
            { name: 'dateOfBirth', label: 'Date of birth', type: 'date', max: today },
            { name: 'contact', label: 'Contact', type: 'text', maxlength: 200, hint: 'Phone or e-mail.' },
            { name: 'source', label: 'Referred by', type: 'select', required: true, options: catalog.referralSources.map((s) => ({ value: s, label: humanize(s) })) },
          ],
        },
        { name: 'withIntake', label: 'The intake assessment is done: record it now', type: 'checkbox', value: true, wide: true },
        { fieldset: 'Intake assessment', enabledBy: 'withIntake', fields: intakeFields(catalog) },
        whenField(),
      ],
      submitLabel: 'Record referral',
      steps: (v) => {
        const steps = [{
          name: 'refer',
          request: () => ({ path: '/api/patients', body: { name: v.name, dateOfBirth: v.dateOfBirth, contact: v.contact, source: v.source, occurredAt: v.occurredAt } }),
        }];
        if (v.withIntake) {
          steps.push({ name: 'intake', request: (r) => ({ path: `/api/patients/${r.refer.patient}/intake`, body: intakeBody(v) }) });
        }
        return steps;
      },
      success: (r) => (r.intake ? 'Referral and intake recorded. Opening the journey…' : 'Referral recorded. Opening the journey…'),
      onSuccess: (r) => navigate(`#/patients/${r.refer.patient}`),
    }));
  }).catch((err) => {
    body.replaceChildren(h('p', { class: 'notice is-error' }, `The form is not available: ${err.message}`));
  });
  return () => { stopped = true; };
}
