import type { Diagnostic, Severity } from '../../format/model.ts';
import { analyseShell, type Invocation } from '../../shell/analyse.ts';
import { parseOptions, type OptionSyntax, type ParsedArgs } from '../../shell/options.ts';
import { syntaxOf } from '../../shell/syntax.ts';
import type { StepRule } from '../types.ts';
import { hops } from './destructive.ts';

/**
 * Commands that never return, or that want a terminal, in a step. A step has no terminal: a
 * local step's stdin is /dev/null and its output a pipe (execute/local.ts); a node step's stdin
 * is /dev/null too and its output goes back over ssh without a pty (execute/ssh/script.ts).
 *
 * Each claim was checked (empirically here where the tool is installed: stdin /dev/null, stdout
 * a pipe, a new session without a controlling terminal):
 * - error, never returns on its own: `kubectl get|events -w`, `kubectl logs -f`, `kubectl attach`,
 *   `journalctl -f`, `tail -f` (without `--pid`), `dmesg -w`, `top -b` without `-n` (ran until
 *   killed), `watch` (redraws forever; "Error opening terminal" without TERM), `ping` without
 *   `-c`/`-w`, `ssh -N` without `-f`. The step's `timeout=` ends them, as a failure.
 * - error, cannot do its job without a terminal: `top` without `-b` ("top: failed tty get",
 *   exit 1), htop/btop/k9s/nmtui/iftop (full-screen only), editors (vim: "Input is not from a
 *   terminal", reads EOF, exits 1 after ~2 s; nano and emacs refuse a non-terminal), `kubectl
 *   edit`, `systemctl edit`, `crontab -e`, `sudoedit`/`sudo -e`, `visudo` without `-c` (they run
 *   an editor), `docker|nerdctl exec|run -it` ("the input device is not a TTY", exit 1) and
 *   `docker compose exec` without `-T` (it allocates a tty by default).
 * - warning, returns but the option or command does nothing useful: pagers (`less` and
 *   util-linux `more` copy their input like cat when stdout is not a terminal; `most` is treated
 *   the same), `kubectl exec|run|debug -t` (kubectl says "Unable to use a TTY - input is not a
 *   terminal" and goes on without one; where it gets one, the pty turns \n into \r\n and corrupts
 *   binary output), `podman|crictl exec -t`, `docker exec -t` without `-i`, `ssh -t` ("Pseudo-
 *   terminal will not be allocated"; `-tt` forces one and rewrites the output).
 * - not flagged: systemctl, journalctl, kubectl and git page only when stdout is a terminal, so
 *   they never page in a step; `kubectl port-forward`/`kubectl proxy` are usually backgrounded
 *   with `&`, which the command list does not show.
 *
 * A command under `timeout` returns: `timeout 60 kubectl get pods -w` is fine, and so is a watch
 * bounded by `--request-timeout`.
 */
export const interactiveRule: StepRule = (step, { at }) => {
  if (step.kind !== 'shell' || !MAY_MATCH.test(step.code)) return [];
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const inv of analyseShell(step.code).invocations) {
    if (inv.name === undefined || inv.via.some((v) => v === 'timeout')) continue;
    const finding = judge(inv.name, inv);
    if (!finding || seen.has(`${inv.line}:${finding.what}`)) continue;
    seen.add(`${inv.line}:${finding.what}`);
    const message = `step "${step.id}" runs ${finding.what}${hops(inv)}: ${finding.fix}`;
    out.push(at(inv.line, 'interactive-command', message, finding.severity));
  }
  return out;
};

interface Finding {
  what: string;
  fix: string;
  severity: Severity;
}

/** Never returns on its own (error). */
const never = (what: string, fix: string): Finding => ({
  what,
  fix: `it never returns on its own; ${fix}`,
  severity: 'error',
});
/** Cannot do its job without a terminal (error). */
const noTerminal = (what: string, fix: string): Finding => ({
  what,
  fix: `a step has no terminal; ${fix}`,
  severity: 'error',
});
/** Returns and works, but the terminal it asks for is useless or harmful (warning). */
const useless = (what: string, fix: string): Finding => ({
  what,
  fix: `a step has no terminal; ${fix}`,
  severity: 'warning',
});

const BOUND = 'or bound it with timeout (timeout 60 …)';
const FIX = {
  watchKubectl:
    'wait for the condition instead (kubectl wait --for=… --timeout=…, kubectl rollout status ' +
    `--timeout=…), ${BOUND}`,
  logs: `read what is there and exit: kubectl logs --since=10m (or --tail=100), ${BOUND}`,
  attach: `read the output with kubectl logs --since=10m, ${BOUND}`,
  journal: `show what is there and exit: journalctl -u <unit> -n 50 --no-pager (or --since "-10min"), ${BOUND}`,
  tail: `print the last lines and exit (tail -n 50), or wait for a line with a bounded loop, ${BOUND}`,
  dmesg: `print and exit (dmesg | tail -n 50), ${BOUND}`,
  watch: 'it redraws a terminal screen forever: poll in a loop with a deadline or use kubectl wait --timeout=…',
  top: 'it fails with "failed tty get": use top -b -n 1, or ps',
  topCount: 'give it a count: top -b -n 1',
  ping: 'give it a count and a deadline: ping -c 3 -W 2 <host>',
  fullScreen: 'it draws a full-screen view only; use a command that prints and exits (ps, ss, kubectl get)',
  editor: 'it waits for keys that never come and fails: write the file with a here-document, sed -i or an apply step',
  kubectlEdit: 'it opens an editor and fails: change the object with kubectl patch, kubectl set, or an apply step',
  kubectlTty:
    'kubectl goes on without one ("Unable to use a TTY"), and where it gets one the pty rewrites the output: ' +
    'drop -t (keep -i only to feed it stdin)',
  systemctlEdit: 'it opens an editor: write the drop-in (/etc/systemd/system/<unit>.d/*.conf), then daemon-reload',
  crontab: 'it opens an editor: install the table from a file (crontab <file>) or write /etc/cron.d/<name>',
  visudo: 'it opens an editor: write a file under /etc/sudoers.d/ and check it with visudo -c -f <file>',
  sshForward: 'it holds the forward open forever: add -f to background it (and stop it at the end)',
  sshTty: 'ssh goes on without one ("Pseudo-terminal will not be allocated"): drop -t',
  sshForcedTty: 'the forced pseudo-terminal rewrites the output (\\r\\n), and remote programs may prompt: drop -tt',
  containerTty: 'a pseudo-terminal rewrites the output (\\r\\n): drop -t',
  compose: 'it allocates a tty by default and fails with "the input device is not a TTY": add -T',
};
const pager = (name: string) =>
  `${name} only copies its input like cat there: drop it (systemctl, journalctl and kubectl do not page in a step)`;

const EDITORS = new Set(['vi', 'vim', 'nvim', 'view', 'nano', 'pico', 'emacs', 'sudoedit', 'vipw', 'vigr']);
const FULL_SCREEN = new Set(['htop', 'btop', 'k9s', 'nmtui', 'iftop']);
const PAGERS = new Set(['less', 'more', 'most']);
/**
 * A cheap look at the raw text before the parse is asked: a finding needs one of the commands that are
 * findings by name, a verb (edit, attach, compose), or an option cluster with one of the letters judge() looks
 * for (-w -f -F -t -T -N -e; --watch, --follow, --tty). It only lets steps through to the parse.
 */
const BY_NAME = [...EDITORS, ...FULL_SCREEN, ...PAGERS, 'watch', 'top', 'ping', 'crontab', 'visudo'];
const MAY_MATCH = new RegExp(
  `\\b(${[...BY_NAME, 'edit', 'attach', 'compose'].join('|')})\\b` +
    `|(?:^|[\\s'"])-[A-Za-z]*[wfFtTNe][A-Za-z]*(?=[\\s'"=]|$)|--(watch|follow|tty)`,
  'm',
);

const JOURNALCTL: OptionSyntax = {
  values: words(`-u --unit --user-unit -n --lines -p --priority -S --since -U --until -t --identifier
    -T --exclude-identifier -o --output -D --directory -M --machine -g --grep -F --field --facility -i --file --root
    --image --namespace --cursor --after-cursor --cursor-file --output-fields`),
  optionalValues: ['-b', '--boot'],
};
const TAIL: OptionSyntax = { values: words('-n --lines -c --bytes -s --sleep-interval --pid --max-unchanged-stats') };
const TOP: OptionSyntax = { values: words('-d -n -p -u -U -o -O -E -e -w') };
const PING: OptionSyntax = { values: words('-c -w -W -i -I -s -t -m -M -p -Q -S -l') };
const CONTAINER: OptionSyntax = {
  values: words(`-e --env --env-file -u --user -w --workdir --detach-keys --name --network -v --volume -p --publish
    --entrypoint --mount -l --label --platform`),
  style: 'pflag',
};
const COMPOSE: OptionSyntax = {
  values: words('-f --file -p --project-name --env-file --profile -e --env -u --user -w --workdir --index'),
};

function words(text: string): string[] {
  return text.trim().split(/\s+/);
}

/** An option given and not turned off (`--follow=false`). */
function on(parsed: ParsedArgs, ...names: string[]): boolean {
  return parsed.options.some((o) => names.includes(o.name) && o.value?.value !== 'false');
}

function judge(name: string, inv: Invocation): Finding | undefined {
  const args = inv.argv.slice(1);
  if (EDITORS.has(name)) return editor(name, parseOptions(args));
  if (FULL_SCREEN.has(name)) return noTerminal(name, FIX.fullScreen);
  if (PAGERS.has(name)) return useless(name, pager(name));
  switch (name) {
    case 'kubectl':
      return kubectl(parseOptions(args, syntaxOf('kubectl')));
    case 'journalctl':
      return on(parseOptions(args, JOURNALCTL), '-f', '--follow') ? never('journalctl -f', FIX.journal) : undefined;
    case 'tail': {
      const p = parseOptions(args, TAIL);
      return on(p, '-f', '-F', '--follow') && !p.has('--pid') ? never('tail -f', FIX.tail) : undefined;
    }
    case 'dmesg':
      return parseOptions(args).has('-w', '--follow', '-W', '--follow-new') ? never('dmesg -w', FIX.dmesg) : undefined;
    case 'watch':
      return never('watch', FIX.watch);
    case 'top': {
      const p = parseOptions(args, TOP);
      if (!p.has('-b')) return noTerminal('top', FIX.top);
      return p.has('-n') ? undefined : never('top -b without -n', FIX.topCount);
    }
    case 'ping':
      return parseOptions(args, PING).has('-c', '-w') ? undefined : never('ping without -c', FIX.ping);
    case 'ssh':
      return ssh(parseOptions(args, syntaxOf('ssh')));
    case 'docker':
    case 'nerdctl':
    case 'podman':
    case 'crictl':
      return container(name, args);
    case 'systemctl': {
      const p = parseOptions(args, syntaxOf('systemctl'));
      if (p.operands[0]?.value !== 'edit' || p.has('--stdin')) return undefined;
      return noTerminal('systemctl edit', FIX.systemctlEdit);
    }
    case 'crontab':
      return parseOptions(args).has('-e') ? noTerminal('crontab -e', FIX.crontab) : undefined;
    case 'visudo':
      return parseOptions(args).has('-c', '--check') ? undefined : noTerminal('visudo', FIX.visudo);
    case 'sudo':
      // `sudo -e` is sudoedit; every other sudo runs a command, which is judged on its own.
      return parseOptions(args, syntaxOf('sudo')).has('-e', '--edit') ? noTerminal('sudo -e', FIX.editor) : undefined;
    default:
      return undefined;
  }
}

function editor(name: string, parsed: ParsedArgs): Finding | undefined {
  // Batch modes read no terminal: vim -es (ex, silent), nvim --headless, emacs --batch/--script.
  if (/^n?vim?$/.test(name) && parsed.has('-s', '--headless')) return undefined;
  if (name === 'emacs' && parsed.has('--batch', '--script')) return undefined;
  return noTerminal(`the editor ${name}`, FIX.editor);
}

function kubectl(p: ParsedArgs): Finding | undefined {
  const verb = p.operands[0]?.value;
  switch (verb) {
    case 'get':
    case 'events':
      // A watch bounded by --request-timeout ends when the request does.
      if (!on(p, '-w', '--watch', '--watch-only') || p.has('--request-timeout')) return undefined;
      return never(`kubectl ${verb} -w`, FIX.watchKubectl);
    case 'logs':
      return on(p, '-f', '--follow') ? never('kubectl logs -f', FIX.logs) : undefined;
    case 'attach':
      return never('kubectl attach', FIX.attach);
    case 'edit':
      return noTerminal('kubectl edit', FIX.kubectlEdit);
    case 'exec':
    case 'run':
    case 'debug':
      return on(p, '-t', '--tty') ? useless(`kubectl ${verb} -t`, FIX.kubectlTty) : undefined;
    default:
      return undefined;
  }
}

function ssh(p: ParsedArgs): Finding | undefined {
  if (p.has('-N') && !p.has('-f')) return never('ssh -N', FIX.sshForward);
  const ttys = p.options.filter((o) => o.name === '-t').length;
  if (ttys > 1) return useless('ssh -tt', FIX.sshForcedTty);
  return ttys ? useless('ssh -t', FIX.sshTty) : undefined;
}

/**
 * docker/nerdctl check for a terminal when asked for -i and -t together and refuse ("the input
 * device is not a TTY", exit 1); podman and crictl go on, through a pty when they get one.
 */
function container(name: string, args: Invocation['argv']): Finding | undefined {
  const p = parseOptions(args, CONTAINER);
  const verb = p.operands[0]?.value;
  if (name === 'docker' && verb === 'compose') {
    const sub = parseOptions(args.slice(args.indexOf(p.operands[0]!) + 1), COMPOSE);
    if (sub.operands[0]?.value !== 'exec' || sub.has('-T', '--no-TTY', '--no-tty')) return undefined;
    return noTerminal('docker compose exec without -T', FIX.compose);
  }
  if ((verb !== 'exec' && verb !== 'run' && verb !== 'attach') || !p.has('-t', '--tty')) return undefined;
  const refuses = (name === 'docker' || name === 'nerdctl') && p.has('-i', '--interactive');
  if (refuses) return noTerminal(`${name} ${verb} -it`, `${name} fails with "the input device is not a TTY": drop -t`);
  return useless(`${name} ${verb} -t`, FIX.containerTty);
}
