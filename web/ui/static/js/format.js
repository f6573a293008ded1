// Words and numbers as people read them. The API speaks in wire names
// ("php", "against_advice", "2026-11-10"); screens speak in labels.

const LEVEL_LABELS = {
  inpatient: 'Inpatient',
  residential: 'Residential',
  php: 'PHP',
  iop: 'IOP',
  outpatient: 'Outpatient',
};

const LEVEL_DESCRIPTIONS = {
  inpatient: '24-hour, medically managed',
  residential: '24-hour therapeutic living',
  php: 'Partial hospitalization, day program',
  iop: 'Intensive outpatient, 9–19 h a week',
  outpatient: 'Weekly groups and therapy',
};

/** The levels of care, most intensive first, as the API orders them. */
export const LEVELS = ['inpatient', 'residential', 'php', 'iop', 'outpatient'];

/** levelLabel names a level of care ("php" → "PHP"). */
export function levelLabel(level) {
  return LEVEL_LABELS[level] || humanize(level);
}

/** levelDescription says what a level of care is, in a few words. */
export function levelDescription(level) {
  return LEVEL_DESCRIPTIONS[level] || '';
}

/** levelRank orders levels: 0 for the most intensive. */
export function levelRank(level) {
  return LEVELS.indexOf(level);
}

const WORDS = {
  phq9: 'PHQ-9',
  gad7: 'GAD-7',
  intake_done: 'Intake done',
  access_line: 'Access line',
  primary_care: 'Primary care',
  any_time: 'Any time if space',
  module_start: 'At the start of a module',
  not_running: 'Not running',
  relapse_prevention: 'Relapse prevention',
};

/** humanize turns a wire name into words ("against_advice" → "Against advice"). */
export function humanize(name) {
  if (!name) return '';
  if (WORDS[name]) return WORDS[name];
  const words = String(name).replace(/_/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
const shortDateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
const weekdayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short', timeZone: 'UTC' });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });

/** formatDate shows a calendar day ("2026-11-10" → "10 Nov 2026"). */
export function formatDate(day) {
  if (!day) return '';
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : dateFormat.format(d);
}

/** formatShortDate shows a calendar day without its year. */
export function formatShortDate(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? day : shortDateFormat.format(d);
}

/** formatWeekday names a calendar day's weekday ("Tue"). */
export function formatWeekday(day) {
  const d = new Date(`${day}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? '' : weekdayFormat.format(d);
}

/** formatDateTime shows an instant in the browser's zone. */
export function formatDateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : dateTimeFormat.format(d);
}

/** formatDay shows the calendar day of an instant in the browser's zone. */
export function formatDay(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso || '';
  return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric' }).format(d);
}

/** formatClock shows a time of day with seconds, for "last update". */
export function formatClock(date) {
  return timeFormat.format(date);
}

/** formatPercent shows a share in [0, 1] as a whole percentage. */
export function formatPercent(share) {
  if (share === null || share === undefined) return '—';
  // A handful of people in a large program is not "0 %".
  if (share > 0 && share < 0.005) return '<1 %';
  return `${Math.round(share * 100)} %`;
}

/** formatDays shows a number of days with at most one decimal. */
export function formatDays(days) {
  if (days === null || days === undefined) return '—';
  const rounded = Math.round(days * 10) / 10;
  return `${rounded.toLocaleString()} ${rounded === 1 ? 'day' : 'days'}`;
}

/**
 * personName is how a person appears to clinicians: their name, or what
 * stands in its place when the key was destroyed (erased) or the record
 * was imported without one.
 */
export function personName(p) {
  if (p.erased) return 'Erased record';
  return p.name || 'Unnamed (de-identified)';
}

/** plural picks the word for a count ("1 person", "3 people"). */
export function plural(n, one, many) {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

/** toRFC3339 turns a datetime-local input's value (the browser's zone) into an instant the API reads. */
export function toRFC3339(localValue) {
  if (!localValue) return '';
  const d = new Date(localValue);
  return Number.isNaN(d.getTime()) ? '' : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
