// The sign-in page: posts the name and password as JSON (a cross-site form
// cannot), and on success returns to the page that sent the browser here.

const form = document.getElementById('signin-form');
const message = document.getElementById('signin-message');
const submit = document.getElementById('signin-submit');

/**
 * nextPage is where to go after signing in: the ?next= path when it is a
 * path of this server (never another site), else the application.
 */
function nextPage() {
  const next = new URLSearchParams(window.location.search).get('next') || '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || next.startsWith('/signin.html')) return '/';
  return next;
}

function show(text) {
  message.textContent = text;
  message.hidden = !text;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  show('');
  submit.disabled = true;
  const body = JSON.stringify({ name: form.elements.name.value.trim().toLowerCase(), password: form.elements.password.value });
  try {
    const response = await fetch('/api/auth/signin', {
      method: 'POST',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
      body,
      cache: 'no-store',
    });
    if (response.ok) {
      window.location.replace(nextPage());
      return;
    }
    let detail = {};
    try {
      detail = (await response.json()).error || {};
    } catch {
      // Not the API's JSON: the status says enough.
    }
    if (response.status === 401) show('Wrong user name or password.');
    else show(detail.message || `The server answered ${response.status}.`);
    form.elements.password.value = '';
    form.elements.password.focus();
  } catch {
    show('The server could not be reached. Check the connection and try again.');
  } finally {
    submit.disabled = false;
  }
});
