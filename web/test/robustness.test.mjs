// No input, from JavaScript or the network, breaks the module: bad values are
// refused with an AuthError, a panic inside Go becomes a rejection, and the
// module keeps working afterwards without leaking bridge resources.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BROWSER, PASSWORD, TESTHOOKS_WASM, USER, pageHooks } from './harness.mjs';

describe(`robustness [${BROWSER}]`, { timeout: 60000 }, () => {
  let api;
  let t;
  pageHooks({ api: {} }, {
    onSuite(s) { api = s.api.api; },
    onPage(p) { t = p; },
  });

  it('refuses hostile arguments (throwing getters, proxies, symbols, BigInt, cycles) with INVALID_ARGUMENT', async () => {
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const { createClient } = u.gqlauth;
      const boom = () => { throw new Error('boom'); };
      const trap = new Proxy({}, { get: boom, has: boom, ownKeys: boom, getOwnPropertyDescriptor: boom });
      const cyclic = { a: 1 };
      cyclic.self = cyclic;
      const out = {};
      out['throwing endpoint getter'] = await u.attempt(() => createClient({ get endpoint() { return boom(); } }));
      out['options proxy that throws'] = await u.attempt(() => createClient(trap));
      out['endpoint is a Symbol'] = await u.attempt(() => createClient({ endpoint: Symbol('x') }));
      out['timeoutMs is a BigInt'] = await u.attempt(() => createClient({ endpoint, timeoutMs: 10n }));
      out['leeway is a BigInt'] = await u.attempt(() => createClient({ endpoint, expiryLeewaySeconds: 5n }));
      out['leeway is NaN'] = await u.attempt(() => createClient({ endpoint, expiryLeewaySeconds: NaN }));
      out['headers is a string'] = await u.attempt(() => createClient({ endpoint, headers: 'X-A: 1' }));
      out['wasmURL is a number'] = await u.attempt(() => createClient({ endpoint, wasmURL: 42 }));

      const c = await u.newClient('c', { endpoint });
      out['credentials proxy that throws'] = await u.attempt(() => c.login(trap));
      out['username with throwing toString'] = await u.attempt(
        () => c.login({ username: { toString: boom }, password }));
      out['password is a BigInt'] = await u.attempt(() => c.login({ username, password: 1n }));
      out['password is a number'] = await u.attempt(() => c.login({ username, password: 12345 }));
      out['signal is not an AbortSignal'] = await u.attempt(() => c.login({ username, password }, { signal: 'stop' }));
      await c.login({ username, password });
      out['query is null'] = await u.attempt(() => c.fetchWithAuth(null));
      out['variables hold a BigInt'] = await u.attempt(() => c.fetchWithAuth('{ me { id } }', { n: 1n }));
      out['variables are cyclic'] = await u.attempt(() => c.fetchWithAuth('{ me { id } }', cyclic));
      out['variables proxy that throws'] = await u.attempt(() => c.fetchWithAuth('{ me { id } }', trap));
      out['operationName is a number'] = await u.attempt(
        () => c.fetchWithAuth('{ me { id } }', undefined, { operationName: 42 }));
      out['request options proxy that throws'] = await u.attempt(
        () => c.fetchWithAuth('{ me { id } }', undefined, trap));

      const still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { out, still, state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);

    const wrong = Object.entries(r.out)
      .filter(([, res]) => res.ok || res.error.name !== 'AuthError' || res.error.code !== 'INVALID_ARGUMENT')
      .map(([call, res]) => `${call}: ${JSON.stringify(res.ok ? res : res.error)}`);
    assert.deepEqual(wrong, [], 'every hostile call is refused with AuthError INVALID_ARGUMENT');
    assert.equal(r.still.ok, true, 'the module still works');
    assert.deepEqual(r.still.value.data, { me: { id: USER.id } });
    assert.equal(r.state.isAuthenticated, true);
    assert.equal((await api.tokens()).graphqlRequests, 2, 'only the good login and the good query were sent');
  });

  it('turns a panic inside Go (the export that begins a call, or one that takes its answer) into an INTERNAL rejection and keeps working, without leaking a call', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      await c.login({ username, password });
      await c.fetchWithAuth('{ me { id } }');
      const baseline = await u.bridgeStats();

      const out = {};
      // fetchWithAuth reads its arguments in its export; its answer comes
      // back through head, chunk and end: panic in each.
      for (const where of ['fetchWithAuth', 'head', 'chunk', 'end']) {
        await u.workerTest('panicNext', where);
        out[where] = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      }
      out.afterPanics = await u.attempt(() => c.fetchWithAuth('{ me { username } }'));

      // A burst of ordinary work, failures and aborts, then the counts again.
      const jobs = [];
      for (let i = 0; i < 10; i++) {
        jobs.push(u.attempt(() => c.fetchWithAuth('{ me { id } }')));
        jobs.push(u.attempt(() => c.fetchWithAuth(42)));
        const ac = new AbortController();
        jobs.push(u.attempt(() => c.fetchWithAuth('{ me { id } }', undefined, { signal: ac.signal })));
        ac.abort();
      }
      await Promise.all(jobs);
      const other = await u.gqlauth.createClient({ endpoint });
      await other.login({ username, password });
      other.close();
      await u.sleep(100);
      return { baseline, out, end: await u.bridgeStats(), state: u.state('c') };
    }, api.endpoint, USER.username, PASSWORD);

    for (const k of ['fetchWithAuth', 'head', 'chunk', 'end']) {
      const res = r.out[k];
      assert.equal(res.ok, false, `${k}: the forced panic must reject`);
      assert.equal(res.error.name, 'AuthError', k);
      assert.equal(res.error.code, 'INTERNAL', `${k}: ${JSON.stringify(res.error)}`);
    }
    assert.equal(r.out.afterPanics.ok, true, 'the module keeps working after panics');
    assert.deepEqual(r.out.afterPanics.value.data, { me: { username: USER.username } });
    assert.equal(r.state.isAuthenticated, true, 'the session survived');
    assert.equal(r.end.inFlight, 0, 'no request is left in flight in the module');
    assert.equal(r.end.goroutines, r.baseline.goroutines, 'no goroutine is left behind');
  });

  it('keeps working after a panic in any other export: refuse, fetch and tick answer, the state reads say what a client with no token would', async () => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    const r = await t.run(async (endpoint, username, password) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      await c.login({ username, password });
      const [{ handle }] = await u.workerTest('state');
      const call = 1 << 30; // no call of the worker's
      const exports = {
        refuse: [call, 0],
        fetch: [call + 1, handle, 1, 0, 0],
        tick: [handle],
        tokenExpiresAt: [handle],
        tokenExpiresIn: [handle],
        tokenUsableFor: [handle],
        isAuthenticated: [handle],
      };
      const out = {};
      for (const [name, args] of Object.entries(exports)) {
        await u.workerTest('panicNext', name);
        const forced = await u.workerTest('exportCall', name, ...args);
        const again = await u.workerTest('exportCall', name, ...args);
        out[name] = { forced, again };
      }
      const still = await u.attempt(() => c.fetchWithAuth('{ me { id } }'));
      return { out, still, auth: c.isAuthenticated(), stats: await u.bridgeStats() };
    }, api.endpoint, USER.username, PASSWORD);

    for (const name of ['refuse', 'fetch']) {
      const [reply] = r.out[name].forced.record?.replies ?? [];
      assert.equal(reply?.code, 'INTERNAL', `${name}: the forced panic fails its call: ${JSON.stringify(r.out[name].forced)}`);
      assert.match(reply.message, /internal error/);
    }
    assert.equal(typeof r.out.tick.forced.result, 'number', 'tick answered');
    assert.deepEqual(['tokenExpiresAt', 'tokenExpiresIn', 'tokenUsableFor', 'isAuthenticated'].map((n) => r.out[n].forced.result), [-1, 0, 0, 0],
      'a state read that panicked answers as for no token');
    assert.ok(r.out.tokenExpiresAt.again.result > Date.now() - 60000 && r.out.isAuthenticated.again.result === 1 && r.out.tokenExpiresIn.again.result > 0,
      `the next reads tell the session: ${JSON.stringify(r.out)}`);
    assert.equal(r.still.ok, true, `the module keeps working: ${JSON.stringify(r.still.error)}`);
    assert.equal(r.auth, true);
    assert.equal(r.stats.inFlight, 0, 'no call left in flight');
  });
});
