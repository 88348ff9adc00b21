// The token lives in the worker's Go memory only (DESIGN §4): nothing a
// script in the page can read (storage, cookies, console, the client object,
// globals) holds it, and the page's realm gets no globals at all (the
// module, and wasm_exec.js with its Go, fs, process and path, live in the
// worker). The password does not outlive login() in the module's memory.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BROWSER, PASSWORD, TESTHOOKS_WASM, USER, pageHooks, leaksIn, tokenSecrets } from './harness.mjs';

/** Everything the page can see right now, as labelled lists of strings. */
async function observe(t, extra = {}) {
  const seen = await t.run(async (baseline) => {
    const u = await import('/e2e-util.js');
    const c = u.client('c');
    const persistent = await u.persistentState();
    const globals = u.globalsSince(baseline);
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
        'JSON.stringify(client)': [u.safeJSON(c)],
        'client properties': u.reachableStrings(c),
        'results and errors': u.reachableStrings(u.results),
        'global string values': globals.strings,
        'new globals': globals.added.flatMap((n) => [n, ...u.reachableStrings(globalThis[n], { maxDepth: 2 })]),
      },
    };
  }, t.baselineGlobals);
  seen.places.console = await t.consoleTexts();
  Object.assign(seen.places, extra);
  return seen;
}

describe(`the token stays out of reach of page scripts [${BROWSER}]`, { timeout: 60000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  it('the leak detector finds a token planted in storage, cookies, console, objects and globals', async () => {
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      await u.newClient('c', { endpoint });
      await u.client('c').login({ username, password });
    }, api.endpoint, USER.username, PASSWORD);
    const raw = (await api.tokens()).issued[0].raw;
    const [, payload, signature] = raw.split('.');
    await t.run(async (raw, payload, signature) => {
      const u = await import('/e2e-util.js');
      localStorage.setItem('k', `Bearer ${raw}`);
      sessionStorage.setItem(payload, '1');
      document.cookie = `s=${signature}; path=/`;
      console.log('token is', raw);
      u.results.push({ nested: { deeper: [raw] } });
      Object.defineProperty(u.client('c'), 'planted', { value: signature, enumerable: false, configurable: true });
      globalThis.__plantedGlobal = `x${payload}`;
    }, raw, payload, signature);
    const seen = await observe(t);
    const leaks = leaksIn(seen.places, tokenSecrets([raw]));
    const where = new Set(leaks.map((l) => l.split(':')[0]));
    for (const place of ['localStorage', 'sessionStorage', 'document.cookie', 'console',
      'client properties', 'results and errors', 'global string values', 'new globals']) {
      assert.ok(where.has(place), `the detector misses ${place}: found only ${[...where]}`);
    }
    assert.ok(seen.addedGlobals.includes('__plantedGlobal'), 'new globals are noticed');
    await t.run(() => { delete globalThis.__plantedGlobal; });
  });

  it('after login, queries, a failed login and logout, no token or password is readable by page scripts', async () => {
    const wrongPassword = 'wrong-secret-7d1f3c';
    const r = await t.run(async (endpoint, username, password, wrongPassword) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      u.results.push(await c.login({ username, password }));
      u.results.push(await c.fetchWithAuth('{ me { id username email } }'));
      u.results.push(await c.fetchWithAuth('{ session { jti subject issuedAt expiresAt } }'));
      u.results.push(await c.fetchWithAuth('mutation { addItem(name: "leak-check") { id name } }'));
      u.results.push(await c.fetchWithAuth('{ me { id noSuchField } }'));
      const other = await u.gqlauth.createClient({ endpoint });
      try { await other.login({ username, password: wrongPassword }); } catch (e) { u.results.push(e); }
      other.close();
      return { authenticated: c.isAuthenticated() };
    }, api.endpoint, USER.username, PASSWORD, wrongPassword);
    assert.equal(r.authenticated, true);

    const loggedIn = await observe(t);
    await t.run(async () => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      c.logout();
      try { await c.fetchWithAuth('{ me { id } }'); } catch (e) { u.results.push(e); }
      await u.sleep(50);
    });
    const loggedOut = await observe(t);

    const tok = await api.tokens();
    assert.ok(tok.issued.length >= 5, 'tokens were issued and rotated');
    const secrets = tokenSecrets(tok.issued.map((x) => x.raw));
    for (const [phase, seen] of [['while logged in', loggedIn], ['after logout', loggedOut]]) {
      assert.deepEqual(leaksIn(seen.places, secrets), [], `token readable ${phase}`);
      assert.deepEqual(leaksIn(seen.places, [PASSWORD, wrongPassword]), [],
        `password readable ${phase}`);

      const p = seen.persistent;
      assert.deepEqual(p.localStorage, {}, `localStorage is untouched ${phase}`);
      assert.deepEqual(p.sessionStorage, {}, `sessionStorage is untouched ${phase}`);
      assert.equal(p.cookie, '', `no cookie ${phase}`);
      assert.deepEqual(p.indexedDB.names, [], `no IndexedDB database ${phase}`);
      assert.deepEqual(p.caches, [], `no Cache Storage ${phase}`);
    }
  });

  it('leaves no new globals behind in the page: no Go, fs, process or path', async () => {
    const added = await t.run(async (endpoint, username, password, baseline) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      c.logout();
      c.close();
      await u.sleep(50);
      return u.globalsSince(baseline).added;
    }, api.endpoint, USER.username, PASSWORD, t.baselineGlobals);
    assert.deepEqual(added, []);
  });

  it('once login() settles, by success or failure, the worker\'s wasm memory holds no copy of the password (test build)', async (ctx) => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    // Passwords the server accepts or refuses, with characters JSON escapes.
    const right = `right-"pw"-${Math.random().toString(36).slice(2)}`;
    const wrong = `wrong-\\pw-${Math.random().toString(36).slice(2)}`;
    const r = await t.run(async (endpoint, username, password, right, wrong) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      const out = {};
      // The demo user's password, once the server knows it, and a wrong one.
      out.success = await u.attempt(() => c.login({ username, password }));
      out.successCopies = await u.workerTest('memoryHas', password);
      out.failure = await u.attempt(() => c.login({ username, password: wrong }));
      out.failureCopies = await u.workerTest('memoryHas', wrong) + await u.workerTest('memoryHas', JSON.stringify(wrong).slice(1, -1));
      // The scan finds what is there: the endpoint, which the module keeps.
      out.control = await u.workerTest('memoryHas', endpoint);
      return out;
    }, api.endpoint, USER.username, PASSWORD, right, wrong);
    // A login aborted while the server holds it: the scan finds its
    // password while it waits, and none once the abort has settled.
    await t.run(async (endpoint, username, right) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('held', { endpoint, ...u.TEST_BUILD });
      const ac = new AbortController();
      u.pending.set('abort', () => ac.abort());
      u.pending.set('aborted', u.attempt(() => c.login({ username, password: right }, { signal: ac.signal })));
    }, api.endpointWith({ hold: 1 }), USER.username, right);
    await api.waitForLog((l) => l.held.length === 1, 'the held login');
    Object.assign(r, await t.run(async (right) => {
      const u = await import('/e2e-util.js');
      // The request body holds it as JSON writes it; nothing holds it as typed.
      const escaped = JSON.stringify(right).slice(1, -1);
      const waitingCopies = await u.workerTest('memoryHas', escaped);
      const waitingRaw = await u.workerTest('memoryHas', right);
      u.pending.get('abort')();
      const aborted = await u.pending.get('aborted');
      return { waitingCopies, waitingRaw, aborted, abortedCopies: await u.workerTest('memoryHas', right) + await u.workerTest('memoryHas', escaped) };
    }, right));
    await api.release();
    assert.ok(r.waitingCopies > 0, 'the scan finds the password of a login that waits for the server, in its request body');
    assert.equal(r.waitingRaw, 0, 'the password as typed is kept nowhere while the login waits: it is only in the body, escaped');
    assert.equal(r.success.ok, true);
    assert.equal(r.failure.error?.code, 'LOGIN_FAILED');
    assert.equal(r.aborted.error?.code, 'ABORTED');
    assert.equal(r.successCopies, 0, 'the password of a login that succeeded is in the module\'s memory');
    assert.equal(r.failureCopies, 0, 'the password of a login that failed is in the module\'s memory');
    assert.equal(r.abortedCopies, 0, 'the password of an aborted login is in the module\'s memory');
    assert.ok(r.control > 0, 'the memory scan finds a string the module holds (the endpoint)');
    ctx.diagnostic(`the endpoint found ${r.control} times in the module's memory; a waiting login's password ${r.waitingCopies} times; the settled ones' 0 times`);
  });

  it('a reload forgets the session', async () => {
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      await u.newClient('c', { endpoint });
      await u.client('c').login({ username, password });
    }, api.endpoint, USER.username, PASSWORD);
    await t.page.reload({ waitUntil: 'load' });
    const r = await t.run(async (endpoint) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint });
      const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { res, state: u.state('c') };
    }, api.endpoint);
    assert.equal(r.state.isAuthenticated, false);
    assert.equal(r.state.expiresAt, null);
    assert.equal(r.res.error?.code, 'NOT_AUTHENTICATED');
    assert.equal((await api.tokens()).graphqlRequests, 1, 'only the first login was sent');
  });
});
