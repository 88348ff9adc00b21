// The npm package that `make dist` made: exactly the files it should hold,
// a manifest that tools read correctly, and the very files of build/dist.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_OUT, ROOT, readJSON, sh, tarball } from './consumer.mjs';

const DIST = path.join(ROOT, 'build', 'dist');
const PKG = path.join(PACKAGE_OUT, 'gqlauth');
const FILES = ['LICENSE', 'README.md', 'gqlauth.d.ts', 'gqlauth.js', 'gqlauth.wasm', 'gqlauth.worker.js', 'package.json', 'protocol.js', 'wasm_exec.js'];
const MODULE_FILES = ['gqlauth.d.ts', 'gqlauth.js', 'gqlauth.wasm', 'gqlauth.worker.js', 'protocol.js', 'wasm_exec.js'];

describe('the npm package', () => {
  it('the tarball holds the module, the entry, its worker, its types, README, LICENSE and package.json, nothing else', async (t) => {
    const { stdout } = await sh('tar', ['tzf', tarball()]);
    const entries = stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(entries, FILES.map((f) => `package/${f}`).sort());
    const { stdout: verbose } = await sh('tar', ['tzvf', tarball()]);
    t.diagnostic(`${path.relative(ROOT, tarball())}: ${statSync(tarball()).size} bytes\n${verbose.trimEnd()}`);
  });

  it('package.json is an ES module package with types first in "exports"', () => {
    const m = readJSON(path.join(PKG, 'package.json'));
    assert.equal(m.name, 'gqlauth');
    assert.match(m.version, /^\d+\.\d+\.\d+$/);
    assert.equal(path.basename(tarball()), `gqlauth-${m.version}.tgz`);
    assert.equal(m.type, 'module');
    assert.equal(m.license, 'MIT');
    // Only the worker script and wasm_exec.js run code as they load (the
    // worker serves, wasm_exec.js defines Go); bundlers must keep them.
    assert.deepEqual(m.sideEffects, ['./gqlauth.worker.js', './wasm_exec.js']);
    assert.equal(typeof m.description, 'string');
    assert.ok(m.description.length > 20, 'a description');
    assert.ok(Array.isArray(m.keywords) && m.keywords.length > 0, 'keywords');
    assert.deepEqual(m.engines, { node: '>=20' });
    assert.deepEqual([...m.files].sort(), MODULE_FILES);
    assert.deepEqual(Object.keys(m.exports['.']), ['types', 'default'], '"types" must come first');
    assert.equal(m.exports['.'].types, './gqlauth.d.ts');
    assert.equal(m.exports['.'].default, './gqlauth.js');
    assert.equal(m.exports['./gqlauth.wasm'], './gqlauth.wasm');
    assert.equal(m.exports['./gqlauth.worker.js'], './gqlauth.worker.js', 'for apps that serve the worker themselves (workerURL)');
    assert.equal(m.types, './gqlauth.d.ts', 'top-level "types" for tools that ignore "exports"');
    assert.equal(m.dependencies, undefined, 'no runtime dependencies');
    assert.equal(m.scripts, undefined, 'no install scripts');
  });

  it('ships build/dist and the repository README unchanged', () => {
    for (const f of MODULE_FILES) {
      assert.ok(readFileSync(path.join(PKG, f)).equals(readFileSync(path.join(DIST, f))),
        `${f} differs from build/dist: run \`make dist\` after \`make build\``);
    }
    assert.ok(readFileSync(path.join(PKG, 'README.md')).equals(readFileSync(path.join(ROOT, 'README.md'))), 'README.md');
  });

  it('LICENSE is MIT and carries the notices of the Go code it ships', () => {
    const text = readFileSync(path.join(PKG, 'LICENSE'), 'utf8');
    assert.match(text, /^MIT License\n\nCopyright \(c\) 2026 The gqlauth authors\n/);
    assert.match(text, /The Go project \(go[\d.]+\): wasm_exec\.js/);
    // Exactly the modules linked into the module get a notice: none but
    // Go's own, since the module takes no third-party Go code.
    assert.equal(text.match(/, compiled into gqlauth\.wasm$/gm)?.length ?? 0, 0, 'a third-party module has a notice');
    for (const unlinked of ['golang-jwt', 'tidwall', 'hack-pad/safejs']) {
      assert.ok(!text.includes(unlinked), `no notice for ${unlinked}, which the module does not link`);
    }
  });

  it('npm pack in the package directory packs the same files again', async () => {
    const { stdout } = await sh('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: PKG });
    const [packed] = JSON.parse(stdout);
    assert.deepEqual(packed.files.map((f) => f.path).sort(), [...FILES].sort());
  });
});
