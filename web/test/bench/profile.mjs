// Where the time goes: Chromium CPU profiles of the page's main thread and
// of the client's worker while the bench page sends requests through
// gqlauth (its worker runs Go's wasm and the worker's JS) and, for
// comparison, through the plain-JS client in the page and in its own worker
// (plain-worker.js). The page loads build/bench/www/gqlauth-syms.wasm,
// the module with its name section, so wasm frames carry Go function names.
//
// Run as `node web/test/bench/run.mjs --profile`. Prints, per scenario, the
// busy time per request of each thread and the largest self and inclusive
// times by function, by Go package and by script; writes the raw profiles
// to build/bench/profiles/*.cpuprofile (open them in DevTools' Performance
// panel).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, startServer } from '../harness.mjs';
import { freshPage, launch, OUT, WWW } from './run.mjs';
import { packageMatcher } from './wasmsize.mjs';

const SCENARIOS = [
  { name: 'sequential-small', fn: 'sequential', args: [1000], per: 1000 },
  { name: 'concurrent-200', fn: 'concurrent', args: [200], per: 200 },
  { name: 'sized-100KB', fn: 'sized', args: [100 << 10, 40], per: 40 },
  { name: 'sized-10MB', fn: 'sized', args: [10 << 20, 4], per: 4 },
];

const SPECIAL = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);

/** Self and inclusive milliseconds by function, package and script. */
function analyse(profile, packageOf) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (n) => {
    const f = n.callFrame;
    if (SPECIAL.has(f.functionName)) return { fn: f.functionName, group: f.functionName };
    // (gqlauth.worker.js?wasm=/gqlauth-syms.wasm is JavaScript: its path decides.)
    if (f.url.startsWith('wasm://') || (f.url && new URL(f.url).pathname.endsWith('.wasm'))) {
      const name = f.functionName.replace(/^\$/, '');
      return { fn: `wasm ${name}`, group: `go ${packageOf(name)}` };
    }
    const file = f.url ? path.basename(new URL(f.url).pathname) : '(native)';
    return { fn: `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`, group: `js ${file}` };
  };
  const labels = new Map(profile.nodes.map((n) => [n.id, label(n)]));
  const self = new Map();
  const group = new Map();
  const inclusive = new Map();
  const groupInclusive = new Map();
  let total = 0;
  let idle = 0;
  const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v);
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    const id = profile.samples[i];
    const l = labels.get(id);
    total += dt;
    if (l.fn === '(idle)') { idle += dt; continue; }
    add(self, l.fn, dt);
    add(group, l.group, dt);
    const seen = new Set();
    const seenGroups = new Set();
    for (let n = id; n !== undefined; n = parent.get(n)) {
      const ln = labels.get(n);
      if (!seen.has(ln.fn)) { seen.add(ln.fn); add(inclusive, ln.fn, dt); }
      if (!seenGroups.has(ln.group)) { seenGroups.add(ln.group); add(groupInclusive, ln.group, dt); }
    }
  }
  const top = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
  return { total, idle, busy: total - idle, self: top(self, 30), group: top(group, 25), inclusive: top(inclusive, 40), groupInclusive: top(groupInclusive, 25), byId };
}

function print(name, which, per, a) {
  const f = (ms) => `${ms.toFixed(1).padStart(8)} ms ${((ms / per) * 1000).toFixed(0).padStart(7)} us/req`;
  const out = [`\n== ${name} / ${which}: ${per} requests, wall ${a.total.toFixed(0)} ms, thread busy ${a.busy.toFixed(0)} ms (${((a.busy / per) * 1000).toFixed(0)} us/request)`];
  out.push('-- self time by group');
  for (const [k, v] of a.group) out.push(`${f(v)}  ${k}`);
  if (which.startsWith('gqlauth')) {
    out.push('-- inclusive time by group');
    for (const [k, v] of a.groupInclusive) out.push(`${f(v)}  ${k}`);
  }
  out.push('-- self time by function');
  for (const [k, v] of a.self.slice(0, 25)) out.push(`${f(v)}  ${k}`);
  if (which.startsWith('gqlauth')) {
    out.push('-- inclusive time by function');
    for (const [k, v] of a.inclusive) out.push(`${f(v)}  ${k}`);
  }
  return out.join('\n');
}

export async function profile() {
  const deps = execFileSync('go', ['list', '-deps', './wasm'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, GOOS: 'js', GOARCH: 'wasm' } }).trim().split('\n');
  const packageOf = packageMatcher(deps);
  const dir = path.join(OUT, 'profiles');
  mkdirSync(dir, { recursive: true });
  const server = await startServer({ staticDirs: [WWW], testHooks: false });
  const browser = await launch('chromium');
  const report = [];
  try {
    const p = await freshPage(browser, `${server.base}/bench.html?wasm=/gqlauth-syms.wasm`, () => window.benchLoaded === true);
    const { page } = p;
    await page.evaluate(() => window.bench.setup());
    const workerOf = (file) => {
      const w = page.workers().find((x) => new URL(x.url()).pathname.endsWith(`/${file}`));
      if (!w) throw new Error(`no worker ${file} in the bench page`);
      return w.client;
    };
    // The threads each client runs on (the plain client in the page has
    // none but the page's).
    const pageThread = await page.createCDPSession();
    const threadsOf = {
      gqlauth: { page: pageThread, worker: workerOf('gqlauth.worker.js') },
      plain: { page: pageThread },
      plainWorker: { page: pageThread, worker: workerOf('plain-worker.js') },
    };
    for (const cdp of new Set(Object.values(threadsOf).flatMap((t) => Object.values(t)))) {
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 100 });
    }
    for (const s of SCENARIOS) {
      for (const which of ['gqlauth', 'plain', 'plainWorker']) {
        const threads = threadsOf[which];
        // A short warm-up: the same call with at most 5 repetitions.
        const warmup = s.fn === 'concurrent' ? s.args : [...s.args.slice(0, -1), Math.min(s.args.at(-1), 5)];
        await page.evaluate((fn, w, a) => window.bench[fn](w, ...a), s.fn, which, warmup);
        for (const cdp of Object.values(threads)) await cdp.send('Profiler.start');
        await page.evaluate((fn, w, a) => window.bench[fn](w, ...a), s.fn, which, s.args);
        for (const [thread, cdp] of Object.entries(threads)) {
          const { profile: prof } = await cdp.send('Profiler.stop');
          writeFileSync(path.join(dir, `${s.name}-${which}-${thread}.cpuprofile`), JSON.stringify(prof));
          const text = print(s.name, `${which} (${thread} thread)`, s.per, analyse(prof, packageOf));
          process.stdout.write(`${text}\n`);
          report.push(text);
        }
      }
    }
    await p.close();
  } finally {
    await browser.close();
    await server.stop();
  }
  writeFileSync(path.join(dir, 'summary.txt'), `${report.join('\n')}\n`);
  process.stdout.write(`\nwrote ${path.relative(ROOT, dir)}/*.cpuprofile and summary.txt\n`);
}
