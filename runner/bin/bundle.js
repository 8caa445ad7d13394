// The CLI as one bundled ES module set, built from the sources on first run and whenever they change.
//
// Why: started from source, Node strips the types of ~130 .ts files (its stripper is WebAssembly that
// must be instantiated first) and resolves each file and package one by one; that was most of `--help`'s
// 200+ ms. A bundle is plain JavaScript in a few files, which the compile cache then makes cheap.
//
// Never stale: a bundle's directory holds, beside the code, the exact bytes it was built from (inputs.bin:
// the project's own files as esbuild read them, a plugin reading them so that what is kept is what was
// built; node_modules/.package-lock.json, which npm rewrites on every install; and this file, the build
// options). A start uses the bundle only when the current files are byte for byte those (~2 ms to read and
// compare; no hashing, so node:crypto stays unloaded); a new file can change the bundle only through an
// import in a file already listed, whose bytes then differ. Otherwise it builds a new one (~0.3 s), named
// by a hash of those bytes. Anything wrong (no esbuild, a build error, an unwritable cache) falls back to
// running from source, silently unless RUNBOOK_DEBUG=1.
// Builtins as their CommonJS objects (see builtinsWithoutFacades): this file runs on every start.
const { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } = process.getBuiltinModule('node:fs');
const { dirname, join, relative, resolve, sep } = process.getBuiltinModule('node:path');
const { fileURLToPath, pathToFileURL } = process.getBuiltinModule('node:url');
const { isBuiltin } = process.getBuiltinModule('node:module');

const SELF = fileURLToPath(import.meta.url);
/** Packages left out of the bundle: they find their own files (wasm, JSON) next to their modules, or are big and only loaded lazily. */
const EXTERNAL = ['@kubernetes/client-node', 'web-tree-sitter', 'tree-sitter-bash'];
/** Bundles kept besides the current one (other branches, worktrees); older ones are removed at the next build. */
const KEEP = 3;

/** What the key covers besides the project's own files. */
function fixedInputs(root) {
  const lock = join(root, 'node_modules', '.package-lock.json');
  return [SELF, lock];
}

/**
 * Whether the files are byte for byte those a bundle was built from: `inputs` lists each file (relative to
 * root) with its size then (-1: it did not exist), `built` is their bytes one after the other (inputs.bin).
 */
function sameInputs(root, inputs, built) {
  let offset = 0;
  for (const [file, size] of inputs) {
    const bytes = safeRead(`${root}/${file}`);
    if ((bytes?.length ?? -1) !== size) return false;
    if (bytes && !bytes.equals(built.subarray(offset, offset + size))) return false;
    offset += Math.max(size, 0);
  }
  return offset === built.length;
}

/**
 * The URL of a fresh bundle's entry for `entry` (a .ts file under `root`), building one if needed,
 * or undefined when there is none to use (then the caller imports the source).
 * `cacheDir` holds `current.json` (the inputs of the last build) and one directory per key.
 */
export async function bundledEntry({ root, entry, cacheDir = join(root, 'node_modules', '.cache', 'runbook-cli') }) {
  const debug = process.env.RUNBOOK_DEBUG === '1';
  try {
    const known = readManifest(cacheDir, entry);
    if (known) {
      const dir = join(cacheDir, known.key);
      const built = safeRead(join(dir, 'inputs.bin'));
      const out = join(dir, 'cli.mjs');
      if (built && existsSync(out) && sameInputs(root, known.inputs, built)) return pathToFileURL(out).href;
    }
    return pathToFileURL(await build({ root, entry, cacheDir })).href;
  } catch (err) {
    if (debug) process.stderr.write(`runbook: running from source (no bundle: ${err?.message ?? err})\n`);
    return undefined;
  }
}

function readManifest(cacheDir, entry) {
  try {
    const m = JSON.parse(readFileSync(join(cacheDir, 'current.json'), 'utf8'));
    return m.entry === entry && typeof m.key === 'string' && Array.isArray(m.inputs) ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `import … from 'node:fs'` in an ES module makes Node build the module's ES facade, which reads every
 * export, lazy ones included: fs.promises alone loads readline, streams and the watchers. Over commander's
 * and the runner's imports that was ~40 ms of `--help`. In the bundle each builtin is the CommonJS object
 * process.getBuiltinModule returns, whose exports esbuild reads when they are used.
 */
const builtinsWithoutFacades = {
  name: 'builtins-without-facades',
  setup(b) {
    b.onResolve({ filter: /^(node:)?[a-z_/]+$/ }, (args) => {
      if (!isBuiltin(args.path)) return undefined;
      // `await import('node:net')` stays Node's own: a CommonJS stand-in in its own chunk would export only a default.
      if (args.kind === 'dynamic-import') return { path: args.path, external: true };
      const path = args.path.replace(/^(node:)?/, 'node:');
      // commander needs child_process (~5 ms: net, streams, dgram) only to start executable subcommands,
      // which this CLI has none of: it gets the module on first use. It imports only the default, so a
      // named import added in a later commander fails the build (then the sources run), never the CLI.
      const lazy = path === 'node:child_process' && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer);
      return { path, namespace: lazy ? 'lazy-builtin' : 'builtin' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin' }, (args) => ({ contents: `module.exports = process.getBuiltinModule(${JSON.stringify(args.path)});`, loader: 'js' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, (args) => ({
      contents: `export default new Proxy({}, { get: (_, key) => process.getBuiltinModule(${JSON.stringify(args.path)})[key] });`,
      loader: 'js',
    }));
  },
};

async function build({ root, entry, cacheDir }) {
  const esbuild = await import('esbuild');
  const loaded = new Map(); // absolute path -> the bytes esbuild was given
  const recordOwnFiles = {
    name: 'record-own-files',
    setup(b) {
      // Only the project's own files: packages are covered by the lock file.
      b.onLoad({ filter: /\.(ts|js|mjs|json)$/ }, (args) => {
        if (args.path.split(sep).includes('node_modules')) return undefined;
        const bytes = readFileSync(args.path);
        loaded.set(args.path, bytes);
        const loader = args.path.endsWith('.json') ? 'json' : args.path.endsWith('.ts') ? 'ts' : 'js';
        return { contents: bytes, loader };
      });
    },
  };
  mkdirSync(cacheDir, { recursive: true });
  const staging = join(cacheDir, `.build-${process.pid}-${Date.now()}`);
  await esbuild.build({
    entryPoints: { cli: join(root, entry) },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    outdir: staging,
    // .mjs: Node then knows the format without looking for a package.json or scanning the source.
    outExtension: { '.js': '.mjs' },
    external: EXTERNAL,
    // Bundled CommonJS packages call require(): each chunk gets one, made on first call (making it costs
    // path work, and most chunks never call it). The chunks share one directory, so one require serves all.
    banner: {
      js: "const require = Object.assign((id) => (globalThis[Symbol.for('runbook.require')] ??= process.getBuiltinModule('node:module').createRequire(import.meta.url))(id), { resolve: (id, o) => process.getBuiltinModule('node:module').createRequire(import.meta.url).resolve(id, o) });",
    },
    plugins: [recordOwnFiles, builtinsWithoutFacades],
    logLevel: 'silent',
    sourcemap: 'linked',
    write: true,
  });
  const files = [...[...loaded.keys()].sort(), ...fixedInputs(root)];
  // The bytes that were built, not a second read: an edit during the build makes the next start differ and rebuild.
  const contents = files.map((file) => loaded.get(file) ?? safeRead(file));
  const inputs = files.map((file, i) => [relative(root, file), contents[i]?.length ?? -1]);
  const bytes = Buffer.concat(contents.filter(Boolean));
  const { createHash } = await import('node:crypto');
  const key = createHash('sha256').update(JSON.stringify(inputs)).update(bytes).digest('hex').slice(0, 20);
  writeFileSync(join(staging, 'inputs.bin'), bytes);
  const dir = join(cacheDir, key);
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process built the same key first
  }
  writeFileSync(join(cacheDir, `.current-${process.pid}`), JSON.stringify({ entry, key, inputs }));
  renameSync(join(cacheDir, `.current-${process.pid}`), join(cacheDir, 'current.json'));
  prune(cacheDir, key);
  return join(dir, 'cli.mjs');
}

function safeRead(file) {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/** Keeps the newest KEEP other bundles; staging directories of builds that died are removed after an hour. */
function prune(cacheDir, current) {
  const entries = readdirSync(cacheDir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== current)
    .map((d) => ({ name: d.name, at: statSync(join(cacheDir, d.name), { throwIfNoEntry: false })?.mtimeMs ?? 0 }));
  const staleStaging = entries.filter((d) => d.name.startsWith('.build-') && Date.now() - d.at > 3_600_000);
  const old = entries.filter((d) => !d.name.startsWith('.')).sort((a, b) => b.at - a.at).slice(KEEP);
  for (const d of [...staleStaging, ...old]) rmSync(join(cacheDir, d.name), { recursive: true, force: true });
}

export const projectRoot = resolve(dirname(SELF), '..', '..');
