import pc from 'picocolors';
import { applyScript } from '../execute/types.ts';
import { describeTarget, type StepInstance } from '../plan/plan.ts';
import { UsageError } from '../errors.ts';
import { showInvisible, oneLine } from '../ui/escape.ts';
import { shellQuote } from '../ui/shell-quote.ts';

/**
 * `confirm` steps ask before they run. The question needs a person at a
 * terminal: without one, and without --yes, the run refuses before executing
 * anything, so a destructive step can never be reached unconfirmed.
 */
export function confirmationGate(
  instances: readonly StepInstance[],
  options: { yes: boolean; interactive: boolean },
): void {
  const needing = instances.filter((i) => i.step.attrs.confirm);
  if (needing.length === 0 || options.yes || options.interactive) return;
  const list = needing
    .map((i) => {
      const title = i.step.attrs.title ? ` ${oneLine(i.step.attrs.title)}` : '';
      return `  ${i.index}. ${oneLine(i.id)} (line ${i.step.position.start.line})${title}`;
    })
    .join('\n');
  throw new UsageError(
    `${needing.length} step${needing.length > 1 ? 's need' : ' needs'} confirmation and there is no terminal to ask:\n${list}\n` +
      'Run from a terminal to confirm each one, or pass --yes to confirm them in advance. Nothing was run.',
  );
}

/** The question as printed: where it runs, with which variables, and the exact script with invisible characters escaped. */
export function confirmationText(instance: StepInstance, mark: (s: string) => string = pc.inverse): string {
  // A local apply step is sent through the API, not to a shell: the question shows the manifest itself.
  const local = instance.targets.every((t) => t.kind === 'local');
  const script = instance.step.kind === 'apply' && !local ? applyScript(instance.step.code) : instance.step.code;
  const applied =
    instance.step.kind === 'apply' && local
      ? `\n  ${pc.dim('applied through the Kubernetes API: server-side apply, field manager runbook')}`
      : '';
  const where = instance.targets.map(describeTarget).map(oneLine).join(', ');
  const env = Object.entries(instance.env)
    .map(([k, v]) => `${k}=${shellQuote(v)}`)
    .join(' ');
  const shown = showInvisible(script.replace(/\n$/, ''), mark);
  const note = shown.escaped
    ? `\n  ${pc.yellow('!')} the script holds ${shown.escaped} invisible character${shown.escaped > 1 ? 's' : ''}, shown escaped (${mark('\\x1b')})`
    : '';
  // The read-only prelude is not shown (it is the runner's, not the page's): say what it does instead.
  const readOnly =
    (instance.step.attrs.check
      ? `\n  ${pc.dim('runs read-only: kubectl, helm, k3s, crictl and ctr refuse writes')}`
      : '') + applied;
  return (
    `\n${pc.yellow('?')} ${pc.bold(oneLine(instance.id))} needs confirmation. It runs on ${where}${env ? ` with ${env}` : ''}:\n` +
    `${shown.text
      .split('\n')
      .map((l) => `  ${pc.yellow('│')} ${l}`)
      .join('\n')}${note}${readOnly}\n`
  );
}

/** Shows the exact script and where it runs, then asks. */
export async function askToRun(
  instance: StepInstance,
  output: NodeJS.WriteStream,
  signal: AbortSignal,
): Promise<boolean> {
  output.write(confirmationText(instance));
  // Loaded on use: most runs never ask.
  const { confirm, isCancel } = await import('@clack/prompts');
  const answer = await confirm({ message: `Run ${oneLine(instance.id)}?`, initialValue: false, output, signal });
  return !isCancel(answer) && answer === true;
}
