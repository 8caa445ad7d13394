/**
 * A bash script read into the simple commands it runs, wherever they sit: pipelines, lists,
 * subshells, groups, `$(…)`, `<(…)`, if/while/for/case bodies, functions. Each command keeps
 * its redirections and, when the script spells it out, the text on its stdin (a here-document,
 * a here-string, or echo/printf/cat piped in), so a shell or SQL client fed a script can be
 * looked into. Here-documents are data otherwise.
 *
 * The tree is read through one `descendantsOfType` query rather than a walk from JS: every node
 * crossing from wasm costs an allocation, and a walk visits every token (measured: 3x slower).
 *
 * tree-sitter-bash quirks patched here (each has a test in test/adversarial/destructive.test.ts):
 * - words after a redirection (`rm >/dev/null -rf x`) come as extra redirect destinations:
 *   they are arguments of the command;
 * - `cmd <<EOF arg` gives `arg` to the here-document node, and `cmd1 && cat <<EOF | cmd2` wraps
 *   the whole list in the redirect, with the rest of the pipeline inside the here-document node.
 */
import type { SyntaxNode } from './parser.ts';
import { commandName, readWord, type Word } from './words.ts';

export interface Redirect {
  /** `>`, `>>`, `&>`, `&>>`, `>|`, `>&`, `<`, `<&`, `<>`, `<<`, `<<<`, … */
  op: string;
  fd?: string;
  target?: Word;
  line: number;
}

export interface Stdin {
  text: string;
  line: number;
  /** The last line of the source it comes from: text with `$'\n'` or an echoed `\n` has more lines than its source. */
  end: number;
}

export interface ShellCommand {
  argv: Word[];
  redirects: Redirect[];
  line: number;
  stdin?: Stdin;
}

export interface ParsedScript {
  commands: ShellCommand[];
  /** Every redirection in the script, also those of groups and loops (`{ …; } > file`). */
  redirects: Redirect[];
  /** The parser met text it could not read (see fallback.ts). */
  damaged: boolean;
  /** Rows of here-document bodies: text that does not run as written. */
  inert: Array<{ start: number; end: number }>;
}

const QUERY = ['command', 'file_redirect', 'herestring_redirect', 'heredoc_redirect', 'pipeline', 'heredoc_body'];
const OUTPUT_FEEDERS = new Set(['echo', 'printf']);

export function readScript(root: SyntaxNode, lineOffset: number): ParsedScript {
  return new ScriptReader(root, lineOffset).read();
}

class ScriptReader {
  private readonly nodes: SyntaxNode[];
  private readonly out: ParsedScript;
  private readonly byNode = new Map<number, ShellCommand>();
  /** Commands with their start offset, in document order. */
  private readonly starts: Array<{ index: number; cmd: ShellCommand }> = [];
  /** Words that are `<(…)`: the file they name holds what the command inside prints. */
  private readonly substituted: Array<[Word, SyntaxNode]> = [];
  /** Parts of a here-string word the grammar gave to the command as arguments, by here-string node. */
  private readonly hereTails = new Map<number, SyntaxNode[]>();
  /** Pipeline hand-overs: the command whose output feeds the first command of a stage. */
  private readonly fed: Array<[ShellCommand | undefined, SyntaxNode]> = [];
  private readonly lineOffset: number;

  constructor(root: SyntaxNode, lineOffset: number) {
    this.lineOffset = lineOffset;
    this.nodes = root.descendantsOfType(QUERY);
    this.out = { commands: [], redirects: [], damaged: root.hasError, inert: [] };
  }

  read(): ParsedScript {
    // Commands first: redirections and pipelines refer to them.
    for (const node of this.nodes) if (node.type === 'command') this.command(node);
    for (const node of this.nodes) {
      // Comments are left to the fallback's own line splitter, which keeps the code before a `#`.
      if (node.type === 'heredoc_body') {
        this.out.inert.push({ start: this.row(node), end: node.endPosition.row + this.lineOffset });
      } else if (node.type === 'file_redirect') this.fileRedirect(node);
      else if (node.type === 'herestring_redirect') this.hereString(node);
      else if (node.type === 'heredoc_redirect') this.hereDocument(node);
      else if (node.type === 'pipeline') this.pipeline(node);
    }
    for (const [word, node] of this.substituted) {
      const text = this.printedBy(node);
      if (text) word.file = text;
    }
    // Stdin last: a stage is fed by what the stage before it prints, here-documents included.
    for (const [from, stage] of this.fed) {
      const text = from && fedText(from);
      const to = this.firstIn(stage);
      if (text && to && !to.stdin) to.stdin = text;
    }
    return this.out;
  }

  private row(n: SyntaxNode): number {
    return n.startPosition.row + this.lineOffset;
  }

  private word(n: SyntaxNode): Word {
    return readWord(n, this.lineOffset);
  }

  /**
   * Word nodes of one container read as bash splits them: the grammar splits a word at an escaped
   * blank (`DROP\<tab>TABLE`) and after $'…' (`a$'\n'\ b`), where bash sees one word.
   */
  private words(container: SyntaxNode, nodes: SyntaxNode[]): Word[] {
    const out: Word[] = [];
    let prevEnd = -1;
    for (const n of nodes) {
      const word = this.word(n);
      if (n.type === 'process_substitution' && n.text.startsWith('<(')) this.substituted.push([word, n]);
      const gap = prevEnd < 0 ? ' ' : gapBetween(container, prevEnd, n);
      prevEnd = n.endIndex;
      const last = out.at(-1);
      if (last && JOINS.test(gap)) {
        const blanks = gap.replace(/\\/g, '');
        const both = last.value !== undefined && word.value !== undefined;
        last.value = both ? last.value! + blanks + word.value! : undefined;
        last.text += gap + word.text;
      } else out.push(word);
    }
    return out;
  }

  private command(node: SyntaxNode): void {
    const cmd: ShellCommand = { argv: [], redirects: [], line: this.row(node) };
    // The grammar puts assignments and redirections before the name, then the name, then arguments
    // and redirections: one call for the named children beats a call per child and field.
    let named = false;
    const words: SyntaxNode[] = [];
    let here: { id: number; end: number } | undefined;
    for (const child of node.namedChildren) {
      if (!child) continue;
      const type = child.type;
      // The grammar ends a here-string where it splits words (see words()): the parts that follow are its own.
      if (here && JOINS.test(gapBetween(node, here.end, child))) {
        this.hereTails.set(here.id, [...(this.hereTails.get(here.id) ?? []), child]);
        here.end = child.endIndex;
        continue;
      }
      here = type === 'herestring_redirect' ? { id: child.id, end: child.endIndex } : undefined;
      if (type === 'command_name') named = true;
      else if (!named || type.endsWith('_redirect')) continue;
      words.push(child);
    }
    cmd.argv.push(...this.words(node, words));
    if (cmd.argv[0]) cmd.line = cmd.argv[0].line;
    this.out.commands.push(cmd);
    this.byNode.set(node.id, cmd);
    this.starts.push({ index: node.startIndex, cmd });
  }

  /** The command a node stands for: itself, a redirected command, or the last command of a list. */
  private commandOf(start: SyntaxNode | null): ShellCommand | undefined {
    let n = start;
    while (n && (n.type === 'list' || n.type === 'pipeline')) n = n.namedChild(n.namedChildCount - 1);
    if (n?.type === 'redirected_statement') n = n.childForFieldName('body');
    // `! cmd < file`: the redirection is the negated command's.
    if (n?.type === 'negated_command') n = n.namedChild(0);
    return n?.type === 'command' ? this.byNode.get(n.id) : undefined;
  }

  /** The command a redirection node belongs to, by where the grammar put it. */
  private ownerOf(redirect: SyntaxNode): ShellCommand | undefined {
    const parent = redirect.parent;
    if (parent?.type === 'command') return this.byNode.get(parent.id);
    if (parent?.type === 'redirected_statement') return this.commandOf(parent.childForFieldName('body'));
    if (parent?.type === 'heredoc_redirect') return this.ownerOf(parent);
    return undefined;
  }

  /** The first command that runs in a pipeline stage: binary search over the commands in document order. */
  private firstIn(stage: SyntaxNode): ShellCommand | undefined {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.starts[mid]!.index < stage.startIndex) lo = mid + 1;
      else hi = mid;
    }
    const s = this.starts[lo];
    return s && s.index < stage.endIndex ? s.cmd : undefined;
  }

  /** What a `<(…)` prints when the script spells it out (its last command is echo/printf of literals, …). */
  private printedBy(substitution: SyntaxNode): Stdin | undefined {
    const inner = this.commandOf(substitution.namedChild(substitution.namedChildCount - 1));
    return inner && fedText(inner);
  }

  private record(r: Redirect, owner: ShellCommand | undefined): void {
    this.out.redirects.push(r);
    owner?.redirects.push(r);
  }

  private fileRedirect(node: SyntaxNode): void {
    const owner = this.ownerOf(node);
    const [target, ...extra] = node.childrenForFieldName('destination').filter((d): d is SyntaxNode => d !== null);
    const fd = node.childForFieldName('descriptor')?.text;
    const op = node.children.find((c) => c && !c.isNamed && /^[<>&]/.test(c.type))?.type ?? '';
    const r: Redirect = { op, line: this.row(node) };
    if (fd) r.fd = fd;
    if (target) r.target = this.word(target);
    this.record(r, owner);
    // `cmd < <(echo …)`: the command reads what the process substitution prints.
    if (op === '<' && target?.type === 'process_substitution' && owner && !owner.stdin) {
      const text = this.printedBy(target);
      if (text) owner.stdin = text;
    }
    // The grammar hands later words to the redirect; bash gives them to the command.
    for (const w of extra) owner?.argv.push(this.word(w));
  }

  private hereString(node: SyntaxNode): void {
    const owner = this.ownerOf(node);
    this.record({ op: '<<<', line: this.row(node) }, owner);
    const parts = node.namedChildren.filter((c): c is SyntaxNode => c !== null && c.type !== 'file_descriptor');
    const tails = this.hereTails.get(node.id) ?? [];
    const [text] = this.words(tails.length ? node.parent! : node, [...parts, ...tails]);
    if (text && owner) {
      const end = node.endPosition.row + this.lineOffset;
      owner.stdin = { text: text.value ?? text.text, line: this.row(node), end };
    }
  }

  private hereDocument(node: SyntaxNode): void {
    const owner = this.ownerOf(node);
    this.record({ op: '<<', line: this.row(node) }, owner);
    for (let i = 0; i < node.childCount; i++) {
      const child = node.child(i);
      if (!child) continue;
      if (child.type === 'heredoc_body' && owner) {
        owner.stdin = { text: child.text, line: this.row(child), end: child.endPosition.row + this.lineOffset };
      } else if (child.type === 'pipeline') this.fed.push([owner, child]);
      else if (node.fieldNameForChild(i) === 'argument' && child.isNamed) owner?.argv.push(this.word(child));
    }
  }

  private pipeline(node: SyntaxNode): void {
    const stages = node.namedChildren.filter((c): c is SyntaxNode => c !== null && c.type !== 'comment');
    for (let i = 1; i < stages.length; i++) {
      const before = stages[i - 1]!;
      this.fed.push([this.commandOf(before) ?? this.firstIn(before), stages[i]!]);
    }
  }
}

/** Text between two nodes that leaves them one word for bash: nothing, or escaped blanks only. */
const JOINS = /^(?:\\[ \t])*$/;

function gapBetween(container: SyntaxNode, from: number, next: SyntaxNode): string {
  const base = container.startIndex;
  return container.text.slice(from - base, next.startIndex - base);
}

/**
 * What a pipeline stage or `<(…)` prints when the script spells it out: echo/printf of literal words,
 * cat of a here-document.
 */
function fedText(cmd: ShellCommand): Stdin | undefined {
  const name = commandName(cmd.argv[0]);
  if (name === 'cat' && cmd.argv.length === 1 && cmd.stdin) return cmd.stdin;
  if (!name || !OUTPUT_FEEDERS.has(name)) return undefined;
  const words = cmd.argv.slice(1).map((w) => w.value);
  if (words.some((w) => w === undefined)) return undefined;
  // `printf '%s\n' 'line' …` prints each word on its own line; any other format is read as the text.
  if (name === 'printf' && words.length > 1 && /^%s(\\n)?$/.test(words[0]!)) {
    return { text: words.slice(1).join(words[0] === '%s' ? '' : '\n'), line: cmd.line, end: lastLine(cmd.argv) };
  }
  return { text: words.join(' '), line: cmd.line, end: lastLine(cmd.argv) };
}

/** The last source line words span. */
export function lastLine(words: readonly Word[]): number {
  let end = -1;
  for (const w of words) end = Math.max(end, w.line + (w.text.match(/\n/g)?.length ?? 0));
  return end;
}
