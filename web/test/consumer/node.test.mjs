// Node.js: a program that imports gqlauth from the installed tarball logs in
// to the reference API and sends a protected query; the module is read from
// node_modules/gqlauth, and the program ends by itself.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer } from '../harness.mjs';
import { consumerProject, sh } from './consumer.mjs';

/** Runs node with args in cwd; resolves with {code, signal, stdout, stderr, ms}, killing it after limitMs. */
function runNode(args, cwd, limitMs) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

describe(`Node.js ${process.version}: node app.mjs against the reference API`, { timeout: 120000 }, () => {
  let project;
  let api;

  before(async () => {
    project = await consumerProject('app');
    api = await startServer({ testHooks: false });
  });
  after(async () => {
    await api?.stop();
    project?.cleanup();
  });

  it('resolves "gqlauth" and "gqlauth/gqlauth.wasm" to the installed package, and nothing private', async () => {
    const script = `
      const r = (s) => { try { return import.meta.resolve(s); } catch (e) { return e.code; } };
      console.log(JSON.stringify({
        main: r('gqlauth'), wasm: r('gqlauth/gqlauth.wasm'), manifest: r('gqlauth/package.json'),
        execShim: r('gqlauth/wasm_exec.js'),
      }));`;
    const { stdout } = await sh(process.execPath, ['--input-type=module', '-e', script], { cwd: project.dir });
    const got = JSON.parse(stdout);
    const inPackage = (f) => pathToFileURL(path.join(project.installed, f)).href;
    assert.equal(got.main, inPackage('gqlauth.js'));
    assert.equal(got.wasm, inPackage('gqlauth.wasm'));
    assert.equal(got.manifest, inPackage('package.json'));
    assert.ok(existsSync(fileURLToPath(got.wasm)), 'the resolved module file exists');
    assert.equal(got.execShim, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'wasm_exec.js is the package\'s own business');
  });

  it('logs in, sends a protected query and exits by itself', async (t) => {
    const limit = 30000;
    const r = await runNode(['node/app.mjs', api.endpoint], project.dir, limit);
    t.diagnostic(`node app.mjs took ${r.ms} ms`);
    assert.ok(r.signal === null,
      `node app.mjs was still running after ${limit} ms (something keeps the event loop alive after client.close())\n` +
      `stdout: ${r.stdout}\nstderr: ${r.stderr}`);
    assert.equal(r.code, 0, `exit code ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
    const out = JSON.parse(r.stdout.trim());
    assert.equal(out.user.id, '1');
    assert.deepEqual(out.me, { id: '1', username: 'demo', email: 'demo@example.com' });
    assert.deepEqual(out.errors, []);
    assert.equal(out.authenticated, true);
    assert.ok(out.expiresIn > 55 * 60 * 1000 && out.expiresIn <= 60 * 60 * 1000, `expiresIn ${out.expiresIn}`);
    assert.deepEqual(out.events, ['login', 'rotate']);
    assert.equal(r.stderr, '', 'nothing on stderr');
  });
});
