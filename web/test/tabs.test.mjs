// One session for every tab: createClient({ share: 'tabs' }) hosts the module
// in a SharedWorker that the tabs of an origin share, in Chromium and in
// Firefox, with several pages (tabs) of one browser context. A login, the
// rotations and a logout in one tab are every tab's; a reload finds the
// session while another tab is open; when the last tab closes, the session
// is gone. Where there is no SharedWorker, a logout still reaches the other
// tabs through a BroadcastChannel. Keep-alive keeps an idle session. A raw
// port to the SharedWorker can use the session but never obtain a token,
// and no message any tab receives holds one.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSER, PASSWORD, USER, leaksIn, openPage, pageHooks, secToMs, sleep, tokenSecrets,
} from './harness.mjs';

/**
 * The open message a raw port sends, as the page's gqlauth.js would (its
 * source, to run in a page): a request with id for a client of endpoint,
 * shared, watched through the lock of tab.
 */
const OPEN = `(id, endpoint, tab) => ({ id, op: 'open', options: JSON.stringify({ endpoint }), share: true, tab })`;

/** The tokens that became a session's newest, by iat. */
function realTokens(log) {
  return log.issued.filter((x) => !x.forged).sort((a, b) => a.iat - b.iat);
}

describe(`one session for every tab [${BROWSER}]`, { timeout: 180000 }, () => {
  const TTL = 6;
  let suite;
  let api;
  let short;
  let t;
  pageHooks({ api: {}, short: { ttl: `${TTL}s` } }, {
    onSuite(s) { suite = s; ({ api, short } = s.api); },
    onPage(p) { t = p; },
  });

  /** Starts client c in tab with share: 'tabs' (and options), recording the tab's messages. */
  function openShared(tab, endpoint, options = {}) {
    return tab.run(async (endpoint, options) => {
      const u = await import('/e2e-util.js');
      u.recordMessages();
      await u.newClient('c', { endpoint, share: 'tabs', ...options });
      return u.state('c');
    }, endpoint, options);
  }

  const state = (tab) => tab.run(async () => (await import('/e2e-util.js')).state('c'));
  const query = (tab, q) => tab.run(async (q) => {
    const u = await import('/e2e-util.js');
    return u.attempt(() => u.client('c').fetchWithAuth(q));
  }, q);
  const login = (tab) => tab.run(async (username, password) => {
    const u = await import('/e2e-util.js');
    return u.attempt(() => u.client('c').login({ username, password }));
  }, USER.username, PASSWORD);
  const messages = (tab) => tab.run(async () => (await import('/e2e-util.js')).pending.get('messages') ?? []);

  /** No message any of the tabs received holds a token the API issued. */
  async function assertNoTokenInMessages(tabs, servers = [api]) {
    const raws = (await Promise.all(servers.map((s) => s.tokens()))).flatMap((l) => l.issued.map((x) => x.raw));
    const seen = {};
    for (const [i, tab] of tabs.entries()) seen[`messages to tab ${i}`] = await messages(tab);
    assert.ok(Object.values(seen).flat().length > 0, 'messages were recorded');
    assert.deepEqual(leaksIn(seen, tokenSecrets(raws)), [], 'a message to a tab holds a token');
  }

  it('a login in one tab is every tab\'s: the others hear it, are authenticated and query without logging in', async () => {
    const b = await t.openTab();
    try {
      const before = await openShared(b, api.endpoint);
      assert.equal(before.sharing, 'tabs');
      assert.equal(before.isAuthenticated, false);
      await openShared(t, api.endpoint);
      assert.equal((await login(t)).ok, true);
      await sleep(100);
      const sb = await state(b);
      assert.equal(sb.isAuthenticated, true, 'tab B is authenticated by tab A\'s login');
      assert.deepEqual(sb.events.map((e) => [e.reason, e.cause]), [['login', 'remote']]);
      assert.deepEqual((await state(t)).events.map((e) => [e.reason, e.cause]), [['login', 'local']]);
      const q = await query(b, '{ me { id } }');
      assert.deepEqual(q.value?.data, { me: { id: USER.id } }, JSON.stringify(q));
      // A tab that opens now finds the session at once.
      const c = await t.openTab();
      try {
        const sc = await openShared(c, api.endpoint);
        assert.equal(sc.isAuthenticated, true, 'a new tab finds the session');
        assert.equal(sc.expiresAt, (await state(t)).expiresAt, 'with the same expiry');
        assert.deepEqual(sc.events, []);
        await assertNoTokenInMessages([t, b, c]);
      } finally {
        await c.close();
      }
      const log = await api.tokens();
      assert.equal(log.received.length, 1, 'one query, with the shared token');
      assert.equal(log.graphqlRequests, 2, 'one login for all tabs, and the query');
    } finally {
      await b.close();
    }
  });

  it('two clients of one tab on the shared session hear each change once; closing one leaves the other working', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      await u.newClient('c', { endpoint, share: 'tabs' });
      await u.newClient('d', { endpoint, share: 'tabs' });
      await u.client('c').login({ username, password });
      await u.client('d').fetchWithAuth('{ me { id } }');
      await new Promise((r) => setTimeout(r, 100));
      const heard = (name) => u.state(name).events.map((e) => e.reason);
      const before = { c: heard('c'), d: heard('d') };
      u.client('c').close();
      const after = await u.attempt(() => u.client('d').fetchWithAuth('{ me { id } }'));
      await new Promise((r) => setTimeout(r, 100));
      return { before, after, d: heard('d'), authenticated: u.state('d').isAuthenticated };
    }, api.endpoint, USER.username, PASSWORD);
    assert.deepEqual(r.before, { c: ['login', 'rotate'], d: ['login', 'rotate'] });
    assert.deepEqual(r.after.value?.data, { me: { id: USER.id } }, JSON.stringify(r.after));
    assert.deepEqual(r.d, ['login', 'rotate', 'rotate']);
    assert.equal(r.authenticated, true);
  });

  it('a reload finds the session, with the same token, while another tab is open', async () => {
    const b = await t.openTab();
    try {
      await openShared(t, api.endpoint);
      await openShared(b, api.endpoint);
      await login(t);
      await query(t, 'query Before { me { id } }');
      const newest = realTokens(await api.tokens()).at(-1);
      await t.page.reload({ waitUntil: 'load' });
      const after = await openShared(t, api.endpoint);
      assert.equal(after.isAuthenticated, true, 'the reloaded tab is still authenticated');
      assert.equal(after.expiresAt, secToMs(newest.exp), 'it holds the newest token');
      const q = await query(t, 'query After { session { jti } }');
      assert.equal(q.value?.data.session.jti, newest.jti, 'the first query after the reload carries the token held before it');
      const log = await api.tokens();
      assert.equal(log.graphqlRequests, 3, 'no second login');
    } finally {
      await b.close();
    }
  });

  it('2 tabs x 100 concurrent requests: every request carries a token of the shared session, and it ends on the newest issued', async () => {
    const b = await t.openTab();
    try {
      const slow = api.endpointWith({ delay: '0-30', lag: '0-60' });
      await openShared(t, slow);
      await openShared(b, slow);
      await login(t);
      const burst = (tab) => tab.run(async (n) => {
        const u = await import('/e2e-util.js');
        const c = u.client('c');
        const all = await Promise.all(Array.from({ length: n }, (_, i) => u.sleep(Math.random() * 800)
          .then(() => u.attempt(() => c.fetchWithAuth(`query Burst${i} { session { jti } }`)))));
        return all.filter((x) => !x.ok).map((x) => x.error);
      }, 100);
      const [failedA, failedB] = await Promise.all([burst(t), burst(b)]);
      assert.deepEqual([...failedA, ...failedB], [], 'every request succeeded');
      await sleep(100);
      const [sa, sb] = [await state(t), await state(b)];
      const issued = realTokens(await api.tokens());
      const newest = issued.at(-1);
      assert.equal(sa.expiresAt, secToMs(newest.exp), 'tab A holds the newest token');
      assert.equal(sb.expiresAt, sa.expiresAt, 'tab B holds the same');
      const final = await query(b, 'query Final { session { jti } }');
      assert.equal(final.value?.data.session.jti, newest.jti, 'the next request carries the newest token');
      assert.ok(sa.events.filter((e) => e.reason === 'rotate' && e.cause === 'remote').length > 0, 'tab A heard tab B\'s rotations');
      assert.ok(sb.events.filter((e) => e.reason === 'rotate' && e.cause === 'remote').length > 0, 'tab B heard tab A\'s rotations');
      await assertNoTokenInMessages([t, b]);
    } finally {
      await b.close();
    }
  });

  it('logout in one tab logs every tab out: they hear it, and their next query is NOT_AUTHENTICATED without sending', async () => {
    const b = await t.openTab();
    try {
      await openShared(t, api.endpoint);
      await openShared(b, api.endpoint);
      await login(t);
      await b.run(async () => (await import('/e2e-util.js')).client('c').logout());
      await sleep(100);
      const sa = await state(t);
      assert.equal(sa.isAuthenticated, false);
      assert.deepEqual(sa.events.map((e) => [e.reason, e.cause]), [['login', 'local'], ['logout', 'remote']]);
      const sent = (await api.tokens()).graphqlRequests;
      assert.equal((await query(t, '{ me { id } }')).error?.code, 'NOT_AUTHENTICATED');
      assert.equal((await api.tokens()).graphqlRequests, sent, 'nothing was sent');
      // close() in a tab detaches that tab only.
      await login(t);
      await b.run(async () => (await import('/e2e-util.js')).client('c').close());
      await sleep(100);
      assert.equal((await state(t)).isAuthenticated, true, 'close() in tab B did not end tab A\'s session');
      assert.equal((await query(t, '{ me { id } }')).ok, true);
    } finally {
      await b.close();
    }
  });

  it('when the last tab closes, the session is gone, and its keep-alive with it; a new tab starts logged out', async () => {
    const b = await t.openTab();
    const keepAlive = { query: 'query KeepAlive { __typename }', beforeExpiryMs: 2000 };
    await openShared(t, short.endpoint, { keepAlive, expiryLeewaySeconds: 1 });
    await openShared(b, short.endpoint, { keepAlive, expiryLeewaySeconds: 1 });
    await login(t);
    // And a session whose hour-long token outlives the wait below: if the
    // new tab finds it logged out, it is because it is gone.
    await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      await (await u.newClient('long', { endpoint, share: 'tabs' })).login({ username, password });
    }, api.endpoint, USER.username, PASSWORD);
    await t.page.close();
    await b.page.close();
    await sleep(500);
    const sent = (await short.tokens()).graphqlRequests;
    await sleep((TTL + 1) * 1000); // a keep-alive would have gone out by now
    assert.equal((await short.tokens()).graphqlRequests, sent, 'a keep-alive went out after the last tab closed');
    const c = await openPage(suite, { context: t.context });
    try {
      const sc = await openShared(c, api.endpoint);
      assert.equal(sc.isAuthenticated, false, 'the new tab found a session');
      assert.equal((await query(c, '{ me { id } }')).error?.code, 'NOT_AUTHENTICATED');
    } finally {
      await c.close();
    }
  });

  it(`keep-alive: a ${TTL} s token's session survives 20 s of idleness; without keep-alive it expires`, async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const kept = await u.newClient('kept', {
        endpoint, share: 'tabs', expiryLeewaySeconds: 1, keepAlive: { query: 'query KeepAlive { __typename }', beforeExpiryMs: 2000 },
      });
      const idle = await u.newClient('idle', { endpoint, expiryLeewaySeconds: 1 });
      await kept.login({ username, password });
      await idle.login({ username, password });
      await u.sleep(20000);
      return {
        kept: u.state('kept'), idle: u.state('idle'),
        keptQuery: await u.attempt(() => kept.fetchWithAuth('{ me { id } }')),
        idleQuery: await u.attempt(() => idle.fetchWithAuth('{ me { id } }')),
      };
    }, short.endpoint, USER.username, PASSWORD);
    assert.equal(r.kept.isAuthenticated, true, 'the kept session is alive after 20 s');
    assert.equal(r.keptQuery.ok, true);
    const keepAlives = r.kept.events.filter((e) => e.cause === 'keep-alive');
    assert.ok(keepAlives.length >= 3, `keep-alive rotated the token ${keepAlives.length} times in 20 s`);
    assert.ok(keepAlives.every((e) => e.reason === 'rotate'));
    assert.equal(r.idle.isAuthenticated, false, 'the session without keep-alive expired');
    assert.deepEqual(r.idle.events.map((e) => [e.reason, e.cause]), [['login', 'local'], ['expired', 'expiry']]);
    assert.equal(r.idleQuery.error?.code, 'TOKEN_EXPIRED');
    // Each keep-alive is one request; the last may still be on its way at
    // the instant the page's events were read.
    const sent = (await short.tokens()).received.filter((x) => x.op === 'KeepAlive').length;
    assert.ok(sent === keepAlives.length || sent === keepAlives.length + 1,
      `${sent} keep-alive requests for ${keepAlives.length} keep-alive rotations`);
  });

  it('without SharedWorker, each tab has its own session and a logout reaches the others through a BroadcastChannel', async () => {
    const b = await t.openTab();
    try {
      for (const tab of [t, b]) {
        const s = await tab.run(async (endpoint, username, password) => {
          delete globalThis.SharedWorker; // before gqlauth loads
          const u = await import('/e2e-util.js');
          const c = await u.newClient('c', { endpoint, share: 'tabs' });
          await c.login({ username, password });
          return u.state('c');
        }, api.endpoint, USER.username, PASSWORD);
        assert.equal(s.sharing, 'broadcast');
        assert.equal(s.isAuthenticated, true);
      }
      assert.equal((await api.tokens()).graphqlRequests, 2, 'each tab logged in on its own');
      await t.run(async () => (await import('/e2e-util.js')).client('c').logout());
      await sleep(200);
      const sb = await state(b);
      assert.equal(sb.isAuthenticated, false, 'tab B was logged out');
      assert.deepEqual(sb.events.map((e) => [e.reason, e.cause]), [['login', 'local'], ['logout', 'remote']]);
      assert.equal((await query(b, '{ me { id } }')).error?.code, 'NOT_AUTHENTICATED');
    } finally {
      await b.close();
    }
  });

  it('a port cannot choose the module of the SharedWorker: the first to connect names a module of its own, and the tabs get the real one', async () => {
    const intruder = await t.openTab();
    try {
      const first = await intruder.run(async (endpoint, open) => {
        const worker = new SharedWorker('/gqlauth.worker.js', { type: 'module', name: 'gqlauth' });
        const answer = new Promise((resolve) => { worker.port.onmessage = ({ data }) => resolve(data); });
        worker.port.start();
        // Not a module at all: had the worker loaded it, the open would
        // fail. It goes everywhere a module was ever named in a message.
        const notAModule = 'data:application/wasm;base64,AGFzbQEAAAA=';
        const message = (0, eval)(open)(1, endpoint, 'intruder');
        message.options = JSON.stringify({ endpoint, wasmURL: notAModule });
        message.wasmURL = notAModule;
        message.module = notAModule;
        worker.port.postMessage(message);
        return answer;
      }, api.endpoint, OPEN);
      const answer = [first].flat().find((m) => m.id === 1);
      assert.equal(answer?.ok, true, `the worker loaded the module beside it, not the port's: ${JSON.stringify(first)}`);
      await openShared(t, api.endpoint);
      assert.equal((await login(t)).ok, true);
      assert.deepEqual((await query(t, '{ me { id } }')).value?.data, { me: { id: USER.id } });
    } finally {
      await intruder.close();
    }
  });

  it('the wasmURL a page names goes to the SharedWorker in its URL: a missing module fails, the one named works', async () => {
    const missing = await t.run(async (endpoint) => {
      const u = await import('/e2e-util.js');
      return u.attempt(() => u.gqlauth.createClient({ endpoint, share: 'tabs', wasmURL: '/missing.wasm' }));
    }, api.endpoint);
    const b = await t.openTab(); // a page starts one worker: another page, for another wasmURL
    let r;
    try {
      r = await b.run(async (endpoint, username, password) => {
        const u = await import('/e2e-util.js');
        const named = await u.newClient('c', { endpoint, share: 'tabs', wasmURL: new URL('/gqlauth.wasm', location.href) });
        return { sharing: named.sharing, login: await u.attempt(() => named.login({ username, password })) };
      }, api.endpoint, USER.username, PASSWORD);
    } finally {
      await b.close();
    }
    r.missing = missing;
    assert.equal(r.missing.error?.code, 'NETWORK_ERROR', JSON.stringify(r.missing));
    assert.match(r.missing.error.message, /missing\.wasm: HTTP 404/);
    assert.equal(r.sharing, 'tabs');
    assert.equal(r.login.ok, true, JSON.stringify(r.login));
  });

  it('a raw port to the SharedWorker (every operation, malformed messages, forged client ids) gets errors or results, never a token; the tabs keep working', async () => {
    await openShared(t, api.endpoint);
    await login(t);
    const intruder = await t.openTab();
    try {
      const r = await intruder.run(async (endpoint, open) => {
        const seen = [];
        const worker = new SharedWorker('/gqlauth.worker.js', { type: 'module', name: 'gqlauth' });
        const port = worker.port;
        const answers = new Map();
        port.onmessage = ({ data }) => {
          seen.push(JSON.stringify(data, (k, v) => (v instanceof ArrayBuffer ? new TextDecoder().decode(v) : v)));
          for (const m of Array.isArray(data) ? data : [data]) if (m?.kind === 'reply') answers.set(m.id, m);
        };
        port.start();
        let id = 1000; // above the ids of the malformed messages below
        const ask = async (msg) => {
          const n = ++id;
          port.postMessage({ ...msg, id: n });
          for (let i = 0; i < 100 && !answers.has(n); i++) await new Promise((r) => setTimeout(r, 20));
          return answers.get(n) ?? { timeout: true };
        };
        const record = (r) => JSON.stringify(r);
        const out = {};
        // Malformed messages: ignored, or refused.
        for (const m of [null, 42, 'open', [], {}, { id: {} }, { id: 1 }, { op: 'fetchWithAuth' }, { id: 2, op: 'fetchWithAuth' },
          { id: 3, op: 'fetchWithAuth', record: 42 }, { id: 4, op: '__proto__' }, { id: 5, op: 'constructor' },
          { id: 6, op: 'toString' }, { id: 7, op: 'test', record: 'stats' }, { op: 'abort', id: 99 }]) {
          port.postMessage(m);
        }
        await new Promise((r) => setTimeout(r, 200));
        out.malformed = [...answers.values()];
        // Every operation on client handles it never opened.
        for (const handle of [0, 1, 2, 3, -1, 1e9, '1', null]) {
          out[`login ${handle}`] = await ask({ op: 'login', client: handle, record: record({ username: 'demo', password: 'x' }) });
          out[`fetchWithAuth ${handle}`] = await ask({ op: 'fetchWithAuth', client: handle, record: record({ query: '{ session { jti } }' }) });
          out[`logout ${handle}`] = await ask({ op: 'logout', client: handle });
          out[`close ${handle}`] = await ask({ op: 'close', client: handle });
          out[`fetch ${handle}`] = await ask({ op: 'fetch', client: handle, record: record({ method: 'POST' }), body: new TextEncoder().encode('{"query":"{ me { id } }"}') });
        }
        out.badOpen = await ask({ op: 'open', options: record({ endpoint: 42 }) });
        // It may attach to the shared session and use it, as any script of
        // the origin may: results, never the token. (Like a tab, it holds
        // the lock named after its tab while it lives.)
        await new Promise((held) => navigator.locks.request('gqlauth-tab:intruder', () => {
          held();
          return new Promise(() => {});
        }));
        out.open = await ask((0, eval)(open)(0, endpoint, 'intruder'));
        const handle = out.open.value?.client;
        out.use = await ask({ op: 'fetchWithAuth', client: handle, record: record({ query: '{ session { jti subject } }' }) });
        // Hostile fetch requests: bodies that only claim a size (a 3e9-byte
        // allocation would end the module for every tab), one over the
        // 32 MiB limit, another endpoint, a token of its own.
        const query = '{"query":"{ me { id } }"}';
        out.hostile = {};
        for (const [name, request] of Object.entries({
          'forged byteLength': { record: record({ method: 'POST' }), body: { byteLength: 3e9 } },
          'negative byteLength': { record: record({ method: 'POST' }), body: { byteLength: -1, length: -1 } },
          'an ArrayBuffer': { record: record({ method: 'POST' }), body: new ArrayBuffer(8) },
          'a string body': { record: record({ method: 'POST' }), body: query },
          '33 MiB body': { record: record({ method: 'POST' }), body: new Uint8Array(33 << 20) },
          '33 MiB query': { record: record({ method: 'GET', query: '?q='.padEnd(33 << 20, 'x') }) },
          'a record not JSON': { record: '{"method":' },
          'headers not an object': { record: record({ method: 'POST', headers: '{' }), body: new TextEncoder().encode(query) },
          'own Authorization': { record: record({ method: 'POST', headers: { authorization: 'Bearer x' } }), body: new TextEncoder().encode(query) },
          'no method': { record: record({}), body: new TextEncoder().encode(query) },
        })) {
          out.hostile[name] = await ask({ op: 'fetch', client: handle, ...request });
        }
        out.passed = await ask({ op: 'fetch', client: handle, record: record({ method: 'POST', headers: { 'content-type': 'application/json' } }), body: new TextEncoder().encode(query) });
        await new Promise((r) => setTimeout(r, 200));
        return { out, seen };
      }, api.endpoint, OPEN);
      // The malformed messages with an id are refused: unknown operations,
      // or calls on a client the port never opened; the others are dropped.
      assert.deepEqual(r.out.malformed.map((m) => [m.id, m.ok, m.error?.code]).sort(),
        [[1, false, 'INVALID_ARGUMENT'], [2, false, 'NOT_AUTHENTICATED'], [3, false, 'NOT_AUTHENTICATED'],
          ...[4, 5, 6, 7].map((n) => [n, false, 'INVALID_ARGUMENT'])]);
      const bad = Object.entries(r.out).filter(([k, v]) => !['open', 'use', 'malformed', 'hostile', 'passed'].includes(k) && (v.ok !== false || v.timeout));
      assert.deepEqual(bad, [], 'calls on handles the port never opened are refused');
      for (const [k, v] of Object.entries(r.out)) {
        if (/^(login|fetchWithAuth|logout|close|fetch) /.test(k)) assert.equal(v.error?.code, 'NOT_AUTHENTICATED', `${k}: ${JSON.stringify(v)}`);
      }
      assert.equal(r.out.badOpen.error?.code, 'INVALID_ARGUMENT');
      assert.equal(r.out.open.ok, true, JSON.stringify(r.out.open));
      assert.ok(r.out.open.state.expiresAt > Date.now(), 'the port attached to the live session');
      assert.equal(r.out.use.ok, true, `it can use the session: ${JSON.stringify(r.out.use)}`);
      for (const [name, answer] of Object.entries(r.out.hostile)) {
        assert.equal(answer.error?.code, 'INVALID_ARGUMENT', `${name}: ${JSON.stringify(answer)}`);
      }
      assert.match(r.out.hostile['33 MiB body'].error.message, /at most 32 MiB/);
      assert.equal(r.out.passed.ok, true, `a well-formed fetch is answered: ${JSON.stringify(r.out.passed)}`);
      assert.equal(r.out.passed.value.status, 200);
      // The tabs keep working, and nothing any of them received holds a token.
      assert.deepEqual((await query(t, '{ me { id } }')).value?.data, { me: { id: USER.id } });
      assert.equal((await state(t)).isAuthenticated, true);
      const raws = (await api.tokens()).issued.map((x) => x.raw);
      assert.deepEqual(leaksIn({ 'the raw port': r.seen }, tokenSecrets(raws)), [], 'the raw port received a token');
      await assertNoTokenInMessages([t]);
    } finally {
      await intruder.close();
    }
  });

  it("a script that takes a tab's lock ({steal: true}) detaches that tab cleanly: a logout event (remote), getters false, calls NOT_AUTHENTICATED, and a new client works", async () => {
    await openShared(t, api.endpoint);
    assert.equal((await login(t)).ok, true);
    const intruder = await t.openTab();
    try {
      const taken = await intruder.run(async () => {
        const { held } = await navigator.locks.query();
        const names = held.map((l) => l.name).filter((n) => n.startsWith('gqlauth-tab:'));
        for (const name of names) await navigator.locks.request(name, { steal: true }, () => {});
        return names;
      });
      assert.equal(taken.length, 1, `the tab's lock: ${JSON.stringify(taken)}`);
      let s;
      for (let i = 0; i < 50; i++) {
        s = await state(t);
        if (!s.isAuthenticated) break;
        await sleep(50);
      }
      assert.equal(s.isAuthenticated, false, 'the detached tab says it has no session');
      assert.equal(s.expiresAt, null);
      assert.deepEqual(s.events.map((e) => [e.reason, e.cause]), [['login', 'local'], ['logout', 'remote']]);
      const next = await query(t, '{ me { id } }');
      assert.equal(next.error?.code, 'NOT_AUTHENTICATED', JSON.stringify(next));
      const sent = (await api.tokens()).graphqlRequests;
      // The tab was the session's only one: the session ended with it. A new
      // client attaches again, under a new lock, and logs in.
      const again = await t.run(async (endpoint, username, password) => {
        const u = await import('/e2e-util.js');
        const c = await u.newClient('c2', { endpoint, share: 'tabs' });
        const before = c.isAuthenticated();
        await c.login({ username, password });
        const q = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
        const { held } = await navigator.locks.query();
        return { before, q, locks: held.map((l) => l.name).filter((n) => n.startsWith('gqlauth-tab:')) };
      }, api.endpoint, USER.username, PASSWORD);
      assert.equal(again.before, false);
      assert.deepEqual(again.q.value?.data, { me: { id: USER.id } }, JSON.stringify(again.q));
      assert.equal(again.locks.length, 1);
      assert.notEqual(again.locks[0], taken[0], 'a new lock, not the one taken');
      assert.equal((await api.tokens()).graphqlRequests, sent + 2, 'the detached call sent nothing');
    } finally {
      await intruder.close();
    }
  });

  it('a port cannot forge a cause: a raw port that names a tab in its open and its logout is still remote to that tab, and events carry no tab ids', async () => {
    await openShared(t, api.endpoint);
    assert.equal((await login(t)).ok, true);
    const intruder = await t.openTab();
    try {
      const r = await intruder.run(async (endpoint, open) => {
        const seen = [];
        const { held } = await navigator.locks.query();
        const victim = held.map((l) => l.name).find((n) => n.startsWith('gqlauth-tab:')).slice('gqlauth-tab:'.length);
        const worker = new SharedWorker('/gqlauth.worker.js', { type: 'module', name: 'gqlauth' });
        const answers = new Map();
        worker.port.onmessage = ({ data }) => {
          for (const m of [data].flat()) {
            seen.push(m);
            if (m && m.id !== undefined) answers.set(m.id, m);
          }
        };
        worker.port.start();
        const ask = async (message) => {
          worker.port.postMessage(message);
          for (let i = 0; i < 100 && !answers.has(message.id); i++) await new Promise((res) => setTimeout(res, 20));
          return answers.get(message.id);
        };
        const opened = await ask((0, eval)(open)(1, endpoint, victim));
        const handle = opened?.value?.client;
        // A cause of its choosing, in every field a cause ever travelled in.
        const loggedOut = await ask({ id: 2, op: 'logout', client: handle, cause: victim, tab: victim, args: [handle, victim] });
        await new Promise((res) => setTimeout(res, 200));
        return { victim, opened, loggedOut, events: seen.filter((m) => m?.kind === 'event') };
      }, api.endpoint, OPEN);
      assert.equal(r.opened?.ok, true, JSON.stringify(r.opened));
      assert.equal(r.loggedOut?.ok, true, JSON.stringify(r.loggedOut));
      await sleep(200);
      const s = await state(t);
      assert.deepEqual(s.events.map((e) => [e.reason, e.cause]), [['login', 'local'], ['logout', 'remote']],
        'the victim tab was told the truth: another port logged it out');
      assert.deepEqual(r.events.map((e) => e.cause), ['local'], 'the intruder hears its own logout as local');
      const everything = JSON.stringify([r.events, await messages(t)]);
      assert.ok(!everything.includes(r.victim.slice(4)), 'a tab id travelled in a message');
    } finally {
      await intruder.close();
    }
  });

  it('a raw port is bounded: keepAlive.query over 64 KiB and a 17th client are refused (INVALID_ARGUMENT), and the module lives on for the tabs', async () => {
    await openShared(t, api.endpoint);
    assert.equal((await login(t)).ok, true);
    const intruder = await t.openTab();
    try {
      const r = await intruder.run(async (endpoint) => {
        const worker = new SharedWorker('/gqlauth.worker.js', { type: 'module', name: 'gqlauth' });
        const answers = new Map();
        worker.port.onmessage = ({ data }) => {
          for (const m of [data].flat()) if (m && m.id !== undefined) answers.set(m.id, m);
        };
        worker.port.start();
        let id = 0;
        const ask = async (args) => {
          const n = ++id;
          worker.port.postMessage({ id: n, op: 'open', options: JSON.stringify(args[0]) });
          for (let i = 0; i < 500 && !answers.has(n); i++) await new Promise((res) => setTimeout(res, 20));
          return answers.get(n) ?? { timeout: true };
        };
        const out = { keepAlive: [], opens: [] };
        // What ended the module for every tab: opens that each kept a
        // 32 MiB keep-alive query. A keep-alive query is at most 64 KiB, and
        // a record at most 32 MiB, refused before the module allocates.
        const query = 'x'.repeat(1 << 20);
        for (let i = 0; i < 6; i++) {
          out.keepAlive.push(await ask([{ endpoint: `${endpoint}?k=${i}`, keepAlive: { query, beforeExpiryMs: 1000 } }, {}]));
        }
        out.huge = await ask([{ endpoint: `${endpoint}?k=huge`, keepAlive: { query: 'x'.repeat(32 << 20), beforeExpiryMs: 1000 } }, {}]);
        out.justUnder = await ask([{ endpoint: `${endpoint}?k=under`, keepAlive: { query: query.slice(0, 64 << 10), beforeExpiryMs: 1000 } }, {}]);
        for (let i = 0; i < 17; i++) out.opens.push(await ask([{ endpoint: `${endpoint}?n=${i}` }, {}]));
        return out;
      }, api.endpoint);
      for (const a of r.keepAlive) {
        assert.equal(a.error?.code, 'INVALID_ARGUMENT', JSON.stringify(a).slice(0, 300));
        assert.match(a.error.message, /64 KiB/);
      }
      assert.equal(r.huge.error?.code, 'INVALID_ARGUMENT', JSON.stringify(r.huge).slice(0, 300));
      assert.match(r.huge.error.message, /at most 32 MiB/);
      assert.equal(r.justUnder.ok, true, `a 64 KiB keep-alive query is allowed: ${JSON.stringify(r.justUnder).slice(0, 300)}`);
      assert.deepEqual(r.opens.map((a) => a.ok), [...Array(15).fill(true), false, false], 'sixteen clients per port');
      assert.match(r.opens[15].error.message, /at most 16 clients/);
      assert.equal(r.opens[15].error.code, 'INVALID_ARGUMENT');
      assert.deepEqual((await query(t, '{ me { id } }')).value?.data, { me: { id: USER.id } }, 'the tab still works');
    } finally {
      await intruder.close();
    }
  });

  it('should the module stop, every tab hears it (a logout event, getters false, INTERNAL), and the next createClient starts a fresh module', async () => {
    const options = { wasmURL: '/gqlauth-testhooks.wasm', workerURL: '/test-worker.js?hooks=gqlauth-crash-test' };
    await openShared(t, api.endpoint, options);
    assert.equal((await login(t)).ok, true);
    const b = await t.openTab();
    try {
      await openShared(b, api.endpoint, options);
      assert.equal((await state(b)).isAuthenticated, true, 'tab B shares the session');
      const crashed = await b.run(async () => {
        const channel = new BroadcastChannel('gqlauth-crash-test');
        const answer = new Promise((resolve) => { channel.onmessage = ({ data }) => resolve(data); });
        channel.postMessage({ id: 1, name: 'crash' });
        const a = await answer;
        channel.close();
        return a;
      });
      assert.equal(crashed.ok, true, JSON.stringify(crashed));
      for (const tab of [t, b]) {
        let s;
        for (let i = 0; i < 50; i++) {
          s = await state(tab);
          if (!s.isAuthenticated) break;
          await sleep(50);
        }
        assert.equal(s.isAuthenticated, false);
        assert.equal(s.expiresAt, null);
        assert.deepEqual(s.events.map((e) => e.reason).slice(-1), ['logout']);
        assert.equal((await query(tab, '{ me { id } }')).error?.code, 'INTERNAL');
      }
      const fresh = await b.run(async (endpoint, options, username, password) => {
        const u = await import('/e2e-util.js');
        const c = await u.newClient('c2', { endpoint, share: 'tabs', ...options });
        const before = c.isAuthenticated();
        await c.login({ username, password });
        return { before, q: await u.attempt(() => c.fetchWithAuth('{ me { id } }')) };
      }, api.endpoint, options, USER.username, PASSWORD);
      assert.equal(fresh.before, false, 'a fresh module holds no session');
      assert.deepEqual(fresh.q.value?.data, { me: { id: USER.id } }, JSON.stringify(fresh.q));
    } finally {
      await b.close();
    }
  });
});
