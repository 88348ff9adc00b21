// The demo app (web/demo) as a person sees it: served with the module and the
// API on one origin, screenshotted signed out and signed in (after running
// the default query) into build/screenshots/, and checked for what the
// screenshots should show. The token must appear nowhere in the page.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DIST, USER, startServer } from '../harness.mjs';
import { ROOT, launch, watch } from './consumer.mjs';

const SHOTS = path.join(ROOT, 'build', 'screenshots');
const JWT = /eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]{4,}/;

/** Everything the page shows or holds as text: markup, attributes, rendered text and form values. */
function pageText() {
  const values = [...document.querySelectorAll('input, textarea, select')].map((el) => el.value);
  return [document.documentElement.outerHTML, document.body.innerText, document.title, ...values].join('\n');
}

describe('the demo app in headless Chromium', { timeout: 120000 }, () => {
  let server;
  let browser;
  let page;
  let seen;

  before(async () => {
    mkdirSync(SHOTS, { recursive: true });
    server = await startServer({ staticDirs: [DIST, 'web/demo'] }); // test hooks on: /test/tokens
    browser = await launch('chromium', { viewport: { width: 1280, height: 900 } });
    page = await browser.newPage();
    seen = watch(page);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const shot = async (name, opts = {}) => {
    const file = path.join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true, ...opts });
    assert.ok(statSync(file).size > 10000, `${file} looks empty`);
    return file;
  };
  const text = (sel) => page.$eval(sel, (el) => el.textContent.trim());
  const visible = (sel) => page.$eval(sel, (el) => !el.closest('[hidden]') && el.getClientRects().length > 0);

  it('signed out: the module loads, the form is ready, no session is shown', async (t) => {
    await page.goto(`${server.base}/`, { waitUntil: 'load' });
    await page.waitForSelector('#login-button:not([disabled])');
    await page.waitForFunction(() => document.getElementById('status').textContent.trim() === 'Logged out');
    t.diagnostic(`screenshot: ${path.relative(ROOT, await shot('demo-signed-out'))}`);

    assert.equal(await text('#status'), 'Logged out');
    assert.equal(await visible('#login-form'), true, 'login form shown');
    assert.equal(await visible('#user-box'), false, 'no user shown');
    assert.equal(await text('#countdown'), '--:--');
    assert.equal(await text('#auth-state'), 'Logged out');
    assert.match(await text('#events'), /No events yet/);
    assert.equal(await page.$eval('#identifier', (el) => el.value), USER.username);
    assert.equal(await page.$eval('#password', (el) => el.type), 'password', 'the password is masked');
    assert.deepEqual(seen.errors, [], 'page errors');
  });

  it('signed in after running the default query: user, countdown, events, result, and no token', async (t) => {
    await page.click('#login-button');
    await page.waitForFunction(() => document.getElementById('status').textContent.trim() === 'Logged in');
    await page.click('#run-button');
    await page.waitForFunction(() => document.getElementById('result').textContent.trim().startsWith('{'));
    // The countdown redraws every second; wait for a post-query value.
    await page.waitForFunction(() => /^\d{2}:\d{2}$/.test(document.getElementById('countdown').textContent.trim()));
    await page.evaluate(() => document.activeElement?.blur()); // no focus ring or caret in the picture
    t.diagnostic(`screenshot: ${path.relative(ROOT, await shot('demo-signed-in'))}`);

    assert.equal(await text('#status'), 'Logged in');
    assert.equal(await visible('#user-box'), true, 'user shown');
    assert.equal(await visible('#login-form'), false, 'login form hidden');
    assert.equal(await text('#user-name'), USER.username);
    assert.equal(await text('#auth-state'), 'Logged in');

    const countdown = await text('#countdown');
    assert.match(countdown, /^\d{2}:\d{2}$/, 'countdown as mm:ss');
    const [m, s] = countdown.split(':').map(Number);
    assert.ok(s < 60 && m * 60 + s > 58 * 60 && m * 60 + s <= 60 * 60, `a fresh 60-minute token, got ${countdown}`);

    const reasons = await page.$$eval('#events tr .reason', (els) => els.map((el) => el.textContent.trim()));
    assert.ok(reasons.includes('login'), `a login entry in the event log, got ${JSON.stringify(reasons)}`);

    const result = JSON.parse(await text('#result'));
    assert.deepEqual(result.data.me, USER, 'the default query\'s result');
    assert.equal(result.errors, undefined);
    assert.match(await text('#run-info'), /^Done in \d+ ms/);

    const { issued } = await server.tokens();
    assert.ok(issued.length >= 2, 'login and the query each issued a token');
    const all = await page.evaluate(pageText);
    for (const tok of issued) {
      assert.ok(!all.includes(tok.raw), `token ${tok.jti} appears in the page`);
      const [, payload, signature] = tok.raw.split('.');
      assert.ok(!all.includes(payload) && !all.includes(signature), `part of token ${tok.jti} appears in the page`);
    }
    assert.doesNotMatch(all, JWT, 'something shaped like a JWT in the page');
    assert.deepEqual(seen.errors, [], 'page errors');
    assert.deepEqual(seen.bad, [], 'failed requests');
  });

  it('signed in, on a phone-sized screen and in dark mode (screenshots to look at)', async (t) => {
    // Width only: switching isMobile would make puppeteer reload the page, and a reload signs out.
    await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 2 });
    assert.equal(await text('#status'), 'Logged in', 'still signed in');
    t.diagnostic(`screenshot: ${path.relative(ROOT, await shot('demo-signed-in-phone'))}`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px on a phone`);

    await page.setViewport({ width: 1280, height: 900 });
    await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    assert.equal(await text('#status'), 'Logged in', 'still signed in');
    t.diagnostic(`screenshot: ${path.relative(ROOT, await shot('demo-signed-in-dark'))}`);
    await page.emulateMediaFeatures([]);
  });

  it('logging out returns to the form and clears the session view', async (t) => {
    await page.click('#logout-button');
    await page.waitForFunction(() => document.getElementById('status').textContent.trim() === 'Logged out');
    t.diagnostic(`screenshot: ${path.relative(ROOT, await shot('demo-signed-out-after-logout'))}`);
    assert.equal(await visible('#login-form'), true);
    assert.equal(await text('#countdown'), '--:--');
    const reasons = await page.$$eval('#events tr .reason', (els) => els.map((el) => el.textContent.trim()));
    assert.equal(reasons[0], 'logout', `newest event first, got ${JSON.stringify(reasons)}`);
  });
});
