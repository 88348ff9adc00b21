// The GraphQL clients apps already use, over client.fetch: Apollo Client
// (HttpLink), urql (its Client's fetch), graphql-request (GraphQLClient's
// fetch) and Relay (Network.create), installed from npm at the versions
// this directory's lock file pins. A Vite build of one page per library,
// served from localhost, talks to the reference API on 127.0.0.1, in
// Chromium and in Firefox: a login, two queries and a mutation through the
// library, each request carrying the token the answer before it brought
// (the server's log says so); then the server refuses the token (it
// restarts with a new key) and the next query is that library's own error
// and ends the session. No Response a library saw holds a token. Apollo and
// urql also run from the Vite dev server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { leaksIn, startServer, tokenSecrets } from '../harness.mjs';
import { consumerProject, ensureTools, launch, linkTools, watch } from './consumer.mjs';

/** The pages of fixtures/libraries, and the error class each library reports a refusal with. */
const LIBRARIES = {
  apollo: 'CombinedGraphQLErrors',
  urql: 'CombinedError',
  'graphql-request': 'ClientError',
  relay: 'Error',
};
/** What the pages import, linked into the project from this directory's locked node_modules. */
const PACKAGES = ['@apollo/client', 'urql', '@urql/core', 'graphql-request', 'relay-runtime', 'graphql', 'rxjs', 'react'];

describe('GraphQL client libraries over client.fetch', { timeout: 600000 }, () => {
  let vite;
  let project;
  let outDir;
  const servers = [];

  before(async () => {
    await ensureTools();
    vite = await import('vite');
    project = await consumerProject('libraries');
    linkTools(project, PACKAGES);
    outDir = path.join(project.dir, 'dist');
    const logger = vite.createLogger('warn');
    await vite.build({
      root: project.dir,
      configFile: false,
      logLevel: 'warn',
      customLogger: logger,
      build: {
        outDir,
        emptyOutDir: true,
        rollupOptions: { input: Object.fromEntries(Object.keys(LIBRARIES).map((l) => [l, path.join(project.dir, `${l}.html`)])) },
      },
    });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    project?.cleanup();
  });

  /** Runs the library page at url against api, and checks everything the suite promises. */
  async function runLibrary(browser, library, url, api) {
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(url, { waitUntil: 'load' });
      await page.waitForSelector('#out[data-state="ready"]', { timeout: 30000 });
      const start = await api.tokens(); // the log so far, of the libraries before
      const setup = await page.evaluate((endpoint) => window.library.setup(endpoint), api.endpoint);
      assert.equal(setup.authenticated, true, `${library}: logged in`);
      const work = await page.evaluate(() => window.library.work());
      const plain = JSON.parse(JSON.stringify(work));
      assert.equal(plain.me.me.id, '1', `${library}: me ${JSON.stringify(plain.me)}`);
      assert.equal(plain.items.items.nodes.length, 2, `${library}: items ${JSON.stringify(plain.items)}`);
      assert.equal(plain.added.addItem.name, `added through ${libraryName(library)}`, `${library}: the mutation`);
      assert.equal(work.authenticated, true);

      // Every request carried the token of the answer before it: the login's,
      // then each answer's own.
      const all = await api.tokens();
      const log = { received: all.received.slice(start.received.length), issued: all.issued.slice(start.issued.length) };
      assert.equal(log.received.length, 3, `${library}: three requests with a token`);
      assert.equal(log.issued.length, 4, `${library}: the login's token and one per answer`);
      for (const [i, r] of log.received.entries()) {
        assert.equal(r.jti, log.issued[i].jti, `${library}: request ${i + 1} carried the newest token`);
      }

      await api.restart(); // a new signing key: the held token is refused
      const refused = await page.evaluate(() => window.library.refused());
      assert.ok(refused.error, `${library}: the refused query resolved ${JSON.stringify(refused)}`);
      assert.equal(refused.error.errorClass, LIBRARIES[library], `${library}: ${JSON.stringify(refused.error)}`);
      assert.match(refused.error.message, /Unauthorized/);
      assert.equal(refused.authenticated, false, `${library}: the session ended`);
      assert.equal(refused.events.at(-1), 'unauthorized');

      const { seen: responses, methods } = await page.evaluate(() => window.library.seen());
      assert.equal(responses.length, 2 * 4, `${library}: four responses recorded`);
      assert.deepEqual(methods.filter((m) => m !== 'GET' && m !== 'POST'), []);
      const secrets = tokenSecrets(log.issued.map((x) => x.raw));
      assert.deepEqual(leaksIn({ responses, refusal: [JSON.stringify(refused.error)] }, secrets), [], `${library}: a token reached the library`);
      assert.deepEqual(seen.errors, [], `${library}: page errors`);
      return { methods };
    } finally {
      await context.close();
    }
  }

  const libraryName = (l) => ({ apollo: 'Apollo Client', urql: 'urql', 'graphql-request': 'graphql-request', relay: 'Relay' })[l];

  for (const browserName of ['chromium', 'firefox']) {
    it(`the Vite build of each library's page, in ${browserName}`, async (t) => {
      const site = await startServer({ staticDirs: [outDir], testHooks: false });
      servers.push(site);
      const pageOrigin = `http://localhost:${site.port}`;
      const api = await startServer({ origins: [pageOrigin] });
      servers.push(api);
      const browser = await launch(browserName);
      try {
        for (const library of Object.keys(LIBRARIES)) {
          const { methods } = await runLibrary(browser, library, `${pageOrigin}/${library}.html`, api);
          t.diagnostic(`${library}: ${methods.join(', ')}`);
        }
      } finally {
        await browser.close();
      }
    });
  }

  it('Apollo Client and urql from the Vite dev server, in chromium', async (t) => {
    const server = await vite.createServer({
      root: project.dir,
      configFile: false,
      logLevel: 'warn',
      server: { host: '127.0.0.1', port: 0, strictPort: false, hmr: false },
    });
    const browser = await launch('chromium');
    try {
      await server.listen();
      const pageOrigin = `http://localhost:${server.httpServer.address().port}`;
      const api = await startServer({ origins: [pageOrigin] });
      servers.push(api);
      for (const library of ['apollo', 'urql']) {
        const { methods } = await runLibrary(browser, library, `${pageOrigin}/${library}.html`, api);
        t.diagnostic(`${library}: ${methods.join(', ')}`);
      }
    } finally {
      await browser.close();
      await server.close();
    }
  });
});
