// gqlauth's protocol between the page (gqlauth.js) and the worker
// (gqlauth.worker.js): the one list of operations and message kinds, which
// both import. It has no side effects.
//
// The page sends requests: {op, id, ...} with named fields.
//   open           {op, id, options (JSON text), share, tab}
//   login          {op, id, client, record (JSON text: {username?, email?, password})}
//   fetchWithAuth  {op, id, client, record (JSON text: {query, variables?, operationName?})}
//   fetch          {op, id, client, record (JSON text: {method, query?, headers?}), body?}
//   logout         {op, id, client, remote?}
//   close          {op, id, client}
//   abort          {op, id}: stop request id, if it is under way
// The worker sends messages, one at a time or several in an array, in order:
//   reply    {kind, id, ok: true, value?, body?, state}  or  {kind, id, ok: false, error, body?}
//   event    {kind, client, reason, cause, state}
//   chunk    {kind, id, bytes}: a piece of a fetch's body, after its reply (the head)
//   end      {kind, id, error?}: the end of a fetch's body
//   warning  {kind, message}
//   fatal    {kind, message, cause}: the worker can serve this page no more
// state is {expiresAt (ms since the epoch, or null), expiresIn, usableFor (ms)};
// error is {code, message, status?}; body, an ArrayBuffer that moves with the
// message: the answer, or the GraphQL errors a failure came with.

/** The operations a page may ask for. */
export const OP = Object.freeze({
  open: 'open', login: 'login', fetchWithAuth: 'fetchWithAuth', fetch: 'fetch',
  logout: 'logout', close: 'close', abort: 'abort',
});

/** The kinds of message the worker sends. */
export const KIND = Object.freeze({
  reply: 'reply', event: 'event', chunk: 'chunk', end: 'end', warning: 'warning', fatal: 'fatal',
});

/** The name of gqlauth's worker; only a worker of that name serves on its own. */
export const WORKER_NAME = 'gqlauth';
