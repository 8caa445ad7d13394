import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nodeConfigText } from '../../runner/execute/ssh/config.ts';
import { hostLineMatches } from '../../runner/execute/ssh/resolve.ts';
import { markers, remoteScript } from '../../runner/execute/ssh/script.ts';

/**
 * Feeds the text ssh would send to `bash -s` to a local bash, keeping stdin open
 * as the runner does (EOF would tell the watchdog to end the step).
 */
function runLocally(text: string): Promise<{ stdout: string; stderr: string; status: number | null }> {
  const child = spawn('bash', ['-s'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.write(text);
  return new Promise((resolve) =>
    child.on('close', (status) => {
      child.stdin.destroy();
      resolve({ stdout, stderr, status });
    }),
  );
}

describe('the script sent to bash -s', () => {
  it('delivers any param value byte for byte (property, through a real bash)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
        async (value) => {
          const r = await runLocally(remoteScript('printf %s "$VALUE"', { VALUE: value }, undefined, 'n1'));
          expect(r.stdout).toBe(value);
          expect(r.status).toBe(0);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps a step whose text contains the here-document tag intact', async () => {
    const r = await runLocally(remoteScript('echo one\nRUNBOOK_STEP\necho two', {}, undefined, 'n2'));
    // The tag line reached bash as a command of the step (set -e stops there), not as the end of the document.
    expect(r.stdout).toMatch(/^one\n.*RUNBOOK_STEP: command not found\n$/);
    expect(r.status).toBe(127);
  });

  it('reports start and exit code on stderr lines the step cannot write', async () => {
    const mark = markers('n3');
    const r = await runLocally(remoteScript(`echo "${mark.exitLine('0')}" >&2; exit 4`, {}, undefined, 'n3'));
    const lines = r.stderr.trim().split('\n');
    expect(lines.map((l) => mark.parse(l))).toEqual(['started', 4]);
    expect(r.stdout).toBe(`${mark.exitLine('0')}\n`); // the step's stderr went to stdout
  });

  it('refuses names that are not environment variable names', () => {
    expect(() => remoteScript('true', { 'BAD-NAME': 'x' }, undefined, 'n4')).toThrow(
      /not an environment variable name/,
    );
  });
});

describe('the per-node ssh config', () => {
  const target = {
    kind: 'node' as const,
    node: 'k3s-master',
    host: '192.168.2.20',
    user: 'tom',
    port: 22,
    become: true,
  };

  it("reads the operator's config first, then the inventory's address, port and user", () => {
    expect(nodeConfigText(target, { configFile: '/home/op/.ssh/config' })).toBe(
      '# Written by `runbook run` for one run and removed when it ends.\nInclude /home/op/.ssh/config\nHost k3s-master\n  HostName 192.168.2.20\n  Port 22\n  User tom\n',
    );
  });

  it('refuses inventory values that could inject config lines', () => {
    expect(() => nodeConfigText({ ...target, host: '192.168.2.20\n  ProxyCommand sh' }, { configFile: '/x' })).toThrow(
      /cannot be used with ssh/,
    );
  });

  it('matches Host patterns as ssh does', () => {
    expect(hostLineMatches(['k3s-*'], 'k3s-master')).toBe(true);
    expect(hostLineMatches(['k3s-*', '!k3s-master'], 'k3s-master')).toBe(false);
    expect(hostLineMatches(['k3s-worker-0?'], 'k3s-worker-01')).toBe(true);
    expect(hostLineMatches(['nas'], 'k3s-master')).toBe(false);
  });
});
