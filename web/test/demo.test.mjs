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

  // Polls by time, not by animation frame: a tab in the background does not paint.
  const POLL = { polling: 100 };

  const rotateEvents = () => page.$$eval('#events .reason', (els) => els.filter((el) => el.textContent === 'rotate').length);

  it('logs in, runs the default query, shows rotation, countdown and events, and logs out', async () => {
    await page.waitForFunction(() => !document.getElementById('login-button').disabled);
    assert.equal(await text('#status'), 'Logged out');
    assert.equal(await text('#login-title'), 'Log in');
    assert.equal(await text('#login-button'), 'Log in');
    assert.ok(await page.$eval('#countdown', (e) => e.classList.contains('idle')), 'a light placeholder without a token');
    assert.deepEqual(await page.$$eval('#example option', (os) => os.filter((o) => o.text.length > 24).map((o) => o.text)), [],
      'example labels short enough for a phone');
    assert.equal(await page.$eval('#identifier', (e) => e.labels.length), 1, 'the field has a label');
    assert.equal(await page.$eval('#query', (e) => e.labels.length), 1, 'the editor has a label');
    assert.match(await page.$eval('#query', (e) => e.value), /me \{ id username email \}/);

    await page.click('#login-button');
    await page.waitForFunction(() => !document.getElementById('user-box').hidden);
    assert.equal(await text('#user-name'), 'demo');
    assert.equal(await visible('#login-form'), false, 'the form hides once logged in');
    assert.equal(await text('#status'), 'Logged in');
    assert.equal(await text('#login-title'), 'Account');
    // The profile query after login fills the email (login itself selects only the id).
    await page.waitForFunction(() => document.getElementById('user-email').textContent === 'demo@example.com');
    assert.equal(await visible('#user-email'), true);
    await page.waitForFunction(() => document.getElementById('rotation-count').textContent === '1');
    assert.equal(await rotateEvents(), 1, 'the profile query rotated the token once');
    assert.equal(await text('#rotated-badge'), 'token rotated');
    assert.equal(await text('#jti-current'), '—', 'no query has selected session { jti } yet');

    await page.click('#run-button');
    await page.waitForFunction(() => document.getElementById('result').textContent.includes('"jti"'));
    const first = JSON.parse(await text('#result'));
    assert.deepEqual(first.data.me, { id: '1', username: 'demo', email: 'demo@example.com' });
    assert.equal(await page.$eval('#jti-current', (e) => e.title), first.data.session.jti);
    assert.equal(await text('#jti-previous'), '—');
    await page.click('#run-button');
    await page.waitForFunction(
      (jti) => !document.getElementById('result').textContent.includes(jti), {}, first.data.session.jti);
    const second = JSON.parse(await text('#result'));
    assert.notEqual(second.data.session.jti, first.data.session.jti);
    assert.equal(await text('#rotated-badge'), 'token rotated');
    assert.equal(await page.$eval('#jti-current', (e) => e.title), second.data.session.jti);
    assert.equal(await page.$eval('#jti-previous', (e) => e.title), first.data.session.jti);
    await page.waitForFunction(() => document.getElementById('rotation-count').textContent === '3');
    assert.equal(await rotateEvents(), 3, 'the counter counts rotate events');
    assert.match(await text('#run-info'), /^Done in \d+ ms\.$/);

    const countdown = await text('#countdown');
    assert.match(countdown, /^(59|60):\d\d$/, `countdown ${countdown}`);
    assert.match(await text('#expires-at'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/, 'date and 24-hour time');
    await page.waitForFunction((c) => document.getElementById('countdown').textContent !== c, { timeout: 3000 }, countdown);

    await page.waitForFunction(() => document.querySelectorAll('#events tr').length >= 4);
    const reasons = await page.$$eval('#events tr td:nth-child(2)', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(reasons, ['rotate', 'rotate', 'rotate', 'login'], 'newest first (the oldest rotate is the profile query)');
    const causes = await page.$$eval('#events tr td:nth-child(3)', (tds) => tds.map((td) => td.textContent));
    assert.deepEqual(causes, ['this tab', 'this tab', 'this tab', 'this tab']);
    const times = await page.$$eval('#events tr', (trs) => trs.flatMap((tr) => [tr.cells[0].textContent, tr.cells[3].textContent]));
    for (const t of times) assert.match(t, /^\d\d:\d\d:\d\d$/, `24-hour HH:MM:SS, got ${t}`);

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
    assert.equal(await text('#status'), 'Logged out');
    assert.equal(await text('#auth-state'), 'Logged out');
    assert.equal(await text('#login-title'), 'Log in');
    assert.equal(await text('#result'), 'Logged out.');
    assert.equal(await text('#run-info'), '', 'no stale run status after logout');
    assert.equal(await text('#rotation-count'), '0');
    assert.equal(await text('#rotated-badge'), 'no rotation yet');
    assert.equal(await text('#jti-current'), '—');
    assert.equal(await text('#jti-previous'), '—');
    assert.equal(await text('#user-email'), '');
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
    assert.doesNotMatch(await text('#error'), /HTTP status/, 'a 200 answer is not reported as an HTTP status');
    assert.equal(await text('#status'), 'Logged out');
  });

  it('"Shared across tabs": a second tab opened from the link shares the login and the logout, and the events say which tab', async () => {
    await page.$eval('#password', (e) => { e.value = 'demo-password'; });
    assert.equal(await visible('#second-tab'), false, 'no second-tab line without sharing');
    await page.click('#share-tabs');
    await page.waitForFunction(() => !document.getElementById('second-tab').hidden, POLL);
    assert.equal(new URL(page.url()).searchParams.get('share'), 'tabs', 'the URL keeps the switch');
    assert.match(await text('#sharing-state'), /^One session for all tabs/);
    const link = await page.$eval('#second-tab-link', (a) => [a.href, a.target]);
    assert.deepEqual(link, [page.url(), '_blank']);

    const other = await context.newPage();
    other.setDefaultTimeout(15000);
    const otherErrors = [];
    other.on('pageerror', (e) => otherErrors.push(String(e && e.message ? e.message : e)));
    try {
      await other.goto(link[0], { waitUntil: 'load' });
      await other.waitForFunction(() => !document.getElementById('login-button').disabled, POLL);
      assert.equal(await other.$eval('#share-tabs', (e) => e.checked), true, 'the second tab starts shared');
      assert.equal(await other.$eval('#status', (e) => e.textContent), 'Logged out');

      // A person switches to the tab they click in.
      await page.bringToFront();
      await page.click('#login-button');
      await other.waitForFunction(() => document.getElementById('user-name').textContent === 'demo', POLL);
      assert.equal(await other.$eval('#status', (e) => e.textContent), 'Logged in', 'the other tab is logged in');
      await other.waitForFunction(() => document.getElementById('user-email').textContent === 'demo@example.com', POLL);
      const rows = (p) => p.$$eval('#events tr', (trs) => trs.map((tr) => [tr.cells[1].textContent, tr.cells[2].textContent]));
      assert.deepEqual((await rows(other)).at(-1), ['login', 'another tab']);
      assert.deepEqual((await rows(page)).at(-1), ['login', 'this tab']);

      await other.bringToFront();
      await other.click('#logout-button');
      await page.waitForFunction(() => document.getElementById('result').textContent === 'Logged out in another tab.', POLL);
      assert.equal(await text('#status'), 'Logged out');
      assert.equal(await visible('#login-form'), true);
      assert.deepEqual((await rows(page))[0], ['logout', 'another tab']);
      assert.deepEqual((await rows(other))[0], ['logout', 'this tab']);

      // Switched off, the tab has a session of its own again.
      await page.bringToFront();
      await page.click('#share-tabs');
      await page.waitForFunction(() => document.getElementById('second-tab').hidden, POLL);
      assert.equal(new URL(page.url()).searchParams.get('share'), null);
      assert.match(await text('#sharing-state'), /^This tab has a session of its own/);
      assert.deepEqual(otherErrors, []);
    } finally {
      await other.close();
    }
  });
});
