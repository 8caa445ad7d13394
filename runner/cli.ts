#!/usr/bin/env node
/**
 * The `runbook` CLI. Each verb lives in runner/commands/<verb>.ts and registers itself here.
 * Exit codes shared by all verbs: 0 ok, 1 a step failed, 2 refused or a runner failure, 128+n a signal (129 HUP, 130 INT, 143 TERM).
 */
import { Command, CommanderError } from 'commander';
import { UsageError, EXIT, describeError } from './errors.ts';
import { secretMasker } from './secrets/mask.ts';

import { registerList } from './commands/list.ts';
import { registerShow } from './commands/show.ts';
import { registerCheck } from './commands/check.ts';
import { registerRun } from './commands/run.ts';
import { registerResume } from './commands/resume.ts';
import { registerHistory } from './commands/history.ts';
import { registerVerify } from './commands/verify.ts';
import { registerStatus } from './commands/status.ts';
import { registerLock } from './commands/lock.ts';
import { registerInventory } from './commands/inventory.ts';
import { registerImport } from './commands/import.ts';
import { registerInit } from './commands/init.ts';

/**
 * Verbs in help order. A verb's module only declares it (arguments, options, help text) and loads what its
 * action needs on use, so declaring all of them is cheap: `runbook --help` loads no parser, schema or API client.
 */
const VERBS: Record<string, (program: Command) => void> = {
  list: registerList,
  show: registerShow,
  check: registerCheck,
  run: registerRun,
  resume: registerResume,
  history: registerHistory,
  verify: registerVerify,
  status: registerStatus,
  lock: registerLock,
  inventory: registerInventory,
  import: registerImport,
  init: registerInit,
};

/** The program with the verb named in argv registered, or every verb (for --help, suggestions after a typo). */
export async function buildProgram(argv = process.argv): Promise<Command> {
  const program = new Command('runbook')
    // Before the verbs are added, so they inherit it: a usage mistake in a verb exits 2 too, never commander's 1.
    .exitOverride()
    .description("Run the lab's documented procedures: parse, check, plan and execute the steps in MDX pages.")
    .version(process.env.npm_package_version ?? '0.1.0')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 a step failed, 2 refused or a runner failure (never a stack trace;
RUNBOOK_DEBUG=1 adds it), 129 terminal closed, 130 Ctrl-C, 143 SIGTERM.
Docs: src/content/docs/reference/cli.mdx and reference/runbook-format.mdx (or the site's Reference section).`,
    );
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const verbs = named !== undefined && Object.hasOwn(VERBS, named) ? [named] : Object.keys(VERBS);
  for (const v of verbs) VERBS[v]!(program);
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  quietOnClosedPipe();
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    // --help and --version exit 0; usage mistakes exit 2 (commander already printed the message).
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    return reportFailure(err);
  }
}

/**
 * Every failure of the runner (not of a step) ends here: exit 2 and a message that
 * says what is wrong and what to do, never a stack trace unless RUNBOOK_DEBUG=1.
 * A UsageError's message is written as its author meant it (it may list several
 * problems); anything unexpected is said in one line. Secrets are masked either way.
 */
export function reportFailure(err: unknown, env: NodeJS.ProcessEnv = process.env): number {
  const masker = secretMasker([], env);
  const expected = err instanceof UsageError;
  const debug = env.RUNBOOK_DEBUG === '1' && err instanceof Error && err.stack ? `\n${err.stack}` : '';
  const hint = expected || debug ? '' : ' (set RUNBOOK_DEBUG=1 for the stack)';
  process.stderr.write(`${masker.mask(`runbook: ${describeError(err)}${hint}${debug}`)}\n`);
  return EXIT.usage;
}

/**
 * Once a verb has its answer, the process ends within this: a socket to an API server that stopped
 * answering (SIGSTOPped, a dead link) can hold Node's event loop open long after its request was
 * abandoned, and a verb must not linger for it. Normally the loop is empty and the process exits at once.
 */
const LINGER_MS = 1_000;

if (import.meta.main) {
  const end = (code: number) => {
    process.exitCode = code;
    setTimeout(() => process.exit(), LINGER_MS).unref();
  };
  main().then(end, (err) => end(reportFailure(err)));
}

/**
 * `runbook show x | head`: once the reader is gone, further output is dropped
 * instead of crashing with EPIPE (or EIO from a closed terminal). A run keeps going (and keeps its record) —
 * dying mid-step would leave the step's processes behind.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    // EIO: the terminal went away. Any other error on our own output cannot be reported on it either.
    stream.on('error', () => {
      stream.write = (() => true) as typeof stream.write;
    });
  }
}
