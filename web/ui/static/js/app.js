// The application shell: hash routes, the navigation, the live indicator
// and wall mode. Views are modules exporting mount(root, params, context),
// which returns the function that stops them (closing their topics). The
// context gives them the live connection, navigate(hash), setTitle(text)
// and relayout(), to call after rendering new content.

import { h } from './dom.js';
import { LiveConnection, liveURL } from './live.js';
import { formatClock } from './format.js';
import { startSession } from './session.js';
import * as census from './views/census.js';
import * as patients from './views/patients.js';
import * as referral from './views/referral.js';
import * as journey from './views/journey.js';
import * as groups from './views/groups.js';
import * as outcomes from './views/outcomes.js';

// Route table: pattern segments, ":name" captures one. The first match wins.
const ROUTES = [
  { pattern: 'census', nav: 'census', title: 'Census', mount: census.mount },
  { pattern: 'patients', nav: 'patients', title: 'Patients', mount: patients.mount },
  { pattern: 'patients/new', nav: 'patients', title: 'New referral', mount: referral.mount },
  { pattern: 'patients/:id', nav: 'patients', title: 'Patient', mount: journey.mount },
  { pattern: 'groups', nav: 'groups', title: 'Groups', mount: groups.mountIndex },
  { pattern: 'groups/:id', nav: 'groups', title: 'Group', mount: groups.mountRoster },
  { pattern: 'outcomes', nav: 'outcomes', title: 'Outcomes', mount: outcomes.mount },
];

const DEFAULT_ROUTE = '#/census';

// Route parameters are IDs: slugs and UUIDs. Anything else is not a page,
// and never reaches an API path.
const PARAM = /^[A-Za-z0-9-]{1,64}$/;

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const route of ROUTES) {
    const pattern = route.pattern.split('/');
    if (pattern.length !== parts.length) continue;
    const params = {};
    let ok = true;
    for (let i = 0; i < pattern.length; i++) {
      if (pattern[i].startsWith(':') && PARAM.test(parts[i])) params[pattern[i].slice(1)] = parts[i];
      else if (pattern[i] !== parts[i]) { ok = false; break; }
    }
    if (ok) return { route, params };
  }
  return null;
}

const main = document.getElementById('main');
const live = new LiveConnection(liveURL());
let stopView = null;
let firstRender = true;

function setTitle(title) {
  document.title = `${title} · continuum`;
}

function navigate(hash) {
  if (window.location.hash === hash) render();
  else window.location.hash = hash;
}

function render() {
  const hash = window.location.hash;
  if (!hash.startsWith('#/')) {
    if (hash === '' || hash === '#') window.location.replace(DEFAULT_ROUTE);
    return;
  }
  const found = match(hash.slice(2).split('?')[0]);
  if (stopView) { stopView(); stopView = null; }
  const root = h('div', { class: 'page' });
  main.replaceChildren(root);
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (found && link.dataset.nav === found.route.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.body.dataset.view = found ? found.route.nav : 'none';
  if (!found) {
    setTitle('Not found');
    root.append(h('h1', { tabindex: '-1' }, 'Page not found'), h('p', {}, h('a', { href: DEFAULT_ROUTE }, 'Go to the census')));
  } else {
    setTitle(found.route.title);
    stopView = found.route.mount(root, found.params, { live, navigate, setTitle, relayout: fitWall });
  }
  fitWall();
  // Move focus to the new page's heading so screen readers announce it;
  // not on first load, where the browser's own focus order is expected.
  if (!firstRender) root.querySelector('h1')?.focus();
  firstRender = false;
}

function liveIndicator() {
  const box = document.getElementById('live-status');
  const text = document.getElementById('live-text');
  const time = document.getElementById('live-time');
  const retry = document.getElementById('live-retry');
  retry.addEventListener('click', () => live.reconnectNow());
  live.onStatus((state) => {
    box.dataset.status = state.status;
    const words = { connecting: 'Connecting…', connected: 'Live', reconnecting: 'Reconnecting…' };
    if (text.textContent !== words[state.status]) text.textContent = words[state.status];
    retry.hidden = state.status !== 'reconnecting';
    time.textContent = state.lastUpdate ? `Updated ${formatClock(state.lastUpdate)}` : '';
    if (state.lastUpdate) time.setAttribute('datetime', state.lastUpdate.toISOString());
  });
}

// The smallest zoom fitWall uses: below it the details stop being
// readable across a room, and the board scrolls instead.
const MIN_WALL_ZOOM = 0.7;

/**
 * fitWall scales the census to the screen's height in wall mode: a board
 * on a wall has nobody to scroll it. Elsewhere it does nothing.
 */
function fitWall() {
  main.style.zoom = '';
  if (!document.documentElement.classList.contains('wall') || document.body.dataset.view !== 'census') return;
  const available = window.innerHeight - document.querySelector('.topbar').getBoundingClientRect().height;
  // Zooming out also widens the grids, which then take fewer rows, so a
  // few rounds converge on the largest zoom that fits.
  let zoom = 1;
  let best = MIN_WALL_ZOOM;
  for (let round = 0; round < 4; round++) {
    const height = main.getBoundingClientRect().height;
    if (height <= available) {
      best = Math.max(best, zoom);
      if (zoom === 1 || available - height < 8) break;
    }
    zoom = Math.min(1, Math.max(MIN_WALL_ZOOM, zoom * (available / height)));
    main.style.zoom = String(zoom);
  }
  main.style.zoom = best === 1 ? '' : String(best);
}

function wallMode() {
  const button = document.getElementById('wall-toggle');
  const params = new URLSearchParams(window.location.search);
  const stored = window.localStorage.getItem('continuum.wall');
  const apply = (on) => {
    document.documentElement.classList.toggle('wall', on);
    button.setAttribute('aria-pressed', String(on));
    fitWall();
  };
  window.addEventListener('resize', fitWall);
  apply(params.has('wall') ? params.get('wall') !== '0' : stored === '1');
  button.addEventListener('click', () => {
    const on = !document.documentElement.classList.contains('wall');
    window.localStorage.setItem('continuum.wall', on ? '1' : '0');
    apply(on);
  });
}

function skipLink() {
  // The skip link cannot use a fragment: fragments are routes here.
  document.getElementById('skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    (main.querySelector('h1') || main).focus();
  });
}

startSession();
skipLink();
liveIndicator();
wallMode();
window.addEventListener('hashchange', render);
render();
