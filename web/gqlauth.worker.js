// gqlauth, the worker side: runs the Go module and serves pages over
// MessagePorts (protocol.js). The token and the password exist only in this
// realm: the module builds every request, and this file's fetch binding is
// the only JavaScript that touches one, on its way into the Authorization
// header and out of the answer. What goes back to a port is results,
// errors and token events, never a token.
//
// It runs three ways: as a dedicated module Worker named "gqlauth", as a
// SharedWorker of that name whose tabs share one session per endpoint
// (share: 'tabs'), and in-process (inside a Web Worker, or in Node), where
// gqlauth.js calls serve() over a MessageChannel.
//
// The seam with Go (wasm/seam). Each call's record is JSON text the page
// wrote; it goes into Go memory (inbox) and Go's export for the operation
// takes it; every export answers with an output record (events, replies,
// heads, stops, warnings, wakes) that route() delivers. Go asks for
// requests through one import, fetch, whose binding answers later, from
// promise callbacks only (an export is never re-entered), with head, chunk
// and end. Timeouts are the binding's AbortSignal; timers for the token's
// expiry and the keep-alive are this file's setTimeout, on Go's word.
import './wasm_exec.js';
import { KIND, OP, WORKER_NAME } from './protocol.js';

// Built-ins, taken when this file loads.
const fetchAtLoad = globalThis.fetch;
const AbortControllerClass = globalThis.AbortController;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const { parse, stringify } = JSON;

/** How many clients one port may open, and the worker hold in all. */
export const MAX_CLIENTS_PER_PORT = 16;
export const MAX_CLIENTS = 256;
const MAX_RECORD = 32 << 20; // seam.MaxRecord
const CHUNK = 64 << 10;
const EVENT_WAIT_MS = 5; // how long events alone wait for an answer to ride with
const FAILURE = { network: 1, timeout: 2, aborted: 3, tooLarge: 4 }; // seam.Failure
const CAUSE = { expiry: 0, keepAlive: -1, remote: -2 }; // client.Cause
const REFUSED = { tooLong: 0, notBytes: 1 }; // seam.Refusal

let module = null; // Promise<Module>
const ports = new Set();
const shared = new Map(); // endpoint -> handle of the session the ports share
const attached = new Map(); // handle -> Set<Port> using it
const calls = new Map(); // call -> {port, id, pieces, passed, controller}
let lastCall = 0;
let lastPort = 0;

/** Serves the protocol on port. The module is wasmURL, else the one beside this file. */
export function serve(port, wasmURL) {
  const p = new Port(port, wasmURL);
  ports.add(p);
  port.addEventListener('message', (e) => p.receive(e.data));
  port.start?.();
  return p;
}

class Port {
  #port;
  #outbox = [];
  #transfer = [];
  #urgent = false; // the outbox holds more than events and warnings
  #later = null; // the timer that sends events and warnings alone
  id = ++lastPort; // the cause its calls give the module
  tab = null;
  clients = new Set();
  calls = new Map(); // request id -> call

  constructor(port, wasmURL) { this.#port = port; this.wasmURL = wasmURL; }

  causeOf(cause) {
    return cause === this.id ? 'local' : cause === CAUSE.expiry ? 'expiry' : cause === CAUSE.keepAlive ? 'keep-alive' : 'remote';
  }

  post(message, transfer) {
    this.#outbox.push(message);
    if (transfer) this.#transfer.push(transfer);
    if (message.kind !== KIND.event && message.kind !== KIND.warning) this.#urgent = true;
  }

  // Sends what is waiting as one message. Events and warnings alone wait a
  // few milliseconds: a query's rotation then rides with its answer.
  flush() {
    if (this.#outbox.length === 0) return;
    if (!this.#urgent) {
      this.#later ??= setTimeout(() => { this.#urgent = true; this.flush(); }, EVENT_WAIT_MS);
      return;
    }
    clearTimeout(this.#later);
    this.#later = null;
    this.#urgent = false;
    const batch = this.#outbox.length === 1 ? this.#outbox[0] : this.#outbox;
    const transfer = this.#transfer;
    this.#outbox = [];
    this.#transfer = [];
    this.#port.postMessage(batch, transfer);
  }

  async receive(msg) {
    const { op, id } = msg ?? {};
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return;
    try {
      if (op === OP.abort) return calls.get(this.calls.get(id))?.controller?.abort(FAILURE.aborted);
      const m = await loadModule(this.wasmURL);
      if (op === OP.open) m.open(this, id, msg);
      else if (op === OP.login || op === OP.fetchWithAuth || op === OP.fetch || op === OP.logout || op === OP.close) {
        m.call(this, id, op, this.clients.has(msg.client) ? msg.client : 0, msg);
      } else {
        this.post(failure(id, 'INVALID_ARGUMENT', `gqlauth: unknown operation ${String(op).slice(0, 40)}`));
      }
    } catch (e) {
      this.post(failure(id, e?.code ?? 'INTERNAL', String(e?.message ?? e)));
    }
    this.flush();
  }

  // Watches the page's tab through the Web Lock it holds for its life: the
  // lock is granted here once the tab is gone, or another script took it.
  nameTab(tab) {
    if (this.tab !== null || typeof SharedWorkerGlobalScope !== 'function' || !globalThis.navigator?.locks) return;
    this.tab = tab;
    navigator.locks.request(`gqlauth-tab:${tab}`, () => this.gone()).catch(() => {});
  }

  async gone() {
    ports.delete(this);
    const m = await module?.catch(() => null);
    for (const h of [...this.clients]) m?.letGo(this, h);
    this.post({ kind: KIND.fatal, message: 'gqlauth: this tab was let go of the shared session (its lock was taken); create a new client', cause: 'remote' });
    this.flush();
  }
}

function failure(id, code, message) {
  return { kind: KIND.reply, id, ok: false, error: { code, message } };
}

/** The module instance: its exports, and the routing of what they answer. */
class Module {
  constructor(instance) {
    this.ex = instance.exports;
    this.timers = new Map(); // handle -> its Tick timer
  }

  // Writes text as UTF-8 into Go memory, then extra's bytes after it: the
  // text's length, or -1 if the two are too long to take.
  write(text, extra) {
    const data = text.length * 3 <= MAX_RECORD ? null : encoder.encode(text);
    const room = (data ? data.length : text.length * 3) + (extra?.length ?? 0);
    if (room > MAX_RECORD) return -1;
    if (room === 0) return 0;
    const at = this.ex.inbox(room); // may grow the memory: its buffer is read after
    const into = new Uint8Array(this.ex.mem.buffer, at, room);
    const n = data ? (into.set(data), data.length) : encoder.encodeInto(text, into).written;
    if (extra) into.set(extra, n);
    return n;
  }

  // Runs an export and delivers what it answers.
  run(n) {
    if (n > 0) this.route(parse(decoder.decode(new Uint8Array(this.ex.mem.buffer, this.ex.output(), n))));
    this.flushAll();
  }

  open(port, id, msg) {
    let key = null;
    if (msg.share === true) {
      try { key = new URL(parse(msg.options).endpoint).href; } catch { /* Go says what is wrong */ }
      if (typeof msg.tab === 'string') port.nameTab(msg.tab.slice(0, 64));
    }
    const have = shared.get(key);
    if (port.clients.size >= MAX_CLIENTS_PER_PORT) {
      throw { code: 'INVALID_ARGUMENT', message: `gqlauth: a page may open at most ${MAX_CLIENTS_PER_PORT} clients at once; close() the ones it no longer uses` };
    }
    if (have === undefined && attached.size >= MAX_CLIENTS) {
      throw { code: 'INVALID_ARGUMENT', message: `gqlauth: the gqlauth worker holds at most ${MAX_CLIENTS} clients at once` };
    }
    if (have !== undefined) {
      this.attach(port, have);
      return port.post({ kind: KIND.reply, id, ok: true, value: { client: have }, state: this.state(have) });
    }
    const call = ++lastCall;
    calls.set(call, { port, id, open: key });
    const n = this.write(typeof msg.options === 'string' ? msg.options : '');
    this.run(n < 0 ? this.ex.refuse(call, REFUSED.tooLong) : this.ex.open(call, n));
  }

  attach(port, h) {
    port.clients.add(h);
    if (!attached.has(h)) attached.set(h, new Set());
    attached.get(h).add(port);
  }

  state(h) {
    const at = this.ex.tokenExpiresAt(h);
    return { expiresAt: at < 0 ? null : at, expiresIn: this.ex.tokenExpiresIn(h), usableFor: this.ex.tokenUsableFor(h) };
  }

  call(port, id, op, h, msg) {
    if (op === OP.close && (attached.get(h)?.size ?? 0) > 1) { // others share the session
      this.letGo(port, h);
      return port.post({ kind: KIND.reply, id, ok: true, state: this.state(0) });
    }
    const call = ++lastCall;
    calls.set(call, { port, id, pieces: [], passed: false });
    port.calls.set(id, call);
    const cause = op === OP.logout && msg.remote === true ? CAUSE.remote : port.id;
    if (op === OP.logout) return this.run(this.ex.logout(call, h, cause));
    if (op === OP.close) {
      this.run(this.ex.close(call, h, cause)); // its logout event goes out first
      return this.detach(port, h);
    }
    const body = op === OP.fetch ? msg.body : undefined;
    if (body !== undefined && !(body instanceof Uint8Array)) return this.run(this.ex.refuse(call, REFUSED.notBytes));
    const n = this.write(typeof msg.record === 'string' ? msg.record : '', body);
    this.run(n < 0 ? this.ex.refuse(call, REFUSED.tooLong) : this.ex[op](call, h, cause, n, body?.length ?? 0));
  }

  // The port stops using client h, and hears no more of it.
  detach(port, h) {
    port.clients.delete(h);
    const users = attached.get(h);
    users?.delete(port);
    if (users?.size) return false;
    attached.delete(h);
    for (const [key, have] of shared) if (have === h) shared.delete(key);
    return true;
  }

  // The port stops using client h; the last to stop closes it.
  letGo(port, h) {
    if (!this.detach(port, h)) return;
    const call = ++lastCall;
    calls.set(call, { port: null });
    this.run(this.ex.close(call, h, port.id));
  }

  route({ events = [], replies = [], heads = [], stops = [], warnings = [], wakes = [] }) {
    for (const e of events) {
      for (const p of attached.get(e.client) ?? []) {
        p.post({ kind: KIND.event, client: e.client, reason: e.reason, cause: p.causeOf(e.cause), state: stateOf(e) });
      }
    }
    for (const h of heads) {
      const c = calls.get(h.call);
      if (!c?.port) continue;
      c.passed = true;
      c.port.post({ kind: KIND.reply, id: c.id, ok: true, value: { status: h.status, statusText: h.statusText, headers: h.headers } });
      for (const bytes of c.pieces.splice(0)) c.port.post({ kind: KIND.chunk, id: c.id, bytes }, bytes.buffer);
    }
    for (const r of replies) this.settle(r);
    for (const call of stops) {
      calls.get(call)?.controller?.abort(FAILURE.aborted);
      calls.delete(call);
    }
    for (const w of warnings) for (const p of attached.get(w.client) ?? []) p.post({ kind: KIND.warning, message: w.message });
    for (const { client: h, in: ms } of wakes) {
      clearTimeout(this.timers.get(h));
      if (ms < 0) {
        this.timers.delete(h);
        continue;
      }
      const timer = setTimeout(() => this.run(this.ex.tick(h)), Math.min(ms, 2 ** 31 - 1));
      timer.unref?.(); // Node: the token's expiry does not keep the process alive
      this.timers.set(h, timer);
    }
  }

  settle(r) {
    const c = calls.get(r.call);
    calls.delete(r.call);
    if (!c?.port) return;
    c.port.calls.delete(c.id);
    const error = r.ok ? undefined : { code: r.code, message: r.message, status: r.status };
    if (c.passed) return c.port.post({ kind: KIND.end, id: c.id, error });
    if (c.open !== undefined && r.ok) {
      this.attach(c.port, r.client);
      if (c.open !== null) shared.set(c.open, r.client);
    }
    const message = { kind: KIND.reply, id: c.id, ok: r.ok, state: stateOf(r) };
    if (r.ok && r.client) message.value = { client: r.client };
    if (error) message.error = error;
    if (r.body) message.body = concat(c.pieces);
    c.port.post(message, message.body);
  }

  flushAll() { for (const p of ports) p.flush(); }

  // The fetch binding: Go's one import. It starts the request and returns;
  // the answer comes back to Go from promise callbacks.
  fetch(call, reqAt, reqLength, bodyAt, bodyLength) {
    const req = parse(decoder.decode(new Uint8Array(this.ex.mem.buffer, reqAt, reqLength)));
    const body = bodyLength > 0 ? new Uint8Array(this.ex.mem.buffer, bodyAt, bodyLength).slice() : undefined;
    const c = calls.get(call) ?? { port: null, pieces: [] };
    calls.set(call, c);
    c.pieces = [];
    const controller = new AbortControllerClass();
    c.controller = controller;
    const timer = setTimeout(() => controller.abort(FAILURE.timeout), req.timeoutMs);
    const current = () => calls.get(call)?.controller === controller;
    const end = (failure, detail = '') => {
      clearTimeout(timer);
      if (!current()) return;
      this.run(this.ex.end(call, failure, this.write(detail)));
    };
    Promise.resolve().then(() => {
      const sending = fetchAtLoad(req.url, { method: req.method, headers: req.headers, body, credentials: req.credentials,
        redirect: 'error', signal: controller.signal });
      if (req.secret) body.fill(0); // fetch has its copy
      return sending;
    }).then(async (response) => {
      if (!current()) return;
      const h = {};
      for (const name of ['X-Authorization', 'Authorization', 'Content-Type', 'Content-Length']) {
        const v = response.headers.get(name);
        if (v !== null) h[name] = v;
      }
      this.run(this.ex.head(call, this.write(stringify({ status: response.status, statusText: response.statusText, headers: h,
        all: req.all ? [...response.headers] : undefined }))));
      const announced = Number(h['Content-Length']);
      if (announced > req.maxBytes) throw Object.assign(new Error(`it announces ${announced} bytes, more than the ${req.maxBytes} allowed`), { tooLarge: true });
      const reader = response.body?.getReader();
      let read = 0;
      for (;;) {
        const { done, value } = reader ? await reader.read() : { done: true };
        if (done || !current()) break;
        if ((read += value.byteLength) > req.maxBytes) {
          reader.cancel().catch(() => {});
          throw Object.assign(new Error(`more than the ${req.maxBytes} bytes allowed`), { tooLarge: true });
        }
        for (let at = 0; at < value.byteLength; at += CHUNK) { // Go sees the body 64 KiB at a time: its memory stays small
          const piece = value.subarray(at, at + CHUNK);
          this.write('', piece);
          const n = this.ex.chunk(call, piece.byteLength); // 0: its answer comes at the end
          if (n > 0) this.run(n);
        }
        if (calls.get(call)?.passed) {
          c.port?.post({ kind: KIND.chunk, id: c.id, bytes: value }, value.buffer);
          c.port?.flush();
        } else {
          c.pieces.push(value);
        }
      }
      end(0);
    }).catch((e) => {
      const reason = controller.signal.reason;
      if (e?.tooLarge) controller.abort(FAILURE.tooLarge);
      end(e?.tooLarge ? FAILURE.tooLarge : reason === FAILURE.timeout || reason === FAILURE.aborted ? reason : FAILURE.network,
        e?.tooLarge ? e.message : String(e?.message ?? e));
    });
  }
}

function stateOf({ expiresAt, expiresIn, usableFor }) {
  return { expiresAt, expiresIn, usableFor };
}

// One ArrayBuffer of the pieces: the first's own, when it is the only one.
function concat(pieces) {
  if (pieces.length === 1 && pieces[0].byteOffset === 0 && pieces[0].byteLength === pieces[0].buffer.byteLength) return pieces[0].buffer;
  const all = new Uint8Array(pieces.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const p of pieces) {
    all.set(p, at);
    at += p.byteLength;
  }
  return all.buffer;
}

// Loads the module once; a failed load is forgotten, so a later call tries
// again, and a module that stops takes every client with it.
function loadModule(wasmURL) {
  module ??= start(wasmURL ?? new URL('./gqlauth.wasm', import.meta.url).href).catch((e) => {
    module = null;
    throw e;
  });
  return module;
}

async function start(wasmURL) {
  const go = new globalThis.Go();
  go.env = { GOGC: '25' }; // a small live heap: the wasm memory never shrinks
  let m;
  go.importObject.gqlauth = { fetch: (...args) => m.fetch(...args) };
  const { instance } = await instantiate(new URL(wasmURL), go.importObject);
  m = new Module(instance);
  // A module that stops (a Go runtime failure, inside an export or not)
  // takes every client with it; the next open starts a fresh one.
  const exit = go.exit.bind(go);
  go.exit = (code) => {
    exit(code);
    if (module === null || m.stopped) return;
    m.stopped = true;
    module = null;
    shared.clear();
    attached.clear();
    calls.clear();
    for (const p of ports) {
      p.clients.clear();
      p.post({ kind: KIND.fatal, message: 'gqlauth: the WebAssembly module stopped (see the worker\'s console); create a new client', cause: 'local' });
      p.flush();
    }
  };
  go.run(instance);
  return m;
}

async function instantiate(url, imports) {
  if (url.protocol === 'file:') { // Node.js: read the module from disk
    const { readFile } = await import(/* @vite-ignore */ 'node:fs/promises');
    return WebAssembly.instantiate(await readFile(url), imports);
  }
  const response = await fetchAtLoad(url);
  if (!response.ok) throw { code: 'NETWORK_ERROR', message: `gqlauth: could not load ${url}: HTTP ${response.status}` };
  if ((response.headers.get('Content-Type') || '').split(';')[0].trim() === 'application/wasm') {
    return WebAssembly.instantiateStreaming(response, imports);
  }
  return WebAssembly.instantiate(await response.arrayBuffer(), imports); // served with the wrong MIME type
}

// Started by gqlauth.js as a worker: serve, with the module this worker's
// own URL names (?wasm=), never one a message names.
if (typeof WorkerGlobalScope === 'function' && globalThis instanceof WorkerGlobalScope && globalThis.name === WORKER_NAME) {
  const own = new URL(globalThis.location.href);
  const wasmURL = own.searchParams.has('wasm') ? new URL(own.searchParams.get('wasm'), own).href : undefined;
  if (typeof SharedWorkerGlobalScope === 'function' && globalThis instanceof SharedWorkerGlobalScope) {
    globalThis.addEventListener('connect', (e) => serve(e.ports[0], wasmURL));
  } else {
    serve(globalThis, wasmURL);
  }
}
