// What an app writes without gqlauth: fetch with the bearer token, take the
// rotated token from the response header, parse the JSON, notice an
// Unauthorized answer. The same job fetchWithAuth does, in plain JS. The
// bench runs it twice: in the page (bench.js) and, behind postMessage, in
// a dedicated module worker (plain-worker.js).

const LOGIN = `query Login($username: String, $password: String!) {
  loginUser(username: $username, password: $password) { id }
}`;

export class PlainClient {
  #endpoint;
  #token = null;

  constructor(url) { this.#endpoint = url; }

  async #post(body, token) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(this.#endpoint, { method: 'POST', headers, body: JSON.stringify(body) });
    const rotated = res.headers.get('X-Authorization') ?? res.headers.get('Authorization');
    if (rotated) this.#token = rotated.replace(/^Bearer\s+/i, '');
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return res.json();
  }

  async login(username, password) {
    const r = await this.#post({ query: LOGIN, variables: { username, password } });
    if (!r.data?.loginUser || !this.#token) throw new Error('plain login failed');
    return r.data.loginUser;
  }

  async fetchWithAuth(query, variables) {
    if (!this.#token) throw new Error('not logged in');
    const r = await this.#post(variables === undefined ? { query } : { query, variables }, this.#token);
    if (r.errors?.some((e) => e.message === 'Unauthorized')) {
      this.#token = null;
      throw new Error('Unauthorized');
    }
    return r;
  }
}
