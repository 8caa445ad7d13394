import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseProcedure } from '../../runner/format/parse.ts';
import { planProcedure } from '../../runner/plan/plan.ts';
import { parseSetArgs, resolveParams } from '../../runner/plan/params.ts';
import { testInventory } from '../helpers/inventory.ts';

const ROLLING = 'test/fixtures/check/valid/rolling.mdx';
const procedure = () => parseProcedure(readFileSync(ROLLING, 'utf8'), ROLLING);

describe('planProcedure', () => {
  it('unrolls ForEach node by node and fans role targets out', () => {
    const { plan, problems } = planProcedure(procedure(), testInventory(), {
      sets: { REASON: 'kernel update' },
      env: {},
    });
    expect(problems).toEqual([]);
    expect(plan!.instances.map((i) => i.id)).toEqual([
      'snapshot',
      'drain@agent-1',
      'restart@agent-1',
      'ready@agent-1',
      'drain@agent-2',
      'restart@agent-2',
      'ready@agent-2',
      'all-ready',
      'marker',
    ]);
    expect(plan!.instances.map((i) => i.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const drain = plan!.instances[1]!;
    expect(drain.targets).toEqual([{ kind: 'local' }]);
    expect(drain.env).toEqual({ NODE: 'agent-1', NODE_ADDRESS: '127.0.0.2' });
    expect(plan!.instances[2]!.targets).toEqual([
      { kind: 'node', node: 'agent-1', host: '127.0.0.2', user: 'operator', port: 2202, become: false },
    ]);
    expect(plan!.instances[0]!.targets).toEqual([
      { kind: 'node', node: 'server-1', host: '127.0.0.1', user: 'operator', port: 2201, become: true },
    ]);
    const fan = plan!.instances[7]!;
    expect(fan.targets.map((t) => (t.kind === 'node' ? t.node : 'local'))).toEqual(['agent-1', 'agent-2']);
    expect(fan.parallel).toBe(2);
  });

  it('chooses tab alternatives by their enum param', () => {
    const { plan } = planProcedure(procedure(), testInventory(), {
      sets: { REASON: 'x', DATASTORE: 'sqlite' },
      env: {},
    });
    const ids = plan!.instances.map((i) => i.id);
    expect(ids).toContain('copy-db');
    expect(ids).not.toContain('snapshot');
    expect(plan!.skipped.map((s) => s.step.id)).toEqual(['snapshot']);
  });

  it('refuses a plan with missing or invalid params, and names them', () => {
    const { plan, problems } = planProcedure(procedure(), testInventory(), {
      sets: { DATASTORE: 'postgres' },
      env: {},
    });
    expect(plan).toBeUndefined();
    expect(problems.map((p) => p.message)).toEqual([
      'param DATASTORE: "postgres" is not one of etcd, sqlite',
      'param REASON is required (Why the restart happens (goes into the node annotation)): pass --set REASON=…',
    ]);
  });

  it('builds a lenient plan for show even with missing params', () => {
    const { plan, problems } = planProcedure(procedure(), testInventory(), { env: {}, lenient: true });
    expect(plan!.params.find((p) => p.name === 'REASON')).toMatchObject({ source: 'missing' });
    expect(problems).toHaveLength(1);
  });
});

describe('params', () => {
  const specs = {
    VERSION: { pattern: 'v\\d+\\.\\d+\\.\\d+\\+k3s\\d+', default: 'v1.34.3+k3s1' },
    TOKEN: { secret: true, pattern: '[A-Za-z0-9]{8,}' },
    MODE: { enum: ['fast', 'safe'] },
  };

  it('takes --set over the environment over the default', () => {
    const a = resolveParams(specs, {}, { VERSION: 'v1.35.0+k3s1' });
    expect(a.params.find((p) => p.name === 'VERSION')).toMatchObject({ value: 'v1.35.0+k3s1', source: 'env' });
    const b = resolveParams(specs, { VERSION: 'v1.35.1+k3s1' }, { VERSION: 'v1.35.0+k3s1' });
    expect(b.params.find((p) => p.name === 'VERSION')).toMatchObject({ value: 'v1.35.1+k3s1', source: 'set' });
    expect(resolveParams(specs, {}, {}).params.find((p) => p.name === 'VERSION')).toMatchObject({ source: 'default' });
  });

  it('matches patterns against the whole value', () => {
    const r = resolveParams(specs, { VERSION: 'v1.35.0+k3s1; rm -rf /' }, {});
    expect(r.problems[0]!.message).toContain('does not match the pattern');
  });

  it('never puts a secret value into a message', () => {
    const r = resolveParams(specs, {}, { TOKEN: 'short!' });
    expect(r.problems.map((p) => p.message).join('\n')).not.toContain('short!');
    expect(r.problems[0]!.message).toContain('(secret value)');
  });

  it('rejects unknown --set names and malformed --set', () => {
    expect(resolveParams(specs, { VERSON: 'x' }, {}).problems[0]!.message).toBe(
      '--set VERSON: this runbook has no param VERSON (params: VERSION, TOKEN, MODE)',
    );
    expect(parseSetArgs(['A=b=c', 'broken'])).toEqual({
      values: { A: 'b=c' },
      problems: [{ name: 'broken', message: '--set broken: write --set NAME=value (NAME is a param name)' }],
    });
  });
});
