/**
 * Everything a step's shell text runs: every simple command, at every depth of wrappers and
 * nested scripts, with its argv, line and how it was reached. The step rules match these.
 */
import { expandBraces } from './braces.ts';
import { approximateCommands } from './fallback.ts';
import { escapeCommandGlobs } from './glob.ts';
import { lastLine, readScript, type ParsedScript, type Redirect, type ShellCommand, type Stdin } from './commands.ts';
import { withShellTree } from './parser.ts';
import { innerCommands } from './wrappers.ts';
import { commandName, type Word } from './words.ts';

export interface Invocation {
  argv: Word[];
  /** The basename of argv[0]; undefined when it is known only at run time. */
  name: string | undefined;
  line: number;
  /** Wrappers and hops it went through, outermost first: `sudo`, `ssh k3s-master`, `kubectl exec`. */
  via: string[];
  /** Runs on another host or in the cluster (ssh, kubectl exec) rather than where the step runs. */
  remote: boolean;
  redirects: Redirect[];
  stdin?: Stdin;
}

export interface ShellAnalysis {
  invocations: Invocation[];
  /** Every redirection, nested scripts included, with the hops it went through. */
  redirects: Array<Redirect & { via: string[]; remote: boolean }>;
  /** The parser could not read all of the text; approximate commands were added (fallback.ts). */
  damaged: boolean;
}

/** Nested scripts deeper than this (bash -c inside bash -c …) are not looked into. */
const MAX_DEPTH = 8;
const cache = new Map<string, ShellAnalysis>();

/** Analyses a step's code; several rules read the same step, so results are cached by text. */
export function analyseShell(code: string): ShellAnalysis {
  let result = cache.get(code);
  if (!result) {
    if (cache.size > 10_000) cache.clear();
    result = new Analyser().run(code);
    cache.set(code, result);
  }
  return result;
}

interface Context {
  via: string[];
  remote: boolean;
  depth: number;
  /** The last line of the source the text comes from: a nested script's own newlines may not point past it. */
  end: number;
}

class Analyser {
  private readonly out: ShellAnalysis = { invocations: [], redirects: [], damaged: false };
  /** Aliases defined so far (`alias x='rm -rf'`): a later command named x runs the body. */
  private readonly aliases = new Map<string, string>();

  run(code: string): ShellAnalysis {
    this.script(code, 0, { via: [], remote: false, depth: 0, end: Number.POSITIVE_INFINITY }, undefined);
    return this.out;
  }

  private script(code: string, line: number, ctx: Context, stdin: Stdin | undefined): void {
    // Brace expansion comes first in bash, before any word is read: `{rm,-rf,x}` is `rm -rf x`.
    const text = expandBraces(code);
    let commands: ShellCommand[];
    try {
      const parsed = this.parse(text, line);
      commands = parsed.commands;
      let redirects = parsed.redirects;
      if (parsed.damaged) {
        this.out.damaged = true;
        const approximate = approximateCommands(text, parsed.inert, line);
        commands = [...commands, ...approximate];
        redirects = [...redirects, ...approximate.flatMap((c) => c.redirects)];
      }
      for (const r of redirects) this.out.redirects.push({ ...r, via: ctx.via, remote: ctx.remote });
    } catch (err) {
      // A tree too deep for the reader's recursion: read it the coarse way instead.
      if (!(err instanceof RangeError)) throw err;
      this.out.damaged = true;
      commands = approximateCommands(text, [], line);
      const { via, remote } = ctx;
      for (const r of commands.flatMap((c) => c.redirects)) this.out.redirects.push({ ...r, via, remote });
    }
    for (const c of commands) this.command(c.argv, c.line, ctx, c.stdin ?? stdin, c.redirects);
  }

  /** The tree's commands; a text the grammar trips on is tried again with glob command words escaped (glob.ts). */
  private parse(text: string, line: number): ParsedScript {
    const parsed = withShellTree(text, (root) => readScript(root, line));
    if (!parsed.damaged) return parsed;
    const escaped = escapeCommandGlobs(text);
    if (escaped === text) return parsed;
    const again = withShellTree(escaped, (root) => readScript(root, line));
    return again.damaged ? parsed : again;
  }

  private command(argv: Word[], line: number, ctx: Context, stdin?: Stdin, redirects: Redirect[] = []): void {
    if (!argv.length) return;
    const { via, remote } = ctx;
    const end = Math.min(ctx.end, Math.max(lastLine(argv), stdin?.end ?? -1, ...redirects.map((r) => r.line)));
    const alias = argv[0]!.value !== undefined ? this.aliases.get(argv[0]!.value) : undefined;
    if (alias !== undefined && ctx.depth < MAX_DEPTH) {
      // The alias body replaces the word in the source text; the rest of the line follows as written.
      const text = [alias, ...argv.slice(1).map((w) => w.text)].join(' ');
      const next = { via: [...via, `alias ${argv[0]!.value}`], remote, depth: ctx.depth + 1, end };
      this.script(text, argv[0]!.line, next, stdin);
      return;
    }
    if (commandName(argv[0]) === 'alias') this.define(argv.slice(1));
    const at = Math.min(argv[0]!.line ?? line, ctx.end);
    const inv: Invocation = { argv, name: commandName(argv[0]), line: at, via, remote, redirects };
    if (stdin) inv.stdin = stdin;
    this.out.invocations.push(inv);
    if (ctx.depth >= MAX_DEPTH) return;
    for (const inner of innerCommands(argv, stdin)) {
      const next: Context = {
        via: [...via, inner.via],
        remote: remote || inner.remote === true,
        depth: ctx.depth + 1,
        end,
      };
      if (inner.argv) this.command(inner.argv, inner.argv[0]?.line ?? line, next, inner.stdin);
      if (inner.script) this.script(inner.script.text, inner.script.line, next, inner.stdin);
    }
  }

  private define(args: Word[]): void {
    for (const w of args) {
      const eq = w.value?.indexOf('=') ?? -1;
      if (eq > 0) this.aliases.set(w.value!.slice(0, eq), w.value!.slice(eq + 1));
    }
  }
}
