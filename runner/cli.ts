#!/usr/bin/env node
/**
 * The `runbook` CLI. Each verb lives in runner/commands/<verb>.ts and registers itself here.
 * Exit codes shared by all verbs: 0 ok, 1 a step failed, 2 usage or validation error, 130 interrupted.
 */
import { Command, CommanderError } from 'commander';
import { UsageError, EXIT } from './errors.ts';

type Register = (program: Command) => void;
/** Verbs in help order, each module loaded only when needed: a run of `check` does not load the executor, and so on. */
const VERBS: Record<string, () => Promise<Register>> = {
  list: async () => (await import('./commands/list.ts')).registerList,
  show: async () => (await import('./commands/show.ts')).registerShow,
  check: async () => (await import('./commands/check.ts')).registerCheck,
  run: async () => (await import('./commands/run.ts')).registerRun,
  resume: async () => (await import('./commands/resume.ts')).registerResume,
  history: async () => (await import('./commands/history.ts')).registerHistory,
};

/** The program with the verb named in argv registered, or every verb (for --help, suggestions after a typo). */
export async function buildProgram(argv = process.argv): Promise<Command> {
  const program = new Command('runbook')
    .description('Run the lab\'s documented procedures: parse, check, plan and execute the steps in MDX pages.')
    .version(process.env.npm_package_version ?? '0.1.0')
    .showSuggestionAfterError()
    .configureHelp({ sortSubcommands: false })
    .addHelpText('after', `
Exit codes: 0 ok, 1 a step failed, 2 usage or validation error, 130 interrupted.
Docs: src/content/docs/reference/cli.mdx and reference/runbook-format.mdx (or the site's Reference section).`);
  const named = argv.slice(2).find((a) => !a.startsWith('-'));
  const verbs = named !== undefined && Object.hasOwn(VERBS, named) ? [named] : Object.keys(VERBS);
  for (const register of await Promise.all(verbs.map((v) => VERBS[v]!()))) register(program);
  return program;
}

export async function main(argv = process.argv): Promise<number> {
  quietOnClosedPipe();
  const program = await buildProgram(argv);
  program.exitOverride();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version exit 0; usage mistakes exit 2 (commander already printed the message).
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`runbook: ${err.message}\n`);
      return EXIT.usage;
    }
    throw err;
  }
}

if (import.meta.main) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`runbook: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 70;
    },
  );
}

/**
 * `runbook show x | head`: once the reader is gone, further output is dropped
 * instead of crashing with EPIPE. A run keeps going (and keeps its record) —
 * dying mid-step would leave the step's processes behind.
 */
function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      stream.write = (() => true) as typeof stream.write;
    });
  }
}
