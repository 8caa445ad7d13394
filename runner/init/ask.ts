import { UsageError } from '../errors.ts';

/**
 * Where init's answers come from. Each question names the flag that answers it: on a terminal a
 * missing answer is asked; without one it is noted, and once every question has been put the run
 * fails (exit 2) naming every flag to pass — before anything is written, never waiting for input.
 */
export interface Asker {
  readonly interactive: boolean;
  /** A line of text; undefined when there is no terminal (the flag is then listed as missing). */
  text(q: {
    flag: string;
    message: string;
    initial?: string;
    validate?: (v: string) => string | undefined;
  }): Promise<string | undefined>;
  choose<T extends string>(q: {
    flag: string;
    message: string;
    options: { value: T; label: string }[];
  }): Promise<T | undefined>;
  /** A yes/no question; false without a terminal (the flag is listed as missing). */
  confirm(q: { flag: string; message: string; initial?: boolean }): Promise<boolean>;
  note(message: string): void;
  /** Whether an answer is missing already (then finish() will throw). */
  pending(): boolean;
  /** Throws the one error naming every flag still missing. */
  finish(): void;
}

const cancelled = () => new UsageError('init cancelled; nothing was written');

export function terminalAsker(output: NodeJS.WriteStream = process.stderr): Asker {
  // Loaded on use, and only on a terminal: a run with every answer given never loads the prompt library.
  const lib = import('@clack/prompts');
  const answer = async <T>(value: Promise<T | symbol>): Promise<T> => {
    const { isCancel } = await lib;
    const v = await value;
    if (isCancel(v)) throw cancelled();
    return v as T;
  };
  return {
    interactive: true,
    text: async (q) =>
      answer<string>(
        (await lib).text({
          message: q.message,
          ...(q.initial !== undefined ? { initialValue: q.initial } : {}),
          validate: (v) => q.validate?.(v ?? ''),
          output,
        }),
      ),
    choose: async <T extends string>(q: { message: string; options: { value: T; label: string }[] }) =>
      (await answer<string>(
        (
          await lib
        ).select<string>({ message: q.message, options: q.options as { value: string; label: string }[], output }),
      )) as T,
    confirm: async (q) =>
      answer<boolean>((await lib).confirm({ message: q.message, initialValue: q.initial ?? false, output })),
    note: (message) => output.write(`${message}\n`),
    pending: () => false,
    finish: () => {},
  };
}

/** No terminal: every question is a missing flag. */
export function flagsOnlyAsker(): Asker {
  const missing: string[] = [];
  const miss = (q: { flag: string; message: string }) => {
    if (!missing.some((m) => m.startsWith(`${q.flag} `))) missing.push(`${q.flag} (${q.message.replace(/\?$/, '')})`);
  };
  return {
    interactive: false,
    text: async (q) => void miss(q),
    choose: async (q) => void miss(q),
    confirm: async (q) => {
      miss(q);
      return false;
    },
    note: () => {},
    pending: () => missing.length > 0,
    finish: () => {
      if (missing.length === 0) return;
      throw new UsageError(
        `init: there is no terminal to ask, and ${missing.length === 1 ? 'an answer is' : 'answers are'} missing. Pass:\n` +
          `${missing.map((m) => `  ${m}`).join('\n')}\nNothing was written.`,
      );
    },
  };
}
