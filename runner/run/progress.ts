import pc from 'picocolors';
import { describeTarget, type StepInstance } from '../plan/plan.ts';
import { formatDuration } from '../format/duration.ts';
import type { RunRecord, StepRecord, StepStatus } from '../record/schema.ts';
import { table } from '../ui/table.ts';

/**
 * What a person watching a run sees: one header per step (n/m, id, title,
 * target), the step's output indented behind a gutter, one result line with the
 * elapsed time, and a summary table. A spinner with a live clock runs only on a
 * terminal; elsewhere (CI, pipes, `--json`) the lines are plain. Colours follow
 * picocolors (NO_COLOR, FORCE_COLOR). All text reaching here is already masked.
 */
export interface Progress {
  stepStarted(instance: StepInstance, total: number): void;
  output(text: string, label?: string): void;
  note(text: string): void;
  stepEnded(instance: StepInstance, total: number, step: StepRecord): void;
  /** Stops the spinner while something else (a prompt) owns the terminal. */
  pause(): void;
  close(): void;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const GUTTER = `  ${pc.dim('│')} `;

export const STATUS_STYLE: Record<StepStatus, (s: string) => string> = {
  succeeded: pc.green,
  failed: pc.red,
  'timed-out': pc.red,
  interrupted: pc.yellow,
  running: pc.cyan,
  pending: pc.dim,
  skipped: pc.dim,
};
const STATUS_MARK: Partial<Record<StepStatus, string>> = {
  succeeded: '✓',
  failed: '✗',
  'timed-out': '✗',
  interrupted: '■',
  pending: '·',
};

export function createProgress(stream: NodeJS.WriteStream, tty = stream.isTTY === true): Progress {
  const partial = new Map<string, string>();
  let spinner: NodeJS.Timeout | undefined;
  let spinnerText = () => '';
  let frame = 0;
  let spinnerShown = false;

  const clearSpinner = () => {
    if (spinnerShown) stream.write('\r\x1b[2K');
    spinnerShown = false;
  };
  const drawSpinner = () => {
    if (!spinner) return;
    stream.write(`\r\x1b[2K${pc.cyan(SPINNER[frame++ % SPINNER.length]!)} ${spinnerText()}`);
    spinnerShown = true;
  };
  const write = (text: string) => {
    clearSpinner();
    stream.write(text);
    drawSpinner();
  };
  const lines = (label: string | undefined, text: string) =>
    text
      .split('\n')
      .map((line) => `${GUTTER}${label ? pc.dim(`[${label}] `) : ''}${line}\n`)
      .join('');
  const flushPartial = () => {
    for (const [label, rest] of partial) if (rest) write(lines(label || undefined, rest));
    partial.clear();
  };
  const stopSpinner = () => {
    clearInterval(spinner);
    spinner = undefined;
    clearSpinner();
  };

  return {
    stepStarted(instance, total) {
      const title = instance.step.attrs.title ?? instance.step.section;
      const where = instance.targets.map(describeTarget).join(', ');
      write(
        `${pc.bold(`▶ ${instance.index}/${total}`)} ${pc.cyan(instance.id)}${title ? `  ${title}` : ''}  ${pc.dim(`(${where})`)}\n`,
      );
      if (tty) {
        const started = performance.now();
        spinnerText = () => `${instance.id} ${pc.dim(formatDuration(performance.now() - started))}`;
        spinner = setInterval(drawSpinner, 100);
        spinner.unref();
        drawSpinner();
      }
    },
    output(text, label) {
      // Lines are printed whole so the gutter and the spinner never cut one; \r counts as a line end.
      const buffered = (partial.get(label ?? '') ?? '') + text.replace(/\r\n?/g, '\n');
      const cut = buffered.lastIndexOf('\n');
      partial.set(label ?? '', buffered.slice(cut + 1));
      if (cut >= 0) write(lines(label, buffered.slice(0, cut)));
    },
    note(text) {
      write(`  ${pc.yellow('↻')} ${text}\n`);
    },
    stepEnded(instance, total, step) {
      flushPartial();
      stopSpinner();
      const style = STATUS_STYLE[step.status];
      const detail = step.status === 'succeeded' ? '' : step.error ? `: ${step.error}` : '';
      const tries = step.attempts > 1 ? `, ${step.attempts} attempts` : '';
      write(
        `${style(`${STATUS_MARK[step.status] ?? '·'} ${instance.index}/${total}`)} ${instance.id} ${style(step.status)} in ${formatDuration(step.durationMs)}${tries}${detail}\n`,
      );
    },
    pause: stopSpinner,
    close() {
      flushPartial();
      stopSpinner();
    },
  };
}

/** The table printed when a run ends, one row per step instance. */
export function summaryTable(record: RunRecord): string {
  const rows = record.steps.map((s) => [
    String(s.index),
    s.id,
    s.targets.map((t) => t.target).join(',') || '-',
    STATUS_STYLE[s.status](s.status),
    String(s.attempts),
    s.exitCode === null ? '-' : String(s.exitCode),
    s.attempts ? formatDuration(s.durationMs) : '-',
  ]);
  return table(['#', 'STEP', 'TARGET', 'STATUS', 'TRIES', 'EXIT', 'TIME'], rows, '  ');
}

/**
 * A closed terminal shows up as EIO on the next write to it (a pipe whose reader
 * left is EPIPE, which is not a hang-up: the run goes on). Once a stream fails
 * with EIO, further writes to it are dropped, so nothing crashes trying to report
 * on a terminal that is gone, and `onHangUp` runs once. Returns the undo.
 */
export function guardTerminal(streams: NodeJS.WriteStream[], onHangUp: () => void): () => void {
  let hungUp = false;
  const listeners = streams.map((stream) => {
    const listener = (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EIO') return;
      stream.write = (() => true) as typeof stream.write;
      if (!hungUp) {
        hungUp = true;
        onHangUp();
      }
    };
    stream.on('error', listener);
    return () => stream.off('error', listener);
  });
  return () => {
    for (const off of listeners) off();
  };
}
