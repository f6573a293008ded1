// The signed-in user: who, in which role, and the CSRF token the API wants
// on every state-changing request made with the session cookie (the cookie
// itself is HttpOnly: no script here can read it). A 401 anywhere sends the
// browser to the sign-in page, which brings it back where it was.

const SIGNIN_PAGE = '/signin.html';

// How often a page checks that its sign-in still holds: a wall board that
// only listens to its websocket must notice the session ending too.
const CHECK_EVERY_MS = 60 * 1000;

// The main navigation entries each role can use; the server enforces the
// same grants, this only spares people links that would be refused.
const NAV_BY_ROLE = {
  director: ['census', 'outcomes'],
  clinician: ['census', 'patients', 'groups'],
  analyst: ['census', 'outcomes'],
  admin: ['census'],
};

const ROLE_LABELS = { director: 'Program director', clinician: 'Clinician', analyst: 'Analyst', admin: 'Admin' };

let current = null;

/** toSignIn leaves for the sign-in page, which returns to this page afterwards. */
export function toSignIn() {
  const back = window.location.pathname + window.location.search + window.location.hash;
  window.location.replace(`${SIGNIN_PAGE}?next=${encodeURIComponent(back)}`);
}

async function load() {
  const response = await fetch('/api/auth/session', { headers: { Accept: 'application/json' }, cache: 'no-store' });
  if (response.status === 401) {
    toSignIn();
    // The page is leaving: nothing waiting on the session should go on.
    return new Promise(() => {});
  }
  if (!response.ok) throw new Error(`The session could not be read (${response.status}).`);
  return response.json();
}

/**
 * session answers the signed-in user: {user, role, programs, kind,
 * expiresAt, csrfToken}. It is read once per page.
 */
export function session() {
  if (!current) {
    current = load();
    current.catch(() => { current = null; });
  }
  return current;
}

/** csrfHeaders answers the headers a state-changing request needs. */
export async function csrfHeaders() {
  const s = await session();
  return s.csrfToken ? { 'X-CSRF-Token': s.csrfToken } : {};
}

/** signOut ends the session on the server and goes to the sign-in page. */
export async function signOut() {
  try {
    const headers = { Accept: 'application/json', ...(await csrfHeaders()) };
    await fetch('/api/auth/signout', { method: 'POST', headers, cache: 'no-store' });
  } finally {
    window.location.replace(SIGNIN_PAGE);
  }
}

/** roleLabel names a role for people. */
export function roleLabel(role) {
  return ROLE_LABELS[role] || role;
}

/**
 * showAccount fills the top bar's account box (#account) with the user,
 * their role and a sign-out button, and fits the navigation to the role.
 */
export function showAccount(s) {
  const box = document.getElementById('account');
  if (box) {
    const name = document.createElement('span');
    name.className = 'account-name';
    name.id = 'account-name';
    name.textContent = s.user;
    const role = document.createElement('span');
    role.className = 'account-role';
    role.id = 'account-role';
    role.textContent = roleLabel(s.role);
    const out = document.createElement('button');
    out.type = 'button';
    out.className = 'button';
    out.id = 'sign-out';
    out.textContent = 'Sign out';
    out.addEventListener('click', () => { out.disabled = true; signOut(); });
    box.replaceChildren(name, role, out);
    box.hidden = false;
  }
  const allowed = NAV_BY_ROLE[s.role] || [];
  for (const link of document.querySelectorAll('.mainnav [data-nav]')) {
    link.closest('li').hidden = !allowed.includes(link.dataset.nav);
  }
  const list = document.querySelector('.mainnav ul');
  if (s.role === 'admin' && list && !list.querySelector('[data-nav="audit"]')) {
    const item = document.createElement('li');
    const link = document.createElement('a');
    link.href = '/audit.html';
    link.dataset.nav = 'audit';
    link.textContent = 'Audit';
    item.append(link);
    list.append(item);
  }
  document.body.dataset.role = s.role;
}

/**
 * startSession shows who is signed in and keeps checking the sign-in
 * holds; a page without one goes to the sign-in page at once.
 */
export function startSession() {
  session().then(showAccount).catch(() => {});
  setInterval(async () => {
    try {
      const response = await fetch('/api/auth/session', { headers: { Accept: 'application/json' }, cache: 'no-store' });
      if (response.status === 401) toSignIn();
    } catch {
      // The server is unreachable: the live indicator says so already.
    }
  }, CHECK_EVERY_MS);
}
