#!/usr/bin/env node
// gqlauth benchmarks: what an app pays for the module against twenty lines
// of plain JavaScript around fetch, in headless Chromium and Firefox, against
// the reference server on loopback. Run after `make build`:
//
//   node web/test/bench/run.mjs [--browsers chromium,firefox] [--quick] [--profile] [--crossings]
//
// Each throughput benchmark runs three clients in one page, interleaved:
// gqlauth (in its worker), the plain client in the page, and the same plain
// client in a dedicated module worker behind postMessage (plain-worker.js).
// gqlauth / plain-in-page is what the budgets judge; plain-in-worker is the
// limit: plain-in-worker / plain-in-page is what isolation costs at all, and
// gqlauth / plain-in-worker the seam's own cost (worker, Go, protocol).
//
// It builds the floor program (web/test/bench/floor) and a non-stripped copy
// of the module for the size breakdown, serves a snapshot of build/dist and
// the bench pages from one gqlauth-server (so the page and the API share an
// origin and no CORS preflight enters the comparison), prints a table and writes
// build/bench/results.json (the issue's keys) and build/bench/details.json
// (samples, medians, encodings, memory parts, counts).
//
// --quick cuts every count (for working on the runner, not for numbers) and
// writes results.quick.json instead;
// --profile records Chromium CPU profiles of the clients instead of the
// benchmarks (see profile.mjs);
// --crossings counts, instead of the benchmarks, what crosses the seam per
// small fetchWithAuth: calls of each Go export and import (the gojs runtime
// imports of wasm_exec.js and gqlauth.fetch), and messages between page and
// worker each way (crossings-worker.js), and writes build/bench/crossings.json.
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { CHROMIUM_ARGS, DIST, ROOT, startServer } from '../harness.mjs';
import { packageSizes, parseWasm } from './wasmsize.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const OUT = path.join(ROOT, 'build', 'bench');
/** The second static directory: the bench pages, floor.wasm, the symbol build. */
export const WWW = path.join(OUT, 'www');

/** Counts of the full run; --quick divides them. */
const FULL = {
  readyLoads: 20,
  readyWarmup: 2,
  readyPhaseLoads: 8, // more of gqlauth and the floor in a worker, with phase marks (not in the ratio)
  // Small batches, many of them, alternating ABBA: the machine may be busy
  // with other work, and fine interleaving spreads that over both clients.
  warmup: 1000,
  sequentialBatches: 40,
  sequentialBatch: 50, // 40 x 50 = 2000 queries per client
  concurrentRounds: 15,
  concurrent: 200,
  scaling: [
    { key: '1KB', bytes: 1 << 10, rounds: 20, batch: 10 },
    { key: '100KB', bytes: 100 << 10, rounds: 20, batch: 3 },
    { key: '1MB', bytes: 1 << 20, rounds: 20, batch: 1 },
    { key: '10MB', bytes: 10 << 20, rounds: 10, batch: 1 },
  ],
  memoryFirst: 100,
  memoryTotal: 10000,
};

const QUICK = {
  ...FULL,
  readyLoads: 4,
  readyWarmup: 1,
  readyPhaseLoads: 2,
  warmup: 100,
  sequentialBatches: 4,
  concurrentRounds: 3,
  scaling: FULL.scaling.map((s) => ({ ...s, rounds: 2 })),
  memoryTotal: 1000,
};

/**
 * The budgets of issue 18 ("one seam"), checked in every browser: speed as
 * gqlauth / plain JS in the page, start-up as gqlauth / the bare Go program
 * started the same way in a module worker (readyWorkerRatio), the module's
 * brotli size in bytes (650 KB = 650 000), the growth of memory from
 * request 100 to 10 000.
 */
export const BUDGETS = {
  readyWorkerRatio: 1.3,
  sequentialRatio: 1.15,
  concurrentRatio: 1.25,
  '1MB': 1.25,
  '10MB': 1.5,
  brotli: 650e3,
  memoryGrowthBytes: 2 * 1024 * 1024,
};

/** The clients of the throughput benchmarks (bench.js). */
const CLIENTS = ['gqlauth', 'plain', 'plainWorker'];

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const round = (x, digits = 3) => (x === null || x === undefined ? x : Number(x.toFixed(digits)));

function log(...a) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
}

function run(cmd, args, opts = {}) {
  return execFileSync(cmd, args, { cwd: ROOT, encoding: opts.encoding ?? 'utf8', maxBuffer: 64 << 20, ...opts });
}

const goEnv = { ...process.env, GOOS: 'js', GOARCH: 'wasm' };

/**
 * Builds what the bench needs besides `make build`, and lays out WWW, the
 * one directory the server serves: a snapshot of build/dist (so that a
 * `make build` running meanwhile cannot swap the module in the middle of a
 * run), floor.wasm built with the module's release flags, the pages, and a
 * copy of the module with its name section for the size breakdown and for
 * profiles. Pre-compressed siblings are made for the floor and the pages
 * exactly when build/dist has them for the module, so that both are served
 * alike.
 */
export function prepare() {
  const need = ['gqlauth.js', 'gqlauth.worker.js', 'protocol.js', 'gqlauth.wasm', 'wasm_exec.js'].map((f) => path.join(DIST, f));
  const missing = need.filter((f) => !existsSync(f));
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}: run \`make build\` first`);
  mkdirSync(WWW, { recursive: true });
  for (const f of readdirSync(WWW)) {
    if (f !== 'floor.wasm' && f !== 'gqlauth-syms.wasm') rmSync(path.join(WWW, f), { recursive: true, force: true });
  }
  const snapshot = readdirSync(DIST).filter((f) => statSync(path.join(DIST, f)).isFile());
  for (const f of snapshot) {
    const from = path.join(DIST, f);
    const st = statSync(from);
    copyFileSync(from, path.join(WWW, f));
    utimesSync(path.join(WWW, f), st.atime, st.mtime); // the server compares sibling times
  }
  // `make bench` builds floor.wasm first with the same command; go build
  // leaves an up-to-date output alone. The flags are the Makefile's
  // WASM_FLAGS, so that the floor and the module come from one toolchain
  // built one way.
  log('building the floor program and a non-stripped module');
  run('go', ['build', '-trimpath', '-ldflags=-s -w', '-o', path.join(WWW, 'floor.wasm'), './web/test/bench/floor'], { env: goEnv });
  // The name section build comes from the sources as they are now; if they
  // do not build (work in progress), the size breakdown is left out.
  let symbols = null;
  try {
    run('go', ['build', '-trimpath', '-o', path.join(WWW, 'gqlauth-syms.wasm'), './wasm'], { env: goEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    symbols = path.join(WWW, 'gqlauth-syms.wasm');
  } catch (e) {
    rmSync(path.join(WWW, 'gqlauth-syms.wasm'), { force: true });
    log(`./wasm does not build now, so no package breakdown: ${String(e.stderr ?? e.message).trim().split('\n').slice(0, 3).join(' | ')}`);
  }
  const pages = readdirSync(path.join(HERE, 'pages'));
  for (const f of pages) {
    copyFileSync(path.join(HERE, 'pages', f), path.join(WWW, f));
  }
  const encodings = {};
  for (const [distFile, own] of [['gqlauth.wasm', ['floor.wasm']], ['gqlauth.js', pages.filter((f) => f.endsWith('.js'))]]) {
    const original = statSync(path.join(WWW, distFile));
    for (const [suffix, compress] of [['.br', ['brotli', '-q', '11', '-f', '-k']], ['.gz', ['gzip', '-9', '-f', '-k']]]) {
      const sibling = path.join(WWW, distFile + suffix);
      // To the second, as the server compares: brotli copies whole seconds.
      const fresh = existsSync(sibling) && statSync(sibling).mtimeMs >= Math.floor(original.mtimeMs / 1000) * 1000;
      encodings[distFile + suffix] = fresh;
      if (!fresh) continue;
      for (const f of own) run(compress[0], [...compress.slice(1), path.join(WWW, f)]);
    }
  }
  return { encodings, symbols };
}

/**
 * raw, gzip -9, brotli -q 11 of the shipped module; code bytes by package
 * from the symbol build when there is one.
 */
export function sizes(symbols) {
  const wasm = path.join(WWW, 'gqlauth.wasm');
  const compressed = (file, cmd) => Number(run('bash', ['-c', `${cmd} < "$0" | wc -c`, file]).trim());
  const shipped = parseWasm(readFileSync(wasm));
  const section = (n) => shipped.sections.filter((s) => s.name === n).reduce((a, s) => a + s.size, 0);
  const floor = path.join(WWW, 'floor.wasm');
  const details = {
    sections: Object.fromEntries(shipped.sections.map((s) => [s.name, s.size])),
    codeBytes: section('code'),
    dataBytes: section('data'),
    floor: { raw: statSync(floor).size, brotli: compressed(floor, 'brotli -q 11 -c') },
  };
  let packages = [];
  if (symbols) {
    const deps = run('go', ['list', '-deps', './wasm'], { env: goEnv }).trim().split('\n');
    const syms = packageSizes(readFileSync(symbols), deps);
    packages = syms.packages.slice(0, 20);
    details.symbolBuildCodeBytes = syms.code;
    details.allPackages = syms.packages;
    if (Math.abs(syms.code - details.codeBytes) > details.codeBytes * 0.01) {
      details.packagesWarning = 'the sources changed since `make build`: the package breakdown is of the current sources';
      log(`warning: ${details.packagesWarning}`);
    }
  } else {
    details.packagesWarning = './wasm did not build when the bench ran: no package breakdown';
  }
  return {
    size: { raw: statSync(wasm).size, gzip: compressed(wasm, 'gzip -9 -c'), brotli: compressed(wasm, 'brotli -q 11 -c'), packages },
    details,
  };
}

/** Launches one browser headless with a fresh profile. */
export async function launch(name) {
  const profile = mkdtempSync(path.join(tmpdir(), `gqlauth-bench-${name}-`));
  const opts = name === 'firefox'
    ? { browser: 'firefox', executablePath: '/usr/bin/firefox-esr', headless: true, userDataDir: profile }
    : { executablePath: '/usr/bin/chromium', headless: true, userDataDir: profile, args: CHROMIUM_ARGS };
  // networkEnabled: false keeps Puppeteer from following every request
  // (CDP Network domain, BiDi network events): that bookkeeping costs the
  // browser about as much per request as the request itself, which would
  // pull every ratio towards 1.
  const browser = await puppeteer.launch({ ...opts, protocolTimeout: 300000, networkEnabled: false });
  const close = browser.close.bind(browser);
  browser.close = async () => {
    try { await close(); } finally { rmSync(profile, { recursive: true, force: true }); }
  };
  return browser;
}

/** A page in a fresh browser context (empty cache), loaded with url. */
export async function freshPage(browser, url, ready) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(120000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e?.message ?? e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(url, { waitUntil: 'load' });
  try {
    await page.waitForFunction(ready, { timeout: 60000, polling: 10 });
  } catch (e) {
    throw new Error(`${url} did not get ready: ${e.message}\n${errors.join('\n')}`);
  }
  return { page, context, errors, close: () => context.close().catch(() => {}) };
}

/** One load of ready.html?target=...; the page's own measurement. */
async function readyOnce(browser, base, target, phases = false) {
  const p = await freshPage(browser, `${base}/ready.html?target=${target}${phases ? '&phases=1' : ''}`, () => window.benchReady !== undefined);
  try {
    const r = await p.page.evaluate(() => window.benchReady);
    if (r.error) throw new Error(`${target}: ${r.error}`);
    return r;
  } finally {
    await p.close();
  }
}

/**
 * Readiness: createClient resolved (worker start, module fetch and compile,
 * Go start, the first client opened) against the bare Go program started
 * the same way (floor.js) in a module worker (readyWorkerRatio, the
 * budget's) and in the page (readyRatio): a fresh page per load, the three
 * in turns, medians.
 */
async function measureReady(browser, base, counts) {
  const targets = ['floor', 'floor-worker', 'gqlauth'];
  const samples = Object.fromEntries(targets.map((x) => [x, []]));
  const phases = Object.fromEntries(targets.map((x) => [x, []]));
  const wasm = {};
  for (let i = 0; i < counts.readyWarmup + counts.readyLoads; i++) {
    const order = targets.map((_, j) => targets[(i + j) % targets.length]);
    for (const target of order) {
      const r = await readyOnce(browser, base, target);
      if (i >= counts.readyWarmup) {
        samples[target].push(r.ms);
        phases[target].push(r.phases);
      }
      wasm[target] = r.wasm;
    }
  }
  const readyMs = median(samples.gqlauth);
  const readyFloorMs = median(samples.floor);
  const readyFloorWorkerMs = median(samples['floor-worker']);
  const mediansOf = (ps) => Object.fromEntries(Object.keys(ps[0]).map((k) => [k, round(median(ps.map((p) => p[k])), 1)]));
  const phaseMedians = Object.fromEntries(Object.entries(phases).map(([t, ps]) => [t, mediansOf(ps)]));
  // Where the time goes inside the workers: separate loads, with marks.
  const inWorker = { 'floor-worker': [], gqlauth: [] };
  for (let i = 0; i < counts.readyPhaseLoads; i++) {
    for (const target of i % 2 === 0 ? ['floor-worker', 'gqlauth'] : ['gqlauth', 'floor-worker']) {
      inWorker[target].push((await readyOnce(browser, base, target, true)).phases);
    }
  }
  const workerPhaseMedians = Object.fromEntries(Object.entries(inWorker).map(([t, ps]) => [t, mediansOf(ps)]));
  return {
    readyMs, readyFloorMs, readyFloorWorkerMs,
    readyRatio: readyMs / readyFloorMs, readyWorkerRatio: readyMs / readyFloorWorkerMs,
    phaseMedians, workerPhaseMedians, workerPhaseSamples: inWorker, samples, wasm,
  };
}

/** The orders of the clients, round by round: every client in every place equally often. */
const ORDERS = [[0, 1, 2], [2, 1, 0], [1, 2, 0], [0, 2, 1], [2, 0, 1], [1, 0, 2]];

/** Runs fn(client) for every client `rounds` times, in the orders of ORDERS. */
async function interleaved(rounds, fn) {
  const out = Object.fromEntries(CLIENTS.map((c) => [c, []]));
  for (let r = 0; r < rounds; r++) {
    for (const i of ORDERS[r % ORDERS.length]) out[CLIENTS[i]].push(await fn(CLIENTS[i]));
  }
  return out;
}

/** median(s[a]) / median(s[b]): gqlauth against plain JS in the page by default. */
const ratioOf = (s, a = 'gqlauth', b = 'plain') => median(s[a]) / median(s[b]);

async function measureThroughput(browser, base, counts) {
  const p = await freshPage(browser, `${base}/bench.html`, () => window.benchLoaded === true);
  const { page } = p;
  try {
    await page.evaluate(() => window.bench.setup());
    const call = (fn, ...args) => page.evaluate((f, a) => window.bench[f](...a), fn, args);

    log('  sequential');
    // Warm-up, long enough for the engines to finish optimizing the module
    // (V8 tiers hot wasm functions up as they run): 50 queries left
    // gqlauth's first batches 0.3-0.5 ms slower than its later ones.
    await interleaved(1, (w) => call('sequential', w, counts.warmup));
    const sequential = await interleaved(counts.sequentialBatches, (w) => call('sequential', w, counts.sequentialBatch));

    log('  concurrent');
    await interleaved(1, (w) => call('concurrent', w, counts.concurrent));
    const concurrent = await interleaved(counts.concurrentRounds, (w) => call('concurrent', w, counts.concurrent));

    const scaling = {};
    for (const s of counts.scaling) {
      log(`  scaling ${s.key}`);
      await interleaved(1, (w) => call('sized', w, s.bytes, 1));
      scaling[s.key] = await interleaved(s.rounds, (w) => call('sized', w, s.bytes, s.batch));
    }
    if (p.errors.length) log(`  page reported: ${p.errors.join(' | ')}`);
    return { sequential, concurrent, scaling };
  } finally {
    await p.close();
  }
}

/**
 * Memory after `first` and after `total` requests by one client, in a fresh
 * page: the Go instance's WebAssembly memory and, in Chromium, the V8 heap
 * after a forced garbage collection (CDP). Firefox offers a page neither a
 * heap size nor a way to collect garbage, so there only wasm memory counts.
 */
async function measureMemory(browser, browserName, base, counts, which) {
  const p = await freshPage(browser, `${base}/bench.html?worker=bench`, () => window.benchLoaded === true);
  const { page } = p;
  try {
    await page.evaluate(() => window.bench.setup());
    const cdp = browserName === 'chromium' ? await page.createCDPSession() : null;
    const snapshot = async () => {
      await page.evaluate(() => window.bench.settle(300));
      let heap = null;
      if (cdp) {
        await cdp.send('HeapProfiler.collectGarbage');
        await cdp.send('HeapProfiler.collectGarbage');
        const u = await cdp.send('Runtime.getHeapUsage');
        heap = { used: u.usedSize, embedder: u.embedderHeapUsedSize ?? null };
      }
      const m = await page.evaluate(() => window.bench.memory());
      return { wasmBytes: m.wasmBytes, jsHeapBytes: heap?.used ?? null, embedderHeapBytes: heap?.embedder ?? null, performanceMemory: m.performanceMemory };
    };
    await page.evaluate((w, n) => window.bench.load(w, n, 1), which, counts.memoryFirst);
    const after100 = await snapshot();
    await page.evaluate((w, n) => window.bench.load(w, n, 4), which, counts.memoryTotal - counts.memoryFirst);
    const after10k = await snapshot();
    const wasmGrowth = (after10k.wasmBytes ?? 0) - (after100.wasmBytes ?? 0);
    const heapGrowth = after10k.jsHeapBytes === null ? null : after10k.jsHeapBytes - after100.jsHeapBytes;
    return { after100, after10k, wasmGrowth, heapGrowth, growth: wasmGrowth + (heapGrowth ?? 0) };
  } finally {
    await p.close();
  }
}

async function benchBrowser(name, base, counts) {
  log(`${name}: launching`);
  const browser = await launch(name);
  try {
    const version = await browser.version();
    log(`${name} ${version}: memory (gqlauth, then plain for reference)`);
    const memory = await measureMemory(browser, name, base, counts, 'gqlauth');
    const memoryPlain = await measureMemory(browser, name, base, counts, 'plain');
    log(`${name}: ready (${counts.readyLoads} loads each after ${counts.readyWarmup} warm-up)`);
    const ready = await measureReady(browser, base, counts);
    log(`${name}: throughput`);
    const t = await measureThroughput(browser, base, counts);
    // Ratios: gqlauth / plain in the page (the budgets'), plain in a worker /
    // plain in the page (isolation), gqlauth / plain in a worker (the seam).
    const ratios = (f) => ({
      [`${f}Ratio`]: round(ratioOf(t[f])),
      [`${f}PlainWorkerRatio`]: round(ratioOf(t[f], 'plainWorker', 'plain')),
      [`${f}SeamRatio`]: round(ratioOf(t[f], 'gqlauth', 'plainWorker')),
    });
    const scalingBy = (a, b) => Object.fromEntries(Object.entries(t.scaling).map(([k, s]) => [k, round(ratioOf(s, a, b))]));
    const mediansOf = (s) => Object.fromEntries(CLIENTS.map((c) => [c, round(median(s[c]))]));
    const result = {
      readyMs: round(ready.readyMs, 1),
      readyFloorMs: round(ready.readyFloorMs, 1),
      readyFloorWorkerMs: round(ready.readyFloorWorkerMs, 1),
      readyRatio: round(ready.readyRatio),
      readyWorkerRatio: round(ready.readyWorkerRatio),
      // Medians of separate loads with marks inside the worker, ms: importing
      // gqlauth.js, starting the worker and loading its scripts, until
      // instantiate (gqlauth: the first message; the .wasm response's head),
      // fetching and compiling, go.run, the rest (gqlauth: the first open).
      readyPhases: { gqlauth: ready.workerPhaseMedians.gqlauth, floorWorker: ready.workerPhaseMedians['floor-worker'] },
      ...ratios('sequential'),
      ...ratios('concurrent'),
      scaling: scalingBy('gqlauth', 'plain'),
      scalingPlainWorker: scalingBy('plainWorker', 'plain'),
      scalingSeam: scalingBy('gqlauth', 'plainWorker'),
      memoryGrowthBytes: memory.growth,
      // Medians by client: ms per query (sequential, scaling), ms per batch of
      // 200 (concurrent).
      ms: {
        sequential: mediansOf(t.sequential),
        concurrent: mediansOf(t.concurrent),
        scaling: Object.fromEntries(Object.entries(t.scaling).map(([k, s]) => [k, mediansOf(s)])),
      },
    };
    result.pass = passes(result);
    // pairedRatio: the median of gqlauth/plain within each round, a check on
    // the ratio of medians that is less sensitive to load drifting over time.
    const paired = (s, a, b) => round(median(s[a].map((g, i) => g / s[b][i])));
    const medians = (s) => ({
      ...mediansOf(s),
      pairedRatio: paired(s, 'gqlauth', 'plain'),
      pairedPlainWorkerRatio: paired(s, 'plainWorker', 'plain'),
      pairedSeamRatio: paired(s, 'gqlauth', 'plainWorker'),
    });
    const details = {
      version,
      ready,
      sequential: { unit: 'ms per query (mean of a batch)', medians: medians(t.sequential), samples: t.sequential },
      concurrent: { unit: 'ms for the batch', medians: medians(t.concurrent), samples: t.concurrent },
      scaling: Object.fromEntries(Object.entries(t.scaling).map(([k, s]) => [k, { unit: 'ms per query', medians: medians(s), samples: s }])),
      memory: { gqlauth: memory, plain: memoryPlain, jsHeapMeasured: name === 'chromium' },
    };
    return { result, details };
  } finally {
    await browser.close();
  }
}

const fmtBytes = (n) => (n === null || n === undefined ? '-' : `${(n / 1e6).toFixed(3)} MB`);
const fmtKiB = (n) => (n === null || n === undefined ? '-' : `${(n / 1024).toFixed(0)} KiB`);
const fmtX = (v) => (v === null || v === undefined ? '-' : `${v.toFixed(2)}x`);
const fmtMs = (v) => (v === null || v === undefined ? '-' : v < 10 ? `${v.toFixed(2)} ms` : `${v.toFixed(1)} ms`);
const mark = (ok) => (ok === undefined ? '' : ok ? 'ok' : 'MISS');

/** Each budget of one browser's results: true when met. */
export function passes(r) {
  return {
    readyWorkerRatio: r.readyWorkerRatio <= BUDGETS.readyWorkerRatio,
    sequentialRatio: r.sequentialRatio <= BUDGETS.sequentialRatio,
    concurrentRatio: r.concurrentRatio <= BUDGETS.concurrentRatio,
    '1MB': r.scaling['1MB'] <= BUDGETS['1MB'],
    '10MB': r.scaling['10MB'] <= BUDGETS['10MB'],
    memoryGrowthBytes: r.memoryGrowthBytes <= BUDGETS.memoryGrowthBytes,
  };
}

/** Rows of cells as text columns, the first row a heading underlined. */
function grid(rows, indent = '  ') {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i] ?? '').length)));
  const line = (r) => indent + r.map((c, i) => String(c ?? '')[i === 0 ? 'padEnd' : 'padStart'](widths[i])).join('  ').trimEnd();
  return [line(rows[0]), line(widths.map((w) => '-'.repeat(w))), ...rows.slice(1).map(line)];
}

/** One browser's results: the three clients, the ratios, each budget. */
function browserTable(name, r, version, counts) {
  const out = [`${name}${version ? ` (${version})` : ''}`];
  const speed = [['throughput', 'gqlauth', 'plain JS in page', 'plain JS in worker', 'gqlauth/page', 'budget', 'pass', 'worker/page', 'gqlauth/worker']];
  const speedRow = (label, ms, ratio, workerRatio, seamRatio, budgetKey) => speed.push([
    label, fmtMs(ms?.gqlauth), fmtMs(ms?.plain), fmtMs(ms?.plainWorker), fmtX(ratio),
    BUDGETS[budgetKey] ? `<= ${BUDGETS[budgetKey]}x` : '', mark(budgetKey ? r.pass?.[budgetKey] : undefined),
    fmtX(workerRatio), fmtX(seamRatio)]);
  speedRow('sequential small, per query', r.ms?.sequential, r.sequentialRatio, r.sequentialPlainWorkerRatio, r.sequentialSeamRatio, 'sequentialRatio');
  speedRow('200 concurrent, per batch', r.ms?.concurrent, r.concurrentRatio, r.concurrentPlainWorkerRatio, r.concurrentSeamRatio, 'concurrentRatio');
  for (const k of Object.keys(r.scaling)) {
    speedRow(`${k} answer, per query`, r.ms?.scaling?.[k], r.scaling[k], r.scalingPlainWorker?.[k], r.scalingSeam?.[k], BUDGETS[k] ? k : undefined);
  }
  out.push(...grid(speed));
  out.push('');
  out.push(...grid([
    ['start-up (createClient resolved)', 'gqlauth', 'floor in worker', 'floor in page', 'gqlauth/floor in worker', 'budget', 'pass', 'gqlauth/floor in page'],
    ['ready, median of fresh pages', fmtMs(r.readyMs), fmtMs(r.readyFloorWorkerMs), fmtMs(r.readyFloorMs), fmtX(r.readyWorkerRatio),
      `<= ${BUDGETS.readyWorkerRatio}x`, mark(r.pass?.readyWorkerRatio), fmtX(r.readyRatio)],
  ]));
  if (r.readyPhases) {
    const phaseNames = [['pageScripts', 'gqlauth.js import'], ['workerScripts', 'worker start+scripts'], ['untilInstantiate', 'until instantiate'],
      ['fetchAndCompile', 'fetch+compile'], ['goStart', 'go.run'], ['rest', 'rest']];
    const phaseRow = (label, p) => [label, ...phaseNames.map(([k]) => fmtMs(p?.[k]))];
    out.push('  where start-up goes (separate loads with marks in the worker, medians):');
    out.push(...grid([['phase', ...phaseNames.map(([, n]) => n)],
      phaseRow('gqlauth', r.readyPhases.gqlauth), phaseRow('floor in worker', r.readyPhases.floorWorker)], '    '));
  }
  out.push('');
  out.push(...grid([
    ['memory', 'gqlauth', 'budget', 'pass'],
    [`growth from request ${counts.memoryFirst} to ${counts.memoryTotal}`, fmtKiB(r.memoryGrowthBytes), `<= ${fmtKiB(BUDGETS.memoryGrowthBytes)}`, mark(r.pass?.memoryGrowthBytes)],
  ]));
  return out;
}

/** The results as text: a table per browser, then the module's size. */
export function table(results, note = '', versions = {}, counts = FULL) {
  const out = [];
  for (const b of ['chromium', 'firefox'].filter((x) => results[x])) {
    out.push(...browserTable(b, results[b], versions[b], counts), '');
  }
  const s = results.size;
  out.push(...grid([
    ['module size', 'raw', 'gzip -9', 'brotli -q 11', 'budget (brotli)', 'pass'],
    ['gqlauth.wasm', fmtBytes(s.raw), fmtBytes(s.gzip), fmtBytes(s.brotli), `<= ${fmtBytes(BUDGETS.brotli)}`, mark(s.brotli <= BUDGETS.brotli)],
  ], ''));
  const pkgs = s.packages.slice(0, 12).map((p) => `  ${String(p.bytes).padStart(9)}  ${p.name}`);
  const pkgHead = pkgs.length > 0
    ? `largest packages (code bytes, from the name section of a non-stripped build)${note ? ` - ${note}` : ''}:`
    : 'no package breakdown: ./wasm did not build when the bench ran';
  return [...out, '', pkgHead, ...pkgs].join('\n');
}

/** The queries of a crossings count, after WARMUP more. */
const CROSSINGS = { queries: 100, warmup: 20 };

/**
 * Counts what crosses the seam per small fetchWithAuth, in each browser:
 * a page whose gqlauth worker is crossings-worker.js sends CROSSINGS.queries
 * small queries one after another, then as many at once; the worker's
 * counters are reset before and read after each run. Also counts start-up
 * and login, once. Prints a table and writes build/bench/crossings.json.
 */
async function crossings(browsers) {
  const server = await startServer({ staticDirs: [WWW], testHooks: false });
  const out = {};
  try {
    for (const name of browsers) {
      log(`${name}: crossings of ${CROSSINGS.queries} small queries`);
      const browser = await launch(name);
      try {
        const p = await freshPage(browser, `${server.base}/bench.html?worker=crossings`, () => window.benchLoaded === true);
        const { page } = p;
        const call = (fn, ...args) => page.evaluate((f, a) => window.bench[f](...a), fn, args);
        await call('setup');
        await call('settle', 200);
        const startup = await call('crossings', 'read');
        await call('sequential', 'gqlauth', CROSSINGS.warmup);
        const runs = { startup };
        for (const fn of ['sequential', 'concurrent']) {
          await call('settle', 200);
          await call('crossings', 'reset');
          await call(fn, 'gqlauth', CROSSINGS.queries);
          await call('settle', 200);
          runs[fn] = await call('crossings', 'read');
        }
        if (p.errors.length) log(`  page reported: ${p.errors.join(' | ')}`);
        await p.close();
        out[name] = { version: await browser.version(), queries: CROSSINGS.queries, ...runs };
      } finally {
        await browser.close();
      }
    }
  } finally {
    await server.stop();
  }
  writeFileSync(path.join(OUT, 'crossings.json'), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${crossingsTable(out)}\n\nwrote ${path.relative(ROOT, path.join(OUT, 'crossings.json'))}\n`);
}

/** The crossings as text: calls per query by name, a column per browser and run. */
export function crossingsTable(out) {
  const browsers = Object.keys(out);
  const runs = ['sequential', 'concurrent'];
  const columns = browsers.flatMap((b) => runs.map((r) => ({ b, r })));
  const per = (b, r, v) => (v ? (v / out[b].queries).toFixed(2).replace(/\.?0+$/, '') : '');
  const names = (get) => [...new Set([...columns.map(({ b, r }) => out[b][r]), ...browsers.map((b) => out[b].startup)]
    .flatMap((c) => Object.keys(get(c))))].sort();
  const rows = [['per small fetchWithAuth', ...columns.map(({ b, r }) => `${b} ${r === 'sequential' ? 'one by one' : `${out[b].queries} at once`}`),
    ...browsers.map((b) => `${b} start+login`)]];
  const section = (title, get, total) => {
    rows.push([title, ...columns.map(() => ''), ...browsers.map(() => '')]);
    for (const n of names(get)) {
      rows.push([`  ${n}`, ...columns.map(({ b, r }) => per(b, r, get(out[b][r])[n])), ...browsers.map((b) => String(get(out[b].startup)[n] ?? ''))]);
    }
    if (!total) return;
    const sum = (c) => Object.values(get(c)).reduce((a, v) => a + v, 0);
    rows.push([`  ${total}`, ...columns.map(({ b, r }) => per(b, r, sum(out[b][r])) || '0'), ...browsers.map((b) => String(sum(out[b].startup)))]);
  };
  section('exports called (JS -> Go)', (c) => c.exports, 'all exports');
  section('imports called (Go -> JS)', (c) => c.imports, 'all imports');
  section('all crossings of the wasm boundary', (c) => ({ exports: sumOf(c.exports), imports: sumOf(c.imports) }), 'exports and imports');
  section('page -> worker (postMessage calls; records in them by op)', (c) => ({ postMessage: c.received.messages, ...prefixed(c.received.records) }));
  section('worker -> page (postMessage calls; records in them by kind)', (c) => ({ postMessage: c.posted.messages, ...prefixed(c.posted.records) }));
  return [`crossings: calls per query over ${Object.values(out)[0]?.queries} small queries (start+login: totals, once)`, ...grid(rows, '')].join('\n');
}

const sumOf = (m) => Object.values(m).reduce((a, v) => a + v, 0);
const prefixed = (records) => Object.fromEntries(Object.entries(records).map(([k, v]) => [`record ${k}`, v]));

function parseArgs(argv) {
  const o = { browsers: ['chromium', 'firefox'], quick: false, profile: false, crossings: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') o.quick = true;
    else if (a === '--profile') o.profile = true;
    else if (a === '--crossings') o.crossings = true;
    else if (a === '--browsers') o.browsers = argv[++i].split(',').map((s) => s.trim()).filter(Boolean);
    else if (a.startsWith('--browsers=')) o.browsers = a.slice(11).split(',').filter(Boolean);
    else throw new Error(`unknown argument ${a}; use --browsers chromium,firefox, --quick, --profile or --crossings`);
  }
  for (const b of o.browsers) {
    if (b !== 'chromium' && b !== 'firefox') throw new Error(`unknown browser ${b}`);
  }
  return o;
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  mkdirSync(OUT, { recursive: true });
  const prepared = prepare();
  if (opts.profile) {
    if (!prepared.symbols) throw new Error('--profile needs ./wasm to build (for the names of wasm functions)');
    const { profile } = await import('./profile.mjs');
    await profile();
    return;
  }
  if (opts.crossings) {
    await crossings(opts.browsers);
    return;
  }
  const counts = opts.quick ? QUICK : FULL;
  log('sizes');
  const sz = sizes(prepared.symbols);
  const server = await startServer({ staticDirs: [WWW], testHooks: false });
  log(`server ${server.base} serves ${path.relative(ROOT, WWW)} (a snapshot of ${path.relative(ROOT, DIST)} and the bench pages); the API is same-origin`);
  const results = { size: { ...sz.size, pass: { brotli: sz.size.brotli <= BUDGETS.brotli } } };
  const details = { counts, quick: opts.quick, precompressedSiblings: prepared.encodings, size: sz.details, browsers: {} };
  try {
    for (const b of opts.browsers) {
      const { result, details: d } = await benchBrowser(b, server.base, counts);
      results[b] = result;
      details.browsers[b] = d;
    }
  } finally {
    await server.stop();
  }
  details.elapsedSeconds = Math.round((Date.now() - started) / 1000);
  // A --quick run never replaces the results of a full one.
  const suffix = opts.quick ? '.quick' : '';
  const resultsFile = path.join(OUT, `results${suffix}.json`);
  writeFileSync(resultsFile, `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(path.join(OUT, `details${suffix}.json`), `${JSON.stringify(details, null, 2)}\n`);
  process.stdout.write(`${table(results, details.size.packagesWarning, Object.fromEntries(Object.entries(details.browsers).map(([b, d]) => [b, d.version])), counts)}\n\nwrote ${path.relative(ROOT, resultsFile)} and details${suffix}.json in ${details.elapsedSeconds}s${opts.quick ? ' (--quick: counts cut, numbers not comparable)' : ''}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}
