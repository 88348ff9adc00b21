// Web Workers and plain pages, unbundled: a module worker imports gqlauth.js
// from the installed package, logs in, sends a protected query and posts the
// result back to the page; a plain page does the same on its main thread.
// In headless Chromium and Firefox, with the API on another origin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../harness.mjs';
import { consumerProject, launch, watch } from './consumer.mjs';

const ME = { id: '1', username: 'demo', email: 'demo@example.com' };

describe('unbundled, from the installed package', { timeout: 180000 }, () => {
  let project;
  let site;
  let api;
  let pageOrigin;

  before(async () => {
    project = await consumerProject('app');
    // The project directory as a site: /worker/, /plain/ and /node_modules/gqlauth/.
    site = await startServer({ staticDirs: [project.dir], testHooks: false });
    pageOrigin = `http://localhost:${site.port}`;
    api = await startServer({ origins: [pageOrigin], testHooks: false });
  });
  after(async () => {
    await Promise.all([site?.stop(), api?.stop()]);
    project?.cleanup();
  });

  for (const name of ['chromium', 'firefox']) {
    describe(name, () => {
      let browser;
      before(async () => { browser = await launch(name); });
      after(async () => { await browser?.close(); });

      /** Opens /<dir>/index.html?api=… and awaits the promise the page left on window[key]. */
      async function open(dir, key) {
        const context = await browser.createBrowserContext();
        try {
          const page = await context.newPage();
          const seen = watch(page);
          await page.goto(`${pageOrigin}/${dir}/index.html?api=${encodeURIComponent(api.endpoint)}`, { waitUntil: 'load' });
          await page.waitForFunction((k) => window[k] !== undefined, { timeout: 30000 }, key);
          const result = await page.evaluate((k) => window[k].then((r) => JSON.stringify(r)), key);
          return { result: JSON.parse(result), seen };
        } finally {
          await context.close();
        }
      }

      it('a module worker imports gqlauth.js, logs in, queries and posts the result back', async () => {
        const { result: r, seen } = await open('worker', 'workerResult');
        assert.equal(r.ok, true, `the worker failed: ${JSON.stringify(r.error)}\nconsole: ${seen.console.join('\n')}`);
        assert.equal(r.inWorker, true, 'ran in a worker');
        assert.deepEqual(r.me, ME);
        assert.equal(r.user.id, '1');
        assert.equal(r.authenticated, true);
        assert.ok(r.expiresIn > 55 * 60 * 1000, `expiresIn ${r.expiresIn}`);
        assert.deepEqual(r.events, ['login', 'rotate']);
        assert.deepEqual(seen.errors, [], 'page errors');
        assert.deepEqual(seen.bad, [], 'failed requests');
      });

      it('a plain page imports gqlauth.js with a script tag, logs in and queries', async () => {
        const { result: r, seen } = await open('plain', 'pageResult');
        assert.equal(r.ok, true, `the page failed: ${JSON.stringify(r.error)}\nconsole: ${seen.console.join('\n')}`);
        assert.deepEqual(r.me, ME);
        assert.equal(r.authenticated, true);
        assert.deepEqual(seen.errors, [], 'page errors');
        assert.deepEqual(seen.bad, [], 'failed requests');
      });
    });
  }
});
