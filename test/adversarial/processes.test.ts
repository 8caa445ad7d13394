import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLocalExecutor } from '../../runner/execute/local.ts';
import { findRunProcesses, pidAlive, pidWindow, WATCHDOG_NAME } from '../../runner/execute/process-group.ts';
import { removeStaleControlDirs } from '../../runner/execute/ssh/control-dir.ts';
import type { ExecResult, Executor } from '../../runner/execute/types.ts';
import type { StepInstance } from '../../runner/plan/plan.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { livingProcesses, makeLab, operatorEnv, ROOT, runCli, startCli, step, type Lab } from '../run/helpers.ts';

/**
 * Processes:
 * - No step outlives its run: a runner killed with -9 takes its step's process tree with it;
 *   `resume` refuses while a process of the earlier attempt is alive, and names it.
 * - Detached descendants (setsid, double fork, nohup … &) are found and killed when the step
 *   ends, times out or is interrupted.
 * - A timeout is hard: the step ends at its deadline plus the grace period, whoever holds its
 *   stdout. Ctrl-C always works.
 * - A closed terminal (SIGHUP, EIO on stdout) ends the run as `interrupted`, exit 129, with a
 *   valid record and no crash.
 * - Leftover ssh control directories of a killed run are cleaned up by the next run.
 * Every process a test starts carries the test's mark in its command line (`exec -a`), and
 * after each test no process with that mark may be left.
 */

const GRACE = 300;
let lab: Lab;
let mark: string;
beforeEach(() => {
  lab = makeLab();
  mark = `rbk-${randomBytes(5).toString('hex')}`;
});
afterEach(() => {
  const left = livingProcesses(mark);
  for (const pid of left) spawnSync('kill', ['-KILL', String(pid)]);
  lab.cleanup();
  expect(left, `processes with the test's mark ${mark} were left behind`).toEqual([]);
});

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
/** A long sleep named `<mark>-<name>` in the process list. */
const sleeper = (name: string, opts: { ignoreTerm?: boolean } = {}) =>
  `${opts.ignoreTerm ? "trap '' TERM INT HUP; " : ''}exec -a ${mark}-${name} sleep 600`;

type Style = 'background' | 'setsid' | 'double-fork' | 'nohup' | 'setsid-fork' | 'disown';
/** One descendant started the way a step might, holding the step's output open or not. */
function spawnLine(style: Style, name: string, holdsOutput: boolean, ignoreTerm: boolean): string {
  const cmd = `bash -c ${q(sleeper(name, { ignoreTerm }))}${holdsOutput ? '' : ' >/dev/null 2>&1 </dev/null'}`;
  switch (style) {
    case 'background':
      return `${cmd} &`;
    case 'setsid':
      return `setsid ${cmd} &`;
    case 'double-fork':
      return `( ${cmd} & )`;
    case 'nohup':
      return `nohup ${cmd} &`;
    case 'setsid-fork':
      return `setsid -f ${cmd}`;
    case 'disown':
      return `${cmd} & disown`;
  }
}

const until = async (cond: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
};

function recordsOf(dir: string): RunRecord[] {
  const out: RunRecord[] = [];
  if (!existsSync(dir)) return out;
  for (const folder of spawnSync('ls', [dir], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean)) {
    for (const name of spawnSync('ls', [join(dir, folder)], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter((n) => n.endsWith('.json'))) {
      out.push(runRecordSchema.parse(JSON.parse(readFileSync(join(dir, folder, name), 'utf8'))));
    }
  }
  return out;
}

describe('the local executor stops a step and everything it started, however it was started', () => {
  const STYLES: Style[] = ['background', 'setsid', 'double-fork', 'nohup', 'setsid-fork', 'disown'];
  const exec = (
    executor: Executor,
    script: string,
    timeoutMs: number,
    signal: AbortSignal,
    onOutput: (s: string) => void,
  ) =>
    executor.exec({
      instance: { id: 't' } as StepInstance,
      target: { kind: 'local' },
      script,
      env: {},
      timeoutMs,
      signal,
      onOutput,
    });

  it('at its end, at its timeout and on Ctrl-C: nothing marked survives, and it returns by deadline + grace (property)', async () => {
    const executor = createLocalExecutor({ interruptGraceMs: GRACE, killGraceMs: GRACE });
    const child = fc.record({ style: fc.constantFrom(...STYLES), holdsOutput: fc.boolean(), ignoreTerm: fc.boolean() });
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(child, { minLength: 1, maxLength: 4 }),
          fc.constantFrom('exit', 'timeout', 'interrupt'),
          async (children, ending) => {
            const lines = children.map((c, i) => spawnLine(c.style, `c${i}`, c.holdsOutput, c.ignoreTerm));
            const script = [...lines, 'echo ready', ending === 'exit' ? 'true' : sleeper('main')].join('\n');
            const abort = new AbortController();
            let output = '';
            const started = Date.now();
            const result: ExecResult = await exec(
              executor,
              script,
              ending === 'timeout' ? 400 : 30_000,
              abort.signal,
              (s) => {
                output += s;
                if (ending === 'interrupt' && output.includes('ready')) abort.abort();
              },
            );
            const took = Date.now() - started;
            expect(livingProcesses(mark), `${ending}: ${lines.join('; ')}`).toEqual([]);
            if (ending === 'exit') expect(result).toMatchObject({ exitCode: 0, timedOut: false, interrupted: false });
            if (ending === 'timeout') expect(result.timedOut).toBe(true);
            if (ending === 'interrupt') expect(result.interrupted).toBe(true);
            // Deadline (400 ms) + SIGTERM→SIGKILL grace + reaping, or SIGINT→SIGTERM→SIGKILL: well under 3 s.
            expect(took, `${ending}: ${lines.join('; ')}`).toBeLessThan(3000);
          },
        ),
        { numRuns: 14 },
      );
    } finally {
      await executor.close();
    }
  });

  it('a descendant that escaped the mark (env -i) and holds the output cannot hold the step past its grace', async () => {
    const executor = createLocalExecutor({ interruptGraceMs: GRACE, killGraceMs: GRACE });
    const script = `setsid env -i /bin/bash -c ${q(sleeper('unmarked'))} &\necho ready`;
    const started = Date.now();
    const r = await exec(executor, script, 30_000, new AbortController().signal, () => {});
    expect(Date.now() - started).toBeLessThan(2000);
    expect(r).toMatchObject({ exitCode: 0, output: 'ready\n' });
    // Out of the runner's reach by design (no mark, another group): the test ends it, once it has
    // taken its name (on a loaded machine the detached bash may not have exec'd yet).
    let unmarked: number[] = [];
    for (let i = 0; i < 100 && (unmarked = livingProcesses(`${mark}-unmarked`)).length === 0; i++) await sleep(50);
    for (const pid of unmarked) process.kill(pid, 'SIGKILL');
    await executor.close();
  });
});

describe('runbook run: processes end with their run', () => {
  /** A step that starts descendants of every kind, a TERM-ignoring one included, then waits. */
  const scattered = () =>
    [
      spawnLine('background', 'bg', true, false),
      spawnLine('setsid', 'setsid', true, true),
      spawnLine('double-fork', 'df', false, false),
      spawnLine('nohup', 'nohup', false, false),
      'echo "run=$RUNBOOK_RUN_ID ready"',
      sleeper('main'),
    ].join('\n');

  it('kill -9 of the runner: the watchdog ends the step, its detached descendants and itself', async () => {
    const file = lab.runbook('killed', step('step=scatter', scattered()));
    const cli = startCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) });
    await cli.waitFor('ready');
    const runId = /run=(\S+) ready/.exec(cli.output().stdout)![1]!;
    // What resume would see: the step's processes (all five sleepers carry RUNBOOK_RUN_ID) and the watchdog.
    const sleepers = () => findRunProcesses(runId).filter((p) => p.command.startsWith(mark));
    expect(await until(() => sleepers().length === 5, 3000)).toBe(true);
    expect(findRunProcesses(runId).filter((p) => p.command === `${WATCHDOG_NAME} ${runId}`)).toHaveLength(1);
    expect(await until(() => recordsOf(lab.records)[0]?.steps[0]?.status === 'running', 5000)).toBe(true);
    cli.child.kill('SIGKILL');
    await cli.done;
    expect(await until(() => livingProcesses(mark).length === 0, GRACE + 3000)).toBe(true);
    expect(await until(() => findRunProcesses(runId).length === 0, 3000)).toBe(true);
    expect(recordsOf(lab.records)[0]!.steps[0]!.status).toBe('running'); // readers report it interrupted
  });

  it('resume refuses while a process of the earlier attempt is alive, and names its pid and command', async () => {
    const gate = join(lab.dir, 'gate');
    const file = lab.runbook(
      'orphan',
      step(
        'step=wait',
        `if [ -f ${gate} ]; then echo finished; exit 0; fi\necho "run=$RUNBOOK_RUN_ID ready"\n${sleeper('orphan')}`,
      ),
    );
    const cli = startCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) });
    await cli.waitFor('ready');
    const runId = /run=(\S+) ready/.exec(cli.output().stdout)![1]!;
    // Take the watchdog down first (kill -9 of the whole session would), then the runner.
    const watchdog = findRunProcesses(runId).find((p) => p.command === `${WATCHDOG_NAME} ${runId}`)!;
    process.kill(watchdog.pid, 'SIGKILL');
    cli.child.kill('SIGKILL');
    await cli.done;
    const [orphan] = livingProcesses(`${mark}-orphan`);
    expect(orphan).toBeGreaterThan(0);

    const refused = await runCli(['resume', runId, ...lab.flags], lab.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(refused.stderr).toContain(`pid ${orphan} (${mark}-orphan 600)`);

    process.kill(orphan!, 'SIGKILL');
    expect(await until(() => findRunProcesses(runId).length === 0, 3000)).toBe(true);
    writeFileSync(gate, '');
    const resumed = await runCli(['resume', runId, ...lab.flags], lab.env);
    expect(resumed.code, resumed.stderr).toBe(0);
  });

  it('a timeout is hard: a detached holder of the output cannot keep the step past deadline + grace', async () => {
    const file = lab.runbook(
      'held',
      step('step=hold timeout=1s', `${spawnLine('setsid', 'holder', true, true)}\necho ready\n${sleeper('main')}`),
    );
    const started = Date.now();
    const r = await runCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) });
    const took = Date.now() - started;
    expect(r.code).toBe(1);
    expect(recordsOf(lab.records)[0]!.steps[0]).toMatchObject({ status: 'timed-out' });
    // 1 s deadline + 0.3 s grace + reaping, plus the CLI's own start: far from the 600 s the holder wanted.
    expect(took).toBeLessThan(5000);
  });

  it('Ctrl-C always works, even when a detached descendant ignores INT and TERM and holds the output', async () => {
    const file = lab.runbook(
      'ctrlc',
      step(
        'step=hold',
        `${spawnLine('setsid', 'holder', true, true)}\necho ready\n${sleeper('main', { ignoreTerm: true })}`,
      ),
    );
    const cli = startCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) });
    await cli.waitFor('ready');
    const sent = Date.now();
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(Date.now() - sent).toBeLessThan(2 * GRACE + 2500);
    expect(recordsOf(lab.records)[0]!.status).toBe('interrupted');
  });

  it('Ctrl-C: a descendant that dropped its step mark but kept the run id is ended with the run', async () => {
    const tag = `321.${process.pid}`;
    const file = lab.runbook(
      'unmarked',
      step(
        'step=hold',
        `env -u RUNBOOK_STEP_MARK setsid sleep ${tag} </dev/null >/dev/null 2>&1 &\necho ready\nsleep 30`,
      ),
    );
    const cli = startCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) });
    await cli.waitFor('ready');
    cli.child.kill('SIGINT');
    const r = await cli.done;
    expect(r.code).toBe(130);
    expect(await until(() => livingProcesses(`sleep ${tag}`).length === 0, 3000)).toBe(true);
  });

  it('SIGHUP ends the run as interrupted with exit 129, SIGTERM with 143; the record is valid', async () => {
    for (const [signal, code] of [
      ['SIGHUP', 129],
      ['SIGTERM', 143],
    ] as const) {
      const file = lab.runbook(
        `sig-${code}`,
        step('step=wait', `echo ready\n${sleeper(`main-${code}`)}`) + step('step=after', 'echo after'),
      );
      const cli = startCli(['run', file, ...lab.flags], { ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) });
      await cli.waitFor('ready');
      cli.child.kill(signal);
      const r = await cli.done;
      expect(r.code, signal).toBe(code);
      expect(r.stderr, signal).toBe('');
      const record = recordsOf(lab.records).find((x) => x.runbook.id === `sig-${code}`)!;
      expect(record.status).toBe('interrupted');
      expect(record.steps.map((s) => s.status)).toEqual(['interrupted', 'pending']);
    }
  });

  const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
  it.skipIf(!hasScript)(
    `a closed terminal: EIO on stdout ends the run as interrupted, exit 129, no crash${hasScript ? '' : ' (needs script(1) from util-linux)'}`,
    async () => {
      const file = lab.runbook(
        'tty',
        step('step=chatty', `echo ready\nwhile :; do echo tick; sleep 0.05; done`) + step('step=after', 'echo after'),
      );
      const rc = join(lab.dir, 'rc');
      const err = join(lab.dir, 'stderr');
      const env = Object.entries(operatorEnv({ ...lab.env, RUNBOOK_GRACE_MS: String(GRACE) }))
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${q(v!)}`)
        .join(' ');
      // The shell on the terminal ignores SIGHUP (so does the runner it starts): the runner sees only EIO.
      const inner = `trap '' HUP; env ${env} ${q(process.execPath)} ${q(join(ROOT, 'runner/cli.ts'))} run ${q(file)} ${lab.flags.map(q).join(' ')} 2>${q(err)}; echo $? > ${q(rc)}`;
      const term = spawn('script', ['-qfec', inner, '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'], cwd: ROOT });
      let screen = '';
      term.stdout.on('data', (d) => (screen += d));
      expect(await until(() => screen.includes('tick'), 15_000)).toBe(true);
      term.kill('SIGKILL'); // the terminal window closes
      expect(await until(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', 10_000)).toBe(true);
      expect(readFileSync(rc, 'utf8').trim()).toBe('129');
      expect(readFileSync(err, 'utf8')).toBe('');
      const record = recordsOf(lab.records)[0]!;
      expect(record.status).toBe('interrupted');
      expect(record.steps.map((s) => s.status)).toEqual(['interrupted', 'pending']);
    },
  );

  it('a run that ends in order leaves no watchdog behind, and steps see their run id', async () => {
    const file = lab.runbook('tidy', step('step=id', 'echo "id=$RUNBOOK_RUN_ID"'));
    const r = await runCli(['run', file, ...lab.flags], lab.env);
    expect(r.code).toBe(0);
    const record = recordsOf(lab.records)[0]!;
    expect(record.steps[0]!.output).toBe(`id=${record.runId}\n`);
    expect(await until(() => findRunProcesses(record.runId).length === 0, 2000)).toBe(true);
  });
});

describe('leftover ssh control directories', () => {
  it('the next run removes those of dead runners owned by this user, and nothing else', () => {
    const base = tmpdir();
    const dead = spawnSync('true').pid!;
    const make = (pid: number) => {
      const dir = mkdtempSync(join(base, `runbook-ssh-${pid}-`));
      writeFileSync(join(dir, 'node.config'), 'Host node\n');
      return dir;
    };
    const stale = make(dead);
    const live = make(process.ppid);
    const mine = make(process.pid);
    const foreign = make(dead);
    const isRootUser = process.getuid?.() === 0;
    if (isRootUser) chownSync(foreign, 65534, 65534);
    const notADir = join(base, `runbook-ssh-${dead}-file`);
    writeFileSync(notADir, '');
    try {
      expect(pidAlive(dead)).toBe(false);
      const removed = removeStaleControlDirs();
      expect(removed).toContain(stale);
      expect(existsSync(stale)).toBe(false);
      for (const kept of [live, mine, notADir, ...(isRootUser ? [foreign] : [])])
        expect(existsSync(kept), kept).toBe(true);
    } finally {
      for (const d of [stale, live, mine, foreign, notADir]) rmSync(d, { recursive: true, force: true });
    }
  });
});

describe('the pids a quick step can have (the cheap sweep)', () => {
  it('are those handed out since its first one, across one wrap of the counter (property)', () => {
    const PID_MAX = 32768;
    fc.assert(
      fc.property(
        fc.integer({ min: 300, max: PID_MAX }),
        fc.integer({ min: 0, max: PID_MAX - 301 }),
        fc.uniqueArray(fc.integer({ min: 1, max: PID_MAX }), { maxLength: 200 }),
        (first, handedOut, pids) => {
          // The counter moved `handedOut` pids on from `first`, wrapping from PID_MAX to 300.
          const span = PID_MAX - 300 + 1;
          const last = ((first - 300 + handedOut) % span) + 300;
          const since = new Set(Array.from({ length: handedOut + 1 }, (_, i) => ((first - 300 + i) % span) + 300));
          expect(pidWindow(pids, first, last).sort((a, b) => a - b)).toEqual(
            pids.filter((p) => since.has(p) || (last < first && p < 300)).sort((a, b) => a - b),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('pidAlive: one liveness check', () => {
  it('a zombie is dead, EPERM is alive, a reaped pid is dead', async () => {
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(spawnSync('true').pid!)).toBe(false);
    expect(pidAlive(1)).toBe(true); // init: alive whether or not we may signal it (EPERM for a non-root user)
    expect(pidAlive(0)).toBe(false);
    expect(pidAlive(-5)).toBe(false);
    // A zombie: a child that exited and that nobody has reaped yet.
    const parent = spawn('bash', ['-c', `sleep 0 & exec -a ${mark}-parent sleep 600`], { stdio: 'ignore' });
    const exited = new Promise((r) => parent.once('exit', r));
    try {
      const zombieOf = () =>
        Number(
          spawnSync('bash', ['-c', `ps -o pid=,stat= --ppid ${parent.pid} | awk '$2 ~ /Z/ {print $1}'`], {
            encoding: 'utf8',
          }).stdout.trim(),
        );
      expect(await until(() => zombieOf() > 0, 3000)).toBe(true);
      expect(pidAlive(zombieOf())).toBe(false);
    } finally {
      parent.kill('SIGKILL');
      await exited;
    }
  });
});
