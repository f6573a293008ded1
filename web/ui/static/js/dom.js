// DOM helpers. Every view builds its elements through h() and svg(), which
// set text as text nodes and values as attributes, never as HTML: names
// and free text typed by clinicians cannot turn into markup.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key === 'style') {
      // CSSOM, not the style attribute: the page's CSP forbids inline styles.
      Object.assign(el.style, value);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key === 'value' && (el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement)) {
      el.value = value;
    } else if (key === 'checked') {
      // The default too, so a form's reset returns to it.
      el.defaultChecked = el.checked = Boolean(value);
    } else if (key === 'selected') {
      el.defaultSelected = el.selected = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** h builds an HTML element: h('a', {href: '#/census'}, 'Census'). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** replace swaps el's children for children, skipping null and false as h() does. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** svg builds an SVG element the same way. */
export function svg(tag, props, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, props);
  append(el, children);
  return el;
}

/** visuallyHidden wraps text that only assistive technology should read. */
export function visuallyHidden(text) {
  return h('span', { class: 'visually-hidden' }, text);
}

let announceTimer = 0;

/**
 * announce speaks a short message through the page's polite live region,
 * for changes that happen away from the focus (a live update, a saved form
 * after the view re-rendered).
 */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  // Clearing first makes a repeated message be read again.
  region.textContent = '';
  clearTimeout(announceTimer);
  announceTimer = setTimeout(() => { region.textContent = message; }, 50);
}

let idCounter = 0;

/** uniqueId returns an element ID unique within the page. */
export function uniqueId(prefix) {
  idCounter += 1;
  return `${prefix}-${idCounter}`;
}
