#!/usr/bin/env node
// Turns build/dist into the npm package directory build/package/gqlauth and
// packs it to build/package/gqlauth-<version>.tgz.
//
//   node build/npm/pack.mjs [--dist DIR] [--out DIR] [--readme FILE]
//
// The package holds package.json (build/npm/package.json), README.md (the
// repository's), LICENSE (build/npm/LICENSE followed by the licenses of the
// Go code compiled into gqlauth.wasm and of wasm_exec.js) and the six files
// of build/dist. Anything else in the tarball, or anything missing, fails.
// Needs node, npm and go ($GO, default "go") on PATH.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TEMPLATE_DIR = path.join(ROOT, 'build', 'npm');

const { values: args } = parseArgs({
  options: {
    dist: { type: 'string', default: path.join(ROOT, 'build', 'dist') },
    out: { type: 'string', default: path.join(ROOT, 'build', 'package') },
    readme: { type: 'string', default: path.join(ROOT, 'README.md') },
  },
});
const DIST = path.resolve(args.dist);
const OUT = path.resolve(args.out);
const README = path.resolve(args.readme);
const GO = process.env.GO || 'go';

/** What build/dist must hold; these and nothing more go into the package. */
const MODULE_FILES = ['gqlauth.js', 'gqlauth.worker.js', 'protocol.js', 'gqlauth.d.ts', 'gqlauth.wasm', 'wasm_exec.js'];
/** npm adds these on its own; with MODULE_FILES, the whole tarball. */
const ALWAYS = ['package.json', 'README.md', 'LICENSE'];

function fail(message) {
  console.error(`pack: ${message}`);
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  try {
    return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  } catch (e) {
    fail(`${cmd} ${argv.join(' ')} failed: ${e.stderr || e.message}`);
  }
}

// 1. Inputs.
const missing = MODULE_FILES.map((f) => path.join(DIST, f)).filter((f) => !existsSync(f));
if (missing.length) fail(`missing ${missing.join(', ')}: run \`make build\` first`);
if (!existsSync(README)) fail(`missing ${README}: the package ships the repository's README`);

const manifest = JSON.parse(readFileSync(path.join(TEMPLATE_DIR, 'package.json'), 'utf8'));
const listed = [...manifest.files].sort();
if (JSON.stringify(listed) !== JSON.stringify([...MODULE_FILES].sort())) {
  fail(`build/npm/package.json "files" is ${JSON.stringify(manifest.files)}, expected ${JSON.stringify(MODULE_FILES)}`);
}

// 2. The package directory.
const PKG = path.join(OUT, manifest.name);
rmSync(OUT, { recursive: true, force: true });
mkdirSync(PKG, { recursive: true });
for (const f of MODULE_FILES) copyFileSync(path.join(DIST, f), path.join(PKG, f));
copyFileSync(README, path.join(PKG, 'README.md'));
writeFileSync(path.join(PKG, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
writeFileSync(path.join(PKG, 'LICENSE'), license());
// Plain files, whatever modes the build left (go build makes gqlauth.wasm executable).
for (const f of [...MODULE_FILES, ...ALWAYS]) chmodSync(path.join(PKG, f), 0o644);

// Every export target must be a file of the package.
for (const target of exportTargets(manifest.exports)) {
  if (!existsSync(path.join(PKG, target))) fail(`"exports" names ${target}, which the package lacks`);
}

// 3. The tarball.
const [packed] = JSON.parse(run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', OUT], { cwd: PKG }));
const got = packed.files.map((f) => f.path).sort();
const want = [...MODULE_FILES, ...ALWAYS].sort();
if (JSON.stringify(got) !== JSON.stringify(want)) {
  fail(`the tarball holds ${JSON.stringify(got)}, expected exactly ${JSON.stringify(want)}`);
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`${packed.name}@${packed.version}: ${path.relative(ROOT, path.join(OUT, packed.filename))}`);
for (const f of [...packed.files].sort((a, b) => a.path.localeCompare(b.path))) {
  console.log(`  ${f.path.padEnd(14)} ${kib(f.size).padStart(12)}`);
}
console.log(`  packed ${kib(packed.size)}, unpacked ${kib(packed.unpackedSize)}, ${packed.entryCount} files`);

/** The targets of an "exports" map, as paths relative to the package. */
function exportTargets(exp) {
  if (typeof exp === 'string') return [exp];
  if (exp === null || typeof exp !== 'object') return [];
  return Object.values(exp).flatMap(exportTargets);
}

/**
 * build/npm/LICENSE, then the notices that redistributing wasm_exec.js and
 * the compiled module requires: Go's license (wasm_exec.js, the runtime and
 * standard library inside gqlauth.wasm) and that of every Go module linked
 * into gqlauth.wasm, read from the module cache.
 */
function license() {
  const own = readFileSync(path.join(TEMPLATE_DIR, 'LICENSE'), 'utf8').trimEnd();
  const env = { ...process.env, GOOS: 'js', GOARCH: 'wasm', GOFLAGS: process.env.GOFLAGS || '' };
  const goroot = run(GO, ['env', 'GOROOT'], { cwd: ROOT }).trim();
  const goversion = run(GO, ['env', 'GOVERSION'], { cwd: ROOT }).trim();
  const lines = run(GO, ['list', '-deps', '-f', '{{with .Module}}{{if not .Main}}{{.Path}} {{.Version}} {{.Dir}}{{end}}{{end}}', './wasm'],
    { cwd: ROOT, env }).split('\n').filter(Boolean);
  const modules = [...new Map(lines.map((l) => {
    const [mod, version, dir] = l.split(' ');
    return [mod, { mod, version, dir }];
  })).values()].sort((a, b) => a.mod.localeCompare(b.mod));

  const sections = [{
    title: `The Go project (${goversion}): wasm_exec.js, and the Go runtime and standard library compiled into gqlauth.wasm`,
    text: readFileSync(path.join(goroot, 'LICENSE'), 'utf8'),
  }];
  for (const m of modules) {
    const file = ['LICENSE', 'LICENSE.txt', 'LICENSE.md', 'COPYING'].map((f) => path.join(m.dir, f)).find(existsSync);
    if (!file) fail(`no license file in ${m.dir} (Go module ${m.mod}): add its notice by hand`);
    sections.push({ title: `${m.mod} ${m.version}, compiled into gqlauth.wasm`, text: readFileSync(file, 'utf8') });
  }
  const rule = '-'.repeat(78);
  return [
    own,
    '',
    rule,
    'Third-party notices',
    '',
    'gqlauth.wasm and wasm_exec.js contain code from the projects below, each',
    'under its own license, reproduced here.',
    ...sections.flatMap((s) => ['', rule, s.title, rule, '', s.text.trimEnd()]),
    '',
  ].join('\n');
}
