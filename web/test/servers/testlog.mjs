// The test servers' log, for the end-to-end suites (not part of the
// contract): every GraphQL request with the token it carried, its operation
// and how it was answered, and every token issued with the request whose
// answer carried it. GET /test/log reads it, POST /test/reset clears it
// (and the items added).
import { decodeJwt } from 'jose';
import { store } from './schema.mjs';

const leadingOperation = /^\s*(?:query|mutation|subscription)\s+([_A-Za-z][_0-9A-Za-z]*)/;

/** The raw JWT of a header value ("Bearer <jwt>" or "<jwt>"), or null. */
function rawToken(value) {
  if (!value) return null;
  return String(value).replace(/^Bearer\s+/i, '').trim() || null;
}

function claimsOf(raw) {
  try {
    return decodeJwt(raw);
  } catch {
    return {};
  }
}

export const log = {
  requests: [],
  issued: [],

  reset() {
    this.requests = [];
    this.issued = [];
    store.reset();
  },

  /**
   * A GraphQL request arrived (not a preflight): method and its headers (a
   * (name) => value function). Returns its entry, to fill in later.
   */
  begin(method, header) {
    const raw = rawToken(header('authorization'));
    const claims = raw ? claimsOf(raw) : {};
    const entry = {
      seq: this.requests.length + 1,
      method,
      accept: header('accept') ?? null,
      jti: claims.jti ?? null,
      iat: claims.iat ?? null,
      op: null,
      status: null,
      contentType: null,
      issued: null,
    };
    this.requests.push(entry);
    return entry;
  },

  /** The request's GraphQL parameters: its operationName, else the name of the document's first operation. */
  named(entry, params) {
    if (!entry || !params) return;
    const query = typeof params.query === 'string' ? params.query : '';
    entry.op = params.operationName || leadingOperation.exec(query)?.[1] || null;
  },

  /** The answer: status, Content-Type and the X-Authorization value it carried. */
  answered(entry, { status, contentType, token }) {
    if (!entry) return;
    entry.status = status;
    entry.contentType = contentType ? String(contentType).split(';')[0] : null;
    const raw = rawToken(token);
    if (!raw) return;
    const c = claimsOf(raw);
    this.issued.push({ jti: c.jti, sub: c.sub, iat: c.iat, exp: c.exp, raw, request: entry.seq });
    entry.issued = c.jti;
  },

  /**
   * {graphqlRequests, requests, received (the requests that carried a
   * token), issued, mutations: {addItem: runs}}.
   */
  snapshot() {
    return {
      graphqlRequests: this.requests.length,
      requests: this.requests,
      received: this.requests.filter((r) => r.jti !== null),
      issued: this.issued,
      mutations: { addItem: store.addItemRuns },
    };
  },
};

/**
 * Answers GET /test/log and POST /test/reset on a Node request; returns
 * false for any other path.
 */
export function serveTestLog(req, res) {
  const path = new URL(req.originalUrl ?? req.url, 'http://x').pathname; // Express strips its mount path from url
  let body;
  if (path === '/test/log' && req.method === 'GET') body = log.snapshot();
  else if (path === '/test/reset' && req.method === 'POST') {
    log.reset();
    body = { ok: true };
  } else return false;
  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
  return true;
}
