// Shared helpers of the consumer suites: the packed tarball (`make dist`),
// fresh projects that install it the way an app would, the tools that work on
// those projects (tsc, Vite: this directory's locked devDependencies) and
// headless browsers by name.
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CHROMIUM_ARGS } from '../harness.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '../../..');
/** Where `make dist` leaves the package directory and the tarball. */
export const PACKAGE_OUT = process.env.GQLAUTH_PACKAGE_DIR
  ? path.resolve(process.env.GQLAUTH_PACKAGE_DIR) : path.join(ROOT, 'build', 'package');
export const FIXTURES = path.join(HERE, 'fixtures');
export const TOOLS = path.join(HERE, 'node_modules');
const TMP = path.join(ROOT, 'build', 'tmp');

const execFileP = promisify(execFile);

/**
 * Runs a command; resolves with {stdout, stderr}. A non-zero exit or a
 * timeout rejects with everything the command printed.
 */
export async function sh(cmd, args, opts = {}) {
  try {
    return await execFileP(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, timeout: 180000, ...opts });
  } catch (e) {
    const how = e.killed ? `killed (${e.signal}) after the timeout` : `exit code ${e.code}`;
    throw new Error(`${cmd} ${args.join(' ')} (in ${opts.cwd || process.cwd()}): ${how}\n` +
      `--- stdout\n${e.stdout ?? ''}\n--- stderr\n${e.stderr ?? ''}`);
  }
}

/** The tarball `make dist` made: build/package/gqlauth-<version>.tgz. */
export function tarball() {
  const found = existsSync(PACKAGE_OUT)
    ? readdirSync(PACKAGE_OUT).filter((f) => /^gqlauth-\d+\.\d+\.\d+.*\.tgz$/.test(f)) : [];
  if (found.length !== 1) {
    throw new Error(`expected one gqlauth-*.tgz in ${PACKAGE_OUT}, found ${JSON.stringify(found)}: run \`make build dist\``);
  }
  return path.join(PACKAGE_OUT, found[0]);
}

/**
 * Installs this directory's locked tools (typescript, vite, @types/node)
 * with `npm ci` when they are missing or older than the lock file, so the
 * suite runs as one command. A lock directory keeps parallel test files from
 * installing twice.
 */
export async function ensureTools() {
  const marker = path.join(TOOLS, '.package-lock.json');
  const lockFile = path.join(HERE, 'package-lock.json');
  const fresh = () => existsSync(marker) && statSync(marker).mtimeMs >= statSync(lockFile).mtimeMs;
  if (fresh()) return;
  mkdirSync(TMP, { recursive: true });
  const lock = path.join(TMP, 'consumer-tools.lock');
  for (const deadline = Date.now() + 300000; ;) {
    try {
      mkdirSync(lock);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
      if (Date.now() > deadline) throw new Error(`${lock} held for 5 minutes: remove it if no test is running`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!fresh()) await sh('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: HERE });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * A fresh project under build/tmp that depends on the tarball and nothing
 * else, installed with npm; `fixtures` (a directory of
 * web/test/consumer/fixtures) is copied in first. Returns its directory and
 * a cleanup function (GQLAUTH_KEEP_TMP=1 keeps the directory).
 */
export async function consumerProject(fixtures) {
  const tgz = tarball();
  mkdirSync(TMP, { recursive: true });
  const dir = mkdtempSync(path.join(TMP, `consumer-${fixtures}-`));
  cpSync(path.join(FIXTURES, fixtures), dir, { recursive: true });
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({
    name: `consumer-${fixtures}`,
    private: true,
    version: '0.0.0',
    type: 'module',
    dependencies: { gqlauth: `file:${tgz}` },
  }, null, 2)}\n`);
  await sh('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], { cwd: dir });
  const installed = path.join(dir, 'node_modules', 'gqlauth');
  if (!existsSync(path.join(installed, 'package.json'))) throw new Error(`npm did not install gqlauth into ${installed}`);
  return {
    dir,
    /** node_modules/gqlauth: the package as npm unpacked it. */
    installed,
    cleanup() {
      if (process.env.GQLAUTH_KEEP_TMP !== '1') rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Links the named packages of this directory's locked node_modules into project. */
export function linkTools(project, names) {
  for (const name of names) {
    const link = path.join(project.dir, 'node_modules', name);
    mkdirSync(path.dirname(link), { recursive: true });
    symlinkSync(path.join(TOOLS, name), link, 'dir');
  }
}

/** Runs the locked TypeScript compiler with args in dir. */
export function tsc(dir, args) {
  return sh(process.execPath, [path.join(TOOLS, 'typescript', 'bin', 'tsc'), ...args], { cwd: dir });
}

/** Writes obj as JSON to file. */
export function writeJSON(file, obj) {
  writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
}

export function readJSON(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

/** Launches 'chromium' or 'firefox' headless with a fresh profile (removed on close). */
export async function launch(name, { viewport } = {}) {
  const { default: puppeteer } = await import('puppeteer-core'); // web/test/node_modules
  const profile = mkdtempSync(path.join(tmpdir(), `gqlauth-consumer-${name}-`));
  const opts = name === 'firefox'
    ? { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', userDataDir: profile }
    : { executablePath: '/usr/bin/chromium', userDataDir: profile, args: CHROMIUM_ARGS };
  const browser = await puppeteer.launch({
    ...opts, headless: true, protocolTimeout: 60000, defaultViewport: viewport ?? { width: 1280, height: 900 },
  });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try { await close(); } finally { rmSync(profile, { recursive: true, force: true }); }
  };
  return browser;
}

/**
 * Collects what a page reports: console messages, page errors, requests and
 * failed or non-2xx responses.
 *
 * Chromium reports a fetch whose body JavaScript reads as a stream to its end
 * as failed (net::ERR_ABORTED, canceled) when the read ends before the
 * network's own completion arrives: a quarter to a half of such reads here
 * (Chromium 156), on a page or in a worker, with plain JS too, every byte
 * delivered and the connection kept. The module's fetch reads bodies that way
 * (to stop at maxResponseBytes), so such a request, once a 2xx head came,
 * goes to `readToEnd`, not `bad`: the suites check the data the app got.
 */
export function watch(page) {
  const w = { console: [], errors: [], requests: [], bad: [], readToEnd: [] };
  page.on('console', (m) => w.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => w.errors.push(String(e?.message ?? e)));
  page.on('request', (r) => w.requests.push(r.url()));
  page.on('requestfailed', (r) => {
    const why = r.failure()?.errorText;
    (why === 'net::ERR_ABORTED' && r.response()?.ok() ? w.readToEnd : w.bad).push(`${r.url()}: ${why}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) w.bad.push(`${r.url()}: HTTP ${r.status()}`); });
  return w;
}
