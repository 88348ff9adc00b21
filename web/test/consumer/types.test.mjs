// `tsc --strict --noEmit` over apps that take gqlauth from the installed
// tarball, in the three places its types must hold: a browser page (DOM lib,
// bundler resolution), a Node.js program (NodeNext resolution, @types/node, no
// DOM lib) and a module worker (WebWorker lib). skipLibCheck is off, so
// gqlauth.d.ts itself is checked in each.
import { after, before, describe, it } from 'node:test';
import path from 'node:path';
import { TOOLS, consumerProject, ensureTools, tsc, writeJSON } from './consumer.mjs';

const common = {
  target: 'ES2022',
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  forceConsistentCasingInFileNames: true,
};

const configs = {
  // src/main.ts and src/worker-main.ts (the Vite app's pages) and src/api-types.ts (what must and must not compile).
  browser: {
    compilerOptions: {
      ...common, module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM', 'DOM.Iterable'], types: [],
    },
    include: ['src/**/*.ts'],
  },
  // node/app.mjs, the program node.test.mjs runs, checked through its JSDoc.
  node: {
    compilerOptions: {
      ...common, module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'],
      typeRoots: [path.join(TOOLS, '@types')], allowJs: true, checkJs: true,
    },
    include: ['node/**/*.mjs'],
  },
  // worker/worker.mjs, the worker worker.test.mjs runs, and src/session-worker.ts, the one Vite bundles.
  worker: {
    compilerOptions: {
      ...common, module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'WebWorker'], types: [],
      allowJs: true, checkJs: true,
    },
    include: ['worker/**/*.mjs', 'src/session-worker.ts'],
  },
};

describe('TypeScript: tsc --strict --noEmit against the installed package', { timeout: 240000 }, () => {
  let project;

  before(async () => {
    await ensureTools();
    project = await consumerProject('app');
  });
  after(() => project?.cleanup());

  for (const [name, config] of Object.entries(configs)) {
    it(`${name}: ${config.include.join(', ')} with lib ${config.compilerOptions.lib.join(', ')}`, async () => {
      const file = `tsconfig.${name}.json`;
      writeJSON(path.join(project.dir, file), config);
      await tsc(project.dir, ['-p', file, '--strict', '--noEmit', '--pretty', 'false']);
    });
  }
});
