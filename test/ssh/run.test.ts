import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { kubeconfigText, runCli, startCli } from '../run/helpers.ts';
import { authCount, freePort, startSshLab, stopSshLab, type SshLab } from './lab.ts';
import { eventually, pgrep, unique } from './helpers.ts';

/**
 * `runbook run` end to end against sshd nodes: a runbook mixing local steps,
 * steps on one node, a role fan-out and a ForEach group. The suite starts its
 * own three daemons so the authentication counts are this run's alone.
 */
let lab: SshLab;
let dir: string;
let env: NodeJS.ProcessEnv;
beforeAll(async () => {
  lab = await startSshLab();
  dir = mkdtempSync(join(tmpdir(), 'runbook-ssh-run-'));
  mkdirSync(join(dir, 'locks'), { mode: 0o700 });
  writeFileSync(join(dir, 'kubeconfig'), kubeconfigText('homelab', 'https://127.0.0.1:6443'));
  env = {
    KUBECONFIG: join(dir, 'kubeconfig'),
    RUNBOOK_LOCK_DIR: join(dir, 'locks'),
    RUNBOOK_SSH_CONFIG: lab.configFile,
  };
});
afterAll(async () => {
  await stopSshLab(lab);
  rmSync(dir, { recursive: true, force: true });
});

const fence = (attrs: string, code: string) => `\`\`\`bash ${attrs}\n${code}\n\`\`\`\n\n`;
/**
 * Every step appends `<what>@<ForEach node or "-"> port=<sshd port>` to $TRAIL (one
 * file: the nodes are daemons on this machine). The port tells which daemon ran it;
 * sudo drops SSH_CONNECTION, so become nodes show none.
 */
const note = (what: string) =>
  `c=\${SSH_CONNECTION:-}; w=-; [ -z "\${NODE_ADDRESS:-}" ] || w=$NODE; echo "${what}@$w port=\${c##* }" >> "$TRAIL"`;

function writeRunbook(name: string, body: string): string {
  const file = join(dir, `${name}.mdx`);
  writeFileSync(
    file,
    `---
title: ${name}
runbook:
  id: ${name}
  risk: low
  cluster: homelab
  api: optional
  params:
    TRAIL: { required: true }
    DB_PASSWORD: { secret: true, required: true }
    PASSWORD_SHA: { required: true }
---
import ForEach from '~/components/ForEach.astro';

# ${name}

${body}`,
  );
  return file;
}

const ROLLING = writeRunbookLater('rolling', () =>
  [
    fence('step=prepare title="Local preparation"', note('prepare')),
    fence(
      'step=server-snapshot on=k3s-master',
      `${note('snapshot')}\necho "uid=$(id -u) via sudo: \${SUDO_USER:-no}"\n[ "$(printf %s "$DB_PASSWORD" | sha256sum | cut -c1-64)" = "$PASSWORD_SHA" ]\necho "the password is $DB_PASSWORD"`,
    ),
    fence('step=agents-check on=role:agent parallel=2', `${note('check')}\necho "checked"`),
    '<ForEach nodes="role:agent">\n\n',
    fence('step=drain', note('drain')),
    fence('step=install on=$NODE', note('install')),
    fence('step=uncordon', note('uncordon')),
    '</ForEach>\n\n',
    fence('step=done', note('done')),
  ].join(''),
);

/** Runbook files are written once the suite's dir exists. */
function writeRunbookLater(name: string, body: () => string) {
  let file: string | undefined;
  return () => (file ??= writeRunbook(name, body()));
}

function records(): RunRecord[] {
  const base = join(dir, 'runs');
  // `.json` only: a write in progress is a hidden temp file beside the record.
  return readdirSync(base).flatMap((id) =>
    readdirSync(join(base, id))
      .filter((f) => f.endsWith('.json'))
      .map((f) => runRecordSchema.parse(JSON.parse(readFileSync(join(base, id, f), 'utf8')))),
  );
}

const portOf = (name: string) => lab.nodes.find((n) => n.name === name)!.port;
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('runbook run with steps on nodes', () => {
  it('runs local, per-node, fan-out and ForEach steps in plan order, one connection per node', async () => {
    const trail = join(dir, 'trail');
    const secret = unique('s3cret');
    const before = lab.nodes.map(authCount);
    const r = await runCli(
      [
        'run',
        ROLLING(),
        '--inventory',
        lab.inventoryFile,
        '--records',
        join(dir, 'runs'),
        '--yes',
        '--set',
        `TRAIL=${trail}`,
        '--set',
        `PASSWORD_SHA=${sha(secret)}`,
      ],
      { ...env, DB_PASSWORD: secret },
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);

    const [master, w1, w2] = ['k3s-master', 'k3s-worker-01', 'k3s-worker-02'].map(portOf);
    const lines = readFileSync(trail, 'utf8').trim().split('\n');
    // The fan-out runs both agents at once: their order is free; everything else is the plan's order.
    expect(lines.slice(2, 4).sort()).toEqual([`check@- port=${w1}`, `check@- port=${w2}`].sort());
    expect([...lines.slice(0, 2), ...lines.slice(4)]).toEqual([
      'prepare@- port=',
      'snapshot@- port=',
      `drain@k3s-worker-01 port=`,
      `install@k3s-worker-01 port=${w1}`,
      `uncordon@k3s-worker-01 port=`,
      `drain@k3s-worker-02 port=`,
      `install@k3s-worker-02 port=${w2}`,
      `uncordon@k3s-worker-02 port=`,
      'done@- port=',
    ]);

    // One authentication per node for the whole run: the master connection is reused.
    expect(lab.nodes.map(authCount).map((n, i) => n - before[i]!)).toEqual([1, 1, 1]);

    // Terminal: fan-out output carries the node; the secret is masked.
    expect(r.stdout).toMatch(/\[k3s-worker-01\] checked/);
    expect(r.stdout).toMatch(/\[k3s-worker-02\] checked/);
    expect(r.stdout).toContain(`uid=0 via sudo: ${lab.user}`); // k3s-master is the only become node
    expect(r.stdout).toContain('the password is ••••');
    expect(r.stdout + r.stderr).not.toContain(secret);

    const [record] = records().filter((x) => x.runbook.id === 'rolling');
    expect(record!.status).toBe('succeeded');
    expect(JSON.stringify(record)).not.toContain(secret);
    expect(record!.steps.map((s) => s.id)).toEqual([
      'prepare',
      'server-snapshot',
      'agents-check',
      'drain@k3s-worker-01',
      'install@k3s-worker-01',
      'uncordon@k3s-worker-01',
      'drain@k3s-worker-02',
      'install@k3s-worker-02',
      'uncordon@k3s-worker-02',
      'done',
    ]);
    const fan = record!.steps.find((s) => s.id === 'agents-check')!;
    expect(fan.targets.map((t) => [t.target, t.status, t.output.trim().split('\n').pop()])).toEqual([
      ['k3s-worker-01', 'succeeded', 'checked'],
      ['k3s-worker-02', 'succeeded', 'checked'],
    ]);
    // The run removed its private ssh dir (configs name this suite's ports) and stopped its masters.
    const leftovers = readdirSync(tmpdir())
      .filter((f) => f.startsWith('runbook-ssh-'))
      .filter((f) =>
        readdirSync(join(tmpdir(), f)).some(
          (c) => c.endsWith('.config') && readFileSync(join(tmpdir(), f, c), 'utf8').includes(`Port ${master}`),
        ),
      );
    expect(leftovers).toEqual([]);
    expect(pgrep(`Port ${master}`)).toEqual([]);
  });

  it('a failing node stops a fan-out: later nodes are recorded as skipped, the run fails; node output is labelled', async () => {
    const trail = join(dir, 'trail-stop');
    const file = writeRunbook(
      'fan-stop',
      fence('step=on-master on=k3s-master', 'echo "hello from master"') +
        fence(
          'step=agents on=role:agent parallel=1',
          `${note('agents')}\n[ "\${SSH_CONNECTION##* }" != ${portOf('k3s-worker-01')} ]`,
        ) +
        fence('step=after', note('after')),
    );
    const r = await runCli(
      [
        'run',
        file,
        '--inventory',
        lab.inventoryFile,
        '--records',
        join(dir, 'runs'),
        '--yes',
        '--set',
        `TRAIL=${trail}`,
        '--set',
        'PASSWORD_SHA=x',
      ],
      { ...env, DB_PASSWORD: 'unused' },
    );
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toContain('[k3s-master] hello from master');
    // worker-01 failed, so worker-02 never started and the next step did not run.
    expect(readFileSync(trail, 'utf8').trim().split('\n')).toEqual([`agents@- port=${portOf('k3s-worker-01')}`]);
    const [record] = records().filter((x) => x.runbook.id === 'fan-stop');
    expect(record!.status).toBe('failed');
    const fan = record!.steps.find((s) => s.id === 'agents')!;
    expect(fan.status).toBe('failed');
    expect(fan.targets.map((t) => [t.target, t.status, t.attempts])).toEqual([
      ['k3s-worker-01', 'failed', 1],
      ['k3s-worker-02', 'skipped', 0],
    ]);
    expect(fan.targets[1]!.error).toContain('an earlier node failed');
    expect(record!.steps.find((s) => s.id === 'after')!.status).toBe('pending');
  });

  it('dry-run and show print the exact ssh target of every node instance, and connect nowhere', async () => {
    const before = lab.nodes.map(authCount);
    const dry = await runCli(
      ['run', ROLLING(), '--dry-run', '--inventory', lab.inventoryFile, '--records', join(dir, 'runs')],
      env,
    );
    const show = await runCli(['show', ROLLING(), '--inventory', lab.inventoryFile], env);
    for (const out of [dry, show]) {
      expect(out.code, out.stderr).toBe(0);
      expect(out.stdout).toContain(`ssh k3s-master → ${lab.user}@127.0.0.1:${portOf('k3s-master')} · sudo -n bash -s`);
      for (const w of ['k3s-worker-01', 'k3s-worker-02']) {
        // agents-check fans out to both; install@<node> runs on its own node.
        expect(out.stdout.split(`ssh ${w} → ${lab.user}@127.0.0.1:${portOf(w)} · bash -s`).length - 1).toBe(2);
      }
    }
    expect(lab.nodes.map(authCount)).toEqual(before);
  });

  it('fails the step with the node and address when a node refuses the connection', async () => {
    const dead = await freePort();
    const inventory = join(dir, 'dead-inventory.yaml');
    writeFileSync(
      inventory,
      readFileSync(lab.inventoryFile, 'utf8').replace(`port: ${portOf('k3s-worker-02')}`, `port: ${dead}`),
    );
    const file = writeRunbook(
      'dead-node',
      fence('step=first on=k3s-worker-01', 'echo fine') +
        fence('step=second on=k3s-worker-02', 'echo never') +
        fence('step=third', 'echo never'),
    );
    const r = await runCli(
      [
        'run',
        file,
        '--inventory',
        inventory,
        '--records',
        join(dir, 'runs'),
        '--yes',
        '--set',
        'TRAIL=/dev/null',
        '--set',
        'PASSWORD_SHA=x',
      ],
      {
        ...env,
        DB_PASSWORD: 'irrelevant',
      },
    );
    expect(r.code).toBe(1);
    const [record] = records().filter((x) => x.runbook.id === 'dead-node');
    expect(record!.steps.map((s) => s.status)).toEqual(['succeeded', 'failed', 'pending']);
    expect(record!.steps[1]!.error).toBe(
      `k3s-worker-02 (127.0.0.1:${dead}): connection refused; is sshd running on the node and listening on that port?`,
    );
    expect(r.stdout).toContain(`k3s-worker-02 (127.0.0.1:${dead}): connection refused`);
  });

  it('Ctrl-C stops the remote step: its process group on the node is gone, exit 130', async () => {
    const mark = unique('runbook-e2e-int');
    const file = writeRunbook(
      'interrupted',
      fence('step=long on=k3s-worker-01', `echo started\n(exec -a ${mark}-bg sleep 600) &\nexec -a ${mark} sleep 600`),
    );
    const run = startCli(
      [
        'run',
        file,
        '--inventory',
        lab.inventoryFile,
        '--records',
        join(dir, 'runs'),
        '--yes',
        '--set',
        'TRAIL=/dev/null',
        '--set',
        'PASSWORD_SHA=x',
      ],
      {
        ...env,
        DB_PASSWORD: 'irrelevant',
      },
    );
    await run.waitFor('started');
    expect(await eventually(() => pgrep(mark).length === 2)).toBe(true);
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(130);
    expect(await eventually(() => pgrep(mark).length === 0, 8000)).toBe(true);
    const [record] = records().filter((x) => x.runbook.id === 'interrupted');
    expect(record!.steps[0]!.status).toBe('interrupted');
  });
});
