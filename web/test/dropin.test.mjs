// client.fetch, the drop-in fetch for GraphQL client libraries: the forms
// of fetch's arguments it takes, what it refuses before sending anything
// (another URL, a caller's Authorization), the session's rules, a Response
// as the server sent it less the token headers, the body streamed through
// (the page reads the first piece while the server is still writing), and
// aborts. The libraries themselves are driven in web/test/consumer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BROWSER, PASSWORD, USER, assertNoLeaks, leaksIn, pageHooks, tokenSecrets,
} from './harness.mjs';

describe(`client.fetch, the drop-in [${BROWSER}]`, { timeout: 120000 }, () => {
  let api;
  let short;
  let t;
  pageHooks({ api: {}, short: { ttl: '3s' } }, {
    onSuite(s) { ({ api, short } = s.api); },
    onPage(p) { t = p; },
  });

  async function login(endpoint, options = {}) {
    await t.run(async (endpoint, options, username, password) => {
      const u = await import('/e2e-util.js');
      u.recordMessages();
      const c = await u.newClient('c', { endpoint, ...options });
      await c.login({ username, password });
    }, endpoint, options, USER.username, PASSWORD);
  }

  /** Runs fetch(input, init) from the page, described as plain data: [kind, args...]. */
  const call = (...forms) => t.run(async (forms) => {
    const u = await import('/e2e-util.js');
    const c = u.client('c');
    const out = [];
    for (const [input, init] of forms) {
      const args = [input, init].map((x) => u.revive(x));
      try {
        const res = await c.fetch(...args);
        out.push({
          ok: true, status: res.status, statusText: res.statusText, type: res instanceof Response,
          headers: [...res.headers], body: await res.text(),
        });
      } catch (e) {
        out.push({ ok: false, error: u.describeError(e) });
      }
    }
    return out;
  }, forms);

  const gql = (query, variables) => JSON.stringify({ query, variables });

  it('takes what fetch takes: a string, a URL or a Request; headers as an object, a list or a Headers; GET and POST; a string or bytes', async () => {
    await login(api.endpoint);
    const e = api.endpoint;
    const body = gql('query Me { me { id } }');
    const r = await call(
      [e, { method: 'POST', headers: { 'content-type': 'application/json' }, body }],
      [['URL', e], { method: 'POST', headers: [['Content-Type', 'application/json'], ['Accept', 'application/json']], body }],
      [['Request', e, { method: 'POST', headers: { 'content-type': 'application/json' }, body }]],
      [['Request', e, { method: 'POST', body: 'ignored' }], { headers: ['Headers', { 'content-type': 'application/json' }], body }],
      [e, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ['bytes', body] }],
      [e, { method: 'POST', headers: { 'content-type': 'application/json' }, body: ['Blob', body] }],
      [`${e}?query=${encodeURIComponent('query Me { me { id } }')}&operationName=Me`, { method: 'GET' }],
      [`${e}?query=${encodeURIComponent('{ me { id } }')}`],
    );
    for (const [i, x] of r.entries()) {
      assert.equal(x.ok, true, `form ${i}: ${JSON.stringify(x)}`);
      assert.equal(x.status, 200);
      assert.equal(x.type, true, 'a real Response');
      assert.deepEqual(JSON.parse(x.body), { data: { me: { id: USER.id } } }, `form ${i}`);
    }
    const log = await api.tokens();
    assert.equal(log.received.length, r.length, 'each call was one request, with a token');
    // Every request carried the token of the answer before it (strict rotation).
    const issued = log.issued.map((x) => x.jti);
    for (const [i, rec] of log.received.entries()) assert.equal(rec.jti, issued[i], `request ${i} carried the newest token`);
    await assertNoLeaks(t, [api], { secrets: [PASSWORD] });
  });

  it('refuses, sending nothing: another URL, a path or query other than the endpoint\'s, a caller\'s Authorization, another method', async () => {
    await login(api.endpoint);
    const sent = (await api.tokens()).graphqlRequests;
    const e = api.endpoint;
    const body = gql('{ me { id } }');
    const r = await call(
      ['https://evil.example/graphql', { method: 'POST', body }],
      [e.replace('127.0.0.1', 'localhost'), { method: 'POST', body }],
      [`${e}/../other`, { method: 'POST', body }],
      [`${e}x`, { method: 'POST', body }],
      [`${e}?fault=500html`, { method: 'POST', body }],
      [e, { method: 'POST', body, headers: { Authorization: 'Bearer mine' } }],
      [e, { method: 'POST', body, headers: [['authorization', 'Basic eA==']] }],
      [e, { method: 'POST', body, headers: { 'X-Authorization': 'Bearer mine' } }],
      [['Request', e, { method: 'POST', body, headers: { authorization: 'x' } }]],
      [e, { method: 'PUT', body }],
      [e, { method: 'DELETE' }],
      ['not a url at all', { method: 'POST', body }],
      [e, { method: 'GET', body }],
    );
    assert.deepEqual(r.map((x) => x.error?.code), Array(r.length).fill('INVALID_ARGUMENT'), JSON.stringify(r));
    assert.equal((await api.tokens()).graphqlRequests, sent, 'nothing was sent');
  });

  it('the session\'s rules: NOT_AUTHENTICATED and TOKEN_EXPIRED send nothing; Unauthorized is passed on as the server sent it and ends the session', async () => {
    await t.run(async (endpoint) => {
      const u = await import('/e2e-util.js');
      await u.newClient('c', { endpoint, expiryLeewaySeconds: 0 });
    }, short.endpoint);
    const body = gql('{ me { id } }');
    const before = await call([short.endpoint, { method: 'POST', body }]);
    assert.equal(before[0].error?.code, 'NOT_AUTHENTICATED');
    assert.equal((await short.tokens()).graphqlRequests, 0);
    await t.run(async (username, password) => {
      const u = await import('/e2e-util.js');
      await u.client('c').login({ username, password });
      await u.sleep(3200);
    }, USER.username, PASSWORD);
    const expired = await call([short.endpoint, { method: 'POST', body }]);
    assert.equal(expired[0].error?.code, 'TOKEN_EXPIRED');
    assert.equal((await short.tokens()).graphqlRequests, 1, 'only the login was sent');

    await login(api.endpoint);
    await api.restart(); // a new signing key: the server refuses the held token
    const refused = await call([api.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: gql('query Refused { me { id } }') }]);
    assert.equal(refused[0].ok, true, 'the answer is passed on, as fetch would');
    assert.equal(refused[0].status, 200);
    const answer = JSON.parse(refused[0].body);
    assert.equal(answer.errors[0].message, 'Unauthorized');
    assert.ok(answer.data === null || answer.data === undefined);
    const s = await t.run(async () => (await import('/e2e-util.js')).state('c'));
    assert.equal(s.isAuthenticated, false, 'the session ended');
    assert.deepEqual(s.events.map((e) => e.reason), ['login', 'unauthorized']);
    const after = await call([api.endpoint, { method: 'POST', body }]);
    assert.equal(after[0].error?.code, 'NOT_AUTHENTICATED');
  });

  it('the Response is the server\'s (status, status text, body, headers) without Authorization or X-Authorization', async () => {
    await login(api.endpoint);
    const post = (body) => [api.endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body }];
    const [graphqlError, ...faults] = await call(
      post(gql('{ me { id } nope }')),
      ...['500html', '502json', 'nonjson'].map((fault) => post(gql('{ me { id } }', { __hook: { fault } }))),
    );
    assert.equal(graphqlError.ok, true);
    assert.match(JSON.parse(graphqlError.body).errors[0].message, /nope/);
    assert.deepEqual(faults.map((x) => [x.status, x.statusText]), [[500, 'Internal Server Error'], [502, 'Bad Gateway'], [200, 'OK']]);
    assert.match(faults[0].body, /<h1>500 Internal Server Error<\/h1>/);
    assert.deepEqual(JSON.parse(faults[1].body), { errors: [{ message: 'bad gateway', customer_facing: false }] });
    assert.equal(faults[2].body, 'hello');
    const names = [graphqlError, ...faults].flatMap((x) => x.headers.map(([n]) => n));
    assert.ok(names.includes('content-type'), `headers ${names}`);
    assert.deepEqual(names.filter((n) => n === 'authorization' || n === 'x-authorization'), [], 'a token header reached the page');
    const raws = (await api.tokens()).issued.map((x) => x.raw);
    assert.deepEqual(leaksIn({ responses: [graphqlError, ...faults] }, tokenSecrets(raws)), []);
    const messages = await t.run(async () => (await import('/e2e-util.js')).pending.get('messages'));
    assert.ok(messages.some((m) => m.includes('bad gateway')), 'the messages to the page were recorded');
    assert.deepEqual(leaksIn({ messages }, tokenSecrets(raws)), [], 'a message to the page holds a token');
  });

  it('a header whose value holds the token sent or the token received is not passed on, whatever its name', async () => {
    await login(api.endpoint);
    const r = await t.run(async (endpoint, body) => {
      const u = await import('/e2e-util.js');
      const res = await u.client('c').fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      return { headers: [...res.headers], body: await res.text() };
    }, api.endpoint, gql('query Echo { me { id } }', { __hook: { fault: 'echotoken' } }));
    assert.deepEqual(JSON.parse(r.body), { data: { me: { id: USER.id } } });
    const names = r.headers.map(([n]) => n);
    assert.ok(names.includes('content-type'), `headers ${names}`);
    assert.deepEqual(names.filter((n) => /token|authorization/.test(n)), [], `headers passed on: ${names}`);
    const log = await api.tokens();
    assert.equal(log.received.filter((x) => x.op === 'Echo').length, 1, 'the echoing answer was sent');
    assert.deepEqual(leaksIn({ headers: r.headers }, tokenSecrets(log.issued.map((x) => x.raw))), []);
  });

  it('the body streams through: the page reads its first piece while the server is still writing, and cancelling stops the download', async () => {
    const size = 40 << 20;
    await login(api.endpoint, { maxResponseBytes: 64 << 20 });
    const r = await t.run(async (endpoint, body) => {
      const u = await import('/e2e-util.js');
      const res = await u.client('c').fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const reader = res.body.getReader();
      const first = await reader.read();
      const firstBytes = first.value.byteLength;
      const prefix = new TextDecoder().decode(first.value.subarray(0, 17));
      await reader.cancel();
      return { status: res.status, firstBytes, prefix, length: res.headers.get('content-length') };
    }, api.endpoint, gql('{ me { id } }', { __hook: { fault: 'huge', bytes: size } }));
    assert.equal(r.status, 200);
    assert.equal(r.prefix, '{"data":{"blob":"');
    assert.ok(r.firstBytes > 0 && r.firstBytes < size, `first piece ${r.firstBytes} bytes`);
    const log = await api.waitForLog((l) => l.cancelled.length > 0, 'the server to see the download stop');
    const cancelled = log.cancelled[0];
    assert.equal(cancelled.stage, 'body');
    assert.ok(cancelled.written < size, `the server wrote ${cancelled.written} of ${size} bytes`);
  });

  it('a large body passes through, or is collected for fetchWithAuth, without the module holding it (test build: Go memory grows far less than the body)', async () => {
    const size = 24 << 20;
    const r = await t.run(async (endpoint, body, username, password, size) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, maxResponseBytes: 64 << 20, ...u.TEST_BUILD });
      await c.login({ username, password });
      const before = await u.workerTest('stats');
      const res = await c.fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      let pieces = 0;
      let bytes = 0;
      for (const reader = res.body.getReader(); ;) {
        const { done, value } = await reader.read();
        if (done) break;
        pieces++;
        bytes += value.byteLength;
      }
      const after = await u.workerTest('stats');
      // The same answer through fetchWithAuth, collected by the worker, not
      // the module: the module judges it 64 KiB at a time.
      const { variables } = JSON.parse(body);
      const whole = await c.fetchWithAuth('{ me { id } }', variables);
      const afterWhole = await u.workerTest('stats');
      // The measure sees what the module does take: a 24 MiB request body
      // (which the server then refuses, 413, or cuts off: not the point).
      const big = JSON.stringify({ query: `{ me { id } } # ${'x'.repeat(size)}` });
      await u.attempt(async () => (await c.fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big })).text());
      const afterBig = await u.workerTest('stats');
      return {
        pieces, bytes, grew: after.sysBytes - before.sysBytes, wholeGrew: afterWhole.sysBytes - after.sysBytes,
        wholeBytes: whole.data.blob.length, bigGrew: afterBig.sysBytes - afterWhole.sysBytes,
        inFlight: after.inFlight, goroutines: [before.goroutines, after.goroutines],
      };
    }, api.endpoint, gql('{ me { id } }', { __hook: { fault: 'huge', bytes: size } }), USER.username, PASSWORD, size);
    assert.equal(r.bytes, size);
    assert.ok(r.pieces > 1, `${r.pieces} pieces`);
    assert.ok(r.grew < 8 << 20, `Go memory grew by ${r.grew} bytes for a ${size}-byte body passed on`);
    assert.ok(r.wholeBytes > size - 64, 'fetchWithAuth resolved with the whole answer');
    assert.ok(r.wholeGrew < 8 << 20, `Go memory grew by ${r.wholeGrew} bytes for a ${size}-byte body collected for fetchWithAuth`);
    assert.ok(r.bigGrew >= size, `the measure sees what the module takes: it grew ${r.bigGrew} bytes for a ${size}-byte request body`);
    assert.equal(r.inFlight, 0);
    assert.equal(r.goroutines[1], r.goroutines[0], 'no goroutine left behind');
  });

  it('aborts as fetch does: before the answer it rejects with the signal\'s reason, after it the body fails with it; the request is stopped', async () => {
    await login(api.endpoint, { maxResponseBytes: 64 << 20 });
    const r = await t.run(async (endpoint, held) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const controller = new AbortController();
      const json = { 'content-type': 'application/json' };
      const pending = u.attempt(() => c.fetch(endpoint, { method: 'POST', headers: json, body: held, signal: controller.signal }));
      await u.sleep(300);
      controller.abort();
      const before = await pending;
      const already = await u.attempt(() => c.fetch(endpoint, { method: 'POST', body: '{}', signal: AbortSignal.abort(new Error('mine')) }));
      return { before, already };
    }, api.endpoint, gql('{ me { id } }', { __hook: { hold: 1 } }));
    assert.equal(r.before.ok, false);
    assert.equal(r.before.error.name, 'AbortError', JSON.stringify(r.before));
    assert.equal(r.already.error.message, 'mine', 'an aborted signal\'s own reason');
    await api.waitForLog((l) => l.cancelled.some((x) => x.stage === 'hold'), 'the held request to be given up');

    const size = 40 << 20;
    const after = await t.run(async (endpoint, huge) => {
      const u = await import('/e2e-util.js');
      const controller = new AbortController();
      const res = await u.client('c').fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge, signal: controller.signal });
      const reader = res.body.getReader();
      await reader.read();
      controller.abort();
      return u.attempt(async () => { for (;;) if ((await reader.read()).done) return 'ended'; });
    }, api.endpoint, gql('{ me { id } }', { __hook: { fault: 'huge', bytes: size } }));
    assert.equal(after.ok, false);
    assert.equal(after.error.name, 'AbortError');
    const log = await api.waitForLog((l) => l.cancelled.some((x) => x.stage === 'body'), 'the download to stop');
    assert.ok(log.cancelled.find((x) => x.stage === 'body').written < size);
  });

  it('a body that fails carries the AuthError: text(), json(), arrayBuffer(), blob(), bytes(), a clone and a reader all reject with its code', async () => {
    await login(api.endpoint, { maxResponseBytes: 1 << 20 });
    const r = await t.run(async (endpoint, huge, cut) => {
      const u = await import('/e2e-util.js');
      const c = u.client('c');
      const out = {};
      for (const [fault, body] of [['huge', huge], ['close', cut]]) {
        for (const how of ['text', 'json', 'arrayBuffer', 'blob', 'bytes', 'clone', 'reader']) {
          const res = await c.fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          try {
            if (how === 'reader') {
              const reader = res.body.getReader();
              while (!(await reader.read()).done);
            } else if (how === 'clone') {
              await res.clone().text();
            } else {
              await res[how]();
            }
            out[`${fault} ${how}`] = { ok: true };
          } catch (e) {
            out[`${fault} ${how}`] = u.describeError(e);
          }
        }
      }
      return out;
    }, api.endpoint, gql('{ me { id } }', { __hook: { fault: 'huge', bytes: 4 << 20 } }), gql('{ me { id } }', { __hook: { fault: 'close' } }));
    for (const [name, e] of Object.entries(r)) {
      assert.equal(e.isAuthErrorFn, true, `${name}: ${JSON.stringify(e)}`);
      assert.equal(e.code, name.startsWith('huge') ? 'BAD_RESPONSE' : 'NETWORK_ERROR', `${name}: ${JSON.stringify(e)}`);
    }
  });

  it('is fetch for libraries: it works detached, and its Response has what they read (ok, headers.get, json, text, clone)', async () => {
    await login(api.endpoint);
    const r = await t.run(async (endpoint) => {
      const u = await import('/e2e-util.js');
      const { fetch } = u.client('c'); // libraries keep it as a plain function
      const res = await fetch(endpoint, {
        method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' },
        body: JSON.stringify({ query: 'query Items($first: Int) { items(first: $first) { nodes { id } } }', variables: { first: 2 } }),
      });
      const copy = res.clone();
      return { ok: res.ok, type: res.headers.get('content-type'), json: await res.json(), text: await copy.text(), bodyUsed: res.bodyUsed };
    }, api.endpoint);
    assert.equal(r.ok, true);
    assert.match(r.type, /^application\/(graphql-response\+)?json/);
    assert.equal(r.json.data.items.nodes.length, 2);
    assert.deepEqual(JSON.parse(r.text), r.json);
    assert.equal(r.bodyUsed, true);
  });
});
