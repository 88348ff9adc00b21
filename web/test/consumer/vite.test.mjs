// Vite: an app that imports "gqlauth" from the installed tarball is bundled
// with `vite build`; gqlauth.wasm must come out as an asset and be found by
// the bundle, which then logs in to the reference API on another origin in
// headless Chromium, on a page and in a module worker that Vite bundled. The
// dev server (`vite`) is checked the same way.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer } from '../harness.mjs';
import { consumerProject, ensureTools, launch, watch } from './consumer.mjs';

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Opens url and waits for the app's #out to settle; returns its JSON and what the page reported. */
async function runApp(browser, url) {
  const context = await browser.createBrowserContext();
  try {
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('#out[data-state]', { timeout: 30000 });
    const state = await page.$eval('#out', (el) => el.dataset.state);
    const out = JSON.parse(await page.$eval('#out', (el) => el.textContent));
    // Let the last request's end reach the browser's network log before the
    // page goes: closing it first reports that request as aborted.
    await page.waitForNetworkIdle({ idleTime: 100, timeout: 5000 }).catch(() => {});
    return { state, out, seen };
  } finally {
    await context.close();
  }
}

function assertLoggedIn({ state, out, seen }) {
  assert.equal(state, 'done', `the app failed: ${JSON.stringify(out)}\nconsole: ${seen.console.join('\n')}`);
  assert.deepEqual(out.me, { id: '1', username: 'demo', email: 'demo@example.com' });
  assert.equal(out.user.id, '1');
  assert.equal(out.authenticated, true);
  assert.ok(out.expiresIn > 55 * 60 * 1000, `expiresIn ${out.expiresIn}`);
  assert.deepEqual(out.events, ['login', 'rotate']);
  assert.deepEqual(seen.errors, [], 'page errors');
  assert.deepEqual(seen.bad, [], 'failed requests');
}

describe('Vite: the bundled app in headless Chromium against the reference API', { timeout: 180000 }, () => {
  let vite;
  let project;
  let browser;
  const servers = [];

  before(async () => {
    await ensureTools();
    vite = await import('vite'); // web/test/consumer/node_modules
    project = await consumerProject('app');
    browser = await launch('chromium');
  });
  after(async () => {
    await browser?.close();
    await Promise.all(servers.map((s) => s.stop()));
    project?.cleanup();
  });

  /** A Vite logger that turns warnings into test diagnostics instead of printing them. */
  function quietLogger(t) {
    const logger = vite.createLogger('warn');
    logger.warn = (msg) => t.diagnostic(`vite warned: ${msg}`);
    logger.warnOnce = logger.warn;
    return logger;
  }

  /** An API server that lets pageOrigin in. */
  async function apiFor(pageOrigin) {
    const api = await startServer({ origins: [pageOrigin], testHooks: false });
    servers.push(api);
    return api;
  }

  it('vite build emits gqlauth.wasm and the gqlauth worker; the bundle finds them, logs in and queries, on a page and in a bundled worker', async (t) => {
    const outDir = path.join(project.dir, 'dist');
    const logger = quietLogger(t);
    await vite.build({
      root: project.dir,
      configFile: false,
      logLevel: 'warn',
      customLogger: logger,
      build: {
        outDir,
        emptyOutDir: true,
        rollupOptions: { input: { main: path.join(project.dir, 'index.html'), worker: path.join(project.dir, 'worker.html') } },
      },
    });

    const assets = readdirSync(path.join(outDir, 'assets'));
    t.diagnostic(`emitted: ${assets.join(', ')}`);
    const wasm = assets.filter((f) => f.endsWith('.wasm'));
    assert.equal(wasm.length, 1, `one .wasm asset, got ${JSON.stringify(assets)}`);
    assert.equal(sha256(path.join(outDir, 'assets', wasm[0])), sha256(path.join(project.installed, 'gqlauth.wasm')),
      'the emitted asset is the package\'s gqlauth.wasm');
    const bundle = assets.filter((f) => f.endsWith('.js')).map((f) => readFileSync(path.join(outDir, 'assets', f), 'utf8')).join('\n');
    assert.ok(bundle.includes(`/assets/${wasm[0]}`), 'the bundle refers to the emitted asset');
    // The worker the page's bundle starts is an emitted chunk with
    // wasm_exec.js bundled in.
    const mainChunk = assets.filter((f) => f.startsWith('main-')).map((f) => readFileSync(path.join(outDir, 'assets', f), 'utf8')).join('\n');
    const started = /\/assets\/(gqlauth\.worker-[\w-]+\.js)/.exec(mainChunk)?.[1];
    assert.ok(started && assets.includes(started), `the page's bundle starts an emitted gqlauth worker (${started})`);
    assert.ok(readFileSync(path.join(outDir, 'assets', started), 'utf8').includes('_makeFuncWrapper'),
      'wasm_exec.js is bundled into the worker');
    assert.ok(!bundle.includes('node_modules'), 'the bundle does not point into node_modules');

    // The built app on one origin (localhost), the API on another (127.0.0.1).
    const site = await startServer({ staticDirs: [outDir], testHooks: false });
    servers.push(site);
    const pageOrigin = `http://localhost:${site.port}`;
    const api = await apiFor(pageOrigin);
    const run = await runApp(browser, `${pageOrigin}/?api=${encodeURIComponent(api.endpoint)}`);
    assertLoggedIn(run);
    const wasmRequests = run.seen.requests.filter((u) => u.endsWith('.wasm'));
    assert.deepEqual(wasmRequests, [`${pageOrigin}/assets/${wasm[0]}`], 'the module was loaded from the emitted asset');

    // The same build's second page hands gqlauth to a worker that Vite bundled.
    const inWorker = await runApp(browser, `${pageOrigin}/worker.html?api=${encodeURIComponent(api.endpoint)}`);
    assertLoggedIn(inWorker);
    assert.equal(inWorker.out.inWorker, true, 'gqlauth ran in the worker');
  });

  it('the vite dev server serves an app that logs in and queries', async (t) => {
    const server = await vite.createServer({
      root: project.dir,
      configFile: false,
      logLevel: 'warn',
      customLogger: quietLogger(t),
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    });
    try {
      await server.listen();
      const { port } = server.httpServer.address();
      const pageOrigin = `http://localhost:${port}`;
      const api = await apiFor(pageOrigin);
      const run = await runApp(browser, `${pageOrigin}/?api=${encodeURIComponent(api.endpoint)}`);
      assertLoggedIn(run);
      const wasmRequests = run.seen.requests.filter((u) => u.includes('.wasm'));
      t.diagnostic(`the dev server served the module as ${wasmRequests.join(', ')}`);
      assert.equal(wasmRequests.length, 1, 'the module was fetched once');
    } finally {
      await server.close();
    }
  });
});
