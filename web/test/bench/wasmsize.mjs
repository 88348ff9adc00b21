// Reads a WebAssembly module and attributes its bytes: the code of every
// function (named by the "name" custom section of a non-stripped Go build),
// summed by Go package, and the other sections as a whole.
//
// `go tool nm` does not read wasm files, so this walks the binary format
// itself: section headers, the code section's function bodies, and the
// function-name subsection of the "name" section.

/** Reads an unsigned LEB128 at pos; returns [value, next position]. */
function uleb(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
  }
}

function readName(buf, pos) {
  const [len, p] = uleb(buf, pos);
  return [buf.toString('utf8', p, p + len), p + len];
}

const SECTION_NAMES = ['custom', 'type', 'import', 'function', 'table', 'memory', 'global',
  'export', 'start', 'element', 'code', 'data', 'datacount'];

/**
 * Parses buf (a Buffer holding a .wasm file).
 * @returns {{sections: {id:number, name:string, size:number}[], functions: {index:number, name:string|null, size:number}[]}}
 */
export function parseWasm(buf) {
  if (buf.readUInt32LE(0) !== 0x6d736100) throw new Error('not a WebAssembly module');
  const sections = [];
  let importedFuncs = 0;
  let bodies = [];
  const names = new Map();
  let pos = 8;
  while (pos < buf.length) {
    const id = buf[pos];
    const [size, start] = uleb(buf, pos + 1);
    const end = start + size;
    let name = SECTION_NAMES[id] ?? `unknown${id}`;
    if (id === 0) {
      const [custom, p] = readName(buf, start);
      name = `custom:${custom}`;
      if (custom === 'name') readFunctionNames(buf, p, end, names);
    } else if (id === 2) {
      importedFuncs = countImportedFunctions(buf, start);
    } else if (id === 10) {
      bodies = readBodies(buf, start);
    }
    sections.push({ id, name, size: end - pos });
    pos = end;
  }
  const functions = bodies.map((size, i) => {
    const index = importedFuncs + i;
    return { index, name: names.get(index) ?? null, size };
  });
  return { sections, functions };
}

function countImportedFunctions(buf, pos) {
  let [n, p] = uleb(buf, pos);
  let funcs = 0;
  for (let i = 0; i < n; i++) {
    [, p] = readName(buf, p);
    [, p] = readName(buf, p);
    const kind = buf[p++];
    switch (kind) {
      case 0: [, p] = uleb(buf, p); funcs++; break; // function: type index
      case 1: p++; p = limits(buf, p); break; // table: reftype, limits
      case 2: p = limits(buf, p); break; // memory
      case 3: p += 2; break; // global: valtype, mutability
      default: throw new Error(`unknown import kind ${kind}`);
    }
  }
  return funcs;
}

function limits(buf, p) {
  const flag = buf[p++];
  [, p] = uleb(buf, p);
  if (flag & 1) [, p] = uleb(buf, p);
  return p;
}

function readBodies(buf, pos) {
  let [n, p] = uleb(buf, pos);
  const sizes = [];
  for (let i = 0; i < n; i++) {
    const [size, q] = uleb(buf, p);
    sizes.push(q - p + size);
    p = q + size;
  }
  return sizes;
}

function readFunctionNames(buf, pos, end, names) {
  let p = pos;
  while (p < end) {
    const sub = buf[p++];
    const [size, q] = uleb(buf, p);
    if (sub === 1) {
      let [n, r] = uleb(buf, q);
      for (let i = 0; i < n; i++) {
        let index;
        let name;
        [index, r] = uleb(buf, r);
        [name, r] = readName(buf, r);
        names.set(index, name);
      }
    }
    p = q + size;
  }
}

/** How Go's wasm linker spells a name in the name section: [^\w.] -> _. */
export const mangle = (name) => name.replace(/[^\w.]/g, '_');

/**
 * Returns a function that maps a name-section function name to its Go
 * package. The linker mangles "github.com/a/b-c.(*T).M" into
 * "github.com_a_b_c.__T_.M", which cannot be undone, so names are matched
 * against the mangled import paths of the packages linked into the module
 * (`go list -deps`), longest first. Compiler-generated helpers (type:.eq.*,
 * go:*) are grouped apart, and "(other)" holds the runtime's assembly
 * helpers and the wasm entry points (memcmp, wasm_export_resume, ...).
 */
export function packageMatcher(importPaths) {
  const known = [...new Set(['main', ...importPaths])]
    .map((path) => ({ path, prefix: `${mangle(path)}.` }))
    .sort((a, b) => b.prefix.length - a.prefix.length);
  return (name) => {
    if (name === null) return '(unnamed)';
    if (name.startsWith('type_.') || name.startsWith('go_') || name.startsWith('go.')) return '(compiler-generated)';
    for (const k of known) {
      if (name.startsWith(k.prefix)) return k.path;
    }
    return '(other)';
  };
}

/**
 * Sums function code by package, largest first, for a non-stripped build
 * of a module whose linked packages are importPaths.
 * @returns {{packages: {name:string, bytes:number}[], code:number, data:number, sections: object[]}}
 */
export function packageSizes(buf, importPaths) {
  const { sections, functions } = parseWasm(buf);
  const packageOf = packageMatcher(importPaths);
  const byPkg = new Map();
  for (const f of functions) {
    const pkg = packageOf(f.name);
    byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + f.size);
  }
  const packages = [...byPkg].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
  const size = (n) => sections.filter((s) => s.name === n).reduce((a, s) => a + s.size, 0);
  return { packages, code: size('code'), data: size('data'), sections, functions };
}
