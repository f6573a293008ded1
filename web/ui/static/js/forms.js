// Command forms. A form collects values, turns them into one or more API
// commands and shows the outcome in a live region beside it: the domain's
// refusal in its own words, or what was recorded.
//
// Idempotency: each submission draws one key per command. If a submission
// ends uncertain (network failure, server unavailable) or refused, and the
// clinician submits the same values again, the same keys are sent, so a
// command that did reach the store is not recorded twice. Changed values
// are a new submission with new keys.

import { h, uniqueId } from './dom.js';
import { ApiError, sendCommand, newIdempotencyKey } from './api.js';
import { toRFC3339 } from './format.js';

function optionElements(options, selected) {
  return options.map((o) => {
    if (o.group) {
      return h('optgroup', { label: o.group }, optionElements(o.options, selected));
    }
    const opt = typeof o === 'string' ? { value: o, label: o } : o;
    return h('option', { value: opt.value, selected: String(opt.value) === String(selected ?? '') }, opt.label);
  });
}

/**
 * field renders one labelled control. It answers {element, control, read}
 * where read() gives the value as the API wants it.
 */
function field(formId, f) {
  const id = `${formId}-${f.name}`;
  const hintId = f.hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  const common = { id, name: f.name, required: f.required, 'aria-describedby': describedBy };
  let control;
  let read;
  let setOptions = null;
  switch (f.type) {
    case 'select': {
      const placeholder = f.placeholder === undefined ? 'Choose…' : f.placeholder;
      const optionsFor = (options, value) => [
        placeholder !== null ? h('option', { value: '', disabled: f.required, selected: value === undefined }, placeholder) : null,
        optionElements(options, value),
      ];
      control = h('select', common, optionsFor(f.options, f.value));
      read = () => control.value;
      setOptions = (options, value) => {
        const keep = value !== undefined ? value : control.value;
        // The defaults stay those the form was built with, so a reset
        // returns to them; a choice no longer offered falls back to them.
        control.replaceChildren(...optionsFor(options, f.value).flat().filter(Boolean));
        if ([...control.options].some((o) => o.value === keep)) control.value = keep;
      };
      break;
    }
    case 'number':
      control = h('input', { ...common, type: 'number', inputmode: 'numeric', min: f.min, max: f.max, step: f.step || 1, value: f.value ?? '' });
      read = () => (control.value === '' ? null : Number(control.value));
      break;
    case 'checkbox':
      control = h('input', { ...common, type: 'checkbox', checked: Boolean(f.value) });
      read = () => control.checked;
      break;
    case 'datetime':
      control = h('input', { ...common, type: 'datetime-local', value: f.value ?? '' });
      read = () => toRFC3339(control.value);
      break;
    case 'date':
      control = h('input', { ...common, type: 'date', value: f.value ?? '', max: f.max });
      read = () => control.value;
      break;
    default:
      control = h('input', { ...common, type: f.type || 'text', value: f.value ?? '', autocomplete: f.autocomplete || 'off', maxlength: f.maxlength });
      read = () => control.value.trim();
  }
  // A checkbox is optional by nature; saying so is noise.
  const optional = !f.required && f.type !== 'checkbox';
  const label = h('label', { for: id }, f.label, optional ? h('span', { class: 'optional' }, ' (optional)') : null);
  const hint = f.hint ? h('p', { class: 'hint', id: hintId }, f.hint) : null;
  const error = h('p', { class: 'field-error', id: errorId, hidden: true });
  const element = f.type === 'checkbox'
    ? h('div', { class: ['field', 'field-checkbox', f.wide && 'field-wide'] }, control, label, hint, error)
    : h('div', { class: ['field', f.wide && 'field-wide'] }, label, control, hint, error);
  return { element, control, read, error, setOptions, name: f.name };
}

/** The "when" field every clinical command takes: empty means now. */
export function whenField() {
  return { name: 'occurredAt', label: 'When', type: 'datetime', hint: 'Leave empty for now. Enter a past time to record something after the fact.' };
}

/**
 * commandForm builds a form for one clinical action.
 *
 * spec.fields are the controls ({name, label, type, options, required, …},
 * {custom: (formId) => ({element, read})} for a control of its own, or
 * {fieldset: legend, fields, enabledBy: checkbox name} for a part of the
 * form a checkbox switches on);
 * spec.steps(values) lists the commands to send, in order, each
 * {name, request(results) → {path, body}} where results holds the answers of
 * the earlier steps; spec.success(results, values) says what was recorded;
 * spec.onSuccess runs after it.
 *
 * The form element it answers has two methods for live screens:
 * updateOptions(name, options[, value]) changes a select's choices in place,
 * keeping what was typed elsewhere and the outcome shown; isBusy() says a
 * submission is under way.
 */
export function commandForm(spec) {
  const formId = `form-${spec.id}`;
  const headingId = uniqueId(`${formId}-title`);
  const controls = [];
  const afterReset = [];
  const build = (f) => {
    if (f.fieldset) {
      const nested = f.fields.map(build);
      const set = h('fieldset', { class: 'field-group' }, h('legend', {}, f.fieldset), h('div', { class: 'fields' }, nested));
      if (f.enabledBy) {
        // Disabled controls are skipped by validation, so a part of the
        // form that does not apply does not block the rest.
        const toggle = controls.find((c) => c.name === f.enabledBy);
        const sync = () => { set.disabled = !toggle.control.checked; };
        toggle.control.addEventListener('change', sync);
        afterReset.push(sync);
        sync();
      }
      return set;
    }
    const c = f.custom ? { ...f.custom(formId), name: f.name } : field(formId, f);
    controls.push(c);
    return c.element;
  };
  const elements = spec.fields.map(build);
  const statusEl = h('p', { class: 'form-status', id: `${formId}-status`, role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const submit = h('button', { type: 'submit', class: 'button primary' }, spec.submitLabel);
  const form = h('form', { id: formId, class: 'command-form', 'aria-labelledby': headingId },
    h('h3', { id: headingId }, spec.title),
    spec.description ? h('p', { class: 'form-description' }, spec.description) : null,
    h('div', { class: 'fields' }, elements),
    h('div', { class: 'form-actions' }, submit, statusEl));

  // The keys of the submission in progress, kept until it succeeds.
  let submission = null;

  function clearErrors() {
    for (const c of controls) {
      if (c.control) c.control.removeAttribute('aria-invalid');
      if (c.error) { c.error.hidden = true; c.error.textContent = ''; }
    }
  }

  function showStatus(kind, message) {
    statusEl.className = `form-status is-${kind}`;
    statusEl.textContent = message;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const values = {};
    for (const c of controls) values[c.name] = c.read();
    const fingerprint = JSON.stringify(values);
    if (!submission || submission.fingerprint !== fingerprint) {
      submission = { fingerprint, keys: new Map() };
    }
    let steps;
    try {
      steps = spec.steps(values);
    } catch (err) {
      showStatus('error', err.message);
      return;
    }
    if (steps.length === 0) {
      showStatus('error', spec.nothingToSend || 'Nothing to record: fill in the form first.');
      return;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    showStatus('pending', 'Saving…');
    const results = {};
    try {
      for (const step of steps) {
        if (!submission.keys.has(step.name)) submission.keys.set(step.name, newIdempotencyKey());
        const { path, body } = step.request(results);
        results[step.name] = await sendCommand(path, body, submission.keys.get(step.name));
      }
    } catch (err) {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
      if (!(err instanceof ApiError)) throw err;
      refuse(err);
      return;
    }
    submission = null;
    submit.disabled = false;
    form.removeAttribute('aria-busy');
    const message = spec.success(results, values);
    showStatus('success', message);
    if (spec.resetOnSuccess !== false) {
      form.reset();
      for (const fn of afterReset) fn();
    }
    if (spec.onSuccess) spec.onSuccess(results, values, message);
  });

  function refuse(err) {
    const prefix = err.uncertain ? 'Not confirmed' : 'Not recorded';
    showStatus('error', `${prefix}: ${err.message}`);
    const target = controls.find((c) => c.name === err.field && c.control);
    if (target) {
      target.control.setAttribute('aria-invalid', 'true');
      target.error.textContent = err.message;
      target.error.hidden = false;
      target.control.focus();
    }
  }

  form.updateOptions = (name, options, value) => {
    const c = controls.find((x) => x.name === name);
    if (c && c.setOptions) c.setOptions(options, value);
  };
  form.isBusy = () => form.hasAttribute('aria-busy');
  return form;
}
