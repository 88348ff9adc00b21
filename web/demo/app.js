// gqlauth demo app: log in, run protected queries, watch the token rotate
// and count down, and, with "Shared across tabs", share one session between
// the tabs of the browser. The token itself is never shown or logged: the
// page only sees what the client reports (expiry, events, errors).
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

/** What the page calls the session states and actions, in one place. */
const TEXT = {
  loggedIn: 'Logged in',
  loggedOut: 'Logged out',
  expired: 'Token expired',
  expiredState: 'Token expired: log in again',
  loggingIn: 'Logging in…',
  loginTitle: 'Log in',
  accountTitle: 'Account',
};

/** Fills the account card after login; the login mutation itself only returns the user's id. */
const PROFILE_QUERY = '{ me { id username email } }';

/** Who caused a token event, as the events table says it. */
const CAUSES = { local: 'this tab', remote: 'another tab', expiry: 'expiry', 'keep-alive': 'keep-alive' };

/** What each sharing mode means for the user. */
const SHARING = {
  tabs: 'One session for all tabs of this page, kept by a SharedWorker; nothing is stored, so it ends when the last tab closes.',
  broadcast: 'This browser has no SharedWorker: each tab logs in on its own, and a logout in one logs the others out.',
  none: 'This tab has a session of its own. A reload logs out: the token is only ever in memory.',
};

/** The page's URL records the switch, so that a reload or a second tab keeps it. */
const SHARE_PARAM = 'share';

const ui = {
  status: $('status'),
  loginTitle: $('login-title'),
  loginForm: $('login-form'),
  identifier: $('identifier'),
  password: $('password'),
  loginButton: $('login-button'),
  userBox: $('user-box'),
  userName: $('user-name'),
  userEmail: $('user-email'),
  userEmailRow: $('user-email-row'),
  userId: $('user-id'),
  userIdRow: $('user-id-row'),
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
  shareTabs: $('share-tabs'),
  sharingState: $('sharing-state'),
  secondTab: $('second-tab'),
  secondTabLink: $('second-tab-link'),
};

let client = null;
/**
 * Bumped by every login and logout: an answer to a request sent under an
 * older session must not update the page (the user, the jti lines).
 */
let session = 0;
/** Rotation state of the current session: rotate events seen, and the jti the last two queries carried. */
const rotation = { count: 0, jti: null, previousJti: null };
/** When the current token was received and when it expires, for the lifetime bar. */
let tokenWindow = null;
let badgeTimer = 0;

const pad2 = (n) => String(n).padStart(2, '0');
/** Local time as 24-hour HH:MM:SS, the one time format of the page. */
const formatTime = (d) => `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
/** Local date and time as YYYY-MM-DD HH:MM:SS, for the absolute expiry only. */
const formatDateTime = (d) => `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${formatTime(d)}`;

function setStatus(text, kind) {
  ui.status.textContent = text;
  ui.status.className = `pill pill-${kind}`;
}

function mmss(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const m = Math.floor(total / 60);
  const s = total % 60;
  return `${pad2(m)}:${pad2(s)}`;
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
  ui.countdown.classList.toggle('idle', !at);
  ui.countdown.classList.toggle('soon', authed && left < 60_000);
  ui.countdown.classList.toggle('gone', !authed && at !== null);
  ui.expiresAt.textContent = at ? formatDateTime(at) : '—';
  ui.expiresAt.title = at ? at.toISOString() : '';
  if (authed) ui.authState.textContent = TEXT.loggedIn;
  else if (at) ui.authState.textContent = TEXT.expiredState;
  else ui.authState.textContent = TEXT.loggedOut;

  if (tokenWindow && at) {
    const span = Math.max(1, tokenWindow.expires - tokenWindow.received);
    ui.lifetime.value = Math.min(1, Math.max(0, left / span));
  } else {
    ui.lifetime.value = 0;
  }

  ui.loginForm.hidden = authed;
  ui.userBox.hidden = !authed;
  ui.loginTitle.textContent = authed ? TEXT.accountTitle : TEXT.loginTitle;
  if (authed) setStatus(TEXT.loggedIn, 'ok');
  else if (at) setStatus(TEXT.expired, 'warn');
  else setStatus(TEXT.loggedOut, 'muted');
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
  // A refused login or an Unauthorized answer usually comes with 200 OK: the
  // status is only news when it is not a success.
  if (e && typeof e.status === 'number' && (e.status < 200 || e.status > 299)) {
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
  when.textContent = formatTime(new Date());
  const reason = document.createElement('td');
  const badge = document.createElement('span');
  badge.className = `reason reason-${e.reason}`;
  badge.textContent = e.reason;
  reason.append(badge);
  const cause = document.createElement('td');
  cause.className = `cause cause-${e.cause}`;
  cause.textContent = CAUSES[e.cause] ?? e.cause;
  const exp = document.createElement('td');
  exp.textContent = e.expiresAt ? formatTime(e.expiresAt) : '—';
  tr.append(when, reason, cause, exp);
  ui.events.prepend(tr);
  while (ui.events.rows.length > 50) ui.events.deleteRow(-1);
}

function setJti(el, jti) {
  el.textContent = jti ? shortId(jti) : '—';
  el.title = jti || '';
  el.classList.toggle('none', !jti);
}

/** Draws the rotation panel from `rotation`; `flash` highlights a rotation that just happened. */
function renderRotation(flash = false) {
  ui.rotationCount.textContent = String(rotation.count);
  if (rotation.count > 0) {
    ui.rotatedBadge.textContent = 'token rotated';
    ui.rotatedBadge.className = 'pill pill-ok';
  } else {
    ui.rotatedBadge.textContent = 'no rotation yet';
    ui.rotatedBadge.className = 'pill pill-muted';
  }
  if (flash) {
    // Restart the animation even if the previous flash is still running.
    void ui.rotatedBadge.offsetWidth;
    ui.rotatedBadge.classList.add('flash');
    clearTimeout(badgeTimer);
    badgeTimer = setTimeout(() => ui.rotatedBadge.classList.remove('flash'), 1500);
  }
  setJti(ui.jtiCurrent, rotation.jti);
  setJti(ui.jtiPrevious, rotation.previousJti);
}

function resetRotation() {
  rotation.count = 0;
  rotation.jti = null;
  rotation.previousJti = null;
  clearTimeout(badgeTimer);
  renderRotation();
}

function onTokenChange(e) {
  logEvent(e);
  if (e.expiresAt) tokenWindow = { received: Date.now(), expires: e.expiresAt.getTime() };
  else tokenWindow = null;
  if (e.reason === 'login' || e.reason === 'logout') {
    resetRotation();
  } else if (e.reason === 'rotate') {
    rotation.count += 1;
    renderRotation(true);
  }
  // Another tab logged in or out of the session this one shares.
  if (e.cause === 'remote' && e.reason === 'login') {
    showSignedIn({ name: '', id: '', email: '' });
    loadProfile(session);
  } else if (e.cause === 'remote' && e.reason === 'logout') {
    showSignedOut('Logged out in another tab.');
  }
  tick();
}

/** A new session in this page: answers to the old one's requests are stale. */
function showSignedIn(user) {
  session += 1;
  showUser(user);
  clearError();
  clearRun('Run a query to see its result.');
}

function showSignedOut(text) {
  session += 1;
  resetRotation();
  showUser({ name: '', id: '', email: '' });
  clearRun(text);
}

/** Notes the jti of the token the request carried, when the query selected `session { jti }`. */
function noteSession(result) {
  const jti = result && result.data && result.data.session && result.data.session.jti;
  if (typeof jti !== 'string' || !jti || jti === rotation.jti) return;
  rotation.previousJti = rotation.jti;
  rotation.jti = jti;
  renderRotation();
}

function showUser({ name, id, email }) {
  if (name !== undefined) ui.userName.textContent = name;
  if (id !== undefined) {
    ui.userId.textContent = id;
    ui.userIdRow.hidden = !id;
  }
  if (email !== undefined) {
    ui.userEmail.textContent = email;
    ui.userEmailRow.hidden = !email;
  }
}

/** Asks the API who is logged in, for the account card. A failure leaves the card as it is. */
async function loadProfile(mine) {
  try {
    const { data } = await client.fetchWithAuth(PROFILE_QUERY);
    if (mine !== session) return;
    const me = data && data.me;
    if (me && typeof me === 'object') {
      showUser({
        name: typeof me.username === 'string' && me.username ? me.username : undefined,
        id: me.id !== undefined && me.id !== null ? String(me.id) : undefined,
        email: typeof me.email === 'string' ? me.email : undefined,
      });
    }
  } catch (e) {
    if (mine === session) showError(e);
  } finally {
    tick();
  }
}

function clearRun(text) {
  ui.runInfo.textContent = '';
  ui.result.textContent = text;
  ui.result.classList.remove('has-errors');
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
  setStatus(TEXT.loggingIn, 'muted');
  const mine = ++session;
  try {
    const { user } = await client.login(credentials);
    if (mine !== session) return;
    const u = user && typeof user === 'object' ? user : {};
    showSignedIn({
      name: u.username || credentials.username || u.email || credentials.email,
      id: u.id !== undefined && u.id !== null ? String(u.id) : '',
      email: u.email || credentials.email || '',
    });
    resetRotation();
    ui.query.focus();
    loadProfile(session);
  } catch (e) {
    if (mine === session) showError(e);
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
  const mine = session;
  ui.runButton.disabled = true;
  ui.runInfo.textContent = 'Running…';
  const started = performance.now();
  try {
    const result = await client.fetchWithAuth(ui.query.value, variables);
    if (mine !== session) return; // logged out (or in again) meanwhile: the answer is stale
    ui.result.textContent = JSON.stringify(result, null, 2);
    ui.result.classList.toggle('has-errors', Array.isArray(result.errors) && result.errors.length > 0);
    ui.runInfo.textContent = `Done in ${Math.round(performance.now() - started)} ms${result.errors ? ', with GraphQL errors' : ''}.`;
    noteSession(result);
    clearError();
  } catch (e) {
    if (mine !== session) return;
    ui.runInfo.textContent = 'Failed.';
    showError(e);
  } finally {
    ui.runButton.disabled = false;
    tick();
  }
}

function onLogout() {
  client.logout();
  showSignedOut('Logged out.');
  tick();
  ui.identifier.focus();
}

/**
 * Starts the client, shared across tabs or not, in place of the one there
 * is: closing a tab's own client ends its session; closing a shared one
 * only detaches this tab.
 */
async function startClient(share) {
  const previous = client;
  client = null;
  previous?.close();
  ui.shareTabs.disabled = ui.loginButton.disabled = ui.runButton.disabled = true;
  showSignedOut('Run a query to see its result.');
  tokenWindow = null;
  const url = new URL(location.href);
  if (share) url.searchParams.set(SHARE_PARAM, 'tabs');
  else url.searchParams.delete(SHARE_PARAM);
  history.replaceState(null, '', url);
  ui.secondTabLink.href = url.href;
  try {
    client = await createClient({
      endpoint: new URL('/graphql', location.href).href,
      expiryLeewaySeconds: LEEWAY_SECONDS,
      ...(share ? { share: 'tabs' } : {}),
    });
  } catch (e) {
    setStatus('Module failed to load', 'bad');
    showError(e);
    return;
  } finally {
    ui.shareTabs.disabled = false;
  }
  client.onTokenChange(onTokenChange);
  ui.shareTabs.checked = client.sharing !== 'none';
  ui.sharingState.textContent = SHARING[client.sharing];
  ui.secondTab.hidden = client.sharing === 'none';
  ui.loginButton.disabled = false;
  ui.runButton.disabled = false;
  // A tab that opens while another is logged in finds the session.
  if (client.isAuthenticated()) {
    tokenWindow = { received: Date.now(), expires: client.tokenExpiresAt().getTime() };
    loadProfile(session);
  }
  tick();
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

  ui.shareTabs.addEventListener('change', () => startClient(ui.shareTabs.checked));
  await startClient(new URLSearchParams(location.search).get(SHARE_PARAM) === 'tabs');
  setInterval(tick, 1000);
}

main();
