// The identity guard: a run confirms, with one API call, that the cluster answering
// is the inventory's (its kube-system namespace UID). Two sandboxes stand in for two
// K3s clusters whose kubeconfigs both say `homelab`: names and URLs alike, UIDs not.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { parse, stringify } from 'yaml';
import { down, up, type SandboxState } from '../../scripts/sandbox-lib/sandbox.ts';
import { runbook } from '../helpers/cli.ts';
import { runRecordSchema, type RunRecord } from '../../runner/record/schema.ts';
import { readdirSync } from 'node:fs';

const dir = mkdtempSync(join(tmpdir(), 'runbook-identity-'));
const records = join(dir, 'runs');
let other: SandboxState;
let otherDir: string;

/** The shared sandbox's inventory, with changes, as a file of this test. */
function inventory(name: string, change: (inv: { cluster: Record<string, unknown> }) => void): string {
  const inv = parse(readFileSync(join(inject('sandboxStateDir'), 'inventory.yaml'), 'utf8'));
  change(inv);
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(inv));
  return file;
}

function page(id: string, extra = ''): string {
  const file = join(dir, `${id}.mdx`);
  writeFileSync(
    file,
    `---\ntitle: ${id}\nrunbook:\n  id: ${id}\n  risk: low\n  cluster: homelab\n${extra}---\n\n# ${id}\n\n` +
      '```bash step=nodes check\nkubectl get nodes -o name\n```\n',
  );
  return file;
}

function lastRecord(id: string): RunRecord {
  const folder = join(records, id);
  const name = readdirSync(folder).sort().at(-1)!;
  return runRecordSchema.parse(JSON.parse(readFileSync(join(folder, name), 'utf8')));
}

const run = (file: string, inv: string, kubeconfig: string) =>
  runbook(['run', file, '--inventory', inv, '--records', records, '--yes'], {
    env: {
      KUBECONFIG: kubeconfig,
      RUNBOOK_LOCK_DIR: join(dir, 'locks'),
      PATH: `${join(inject('kubectl'), '..')}:${process.env.PATH}`,
    },
  });

describe('the cluster identity guard', () => {
  const kubeconfig = inject('kubeconfig');

  beforeAll(async () => {
    otherDir = mkdtempSync(join(tmpdir(), 'k3s-lab-sandbox-identity-'));
    other = await up({ stateDir: otherDir });
  }, 300_000);

  afterAll(async () => {
    if (other) await down(otherDir);
    rmSync(otherDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });

  it('both sandboxes look alike to the kubeconfig: the same context and cluster names', () => {
    const names = (file: string) => {
      const k = parse(readFileSync(file, 'utf8'));
      return { context: k['current-context'], cluster: k.clusters[0].name };
    };
    expect(names(other.kubeconfig)).toEqual(names(kubeconfig));
  });

  it('an unpinned inventory: the run records the UID it saw and says how to pin it', () => {
    const inv = inventory('unpinned', () => {});
    const r = run(page('unpinned'), inv, kubeconfig);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(r.stdout).toContain('cluster identity not pinned');
    expect(r.stdout).toContain('runbook inventory pin');
    const rec = lastRecord('unpinned');
    expect(rec.cluster.identity).toBe('unpinned');
    expect(rec.cluster.uid).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('`runbook inventory pin` writes the UID, keeping the file; a pinned run records it', () => {
    const inv = inventory('pinned', () => {});
    const before = readFileSync(inv, 'utf8');
    const pin = runbook(['inventory', 'pin', '--inventory', inv, '--json'], { env: { KUBECONFIG: kubeconfig } });
    expect(pin.code, pin.stderr).toBe(0);
    const { uid, changed } = JSON.parse(pin.stdout);
    expect(changed).toBe(true);
    const after = readFileSync(inv, 'utf8');
    expect(parse(after).cluster.uid).toBe(uid);
    // Only the uid line was added.
    expect(after.split('\n').filter((l) => !l.includes('uid:'))).toEqual(before.split('\n'));
    const again = runbook(['inventory', 'pin', '--inventory', inv, '--json'], { env: { KUBECONFIG: kubeconfig } });
    expect(JSON.parse(again.stdout).changed).toBe(false);

    const r = run(page('pinned'), inv, kubeconfig);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    expect(lastRecord('pinned').cluster).toMatchObject({ identity: 'pinned', uid });
  });

  it('a look-alike cluster at the pinned address is refused before anything runs, naming both UIDs', () => {
    const pinned = inventory('lookalike-pin', () => {});
    const uid = JSON.parse(
      runbook(['inventory', 'pin', '--inventory', pinned, '--json'], { env: { KUBECONFIG: kubeconfig } }).stdout,
    ).uid;
    // The other sandbox as if it had replaced the lab at its address: same names, its own server.
    const inv = inventory('lookalike', (i) => Object.assign(i.cluster, { uid, server: other.server }));
    const r = run(page('lookalike'), inv, other.kubeconfig);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('wrong cluster');
    expect(r.stderr).toContain(uid);
    expect(r.stderr).toMatch(/answers with UID [0-9a-f-]{36}/);
    expect(r.stderr).not.toContain('    at '); // never a stack trace
    expect(() => readdirSync(join(records, 'lookalike'))).toThrow(); // no record: nothing ran
    // pin refuses too without --force, and re-pins with it.
    const refuse = runbook(['inventory', 'pin', '--inventory', inv], { env: { KUBECONFIG: other.kubeconfig } });
    expect(refuse.code).toBe(2);
    expect(refuse.stderr).toContain('--force');
    const force = runbook(['inventory', 'pin', '--inventory', inv, '--force', '--json'], {
      env: { KUBECONFIG: other.kubeconfig },
    });
    expect(JSON.parse(force.stdout)).toMatchObject({ changed: true, previous: uid });
  });

  it('an API that does not answer is a refusal, unless the runbook says api: optional', () => {
    // A port nobody listens on: the same kubeconfig, pointed elsewhere.
    const dead = join(dir, 'dead-kubeconfig');
    const k = parse(readFileSync(kubeconfig, 'utf8'));
    k.clusters[0].cluster.server = 'https://127.0.0.1:9';
    writeFileSync(dead, stringify(k));
    const inv = inventory('dead', (i) => Object.assign(i.cluster, { server: 'https://127.0.0.1:9' }));
    const refused = run(page('needs-api'), inv, dead);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('did not answer: connection refused');
    expect(refused.stderr).toContain('api: optional');

    const tolerated = run(page('no-api', '  api: optional\n'), inv, dead);
    // The step itself needs the API and fails; the run was allowed to start and recorded why there is no identity.
    expect(tolerated.code).toBe(1);
    const rec = lastRecord('no-api');
    expect(rec.cluster).toMatchObject({
      identity: 'unreachable',
      error: expect.stringContaining('connection refused'),
    });
    expect(rec.snapshots?.before).toMatchObject({ error: expect.stringContaining('connection refused') });
    expect(rec.lease).toBeUndefined();
  });
});
