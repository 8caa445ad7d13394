// The CLI as one bundled ES module set, built from the sources on first run and whenever they change.
//
// Why: started from source, Node strips the types of ~130 .ts files (its stripper is WebAssembly that
// must be instantiated first) and resolves each file and package one by one; that was most of `--help`'s
// 200+ ms. A bundle is plain JavaScript in a few files, which the compile cache then makes cheap.
//
// Never stale: the bundle's directory is named by a hash of the exact bytes esbuild read from the project's
// own files (a plugin reads them, so what is hashed is what was built), of node_modules/.package-lock.json
// (npm rewrites it on every install), of esbuild's version and of this file (the build options). Each start
// hashes the same files again (~2 ms) and uses the bundle only when the hash matches; a new file can change
// the bundle only through an import in a file already listed, whose bytes then differ. Anything wrong (no
// esbuild, a build error, an unwritable cache) falls back to running from source, silently unless
// RUNBOOK_DEBUG=1.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

/** The key of a bundle: its inputs' names and bytes. A missing input hashes as missing (then the key differs from the one built while it existed). */
function hashFiles(root, files, read = safeRead) {
  const hash = createHash('sha256');
  for (const file of files) hash.update(relative(root, file)).update('\0').update(read(file) ?? '\u0000missing').update('\0');
  return hash.digest('hex').slice(0, 20);
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
      const key = hashFiles(root, known.inputs.map((f) => join(root, f)));
      const out = join(cacheDir, key, 'cli.js');
      if (key === known.key && existsSync(out)) return pathToFileURL(out).href;
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
    external: EXTERNAL,
    // Bundled CommonJS packages call require(); give the ES module one.
    banner: { js: "import { createRequire as __runbookRequire } from 'node:module'; const require = __runbookRequire(import.meta.url);" },
    plugins: [recordOwnFiles],
    logLevel: 'silent',
    sourcemap: 'linked',
    write: true,
  });
  const inputs = [...[...loaded.keys()].sort(), ...fixedInputs(root)];
  // The key from the bytes that were built, not from a second read: an edit during the build makes the
  // next start's hash differ and rebuild, never a bundle filed under the edited bytes' key.
  const key = hashFiles(root, inputs, (file) => loaded.get(file) ?? safeRead(file));
  const dir = join(cacheDir, key);
  try {
    renameSync(staging, dir);
  } catch {
    rmSync(staging, { recursive: true, force: true }); // another process built the same key first
  }
  writeFileSync(join(cacheDir, `.current-${process.pid}`), JSON.stringify({ entry, key, inputs: inputs.map((f) => relative(root, f)) }));
  renameSync(join(cacheDir, `.current-${process.pid}`), join(cacheDir, 'current.json'));
  prune(cacheDir, key);
  return join(dir, 'cli.js');
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
