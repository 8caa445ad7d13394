/**
 * The shell parser behind the step rules: tree-sitter-bash through web-tree-sitter.
 *
 * Chosen over the other maintained candidates by measurement on this project's 282 shell steps
 * (2 cores, Node 24): web-tree-sitter loads in ~20 ms and parses the lot in ~40-100 ms,
 * synchronously once initialised, with a row on every node and error recovery (a step it cannot
 * fully read still yields the commands around the damage). mvdan-sh (GopherJS, deprecated) is the
 * most faithful bash grammar but costs ~55 ms to load and ~400 ms to parse and walk them; sh-syntax
 * (the same Go parser as wasm) starts a Go runtime per call (~3.5 ms a step, async) and its JSON AST
 * drops command arguments. tree-sitter-bash's grammar quirks are patched where the tree is read
 * (see commands.ts); bash -n stays the syntax authority.
 *
 * Initialisation is async (emscripten), parsing is sync: `loadShellParser()` once, then `withShellTree`.
 */
import { createRequire } from 'node:module';
import type { Node, Parser as TSParser } from 'web-tree-sitter';

export type SyntaxNode = Node;

let parser: TSParser | undefined;
let loading: Promise<void> | undefined;

/** Loads the wasm runtime and the bash grammar; later calls return the same promise. */
export function loadShellParser(): Promise<void> {
  loading ??= (async () => {
    await holdWasmAtBaselineTier();
    const { Parser, Language } = await import('web-tree-sitter');
    await Parser.init();
    const grammar = createRequire(import.meta.url).resolve('tree-sitter-bash/tree-sitter-bash.wasm');
    const p = new Parser();
    p.setLanguage(await Language.load(grammar));
    parser = p;
  })();
  return loading;
}

/**
 * Why an inspector session: V8 recompiles hot wasm with TurboFan in the background, and the bash
 * grammar's lexer is one 160 KB function that the first parse already makes hot. Measured on this
 * project's check: 0.45-0.87 s of extra CPU and ~700 MB of transient memory for that one compile,
 * which on 2 cores also slows the check by ~0.35 s, to save a few ms of parsing. V8 keeps wasm at
 * its baseline compiler while a debugger is attached, so one in-process session with the Debugger
 * domain on (all pauses skipped, so `debugger;` never stops anything) pins it there; the session
 * costs ~50 ms. The V8 flag for it (--liftoff-only) cannot be set once Node has started.
 */
async function holdWasmAtBaselineTier(): Promise<void> {
  try {
    const { Session } = await import('node:inspector');
    const session = new Session();
    session.connect();
    session.post('Debugger.enable');
    session.post('Debugger.setSkipAllPauses', { skip: true });
  } catch {
    // A Node built without the inspector only parses slower.
  }
}

export function shellParserLoaded(): boolean {
  return parser !== undefined;
}

/**
 * Parses bash text and hands the root node to `read`; the tree lives in wasm memory and is freed
 * when `read` returns, so nothing may keep a node.
 */
export function withShellTree<T>(code: string, read: (root: SyntaxNode) => T): T {
  if (!parser) throw new Error('the shell parser is not loaded: await loadShellParser() first');
  const tree = parser.parse(code);
  if (!tree) throw new Error('the shell parser returned no tree');
  try {
    return read(tree.rootNode);
  } finally {
    tree.delete();
  }
}
