/**
 * gqlauth: a Go/WebAssembly module that logs in to a JWT-protected GraphQL
 * API, sends protected queries through `fetch`, keeps the token in its own
 * memory only, rotates it from every response and reports its expiry.
 *
 * In a page the module runs in a dedicated Worker (`gqlauth.worker.js`), so
 * that no script of the page can reach the token: the page gets results,
 * events and errors, never the token. Inside a Web Worker or in Node it runs
 * in-process.
 */

/** Options for {@link createClient}. */
export interface ClientOptions {
  /** Absolute http(s) URL of the GraphQL endpoint. Plain http only to loopback unless `allowInsecureHTTP`. */
  endpoint: string;
  /** Where the module is served. Default: `gqlauth.wasm` next to `gqlauth.js`. */
  wasmURL?: string | URL;
  /**
   * Where the worker script is served, for layouts where it is not next to
   * `gqlauth.js`. Default: `gqlauth.worker.js` next to `gqlauth.js`. Read by
   * the first `createClient` of a page, which starts the worker.
   */
  workerURL?: string | URL;
  /**
   * Stop sending the token this many seconds before its `exp`, to absorb clock
   * skew and latency. Default 10. It never moves {@link Client.tokenExpiresAt}.
   */
  expiryLeewaySeconds?: number;
  /** Per request, from send to the end of the body. Default 30000. */
  timeoutMs?: number;
  /** Allow plain http to a non-loopback host. Credentials then travel in clear text. */
  allowInsecureHTTP?: boolean;
  /** Extra static headers. Authorization, X-Authorization and Content-Type are gqlauth's own. */
  headers?: Record<string, string>;
  /** Passed to `fetch`. */
  credentials?: 'omit' | 'same-origin' | 'include';
  /** Larger responses reject with `BAD_RESPONSE` before they reach the module's memory. Default 33554432 (32 MiB). */
  maxResponseBytes?: number;
  /**
   * The `extensions.code` values that mean "token refused" in an error,
   * whatever its message (an error whose message is `Unauthorized` always
   * does). Default `['UNAUTHENTICATED']` (Apollo Server's); Hasura says
   * `'invalid-jwt'`. Such an error ends the session only when its answer
   * brings no new token: in an answer that does, it is a permission error.
   * At most 32, each at most 256 characters.
   */
  refusalCodes?: string[];
  /**
   * `'tabs'`: one session for every tab of the origin that asks for the same
   * endpoint, held by a SharedWorker: a login, a rotation, a logout in one
   * tab is every tab's, and a reload finds the session while another tab is
   * open. The first tab's options are the session's. Where there is no
   * SharedWorker, each tab has its own session and a logout in one logs the
   * others out (see {@link Client.sharing}).
   */
  share?: 'tabs';
  /**
   * Keeps an idle session alive: when no answer has rotated the token and it
   * is about to stop being usable (`beforeExpiryMs` before exp minus the
   * leeway), `query` is sent once, and its answer rotates the token. Off by
   * default; it stops on logout, on a refusal, and when no tab is left.
   */
  keepAlive?: { query: string; beforeExpiryMs: number };
}

/** Who logs in: a password, and a username or an email. */
export interface Credentials {
  username?: string;
  email?: string;
  password: string;
}

/** Per-call options. */
export interface CallOptions {
  /** Aborts the request; the call rejects with code `ABORTED`. */
  signal?: AbortSignal;
}

/** Options for {@link Client.fetchWithAuth}. */
export interface FetchOptions extends CallOptions {
  /** Selects one operation of a document with several. */
  operationName?: string;
}

/** One entry of a GraphQL response's `errors`, as the server sent it. */
export interface GraphQLError {
  message: string;
  locations?: { line: number; column: number }[];
  path?: (string | number)[];
  extensions?: Record<string, unknown>;
  /** The API's flag: whether the message may be shown to end users. */
  customer_facing?: boolean;
  [key: string]: unknown;
}

/** A GraphQL response. Ordinary GraphQL errors (partial data) resolve; they do not reject. */
export interface GraphQLResult<T = any> {
  data: T | null;
  errors?: GraphQLError[];
  extensions?: Record<string, unknown>;
}

/** Why the held token changed. */
export type TokenChangeReason = 'login' | 'rotate' | 'logout' | 'expired' | 'unauthorized';

/**
 * What made a token change: a call of this page (or worker, or process), a
 * call of another tab sharing the session, the token reaching its expiry,
 * or the keep-alive.
 */
export type TokenChangeCause = 'local' | 'remote' | 'expiry' | 'keep-alive';

/** Delivered to {@link Client.onTokenChange} listeners, asynchronously, after the change. */
export interface TokenChangeEvent {
  reason: TokenChangeReason;
  /** The new token's expiry, or null when no usable token is held any more. */
  expiresAt: Date | null;
  cause: TokenChangeCause;
}

/**
 * A session with one endpoint. The token never leaves the module (in the
 * worker) except in the Authorization header. The getters answer at once,
 * from a copy of the session's public state that every change updates.
 */
export interface Client {
  /**
   * How the session is shared between tabs: `'tabs'` (a SharedWorker holds
   * it for every tab), `'broadcast'` (no SharedWorker here: each tab has its
   * own session, and a logout reaches the others), or `'none'`.
   */
  readonly sharing: 'tabs' | 'broadcast' | 'none';
  /** Sends the `loginUser` query and keeps the token from the response headers. */
  login(credentials: Credentials, options?: CallOptions): Promise<{ user: any; expiresAt: Date }>;
  /**
   * Sends a query with `Authorization: Bearer <token>` and takes the rotated token from the response.
   * Rejects with `NOT_AUTHENTICATED` or `TOKEN_EXPIRED` without sending anything.
   */
  fetchWithAuth<T = any>(query: string, variables?: Record<string, unknown>, options?: FetchOptions): Promise<GraphQLResult<T>>;
  /**
   * `fetch` for GraphQL client libraries (Apollo's `HttpLink`, urql, graphql-request,
   * Relay's `Network.create`), also when called detached. A GET or POST to the client's
   * endpoint goes out from the worker with the token, under the session's rules; the
   * Response is the server's, its body streamed, without `Authorization` or
   * `X-Authorization`. Any other URL, method, or a caller's `Authorization` rejects
   * with `INVALID_ARGUMENT` and sends nothing; an abort rejects with the signal's reason.
   */
  readonly fetch: typeof fetch;
  /** The token's `exp` exactly as the server set it, or null without a token. */
  tokenExpiresAt(): Date | null;
  /** Milliseconds until `exp` on the server's clock; 0 without a valid token. */
  tokenExpiresIn(): number;
  /** Whether a request sent now would carry a token (expiry leeway included). */
  isAuthenticated(): boolean;
  /** Calls `listener` after every token change; returns the function that unsubscribes it. */
  onTokenChange(listener: (event: TokenChangeEvent) => void): () => void;
  /** Drops the token at once, for every tab sharing the session. Answers to requests in flight no longer install theirs. */
  logout(): void;
  /**
   * Logs out and releases the client; requests under way and later
   * login/fetchWithAuth calls reject with `NOT_AUTHENTICATED`, getters answer
   * as logged out. A shared session goes on for the other tabs: close()
   * detaches this one.
   */
  close(): void;
}

/** What went wrong, machine-readable. */
export type AuthErrorCode =
  | 'INVALID_ARGUMENT'
  | 'INSECURE_ENDPOINT'
  | 'NOT_AUTHENTICATED'
  | 'TOKEN_EXPIRED'
  | 'LOGIN_FAILED'
  | 'TOKEN_HEADER_MISSING'
  | 'TOKEN_MALFORMED'
  | 'UNAUTHORIZED'
  | 'HTTP_ERROR'
  | 'BAD_RESPONSE'
  | 'NETWORK_ERROR'
  | 'TIMEOUT'
  | 'ABORTED'
  | 'INTERNAL';

/** The error every gqlauth call rejects or throws with. */
export class AuthError extends Error {
  constructor(message: string, options?: { code?: AuthErrorCode; status?: number; graphQLErrors?: GraphQLError[]; cause?: unknown });
  readonly name: 'AuthError';
  readonly code: AuthErrorCode;
  /** The HTTP status, when there was a response. */
  readonly status?: number;
  /** The server's errors, as it sent them (`customer_facing` included). */
  readonly graphQLErrors?: GraphQLError[];
}

/** Whether `e` is an AuthError, also one made in another realm. */
export function isAuthError(e: unknown): e is AuthError;

/** Starts the worker and loads the module (once per page, worker or process) and creates a client for one endpoint. */
export function createClient(options: ClientOptions): Promise<Client>;
