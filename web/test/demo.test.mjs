// The demo app (web/demo), driven as a person would, served with the module
// and the API from one origin.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BROWSER, DIST, launchBrowser, runtimeFailures, startServer } from './harness.mjs';

describe(`demo app [${BROWSER}]`, { timeout: 60000 }, () => {
  let server;
  let browser;
  let context;
  let page;
  const consoleTexts = [];
  const pageErrors = [];

  before(async () => {
    server = await startServer({ staticDirs: [DIST, 'web/demo'] });
    browser = await launchBrowser();
    context = await browser.createBrowserContext();
    page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on('console', (m) => consoleTexts.push(m.text()));
    page.on('pageerror', (e) => pageErrors.push(String(e && e.message ? e.message : e)));
    await page.goto(`${server.base}/`, { waitUntil: 'load' });
  });
  after(async () => {
    await browser?.close().catch(() => {});
    await server?.stop();
  });

  const text = (sel) => page.$eval(sel, (e) => e.textContent.trim());
  const visible = (sel) => page.$eval(sel, (e) => !e.closest('[hidden]'));

  it('signs in, runs the default query, shows rotation, countdown and events, and logs out', async () => {
    await page.waitForFunction(() => !document.getElementById('login-button').disabled);
    assert.equal(await page.$eval('#identifier', (e) => e.labels.length), 1, 'the field has a label');
    assert.equal(await page.$eval('#query', (e) => e.labels.length), 1, 'the editor has a label');
    assert.match(await page.$eval('#query', (e) => e.value), /me \{ id username email \}/);

    await page.click('#login-button');
    await page.waitForFunction(() => !document.getElementById('user-box').hidden);
    assert.equal(await text('#user-name'), 'demo');
    assert.equal(await visible('#login-form'), false, 'the form hides once signed in');

    await page.click('#run-button');
    await page.waitForFunction(() => document.getElementById('result').textContent.includes('"jti"'));
    const first = JSON.parse(await text('#result'));
    assert.deepEqual(first.data.me, { id: '1', username: 'demo', email: 'demo@example.com' });
    await page.click('#run-button');
    await page.waitForFunction(
      (jti) => !document.getElementById('result').textContent.includes(jti), {}, first.data.session.jti);
    const second = JSON.parse(await text('#result'));
    assert.notEqual(second.data.session.jti, first.data.session.jti);
    assert.equal(await text('#rotated-badge'), 'token rotated');
    assert.equal(await page.$eval('#jti-current', (e) => e.title), second.data.session.jti);
    assert.equal(await page.$eval('#jti-previous', (e) => e.title), first.data.session.jti);

    const countdown = await text('#countdown');
    assert.match(countdown, /^(59|60):\d\d$/, `countdown ${countdown}`);
    assert.notEqual(await text('#expires-at'), '—');
    await page.waitForFunction((c) => document.getElementById('countdown').textContent !== c, { timeout: 3000 }, countdown);

    await page.waitForFunction(() => document.querySelectorAll('#events tr').length >= 3);
    const reasons = await page.$$eval('#events tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(reasons, ['rotate', 'rotate', 'login'], 'newest first');

    // The token never reaches the page.
    const tok = await server.tokens();
    assert.ok(tok.issued.length >= 3);
    const html = await page.evaluate(() => document.documentElement.outerHTML);
    for (const { raw } of tok.issued) {
      const sig = raw.split('.')[2];
      assert.ok(!html.includes(sig), 'a token signature is in the DOM');
      assert.ok(!consoleTexts.some((s) => s.includes(sig)), 'a token signature is in the console');
    }

    await page.click('#logout-button');
    await page.waitForFunction(() => !document.getElementById('login-form').hidden);
    assert.equal(await text('#countdown'), '--:--');
    await page.click('#run-button');
    await page.waitForFunction(() => document.querySelector('#error .code'));
    assert.equal(await text('#error .code'), 'NOT_AUTHENTICATED');
    assert.equal(await page.$eval('#error', (e) => e.getAttribute('role')), 'alert');
    const failures = await runtimeFailures({ pageErrors, consoleTexts: async () => consoleTexts });
    assert.deepEqual(failures, []);
  });

  it('shows LOGIN_FAILED for a wrong password', async () => {
    await page.$eval('#password', (e) => { e.value = 'wrong'; });
    await page.click('#login-button');
    await page.waitForFunction(() => document.querySelector('#error .code')?.textContent === 'LOGIN_FAILED');
    assert.equal(await visible('#login-form'), true);
    assert.equal(await visible('#user-box'), false);
  });
});
