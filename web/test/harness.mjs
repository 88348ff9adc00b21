// Test harness for the gqlauth end-to-end suites: starts the reference API
// server (build/bin/gqlauth-server) as page and API servers on different
// origins, launches the browser named by $BROWSER through puppeteer-core, and
// opens isolated pages on the blank fixture page.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// GQLAUTH_DIST_DIR overrides the module's directory (default build/dist).
export const DIST = process.env.GQLAUTH_DIST_DIR ? path.resolve(process.env.GQLAUTH_DIST_DIR) : path.join(ROOT, 'build', 'dist');
export const FIXTURES = path.join(ROOT, 'web', 'test', 'fixtures');
/** The module built with test hooks (make testbuild): /gqlauth-testhooks.wasm. */
export const TESTDIST = path.join(ROOT, 'build', 'testdist');
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

/** Every server started by this process, so that a crash still cleans up. */
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
 */
export async function startServer(o = {}) {
  assertBuilt();
  const flags = [];
  if (o.origins && o.origins.length) flags.push('-origins', o.origins.join(','));
  if (o.ttl) flags.push('-token-ttl', o.ttl);
  if (o.exposeTokenHeaders === false) flags.push('-expose-token-headers=false');
  if (o.strictRotation) flags.push('-strict-rotation');
  if (o.staticDirs && o.staticDirs.length) {
    flags.push('-static', o.staticDirs.map((d) => path.resolve(ROOT, d)).join(','));
  }
  if (o.testHooks !== false) flags.push('-test-hooks');
  const { child, base, stderr } = await spawnServer(['-addr', '127.0.0.1:0', ...flags]);
  return new ApiServer(child, base, stderr, flags);
}

/** Runs the server binary with args and waits for its listening line. */
async function spawnServer(args) {
  const child = spawn(SERVER_BIN, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let err = '';
  const stderr = () => err;
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { err = (err + d).slice(-8192); });
  child.stdout.setEncoding('utf8');

  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error('server did not print its listening line within 15s')), 15000);
    function fail(e) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      running.delete(child);
      reject(new Error(`${e.message}\nargs: ${args.join(' ')}\nstderr: ${err}`));
    }
    child.on('error', fail);
    child.on('exit', (code, sig) => fail(new Error(`server exited early (code ${code}, signal ${sig})`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /gqlauth-server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
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

  /** GET /test/tokens: {issued: [{jti, sub, iat, exp, raw, chain}], received: [{jti, at}], graphqlRequests}. */
  tokens() { return this.hook('GET', '/test/tokens'); }

  /** POST /test/reset: forget issued/received tokens and counters. */
  reset() { return this.hook('POST', '/test/reset'); }

  /**
   * Stops the server and starts it again on the same port with the same
   * flags. A new process signs with a new random key, so every token the old
   * one issued is now refused.
   */
  async restart() {
    await this.stop();
    const { child, base, stderr } = await spawnServer(['-addr', `127.0.0.1:${this.port}`, ...this.flags]);
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

  async stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) { running.delete(this.child); return; }
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await gone;
    clearTimeout(t);
    running.delete(this.child);
  }
}

/** JWT exp/iat (unix seconds, fractional) -> epoch milliseconds. */
export const secToMs = (s) => Math.round(s * 1000);

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches the browser named by $BROWSER with a fresh profile. */
export async function launchBrowser() {
  const profile = mkdtempSync(path.join(tmpdir(), `gqlauth-e2e-${BROWSER}-`));
  const opts = BROWSER === 'firefox'
    ? { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true, userDataDir: profile }
    : { executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile, args: CHROMIUM_ARGS };
  const browser = await puppeteer.launch({ ...opts, protocolTimeout: 60000 });
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
 */
export async function openSuite(apis = { api: {} }) {
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
    suite.browser = await launchBrowser();
  } catch (e) {
    await suite.close();
    throw e;
  }
  return suite;
}

/**
 * A page in its own browser context (fresh storage), loaded with the blank
 * fixture page, with console messages, page errors and requests captured.
 */
export async function openPage(suite) {
  const context = await suite.browser.createBrowserContext();
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
    async close() { await context.close().catch(() => {}); },
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
