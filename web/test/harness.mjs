// Test harness for the gqlauth end-to-end suites: starts the reference API
// server (build/bin/gqlauth-server) as page and API servers on different
// origins, launches the browser named by $BROWSER through puppeteer-core, and
// opens isolated pages on the blank fixture page.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach } from 'node:test';
import puppeteer from 'puppeteer-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// GQLAUTH_DIST_DIR overrides the module's directory (default build/dist).
export const DIST = process.env.GQLAUTH_DIST_DIR ? path.resolve(process.env.GQLAUTH_DIST_DIR) : path.join(ROOT, 'build', 'dist');
export const FIXTURES = path.join(ROOT, 'web', 'test', 'fixtures');
/** The module built with test hooks (make testbuild): /gqlauth-testhooks.wasm. */
// GQLAUTH_TESTDIST_DIR overrides its directory (default build/testdist).
export const TESTDIST = process.env.GQLAUTH_TESTDIST_DIR
  ? path.resolve(process.env.GQLAUTH_TESTDIST_DIR) : path.join(ROOT, 'build', 'testdist');
export const TESTHOOKS_WASM = path.join(TESTDIST, 'gqlauth-testhooks.wasm');
// GQLAUTH_SERVER_BIN overrides the server binary (e.g. one built elsewhere).
export const SERVER_BIN = process.env.GQLAUTH_SERVER_BIN || path.join(ROOT, 'build', 'bin', 'gqlauth-server');

export const BROWSER = process.env.BROWSER || 'chromium';
if (BROWSER !== 'chromium' && BROWSER !== 'firefox') {
  throw new Error(`BROWSER must be "chromium" or "firefox", got "${BROWSER}"`);
}

/** The reference server's demo user. */
export const USER = Object.freeze({ id: '1', username: 'demo', email: 'demo@example.com' });
export const PASSWORD = 'demo-password';

export const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Sleeps until the wall clock reaches epochMs. */
export async function sleepUntil(epochMs) {
  const left = epochMs - Date.now();
  if (left > 0) await sleep(left);
}

function assertBuilt() {
  const need = [
    SERVER_BIN,
    path.join(DIST, 'gqlauth.js'),
    path.join(DIST, 'gqlauth.wasm'),
    path.join(DIST, 'wasm_exec.js'),
  ];
  const missing = need.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new Error(`missing build outputs (run \`make build\` in ${ROOT}): ${missing.join(', ')}`);
  }
}

/** Every child started by this process, so that a crash still cleans up. */
const running = new Set();
process.on('exit', () => {
  for (const s of running) {
    try { s.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/**
 * Starts build/bin/gqlauth-server on 127.0.0.1 with an ephemeral port.
 * @param {object} o
 * @param {string[]} [o.origins]        CORS allow-list (exact origins)
 * @param {string} [o.ttl]              -token-ttl, a Go duration
 * @param {boolean} [o.exposeTokenHeaders] false omits Access-Control-Expose-Headers
 * @param {boolean} [o.strictRotation]
 * @param {string[]} [o.staticDirs]     directories relative to the repo root
 * @param {boolean} [o.testHooks]       default true
 * @param {string} [o.csp]              -csp: the Content-Security-Policy of static files
 */
export async function startServer(o = {}) {
  assertBuilt();
  const flags = [];
  if (o.csp) flags.push('-csp', o.csp);
  if (o.origins && o.origins.length) flags.push('-origins', o.origins.join(','));
  if (o.ttl) flags.push('-token-ttl', o.ttl);
  if (o.exposeTokenHeaders === false) flags.push('-expose-token-headers=false');
  if (o.strictRotation) flags.push('-strict-rotation');
  if (o.staticDirs && o.staticDirs.length) {
    flags.push('-static', o.staticDirs.map((d) => path.resolve(ROOT, d)).join(','));
  }
  if (o.testHooks !== false) flags.push('-test-hooks');
  const { child, base, stderr } = await spawnListening(SERVER_BIN, ['-addr', '127.0.0.1:0', ...flags], { timeoutMs: 15000 });
  return new ApiServer(child, base, stderr, flags);
}

/**
 * Runs command with args and waits for its line `… listening on
 * http://127.0.0.1:PORT`: {child, base, stderr()}. The child is killed when
 * this process exits, or by stopChild.
 */
export async function spawnListening(command, args, { env, label = path.basename(command), timeoutMs = 30000 } = {}) {
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let err = '';
  const stderr = () => err;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { err = (err + d).slice(-8192); });
  child.stdout.setEncoding('utf8');

  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`no listening line within ${timeoutMs / 1000} s`)), timeoutMs);
    function fail(e) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      running.delete(child);
      reject(new Error(`${label}: ${e.message}\nargs: ${args.join(' ')}\nstderr: ${err}`));
    }
    child.on('error', fail);
    child.on('exit', (code, sig) => fail(new Error(`exited early (code ${code}, signal ${sig})`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        resolve(m[1]);
      }
    });
  });
  child.stdout.resume();
  return { child, base, stderr };
}

/** Stops a child of spawnListening: SIGTERM, then SIGKILL after 3 s. */
export async function stopChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
  }
  running.delete(child);
}

export class ApiServer {
  constructor(child, base, stderr, flags) {
    this.child = child;
    /** http://127.0.0.1:PORT */
    this.base = base;
    this.port = Number(new URL(base).port);
    this.stderr = stderr;
    this.flags = flags;
  }

  /** The GraphQL endpoint as the browser addresses it (origin 127.0.0.1). */
  get endpoint() { return `${this.base}/graphql`; }

  async hook(method, p) {
    const res = await fetch(`${this.base}${p}`, { method });
    const text = await res.text();
    if (!res.ok) {
      throw new Error(`${method} ${p} -> HTTP ${res.status}: ${text.slice(0, 200)}`);
    }
    return text ? JSON.parse(text) : null;
  }

  /**
   * GET /test/tokens: {issued: [{jti, sub, iat, exp, raw, chain, request, forged?}],
   * received: [{seq, jti, iat, at, op?, refused?}], held: [{seq, op?, jti?}],
   * cancelled: [{seq, op?, jti?, stage, waitedMs, waitMs?, written?, size?}], graphqlRequests}.
   */
  tokens() { return this.hook('GET', '/test/tokens'); }

  /** POST /test/reset: forget issued/received tokens and counters; release held requests. */
  reset() { return this.hook('POST', '/test/reset'); }

  /**
   * Releases requests parked with the hold=1 test hook: all of them, or the
   * one with the given seq. Resolves to how many were released.
   */
  async release(seq = 'all') {
    const r = await this.hook('POST', `/graphql?release=${seq}`);
    return r.released;
  }

  /**
   * Polls GET /test/tokens until ok(log) is true and returns that log.
   * @param {(log: object) => boolean} ok
   * @param {string} what  said in the error when it times out
   */
  async waitForLog(ok, what, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const log = await this.tokens();
      if (ok(log)) return log;
      if (Date.now() > deadline) {
        throw new Error(`waited ${timeoutMs} ms for ${what}; held ${JSON.stringify(log.held)}, ` +
          `${log.graphqlRequests} requests, cancelled ${JSON.stringify(log.cancelled)}`);
      }
      await sleep(10);
    }
  }

  /**
   * Stops the server and starts it again on the same port with the same
   * flags. A new process signs with a new random key, so every token the old
   * one issued is now refused.
   */
  async restart() {
    await this.stop();
    const { child, base, stderr } = await spawnListening(SERVER_BIN, ['-addr', `127.0.0.1:${this.port}`, ...this.flags], { timeoutMs: 15000 });
    this.child = child;
    this.stderr = stderr;
    if (base !== this.base) throw new Error(`restarted on ${base}, not ${this.base}`);
  }

  /** The endpoint with test-hook query parameters, e.g. {fault: '500html'} or {delay: 300}. */
  endpointWith(params) {
    const u = new URL(this.endpoint);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    return u.href;
  }

  stop() { return stopChild(this.child); }
}

/** JWT exp/iat (unix seconds, fractional) -> epoch milliseconds. */
export const secToMs = (s) => Math.round(s * 1000);

/** Chromium's flags here: root needs no sandbox, and the closed network wants no background traffic. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/**
 * Launches the browser named by $BROWSER with a fresh profile.
 * @param {object} [o]
 * @param {boolean} [o.networkEnabled] false stops puppeteer from following
 *   every request (t.requests stays empty): several times faster for suites
 *   that send thousands.
 */
export async function launchBrowser(o = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), `gqlauth-e2e-${BROWSER}-`));
  const opts = BROWSER === 'firefox'
    ? { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true, userDataDir: profile }
    : { executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile, args: CHROMIUM_ARGS };
  const browser = await puppeteer.launch({ ...opts, protocolTimeout: 60000, networkEnabled: o.networkEnabled !== false });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try { await close(); } finally { rmSync(profile, { recursive: true, force: true }); }
  };
  return browser;
}

/**
 * One test file's world: a page server (build/dist + fixtures) at
 * http://localhost:PORT, API servers at http://127.0.0.1:PORT (a different
 * origin, so CORS is real) and one browser.
 * @param {Record<string, object>} apis  name -> startServer options (origins are filled in)
 * @param {object} [browserOptions]  launchBrowser options
 */
export async function openSuite(apis = { api: {} }, browserOptions = {}) {
  const staticDirs = [DIST, FIXTURES];
  if (existsSync(TESTDIST)) staticDirs.push(TESTDIST);
  const pageServer = await startServer({ staticDirs });
  const pageOrigin = `http://localhost:${pageServer.port}`;
  const servers = { page: pageServer };
  const suite = {
    pageServer,
    pageOrigin,
    pageURL: `${pageOrigin}/index.html`,
    api: {},
    browser: null,
    async newPage() { return openPage(suite); },
    async close() {
      if (suite.browser) await suite.browser.close().catch(() => {});
      await Promise.all(Object.values(servers).map((s) => s.stop()));
    },
  };
  try {
    for (const [name, o] of Object.entries(apis)) {
      const s = await startServer({ ...o, origins: o.origins || [pageOrigin] });
      servers[name] = s;
      suite.api[name] = s;
    }
    suite.browser = await launchBrowser(browserOptions);
  } catch (e) {
    await suite.close();
    throw e;
  }
  return suite;
}

/**
 * A page in its own browser context (fresh storage), loaded with the blank
 * fixture page, with console messages, page errors and requests captured.
 * With o.context, a page in that context instead: another tab of the same
 * browser profile, sharing its workers, storage and locks; closing it
 * closes the tab only.
 */
export async function openPage(suite, o = {}) {
  const context = o.context ?? await suite.browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(30000);
  const t = {
    page,
    context,
    /** Console messages: {type, text, args} (args: JSON of each argument, best effort). */
    console: [],
    pageErrors: [],
    /** Every request the page made: {method, url}. */
    requests: [],
    pending: [],
    baselineGlobals: [],
    /**
     * Runs the async function fn in the page with JSON-serialisable args and
     * returns its result through JSON, the same way in every browser.
     */
    async run(fn, ...args) {
      const src = `(async () => {
        const v = await (${fn.toString()})(...${JSON.stringify(args)});
        return v === undefined ? undefined : JSON.stringify(v);
      })()`;
      const text = await page.evaluate(src);
      return text === undefined ? undefined : JSON.parse(text);
    },
    /** Console texts, once every argument has been read. */
    async consoleTexts() {
      await Promise.allSettled(t.pending);
      return t.console.flatMap((m) => [m.text, ...m.args]);
    },
    /** Requests to the given origin, or to any of the API servers when omitted. */
    requestsTo(base) {
      return t.requests.filter((r) => r.url.startsWith(base));
    },
    async close() { await (o.context ? page.close() : context.close()).catch(() => {}); },
    /** Opens another tab in this page's browser context. */
    async openTab() { return openPage(suite, { context }); },
  };
  page.on('console', (msg) => {
    const entry = { type: msg.type(), text: msg.text(), args: [] };
    t.console.push(entry);
    for (const a of msg.args()) {
      t.pending.push(a.jsonValue().then((v) => { entry.args.push(JSON.stringify(v) ?? ''); }, () => {}));
    }
  });
  page.on('pageerror', (err) => t.pageErrors.push(String(err && err.message ? err.message : err)));
  page.on('request', (req) => t.requests.push({ method: req.method(), url: req.url() }));
  await page.goto(suite.pageURL, { waitUntil: 'load' });
  t.baselineGlobals = await page.evaluate(() => Object.getOwnPropertyNames(globalThis));
  return t;
}

/**
 * Registers the usual hooks of a describe block: one suite (page server, the
 * API servers in apis, a browser) for the block; before each test the API
 * logs reset and a fresh page; after it, the page closed, held requests
 * released (with release: true), and any runtime failure the page reported
 * failing the test. onSuite and onPage receive the suite and each page.
 */
export function pageHooks(apis, { onSuite, onPage, release = false }) {
  let suite;
  let page;
  const servers = () => Object.values(suite.api);
  before(async () => {
    suite = await openSuite(apis);
    onSuite(suite);
  });
  after(async () => { await suite?.close(); });
  beforeEach(async () => {
    await Promise.all(servers().map((s) => s.reset()));
    page = await suite.newPage();
    onPage(page);
  });
  afterEach(async () => {
    const failures = page ? await runtimeFailures(page) : [];
    await page?.close();
    if (release) await Promise.all(servers().map((s) => s.release()));
    assert.deepEqual(failures, [], 'the page reported errors');
  });
}

/**
 * Signs of a crashed or panicking Go runtime in what the page reported.
 * A recovered panic prints nothing; an unrecovered one prints "panic:".
 */
export async function runtimeFailures(t) {
  const texts = await t.consoleTexts();
  // Firefox reports blocked cross-origin requests as page errors; those are
  // network diagnostics, which some tests cause on purpose.
  const diagnostics = /^(Cross-Origin Request Blocked|NetworkError when attempting to fetch resource)/;
  return [
    ...t.pageErrors.filter((e) => !diagnostics.test(e)).map((e) => `pageerror: ${e}`),
    ...texts.filter((s) => /^(panic: |fatal error: )|Go program has already exited|exit code: /.test(s)),
  ];
}

/**
 * A TCP proxy on 127.0.0.1 in front of an API server, which a test can take
 * down (nothing listens on its port, open connections are cut) and bring
 * back on the same port: "server not listening" without losing the API
 * server's signing key, so that the session survives the outage.
 */
export class TcpProxy {
  constructor(target) {
    this.target = target;
    this.sockets = new Set();
    this.server = null;
    this.port = 0;
  }

  /** The GraphQL endpoint through the proxy. */
  get endpoint() { return `http://127.0.0.1:${this.port}/graphql`; }

  /** Starts listening (on the same port as before, if there was one). */
  async up() {
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target.port, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => { server.off('error', reject); resolve(); });
    });
    this.server = server;
    this.port = server.address().port;
  }

  /** Stops listening and cuts every open connection. */
  async down() {
    if (!this.server) return;
    const closed = new Promise((r) => this.server.close(r));
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await closed;
    this.server = null;
  }
}

/** Starts a TcpProxy in front of the ApiServer target. */
export async function startProxy(target) {
  const p = new TcpProxy(target);
  await p.up();
  return p;
}

/**
 * The secret pieces of each raw JWT: the whole token, payload+signature,
 * payload and signature. Any of them in a place a page script can read is
 * a leak.
 */
export function tokenSecrets(raws) {
  const out = new Set();
  for (const raw of raws) {
    const parts = raw.split('.');
    if (parts.length !== 3) throw new Error('a raw token from /test/tokens is a JWT');
    out.add(raw);
    out.add(`${parts[1]}.${parts[2]}`);
    out.add(parts[1]);
    out.add(parts[2]);
  }
  return [...out];
}

/** Where, among labelled lists of strings, any secret occurs ("place: …prefix…"). */
export function leaksIn(places, secrets) {
  const found = [];
  for (const [where, strings] of Object.entries(places)) {
    for (const s of strings) {
      if (typeof s !== 'string') continue;
      for (const secret of secrets) {
        if (s.includes(secret)) found.push(`${where}: …${secret.slice(0, 12)}…`);
      }
    }
  }
  return [...new Set(found)];
}

/**
 * Asserts that nothing a page script can read holds any token the server(s)
 * issued (forged ones included) or the given secrets, and that nothing was
 * stored.
 */
export async function assertNoLeaks(t, apis, { clients = ['c'], secrets = [] } = {}) {
  const report = await leakReport(t, apis, { clients, secrets });
  assert.ok(report.tokens > 0);
  assert.deepEqual(report.leaks, [], 'a secret is readable by page scripts');
  assert.deepEqual(report.stored, NOTHING_STORED, 'nothing was stored');
}

/**
 * Everything a script in the page of t can read where a token could end
 * up, as labelled lists of strings: storage, cookies, IndexedDB and Cache
 * Storage names, window.name/history/location, the named clients (JSON and
 * every reachable property), the results and errors kept in e2e-util's
 * results, global string values, new globals and the console. persistent is
 * the raw storage dump.
 */
export async function pageReadableStrings(t, clientNames = []) {
  const seen = await t.run(async (baseline, names) => {
    const u = await import('/e2e-util.js');
    const persistent = await u.persistentState();
    const globals = u.globalsSince(baseline);
    const clients = names.map((n) => u.client(n));
    return {
      persistent,
      addedGlobals: globals.added,
      places: {
        localStorage: Object.entries(persistent.localStorage).flat(),
        sessionStorage: Object.entries(persistent.sessionStorage).flat(),
        'document.cookie': [persistent.cookie],
        indexedDB: persistent.indexedDB.names,
        caches: persistent.caches.map(String),
        'window.name/history/location': [persistent.windowName, persistent.historyState, persistent.href],
        'JSON.stringify(client)': clients.map((c) => u.safeJSON(c)),
        'client properties': clients.flatMap((c) => u.reachableStrings(c)),
        'results and errors': u.reachableStrings(u.results),
        'global string values': globals.strings,
        'new globals': globals.added.flatMap((n) => [n, ...u.reachableStrings(globalThis[n], { maxDepth: 2 })]),
      },
    };
  }, t.baselineGlobals, clientNames);
  seen.places.console = await t.consoleTexts();
  return seen;
}

/**
 * What of the session a page script could read: every JWT the given API
 * servers issued (forged ones included) and any extra secrets (a password),
 * searched in everything pageReadableStrings returns for the named clients.
 * Resolves to {tokens: how many were looked for, leaks: where they were
 * found, stored: storage, cookies, IndexedDB and Cache Storage as found}.
 */
export async function leakReport(t, servers, { clients = [], secrets = [] } = {}) {
  const logs = await Promise.all(servers.map((s) => s.tokens()));
  const raws = logs.flatMap((l) => l.issued.map((x) => x.raw)).filter((raw) => raw.split('.').length === 3);
  const seen = await pageReadableStrings(t, clients);
  const p = seen.persistent;
  return {
    tokens: raws.length,
    leaks: leaksIn(seen.places, [...tokenSecrets(raws), ...secrets]),
    stored: {
      localStorage: p.localStorage, sessionStorage: p.sessionStorage, cookie: p.cookie,
      indexedDB: p.indexedDB.names, caches: p.caches,
    },
  };
}

/** leakReport's stored when nothing was stored. */
export const NOTHING_STORED = Object.freeze({ localStorage: {}, sessionStorage: {}, cookie: '', indexedDB: [], caches: [] });
