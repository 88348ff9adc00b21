// Soak: 10 000 requests in one page with the test build of the module. The
// bridge's live js.Funcs, the requests it holds open and goroutines must
// come back to their baseline, and the Go runtime's footprint (sysBytes,
// memory obtained from the wasm instance, which never shrinks) must stop
// growing: after the first 2 000 requests the runtime has reached its
// working size, so the next 8 000 may add at most MEMORY_SLACK. Measured:
// a one-time step of 0 to 0.8 MiB (the same after 20 000 requests); a leak
// of 512 bytes per request shows as 5.3 MiB. The bound catches leaks from
// about 260 bytes per request.
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { BROWSER, PASSWORD, TESTHOOKS_WASM, USER, openSuite, runtimeFailures } from './harness.mjs';

const REQUESTS = Number(process.env.SOAK_REQUESTS || 10000);
const CHECKPOINT = 2000;
const IN_FLIGHT = 8;
const MEMORY_SLACK = 2 << 20;

describe(`soak [${BROWSER}]`, { timeout: 240000 }, () => {
  let suite;
  let api;
  let t;

  before(async () => {
    // Puppeteer need not follow 10 000 requests: t.requests stays empty.
    suite = await openSuite({ api: {} }, { networkEnabled: false });
    api = suite.api.api;
  });
  after(async () => { await suite?.close(); });
  beforeEach(async () => {
    await api.reset();
    t = await suite.newPage();
  });
  afterEach(async () => {
    const failures = t ? await runtimeFailures(t) : [];
    await t?.close();
    assert.deepEqual(failures, [], 'the page reported errors');
  });

  it(`${REQUESTS} requests in one page: open requests and goroutines return to baseline and Go memory stops growing`, async (ctx) => {
    assert.ok(existsSync(TESTHOOKS_WASM), `missing ${TESTHOOKS_WASM}: run \`make testbuild\``);
    // Set up in the page: the client, the counters and run(from, to), kept
    // in e2e-util's pending map across the calls below (each call stays well
    // within the browser protocol's 60 s timeout).
    await t.run(async (endpoint, username, password, inFlight) => {
      const u = await import('/e2e-util.js');
      const c = await u.newClient('c', { endpoint, ...u.TEST_BUILD });
      const jsHeap = () => (performance.memory ? performance.memory.usedJSHeapSize : null);
      const snapshot = async (sent) => {
        await u.sleep(100); // let finished goroutines exit
        return { sent, ...(await u.bridgeStats()), jsHeap: jsHeap(), at: performance.now() };
      };
      await c.login({ username, password });
      const counts = { ok: 0, graphQLErrors: 0, badResponse: 0, aborted: 0, invalid: 0, other: [] };
      // One request of the mix by its number: mostly plain queries, every
      // 10th answered with GraphQL errors, every 50th a broken body, every
      // 3rd with an AbortSignal that does not fire; and, without sending
      // anything, an already aborted call every 25th and a refused argument
      // every 40th.
      const one = async (i) => {
        if (i % 25 === 0) {
          const ac = new AbortController();
          ac.abort();
          const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }', undefined, { signal: ac.signal }));
          if (res.error?.code === 'ABORTED') counts.aborted++; else counts.other.push(res);
        }
        if (i % 40 === 0) {
          const res = await u.attempt(() => c.fetchWithAuth(42));
          if (res.error?.code === 'INVALID_ARGUMENT') counts.invalid++; else counts.other.push(res);
        }
        if (i % 50 === 0) {
          const res = await u.attempt(() => c.fetchWithAuth('{ me { id } }', { __hook: { fault: 'truncated' } }));
          if (res.error?.code === 'BAD_RESPONSE') counts.badResponse++; else counts.other.push(res);
          return;
        }
        const signal = i % 3 === 0 ? new AbortController().signal : undefined;
        const res = await u.attempt(() => (i % 10 === 0
          ? c.fetchWithAuth('query Q($n: Int) { me { id noSuchField } }', { n: i }, { signal })
          : c.fetchWithAuth('query Q($n: Int) { items(first: $n) { totalCount } }', { n: i % 7 }, { signal })));
        if (!res.ok) counts.other.push(res);
        else if (res.value.errors) counts.graphQLErrors++;
        else counts.ok++;
      };
      const run = async (from, to) => {
        let next = from;
        const worker = async () => {
          while (next < to && counts.other.length === 0) await one(next++);
        };
        await Promise.all(Array.from({ length: inFlight }, worker));
      };
      u.pending.set('soak', { run, snapshot, counts });
    }, api.endpoint, USER.username, PASSWORD, IN_FLIGHT);

    const step = (from, to, snap) => t.run(async (from, to, snap) => {
      const u = await import('/e2e-util.js');
      const soak = u.pending.get('soak');
      await soak.run(from, to);
      return snap ? soak.snapshot(to) : null;
    }, from, to, snap);

    await step(0, 200, false); // warm-up
    const baseline = await step(200, 200, true);
    for (let i = 200; i < CHECKPOINT; i += 2000) await step(i, Math.min(i + 2000, CHECKPOINT), false);
    const atCheckpoint = await step(CHECKPOINT, CHECKPOINT, true);
    for (let i = CHECKPOINT; i < REQUESTS; i += 2000) await step(i, Math.min(i + 2000, REQUESTS), false);
    const end = await step(REQUESTS, REQUESTS, true);
    const r = await t.run(async () => {
      const u = await import('/e2e-util.js');
      return { counts: u.pending.get('soak').counts, state: u.state('c') };
    });
    const { counts } = r;
    assert.deepEqual(counts.other.slice(0, 3), [], 'unexpected outcomes');
    const sent = (await api.tokens()).graphqlRequests;
    assert.equal(sent, REQUESTS + 1, 'the login and every request reached the server');
    assert.equal(counts.ok + counts.graphQLErrors + counts.badResponse, REQUESTS);
    assert.equal(r.state.isAuthenticated, true, 'the session lived through it all');

    assert.equal(end.inFlight, 0, 'requests held open by the module back to zero');
    assert.equal(end.goroutines, baseline.goroutines, 'goroutines back to baseline');
    const growth = end.sysBytes - atCheckpoint.sysBytes;
    assert.ok(growth <= MEMORY_SLACK,
      `Go memory grew by ${growth} bytes between request ${CHECKPOINT} and ${REQUESTS} (allowed ${MEMORY_SLACK})`);

    const mib = (n) => (n / 1048576).toFixed(2);
    const row = (s) => `after ${s.sent}: in flight ${s.inFlight}, goroutines ${s.goroutines}, ` +
      `Go sys ${mib(s.sysBytes)} MiB, Go heap ${mib(s.heapBytes)} MiB` +
      (s.jsHeap === null ? '' : `, JS heap ${mib(s.jsHeap)} MiB`);
    ctx.diagnostic(`${REQUESTS} requests (${counts.ok} ok, ${counts.graphQLErrors} with GraphQL errors, ` +
      `${counts.badResponse} BAD_RESPONSE) plus ${counts.aborted} pre-aborted and ${counts.invalid} refused calls, ` +
      `in ${Math.round(end.at - baseline.at)} ms after warm-up`);
    for (const s of [baseline, atCheckpoint, end]) ctx.diagnostic(row(s));
  });
});
