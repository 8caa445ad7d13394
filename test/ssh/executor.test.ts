import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { createSshExecutor, type SshExecutor } from '../../runner/execute/ssh/executor.ts';
import { describeSshTarget } from '../../runner/execute/ssh/resolve.ts';
import {
  authCount,
  childrenOf,
  freePort,
  knownHostsLine,
  startSshLab,
  stopSshLab,
  writeSshConfig,
  type SshLab,
} from './lab.ts';
import { eventually, nodeOf, pgrep, processList, start, targetOf, unique } from './helpers.ts';

const lab = inject('sshLab');
const scratch = mkdtempSync(join(tmpdir(), 'runbook-ssh-test-'));
const executors: SshExecutor[] = [];
/** An executor for this lab (short grace periods keep the kill tests quick). */
const executor = (options: Parameters<typeof createSshExecutor>[0] = {}) => {
  const e = createSshExecutor({ configFile: lab.configFile, interruptGraceMs: 1000, killGraceMs: 1000, ...options });
  executors.push(e);
  return e;
};

afterEach(async () => {
  await Promise.all(executors.splice(0).map((e) => e.close()));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('running a step on a node', () => {
  it('runs the script in bash with params exported, and reports exit code 0', async () => {
    const value = `it's "quoted" $HOME \`x\`\nsecond line`;
    const run = start(
      executor(),
      targetOf(lab, 'k3s-worker-01'),
      'printf "%s|" "$VALUE" "$NODE"; echo; echo to-stderr >&2; shopt -qo pipefail && echo strict',
      {
        env: { VALUE: value, NODE: 'k3s-worker-01' },
      },
    );
    const r = await run.result;
    expect(r).toMatchObject({ exitCode: 0, timedOut: false, interrupted: false });
    expect(r.error).toBeUndefined();
    expect(run.output()).toBe(`${value}|k3s-worker-01|\nto-stderr\nstrict\n`);
    expect(r.output).toBe(run.output());
  });

  it('reports a non-zero exit as the exit code, including 255 from the step itself', async () => {
    const e = executor();
    const seven = await start(e, targetOf(lab, 'k3s-worker-01'), 'echo before; false; echo never').result;
    expect(seven).toMatchObject({ exitCode: 1, output: 'before\n' });
    expect(seven.error).toBeUndefined();
    const ff = await start(e, targetOf(lab, 'k3s-worker-01'), 'exit 255').result;
    expect(ff.exitCode).toBe(255);
    expect(ff.error).toBeUndefined();
  });

  it('runs through sudo -n on become nodes only', async () => {
    const e = executor();
    const script = 'echo "uid=$(id -u) sudo_user=${SUDO_USER:-none}"';
    const master = await start(e, targetOf(lab, 'k3s-master'), script).result;
    expect(master.output).toBe(`uid=0 sudo_user=${lab.user}\n`);
    const worker = await start(e, targetOf(lab, 'k3s-worker-02'), script).result;
    expect(worker.output).toMatch(/sudo_user=none/);
  });

  it('gives the step /dev/null as stdin, so a command reading stdin cannot swallow the script', async () => {
    const filler = `# ${'x'.repeat(120)}\n`.repeat(1500); // ~180 KB: larger than a pipe buffer
    const r = await start(executor(), targetOf(lab, 'k3s-worker-02'), `cat\n${filler}echo after-cat`).result;
    expect(r).toMatchObject({ exitCode: 0, output: 'after-cat\n' });
  });

  it('changes to cwd on the node, and fails the step when it does not exist', async () => {
    const e = executor();
    expect((await start(e, targetOf(lab, 'k3s-worker-01'), 'pwd', { cwd: '/tmp' }).result).output).toBe('/tmp\n');
    const missing = await start(e, targetOf(lab, 'k3s-worker-01'), 'echo never', { cwd: '/no/such/dir' }).result;
    expect(missing.exitCode).toBe(1);
    expect(missing.output).toMatch(/\/no\/such\/dir: No such file or directory/);
  });
});

describe('ending remote processes', () => {
  // The step's leader and a background job, both findable by a unique name on the daemon's side.
  const sleepers = (mark: string) => `(exec -a ${mark}-bg sleep 600) &\nexec -a ${mark} sleep 600`;

  it('kills the remote process group on timeout', async () => {
    const mark = unique('runbook-timeout');
    const run = start(executor(), targetOf(lab, 'k3s-worker-01'), sleepers(mark), { timeoutMs: 1500 });
    expect(await eventually(() => pgrep(mark).length === 2)).toBe(true);
    const r = await run.result;
    expect(r).toMatchObject({ timedOut: true, interrupted: false });
    expect(await eventually(() => pgrep(mark).length === 0, 3000)).toBe(true);
  });

  it('sends SIGINT on Ctrl-C, and ends what the step left running', async () => {
    const mark = unique('runbook-ctrl-c');
    const abort = new AbortController();
    const run = start(
      executor(),
      targetOf(lab, 'k3s-master'),
      `trap 'echo got-INT; exit 130' INT\n(exec -a ${mark} sleep 600) &\nwait`,
      { signal: abort.signal },
    );
    expect(await eventually(() => pgrep(mark).length === 1)).toBe(true);
    abort.abort();
    const r = await run.result;
    expect(r).toMatchObject({ interrupted: true, exitCode: 130 });
    expect(run.output()).toContain('got-INT');
    // The background sleep ignores SIGINT (bash starts background jobs that way); the watchdog ends it.
    expect(await eventually(() => pgrep(mark).length === 0, 3000)).toBe(true);
  });

  it('ends the remote processes when the connection drops', async () => {
    const mark = unique('runbook-drop');
    const node = nodeOf(lab, 'k3s-worker-02');
    const before = new Set(childrenOf(node.pid));
    const run = start(executor(), targetOf(lab, 'k3s-worker-02'), sleepers(mark));
    expect(await eventually(() => pgrep(mark).length === 2)).toBe(true);
    // The node loses the connection: kill the daemon's process for this session.
    const session = childrenOf(node.pid).filter((p) => !before.has(p));
    expect(session.length).toBeGreaterThan(0);
    for (const pid of session) process.kill(pid, 'SIGKILL');
    const r = await run.result;
    expect(r.error).toMatch(/^k3s-worker-02: connection lost while the step was running/);
    expect(r.exitCode).toBeNull();
    expect(await eventually(() => pgrep(mark).length === 0, 5000)).toBe(true);
  });

  it('ends the remote processes when the runner side of the connection dies', async () => {
    const mark = unique('runbook-client-drop');
    const e = executor();
    await start(e, targetOf(lab, 'k3s-worker-01'), 'true').result; // brings up the master connection
    const run = start(e, targetOf(lab, 'k3s-worker-01'), sleepers(mark));
    expect(await eventually(() => pgrep(mark).length === 2)).toBe(true);
    // The master connection process dies (as when the runner's machine loses the network or is killed).
    const dir = e.controlDir()!;
    const check = spawnSync(
      'ssh',
      [
        '-F',
        `${dir}/k3s-worker-01.config`,
        '-o',
        `ControlPath=${dir}/k3s-worker-01.sock`,
        '-O',
        'check',
        'k3s-worker-01',
      ],
      { encoding: 'utf8' },
    );
    const master = Number(/pid=(\d+)/.exec(check.stderr)?.[1]);
    expect(master).toBeGreaterThan(0);
    process.kill(master, 'SIGKILL');
    const r = await run.result;
    expect(r.error).toMatch(/^k3s-worker-01: connection lost while the step was running/);
    expect(await eventually(() => pgrep(mark).length === 0, 5000)).toBe(true);
  });
});

describe('refusing to connect', () => {
  const configWith = (name: string, knownHosts: string) =>
    writeSshConfig(join(scratch, `${name}.ssh_config`), lab.identity, knownHosts);

  it('refuses an unknown host key and says how to add it', async () => {
    const knownHosts = join(scratch, 'empty_known_hosts');
    writeFileSync(knownHosts, '');
    const marker = join(scratch, 'ran-unknown');
    const worker = nodeOf(lab, 'k3s-worker-01');
    const r = await start(
      executor({ configFile: configWith('unknown', knownHosts) }),
      targetOf(lab, 'k3s-worker-01'),
      `touch ${marker}`,
    ).result;
    expect(r.error).toBe(
      `k3s-worker-01: host key for [127.0.0.1]:${worker.port} is unknown: run ssh-keyscan -p ${worker.port} 127.0.0.1 >> ${knownHosts} after verifying the fingerprint (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the node)`,
    );
    expect(existsSync(marker)).toBe(false);
    expect(readFileSync(knownHosts, 'utf8')).toBe(''); // never a silent accept
  });

  it('refuses a changed host key and names the known_hosts entry', async () => {
    const worker = nodeOf(lab, 'k3s-worker-01');
    const master = nodeOf(lab, 'k3s-master');
    const knownHosts = join(scratch, 'wrong_known_hosts');
    writeFileSync(knownHosts, `${knownHostsLine(worker.port, master.hostKey)}\n`); // another node's key
    const marker = join(scratch, 'ran-changed');
    const r = await start(
      executor({ configFile: configWith('changed', knownHosts) }),
      targetOf(lab, 'k3s-worker-01'),
      `touch ${marker}`,
    ).result;
    expect(r.error).toMatch(
      new RegExp(
        `^k3s-worker-01: host key for \\[127\\.0\\.0\\.1\\]:${worker.port} CHANGED \\(known_hosts entry ${knownHosts}:1\\); refusing to connect`,
      ),
    );
    expect(r.error).toContain(`ssh-keygen -R '[127.0.0.1]:${worker.port}' -f ${knownHosts}`);
    expect(existsSync(marker)).toBe(false);
  });

  it('names the node and address when the connection is refused', async () => {
    const port = await freePort();
    const r = await start(executor(), { ...targetOf(lab, 'k3s-worker-02'), port }, 'true').result;
    expect(r.error).toBe(
      `k3s-worker-02 (127.0.0.1:${port}): connection refused; is sshd running on the node and listening on that port?`,
    );
    expect(r.exitCode).toBeNull();
  });

  it('says when the key is not accepted, without prompting for a password', async () => {
    const r = await start(executor(), { ...targetOf(lab, 'k3s-worker-02'), user: 'nobody-here' }, 'true').result;
    expect(r.error).toMatch(/^k3s-worker-02 \(nobody-here@127\.0\.0\.1\): authentication failed \(publickey\)/);
  });
});

describe("the operator's ssh config", () => {
  it('a Host block for the node overrides the inventory, as it would for ssh <node>; show says so', async () => {
    const w2 = nodeOf(lab, 'k3s-worker-02');
    const config = join(scratch, 'override.ssh_config');
    writeSshConfig(config, lab.identity, lab.knownHosts);
    writeFileSync(config, `Host k3s-worker-01\n  Port ${w2.port}\n${readFileSync(config, 'utf8')}`);
    const target = targetOf(lab, 'k3s-worker-01');
    const r = await start(executor({ configFile: config }), target, 'echo "${SSH_CONNECTION##* }"').result;
    expect(r.output).toBe(`${w2.port}\n`);
    expect(describeSshTarget(target, { configFile: config })).toBe(
      `ssh k3s-worker-01 → ${lab.user}@127.0.0.1:${target.port} (your ssh config applies first: Host k3s-worker-01) · bash -s`,
    );
    expect(describeSshTarget(targetOf(lab, 'k3s-worker-02'), { configFile: config })).toBe(
      `ssh k3s-worker-02 → ${lab.user}@127.0.0.1:${w2.port} · bash -s`,
    );
  });
});

describe('secrets', () => {
  it('keeps a secret param off every command line and out of the daemon logs', async () => {
    const secret = unique('hunter2');
    const gate = join(scratch, unique('go'));
    const mark = unique('runbook-secret');
    const run = start(
      executor(),
      targetOf(lab, 'k3s-master'),
      `printf %s "$DB_PASSWORD" | sha256sum | cut -c1-64\n(exec -a ${mark} sleep 600) &\nwhile [ ! -e "$GATE" ]; do sleep 0.05; done\nkill %1`,
      { env: { DB_PASSWORD: secret, GATE: gate } },
    );
    expect(await eventually(() => pgrep(mark).length === 1)).toBe(true);
    const ps = processList(); // runner side and daemon side: one machine
    writeFileSync(gate, '');
    const r = await run.result;
    expect(ps).toContain(mark);
    expect(ps).not.toContain(secret);
    expect(r.exitCode).toBe(0);
    // The value reached the step (its hash came back) without being printed.
    expect(r.output.trim()).toBe(createHash('sha256').update(secret).digest('hex'));
    for (const node of lab.nodes) expect(readFileSync(node.log, 'utf8')).not.toContain(secret);
  });
});

describe('connection reuse', () => {
  // A node of its own, so authentications by other test files do not count.
  let solo: SshLab;
  beforeAll(async () => {
    solo = await startSshLab([{ name: 'k3s-worker-09', roles: ['agent'], become: false }]);
  });
  afterAll(() => stopSshLab(solo));
  const five = async (e: SshExecutor) => {
    const node = solo.nodes[0]!;
    const target = {
      kind: 'node',
      node: node.name,
      host: '127.0.0.1',
      user: solo.user,
      port: node.port,
      become: false,
    } as const;
    for (let i = 0; i < 5; i++) expect((await start(e, target, `echo ${i}`).result).output).toBe(`${i}\n`);
  };

  it('authenticates once per node for a whole run, and cleans up its sockets', async () => {
    const node = solo.nodes[0]!;
    const e = createSshExecutor({ configFile: solo.configFile });
    const before = authCount(node);
    await five(e);
    expect(authCount(node) - before).toBe(1);
    const dir = e.controlDir()!;
    expect(existsSync(join(dir, `${node.name}.sock`))).toBe(true);
    await e.close();
    await e.close(); // safe twice
    expect(existsSync(dir)).toBe(false);
    expect(await eventually(() => pgrep(dir).length === 0, 3000)).toBe(true); // the master is gone too
  });

  it('authenticates for every step without reuse', async () => {
    const node = solo.nodes[0]!;
    const e = createSshExecutor({ configFile: solo.configFile, reuse: false });
    const before = authCount(node);
    await five(e);
    expect(authCount(node) - before).toBe(5);
    await e.close();
  });
});
