import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import { createSshExecutor, type SshExecutor } from '../../runner/execute/ssh/executor.ts';
import { findRunProcesses, WATCHDOG_NAME } from '../../runner/execute/process-group.ts';
import { kubeconfigText, runCli, startCli } from '../run/helpers.ts';
import { eventually, pgrep, start, targetOf, unique } from './helpers.ts';

/**
 * "Detached descendants (setsid, double fork, nohup … &) are found and killed when
 * the step ends, times out or is interrupted, locally and on nodes", and "leftover
 * ssh control directories of a killed run are cleaned up by the next run", against
 * real sshd nodes on loopback. Every process a test starts is named `<mark>-…`
 * (`exec -a`); after each test none may be left.
 */
const lab = inject('sshLab');
const executors: SshExecutor[] = [];
const executor = () => {
  const e = createSshExecutor({ configFile: lab.configFile, interruptGraceMs: 500, killGraceMs: 500 });
  executors.push(e);
  return e;
};
let mark = '';
afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.close()));
  const left = pgrep(mark);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  expect(left, `processes named ${mark} were left behind`).toEqual([]);
});

const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
const sleeper = (name: string, ignoreTerm = false) =>
  `${ignoreTerm ? "trap '' TERM INT HUP; " : ''}exec -a ${mark}-${name} sleep 600`;
/** Four escapes from the step's process group, one ignoring TERM and one holding the step's output. */
const escapes = () =>
  [
    `setsid bash -c ${q(sleeper('setsid-holder', true))} &`,
    `nohup bash -c ${q(sleeper('nohup'))} >/dev/null 2>&1 &`,
    `( bash -c ${q(sleeper('double-fork'))} >/dev/null 2>&1 </dev/null & )`,
    `setsid -f bash -c ${q(sleeper('setsid-fork'))} >/dev/null 2>&1 </dev/null`,
  ].join('\n');

describe('detached descendants on a node', () => {
  for (const node of ['k3s-worker-01', 'k3s-master']) {
    it(`are ended when the step exits (${node}${node === 'k3s-master' ? ', through sudo' : ''}), and the step still returns`, async () => {
      mark = unique('rbk-end');
      const started = Date.now();
      const run = start(executor(), targetOf(lab, node), `${escapes()}\necho ready`);
      const r = await run.result;
      expect(r).toMatchObject({ exitCode: 0, timedOut: false });
      expect(r.output).toBe('ready\n');
      // The node's watchdog: TERM, then KILL after its grace (2 s) for the one ignoring TERM.
      expect(await eventually(() => pgrep(mark).length === 0, 5000)).toBe(true);
      expect(Date.now() - started).toBeLessThan(8000);
    });
  }

  it('are ended at the timeout, and the step ends by its deadline plus the grace periods', async () => {
    mark = unique('rbk-timeout');
    const started = Date.now();
    const r = await start(executor(), targetOf(lab, 'k3s-worker-02'), `${escapes()}\necho ready\n${sleeper('main')}`, {
      timeoutMs: 1500,
    }).result;
    expect(r.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500 + 4 * 500 + 2000);
    expect(await eventually(() => pgrep(mark).length === 0, 5000)).toBe(true);
  });

  it('are ended on Ctrl-C', async () => {
    mark = unique('rbk-int');
    const abort = new AbortController();
    const run = start(executor(), targetOf(lab, 'k3s-worker-01'), `${escapes()}\necho ready\n${sleeper('main')}`, {
      signal: abort.signal,
      onOutput: (chunk) => {
        if (chunk.includes('ready')) abort.abort();
      },
    });
    const r = await run.result;
    expect(r.interrupted).toBe(true);
    expect(await eventually(() => pgrep(mark).length === 0, 5000)).toBe(true);
  });
});

describe('detached descendants when the connection to the node is lost', () => {
  it("are ended by the node's watchdog (EOF on the channel), with no help from the runner", async () => {
    mark = unique('rbk-drop');
    const e = executor();
    await start(e, targetOf(lab, 'k3s-worker-02'), 'true').result; // brings up the master connection
    const run = start(
      e,
      targetOf(lab, 'k3s-worker-02'),
      `${escapes()}
echo ready
${sleeper('main')}`,
    );
    expect(await eventually(() => pgrep(mark).length === 5)).toBe(true);
    const check = spawnSync(
      'ssh',
      [
        '-F',
        `${e.controlDir()}/k3s-worker-02.config`,
        '-o',
        `ControlPath=${e.controlDir()}/k3s-worker-02.sock`,
        '-O',
        'check',
        'k3s-worker-02',
      ],
      { encoding: 'utf8' },
    );
    process.kill(Number(/pid=(\d+)/.exec(check.stderr)?.[1]), 'SIGKILL');
    const r = await run.result;
    expect(r.error).toMatch(/connection lost/);
    expect(await eventually(() => pgrep(mark).length === 0, 6000)).toBe(true);
  });
});

describe('a runner killed with -9 during a node step', () => {
  const dir = mkdtempSync(join(tmpdir(), 'runbook-ssh-kill-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'locks'), { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigText('homelab', 'https://127.0.0.1:6443'));
  const env = () => ({
    KUBECONFIG: join(dir, 'kubeconfig'),
    RUNBOOK_LOCK_DIR: join(dir, 'locks'),
    RUNBOOK_SSH_CONFIG: lab.configFile,
    RUNBOOK_GRACE_MS: '300',
  });
  const flags = () => ['--inventory', lab.inventoryFile, '--records', join(dir, 'runs')];
  const page = (id: string, body: string) => {
    const file = join(dir, `${id}.mdx`);
    writeFileSync(
      file,
      `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n  risk: low\n  cluster: homelab\n  api: optional\n---\n\n# ${id}\n\n${body}`,
    );
    return file;
  };
  /** Starts a run holding a step on a node; returns the runner and its control directory. */
  async function holding(id: string) {
    const cli = startCli(
      [
        'run',
        page(
          id,
          `\`\`\`bash step=hold on=k3s-worker-01\n${escapes()}\necho "run=$RUNBOOK_RUN_ID ready"\n${sleeper('main')}\n\`\`\`\n`,
        ),
        ...flags(),
      ],
      env(),
    );
    await cli.waitFor('ready');
    expect(await eventually(() => pgrep(mark).length === 5)).toBe(true);
    const names = readdirSync(tmpdir()).filter((n) => n.startsWith(`runbook-ssh-${cli.child.pid}-`));
    expect(names).toHaveLength(1);
    return { cli, controlDir: join(tmpdir(), names[0]!), runId: /run=(\S+) ready/.exec(cli.output().stdout)![1]! };
  }

  it("takes the node's processes with it; the watchdog also ends the control master and removes the directory", async () => {
    mark = unique('rbk-kill9');
    const { cli, controlDir } = await holding('remote-kill');
    cli.child.kill('SIGKILL');
    await cli.done;
    expect(await eventually(() => pgrep(mark).length === 0, 6000)).toBe(true);
    expect(await eventually(() => pgrep(controlDir).length === 0 && !existsSync(controlDir), 4000)).toBe(true);
  });

  it('when the watchdog died too, the next run removes the leftover control directory and stops its master', async () => {
    mark = unique('rbk-kill9-all');
    const { cli, controlDir, runId } = await holding('remote-kill-all');
    for (const p of findRunProcesses(runId).filter((x) => x.command.startsWith(WATCHDOG_NAME)))
      process.kill(p.pid, 'SIGKILL');
    cli.child.kill('SIGKILL');
    await cli.done;
    // Nothing ended them: the master (named after its socket) and the directory are still there.
    for (const pid of pgrep(mark)) process.kill(pid, 'SIGKILL'); // the node's leftovers are not this test's subject
    expect(pgrep(`ssh: ${controlDir}/k3s-worker-01.sock .mux.`).length).toBe(1);
    expect(existsSync(controlDir)).toBe(true);

    const next = await runCli(['run', page('after-kill', '```bash step=x\ntrue\n```\n'), ...flags()], env());
    expect(next.code, next.stderr).toBe(0);
    expect(existsSync(controlDir)).toBe(false);
    expect(await eventually(() => pgrep(controlDir).length === 0, 3000)).toBe(true);
  });
});
