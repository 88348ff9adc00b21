// Starts the test servers of this directory (apollo.mjs, yoga.mjs) for the
// suites, as harness.mjs starts the reference API: a child process on
// 127.0.0.1 with an ephemeral port, ready once it prints its listening line.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnListening, stopChild } from '../harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The servers there are, by the name of their file. */
export const KINDS = Object.freeze(['apollo', 'yoga']);

function spawnServer(kind, env) {
  const { JWT_SECRET, ...parent } = process.env; // each process draws its own key
  return spawnListening(process.execPath, [path.join(HERE, `${kind}.mjs`)], {
    env: { ...parent, NODE_ENV: 'production', ...env }, label: `${kind} server`,
  });
}

/** A running test server. */
export class TestServer {
  constructor(kind, env, { child, base, stderr }) {
    this.kind = kind;
    this.env = env;
    this.child = child;
    /** http://127.0.0.1:PORT */
    this.base = base;
    this.port = Number(new URL(base).port);
    this.stderr = stderr;
  }

  /** The GraphQL endpoint as the browser addresses it. */
  get endpoint() { return `${this.base}/graphql`; }

  async #call(method, p) {
    const res = await fetch(`${this.base}${p}`, { method });
    const text = await res.text();
    if (!res.ok) throw new Error(`${this.kind}: ${method} ${p} -> HTTP ${res.status}: ${text.slice(0, 200)}`);
    return JSON.parse(text);
  }

  /**
   * GET /test/log: {graphqlRequests, requests: [{seq, method, accept, jti,
   * iat, op, status, contentType, issued}], received (the requests that
   * carried a token), issued: [{jti, sub, iat, exp, raw, request}],
   * mutations: {addItem}}. A request's jti is that of the token it carried,
   * issued the jti of the token its answer carried.
   */
  log() { return this.#call('GET', '/test/log'); }

  /** POST /test/reset: forgets requests, tokens and added items. */
  reset() { return this.#call('POST', '/test/reset'); }

  /**
   * Stops the server and starts it again on the same port. The new process
   * signs with a new key, so every token the old one issued is refused; its
   * log starts empty.
   */
  async restart() {
    await this.stop();
    const started = await spawnServer(this.kind, { ...this.env, PORT: String(this.port) });
    if (started.base !== this.base) throw new Error(`${this.kind} restarted on ${started.base}, not ${this.base}`);
    Object.assign(this, { child: started.child, stderr: started.stderr });
  }

  stop() { return stopChild(this.child); }

}

/**
 * Starts the server kind ('apollo' or 'yoga') on 127.0.0.1 with an
 * ephemeral port.
 * @param {string} kind
 * @param {object} [o]
 * @param {string[]} [o.origins]     the origins CORS allows
 * @param {number} [o.ttlSeconds]    token lifetime (default 3600)
 */
export async function startTestServer(kind, o = {}) {
  if (!KINDS.includes(kind)) throw new Error(`no test server ${kind}: one of ${KINDS.join(', ')}`);
  const env = { ORIGINS: (o.origins ?? []).join(',') };
  if (o.ttlSeconds !== undefined) env.TOKEN_TTL_SECONDS = String(o.ttlSeconds);
  return new TestServer(kind, env, await spawnServer(kind, { ...env, PORT: '0' }));
}
