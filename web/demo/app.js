// gqlauth demo app: sign in, run protected queries, watch the token rotate
// and count down. The token itself is never shown or logged: the page only
// sees what the client reports (expiry, events, errors).
import { createClient, isAuthError } from './gqlauth.js';

const $ = (id) => document.getElementById(id);

/** The client stops sending a token this long before its expiry (clock-skew guard). */
const LEEWAY_SECONDS = 10;

const EXAMPLES = {
  me: { query: '{ me { id username email } session { jti issuedAt expiresAt } }', variables: '' },
  items: {
    query: 'query Items($first: Int, $after: String) {\n  items(first: $first, after: $after) {\n    nodes { id name }\n    pageInfo { endCursor hasNextPage }\n    totalCount\n  }\n  session { jti }\n}',
    variables: '{ "first": 5 }',
  },
  add: {
    query: 'mutation Add($name: String!) {\n  addItem(name: $name) { id name }\n  session { jti }\n}',
    variables: '{ "name": "Written from the demo" }',
  },
  bad: { query: '{ me { id noSuchField } }', variables: '' },
};

const ui = {
  status: $('status'),
  loginForm: $('login-form'),
  identifier: $('identifier'),
  password: $('password'),
  loginButton: $('login-button'),
  userBox: $('user-box'),
  userName: $('user-name'),
  userEmail: $('user-email'),
  userId: $('user-id'),
  logoutButton: $('logout-button'),
  countdown: $('countdown'),
  expiresAt: $('expires-at'),
  authState: $('auth-state'),
  lifetime: $('lifetime'),
  rotatedBadge: $('rotated-badge'),
  rotationCount: $('rotation-count'),
  jtiCurrent: $('jti-current'),
  jtiPrevious: $('jti-previous'),
  queryForm: $('query-form'),
  example: $('example'),
  query: $('query'),
  variables: $('variables'),
  runButton: $('run-button'),
  runInfo: $('run-info'),
  result: $('result'),
  error: $('error'),
  noError: $('no-error'),
  events: $('events'),
};

let client = null;
let rotations = 0;
let lastJti = null;
/** When the current token was received and when it expires, for the lifetime bar. */
let tokenWindow = null;
let badgeTimer = 0;

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.className = `pill pill-${kind}`;
}

function mmss(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}`;
}

function shortId(id) {
  const s = String(id);
  return s.length > 18 ? `${s.slice(0, 8)}…${s.slice(-8)}` : s;
}

/** Redraws everything that depends on the clock or the session state. */
function tick() {
  if (!client) return;
  const authed = client.isAuthenticated();
  const at = client.tokenExpiresAt();
  const left = client.tokenExpiresIn();

  ui.countdown.textContent = at ? mmss(left) : '--:--';
  ui.countdown.classList.toggle('soon', authed && left < 60_000);
  ui.countdown.classList.toggle('gone', !authed && at !== null);
  ui.expiresAt.textContent = at ? dateTimeFmt.format(at) : '—';
  ui.expiresAt.title = at ? at.toISOString() : '';
  if (authed) ui.authState.textContent = 'Signed in';
  else if (at) ui.authState.textContent = 'Token expired: sign in again';
  else ui.authState.textContent = 'Signed out';

  if (tokenWindow && at) {
    const span = Math.max(1, tokenWindow.expires - tokenWindow.received);
    ui.lifetime.value = Math.min(1, Math.max(0, left / span));
  } else {
    ui.lifetime.value = 0;
  }

  ui.loginForm.hidden = authed;
  ui.userBox.hidden = !authed;
  if (authed) setStatus('Signed in', 'ok');
  else if (at) setStatus('Token expired', 'warn');
  else setStatus('Signed out', 'muted');
}

function showError(e) {
  ui.error.replaceChildren();
  ui.noError.hidden = true;
  const head = document.createElement('p');
  const code = document.createElement('span');
  code.className = 'code';
  if (isAuthError(e)) {
    code.textContent = e.code;
  } else {
    code.textContent = (e && e.name) || 'Error';
  }
  head.append(code, ' ', document.createTextNode((e && e.message) || String(e)));
  ui.error.append(head);
  if (e && e.status !== undefined && e.status !== null) {
    const st = document.createElement('p');
    st.className = 'muted';
    st.textContent = `HTTP status ${e.status}`;
    ui.error.append(st);
  }
  if (e && Array.isArray(e.graphQLErrors) && e.graphQLErrors.length) {
    const det = document.createElement('details');
    const sum = document.createElement('summary');
    sum.textContent = `GraphQL errors from the server (${e.graphQLErrors.length})`;
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(e.graphQLErrors, null, 2);
    det.append(sum, pre);
    ui.error.append(det);
  }
}

function clearError() {
  ui.error.replaceChildren();
  ui.noError.hidden = false;
}

function logEvent(e) {
  const placeholder = ui.events.querySelector('.placeholder');
  if (placeholder) placeholder.remove();
  const tr = document.createElement('tr');
  const when = document.createElement('td');
  when.textContent = timeFmt.format(new Date());
  const reason = document.createElement('td');
  const badge = document.createElement('span');
  badge.className = `reason reason-${e.reason}`;
  badge.textContent = e.reason;
  reason.append(badge);
  const exp = document.createElement('td');
  exp.textContent = e.expiresAt ? timeFmt.format(e.expiresAt) : '—';
  tr.append(when, reason, exp);
  ui.events.prepend(tr);
  while (ui.events.rows.length > 50) ui.events.deleteRow(-1);
}

function onTokenChange(e) {
  logEvent(e);
  if (e.expiresAt) tokenWindow = { received: Date.now(), expires: e.expiresAt.getTime() };
  else tokenWindow = null;
  if (e.reason === 'rotate') {
    rotations += 1;
    ui.rotationCount.textContent = String(rotations);
  }
  if (e.reason === 'login') {
    rotations = 0;
    ui.rotationCount.textContent = '0';
  }
  tick();
}

/** Shows the jti of the token that the last request carried, if the query asked for it. */
function noteSession(result) {
  const jti = result && result.data && result.data.session && result.data.session.jti;
  if (!jti) return;
  if (lastJti && jti !== lastJti) {
    ui.jtiPrevious.textContent = shortId(lastJti);
    ui.jtiPrevious.title = lastJti;
    ui.rotatedBadge.textContent = 'token rotated';
    ui.rotatedBadge.className = 'pill pill-ok flash';
    clearTimeout(badgeTimer);
    badgeTimer = setTimeout(() => ui.rotatedBadge.classList.remove('flash'), 1500);
  } else if (!lastJti) {
    ui.rotatedBadge.textContent = 'first token seen';
    ui.rotatedBadge.className = 'pill pill-muted';
  }
  lastJti = jti;
  ui.jtiCurrent.textContent = shortId(jti);
  ui.jtiCurrent.title = jti;
}

function resetSessionView() {
  lastJti = null;
  ui.jtiCurrent.textContent = '—';
  ui.jtiPrevious.textContent = '—';
  ui.rotatedBadge.textContent = 'no rotation yet';
  ui.rotatedBadge.className = 'pill pill-muted';
}

async function onLogin(ev) {
  ev.preventDefault();
  const id = ui.identifier.value.trim();
  const password = ui.password.value;
  if (!id || !password) {
    showError(new Error('Enter a username or email and a password.'));
    return;
  }
  const credentials = id.includes('@') ? { email: id, password } : { username: id, password };
  ui.loginButton.disabled = true;
  setStatus('Signing in…', 'muted');
  try {
    const { user } = await client.login(credentials);
    const u = user && typeof user === 'object' ? user : {};
    ui.userName.textContent = u.username || (credentials.username ?? u.email ?? credentials.email);
    ui.userId.textContent = u.id !== undefined ? String(u.id) : '—';
    ui.userEmail.textContent = u.email || credentials.email || '—';
    clearError();
    resetSessionView();
    ui.query.focus();
  } catch (e) {
    showError(e);
  } finally {
    ui.loginButton.disabled = false;
    tick();
  }
}

async function onRun(ev) {
  ev.preventDefault();
  let variables;
  const raw = ui.variables.value.trim();
  if (raw) {
    try {
      variables = JSON.parse(raw);
    } catch (e) {
      showError(new Error(`Variables are not valid JSON: ${e.message}`));
      return;
    }
  }
  ui.runButton.disabled = true;
  ui.runInfo.textContent = 'Running…';
  const started = performance.now();
  try {
    const result = await client.fetchWithAuth(ui.query.value, variables);
    ui.result.textContent = JSON.stringify(result, null, 2);
    ui.result.classList.toggle('has-errors', Array.isArray(result.errors) && result.errors.length > 0);
    ui.runInfo.textContent = `Done in ${Math.round(performance.now() - started)} ms${result.errors ? ', with GraphQL errors' : ''}.`;
    noteSession(result);
    clearError();
  } catch (e) {
    ui.runInfo.textContent = 'Failed.';
    showError(e);
  } finally {
    ui.runButton.disabled = false;
    tick();
  }
}

function onLogout() {
  client.logout();
  resetSessionView();
  ui.result.textContent = 'Signed out.';
  ui.result.classList.remove('has-errors');
  tick();
  ui.identifier.focus();
}

async function main() {
  ui.loginForm.addEventListener('submit', onLogin);
  ui.queryForm.addEventListener('submit', onRun);
  ui.logoutButton.addEventListener('click', onLogout);
  ui.example.addEventListener('change', () => {
    const ex = EXAMPLES[ui.example.value];
    ui.query.value = ex.query;
    ui.variables.value = ex.variables;
  });
  ui.query.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) ui.queryForm.requestSubmit();
  });

  try {
    client = await createClient({
      endpoint: new URL('/graphql', location.href).href,
      expiryLeewaySeconds: LEEWAY_SECONDS,
    });
  } catch (e) {
    setStatus('Module failed to load', 'bad');
    showError(e);
    return;
  }
  client.onTokenChange(onTokenChange);
  ui.loginButton.disabled = false;
  ui.runButton.disabled = false;
  tick();
  setInterval(tick, 1000);
}

main();
