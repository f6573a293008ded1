// The JSON API of package web: queries, and commands sent with an
// Idempotency-Key so a retried submission is recorded once. A 401 goes to
// the sign-in page; commands carry the session's CSRF token.

import { toSignIn, csrfHeaders } from './session.js';

/** ApiError is a refusal or failure, with the API's stable code, its readable message and the field at fault. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field || '';
  }

  /**
   * uncertain says the command may or may not have been recorded (the
   * network failed, the server timed out or was unavailable): resending it
   * with the same key is how to find out without recording it twice.
   */
  get uncertain() {
    return this.status === 0 || this.status >= 500;
  }
}

async function errorOf(response) {
  let detail = {};
  try {
    detail = (await response.json()).error || {};
  } catch {
    // Not the API's JSON (a proxy's error page): fall back to the status.
  }
  const message = detail.message || `The server answered ${response.status} ${response.statusText}`.trim();
  return new ApiError(response.status, detail.code || 'http_error', message, detail.field);
}

function networkError() {
  return new ApiError(0, 'network', 'The server could not be reached. Check the connection and submit again: nothing is recorded twice.');
}

/** getJSON runs a query and answers its decoded body. */
export async function getJSON(path, { signal } = {}) {
  let response;
  try {
    response = await fetch(path, { headers: { Accept: 'application/json' }, signal, cache: 'no-store' });
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    throw networkError();
  }
  if (response.status === 401) toSignIn();
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

/**
 * sendCommand posts a command and answers the API's acceptance. It asks the
 * server to wait for the read models (?wait=1), so the screens the
 * clinician returns to already show what was recorded.
 */
export async function sendCommand(path, body, idempotencyKey) {
  let response;
  try {
    response = await fetch(`${path}?wait=1`, {
      method: 'POST',
      headers: {
        Accept: 'application/json',
        'Content-Type': 'application/json',
        'Idempotency-Key': idempotencyKey,
        ...(await csrfHeaders()),
      },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch {
    throw networkError();
  }
  if (response.status === 401) toSignIn();
  if (!response.ok) throw await errorOf(response);
  return response.json();
}

/**
 * newIdempotencyKey draws a random key for one submission. randomUUID needs
 * a secure context; a clinic server reached over plain HTTP on its LAN is
 * not one, so the key is then built from getRandomValues, which is always
 * there.
 */
export function newIdempotencyKey() {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
