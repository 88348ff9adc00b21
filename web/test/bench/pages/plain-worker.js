// The plain-JS client (plain-client.js) in a dedicated module worker, behind
// postMessage: what isolation costs with no Go and no gqlauth. The page
// (bench.js, PlainWorkerClient) posts {id, op, ...}; the worker answers
// {id, ok, value} with the parsed result, or {id, ok: false, message}.
import { PlainClient } from './plain-client.js';

let client = null;

self.onmessage = async ({ data: { id, op, endpoint, username, password, query, variables } }) => {
  try {
    let value;
    if (op === 'login') {
      client = new PlainClient(endpoint);
      value = await client.login(username, password);
    } else {
      value = await client.fetchWithAuth(query, variables);
    }
    self.postMessage({ id, ok: true, value });
  } catch (e) {
    self.postMessage({ id, ok: false, message: String(e?.message ?? e) });
  }
};
