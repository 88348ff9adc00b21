// GraphQL client libraries over client.fetch against the servers API teams
// run (web/test/servers): Apollo Client against Apollo Server 5 (POST), and
// urql, which sends queries with GET, against GraphQL Yoga 5. The pages are
// libraries.test.mjs's (fixtures/libraries), built with Vite, in Chromium
// and Firefox: a login, two queries and a mutation through the library,
// each request carrying the token the answer before it brought (the
// server's log says so); then the server refuses the token (it restarts
// with a new key), which nulls the field, and the next query is that
// library's own error and ends the session. No Response a library saw
// holds a token.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { leaksIn, startServer, tokenSecrets } from '../harness.mjs';
import { startTestServer } from '../servers/start.mjs';
import { consumerProject, ensureTools, launch, linkTools, watch } from './consumer.mjs';

/** Each library page, the server it talks to, the methods its requests use, and its error class for a refusal. */
const PAIRS = [
  { library: 'apollo', name: 'Apollo Client', server: 'apollo', methods: ['POST', 'POST', 'POST'], errorClass: 'CombinedGraphQLErrors' },
  { library: 'urql', name: 'urql', server: 'yoga', methods: ['GET', 'GET', 'POST'], errorClass: 'CombinedError' },
];
/** What the pages import, linked into the project from this directory's locked node_modules. */
const PACKAGES = ['@apollo/client', 'urql', '@urql/core', 'graphql', 'rxjs', 'react'];

describe('Apollo Client on Apollo Server, urql on GraphQL Yoga, over client.fetch', { timeout: 600000 }, () => {
  let project;
  let outDir;
  const servers = [];

  before(async () => {
    await ensureTools();
    const vite = await import('vite');
    project = await consumerProject('libraries');
    linkTools(project, PACKAGES);
    outDir = path.join(project.dir, 'dist');
    await vite.build({
      root: project.dir,
      configFile: false,
      logLevel: 'warn',
      build: {
        outDir,
        emptyOutDir: true,
        rollupOptions: { input: Object.fromEntries(PAIRS.map(({ library }) => [library, path.join(project.dir, `${library}.html`)])) },
      },
    });
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    project?.cleanup();
  });

  async function runPair(browser, pageOrigin, { library, name, server, methods, errorClass }) {
    const api = await startTestServer(server, { origins: [pageOrigin] });
    servers.push(api);
    const context = await browser.createBrowserContext();
    try {
      const page = await context.newPage();
      const seen = watch(page);
      await page.goto(`${pageOrigin}/${library}.html`, { waitUntil: 'load' });
      await page.waitForSelector('#out[data-state="ready"]', { timeout: 30000 });
      const setup = await page.evaluate((endpoint) => window.library.setup(endpoint), api.endpoint);
      assert.equal(setup.authenticated, true, `${library}: logged in`);
      const work = JSON.parse(JSON.stringify(await page.evaluate(() => window.library.work())));
      assert.deepEqual([work.me.me.id, work.me.me.username], ['1', 'demo'], `${library}: me`);
      assert.equal(work.items.items.totalCount, 50, `${library}: items`);
      assert.deepEqual(work.items.items.nodes.map((n) => n.name), ['Item 1', 'Item 2'], `${library}: items`);
      assert.equal(work.added.addItem.name, `added through ${name}`, `${library}: the mutation`);
      assert.equal(work.authenticated, true);

      // Every request carried the token of the answer before it: the
      // login's, then each answer's own.
      const log = await api.log();
      assert.deepEqual(log.requests.map((r) => r.op), ['Login', 'LibMeQuery', 'LibItemsQuery', 'LibAddMutation'], `${library}: the requests`);
      assert.deepEqual(log.requests.slice(1).map((r) => r.method), methods, `${library}: the methods`);
      for (const r of log.requests.slice(1)) {
        const previous = log.requests[r.seq - 2];
        assert.ok(previous.issued, `${library}: the answer to ${previous.op} carried a token`);
        assert.equal(r.jti, previous.issued, `${library}: ${r.op} carried the token of the answer to ${previous.op}`);
      }
      assert.equal(log.mutations.addItem, 1, `${library}: the mutation ran once`);

      await api.restart(); // a new signing key: the held token is refused
      const refused = await page.evaluate(() => window.library.refused());
      assert.ok(refused.error, `${library}: the refused query resolved ${JSON.stringify(refused)}`);
      assert.equal(refused.error.errorClass, errorClass, `${library}: ${JSON.stringify(refused.error)}`);
      assert.match(refused.error.message, /Unauthorized/);
      assert.equal(refused.authenticated, false, `${library}: the session ended`);
      assert.equal(refused.events.at(-1), 'unauthorized');
      const afterRestart = await api.log();
      assert.deepEqual(afterRestart.requests.map((r) => [r.op, r.jti]), [['LibMeQuery', log.issued.at(-1).jti]],
        `${library}: the refused query reached the server with the newest token`);
      assert.deepEqual(afterRestart.issued, []);

      const { seen: responses } = await page.evaluate(() => window.library.seen());
      assert.equal(responses.length, 2 * 4, `${library}: four responses recorded`);
      const secrets = tokenSecrets(log.issued.map((x) => x.raw));
      assert.deepEqual(leaksIn({ responses, refusal: [JSON.stringify(refused.error)] }, secrets), [], `${library}: a token reached the library`);
      assert.deepEqual(seen.errors, [], `${library}: page errors`);
    } finally {
      await context.close();
      await api.stop();
    }
  }

  for (const browserName of ['chromium', 'firefox']) {
    it(`the Vite build of the Apollo Client and urql pages, in ${browserName}`, async () => {
      const site = await startServer({ staticDirs: [outDir], testHooks: false });
      servers.push(site);
      const pageOrigin = `http://localhost:${site.port}`;
      const browser = await launch(browserName);
      try {
        for (const pair of PAIRS) await runPair(browser, pageOrigin, pair);
      } finally {
        await browser.close();
      }
    });
  }
});
