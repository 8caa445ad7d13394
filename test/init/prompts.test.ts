// `runbook init` on a real terminal: util-linux `script` gives the CLI a pseudo-terminal, and the test
// answers each prompt once its question is on the screen (never on a timer), as an operator would.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkoutCopy } from './copy.ts';

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07/g;
const ENTER = '\r';

/** Runs `runbook init` in `root` on a pty; each [question, keys] pair is typed once the question shows. */
function onTerminal(root: string, script: Array<[RegExp, string]>): Promise<{ code: number | null; screen: string }> {
  // A pty started from a pipe is 0×0, and the prompts would wrap after every character.
  const command = `stty cols 120 rows 40 && exec ${JSON.stringify(process.execPath)} runner/cli.ts init`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd: root,
    // No kubeconfig: the nodes are asked for, not read from a cluster.
    env: { ...process.env, KUBECONFIG: join(root, 'no-kubeconfig'), TERM: 'xterm-256color' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let screen = '';
  let next = 0;
  let answeredAt = 0;
  const feed = () => {
    const step = script[next];
    // Only what appeared since the last answer counts: every earlier question is still on the screen.
    if (step?.[0].test(screen.slice(answeredAt))) {
      answeredAt = screen.length;
      next++;
      child.stdin.write(step[1]);
      setImmediate(feed);
    }
  };
  const read = (d: Buffer) => {
    screen += d.toString('utf8').replace(ANSI, '');
    feed();
  };
  child.stdout.on('data', read);
  child.stderr.on('data', read);
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, screen });
    }),
  );
}

describe('runbook init asks on a terminal', () => {
  const copies: Array<{ remove: () => void }> = [];
  afterAll(() => {
    for (const c of copies) c.remove();
  });

  it('asks for every answer the flags did not give, confirms the deletion, and writes them', async () => {
    const copy = checkoutCopy();
    copies.push(copy);
    const { code, screen } = await onTerminal(copy.root, [
      [/Your name/, `Ada Lovelace${ENTER}`],
      [/Your role/, ENTER],
      [/Site title/, `Ada Lab${ENTER}`],
      [/Tagline/, ENTER],
      [/source repository/, `https://github.com/ada/lab${ENTER}`],
      [/Public URL/, ENTER],
      [/Links, as label=href/, `GitHub=https://github.com/ada${ENTER}`],
      [/The nodes, as name=address/, `k3s-1=10.0.0.10:server,k3s-2=10.0.0.11${ENTER}`],
      [/K3s version/, `v1.34.3+k3s1${ENTER}`],
      // "remove" is the first choice.
      [/Keep or remove/, ENTER],
      // The deletion defaults to No: move to Yes first.
      [/Delete these \d+ files\?/, `\x1b[D${ENTER}`],
    ]);
    expect(screen).toContain('runbook init changed');
    expect(code).toBe(0);
    const site = readFileSync(join(copy.root, 'src/content/lab/site.yaml'), 'utf8');
    expect(site).toContain('Ada Lovelace');
    expect(site).toContain('Ada Lab');
    expect(site).toContain('https://github.com/ada/lab');
    expect(site).toMatch(/label: GitHub[\s\S]*href: https:\/\/github\.com\/ada\b/);
    const inventory = readFileSync(join(copy.root, 'src/content/lab/inventory.yaml'), 'utf8');
    expect(inventory).toMatch(/name: k3s-1[\s\S]*address: 10\.0\.0\.10/);
    expect(inventory).toMatch(/name: k3s-2[\s\S]*address: 10\.0\.0\.11/);
    expect(() => readFileSync(join(copy.root, 'src/content/docs/runbooks/k3s-upgrade.mdx'))).toThrow();
  });

  it('Ctrl-C at a question cancels: exit 2, one line, nothing written', async () => {
    const copy = checkoutCopy();
    copies.push(copy);
    const before = readFileSync(join(copy.root, 'src/content/lab/site.yaml'), 'utf8');
    const { code, screen } = await onTerminal(copy.root, [
      [/Your name/, `Ada${ENTER}`],
      [/Your role/, '\x03'],
    ]);
    expect(screen).toContain('init cancelled; nothing was written');
    expect(screen).not.toMatch(/\n\s+at /); // no stack trace
    expect(code).toBe(2);
    expect(readFileSync(join(copy.root, 'src/content/lab/site.yaml'), 'utf8')).toBe(before);
  });

  it('answering No to the deletion writes nothing', async () => {
    const copy = checkoutCopy();
    copies.push(copy);
    const before = readFileSync(join(copy.root, 'src/content/lab/site.yaml'), 'utf8');
    const { code, screen } = await onTerminal(copy.root, [
      [/Your name/, `Ada${ENTER}`],
      [/Your role/, ENTER],
      [/Site title/, ENTER],
      [/Tagline/, ENTER],
      [/source repository/, ENTER],
      [/Public URL/, ENTER],
      [/Links, as label=href/, ENTER],
      [/The nodes, as name=address/, `k3s-1=10.0.0.10:server${ENTER}`],
      [/K3s version/, `v1.34.3+k3s1${ENTER}`],
      [/Keep or remove/, ENTER],
      [/Delete these \d+ files\?/, ENTER],
    ]);
    expect(screen).toMatch(/Delete these \d+ files\?[\s\S]*No/);
    expect(code).toBe(2);
    expect(screen).not.toContain('runbook init changed');
    expect(readFileSync(join(copy.root, 'src/content/lab/site.yaml'), 'utf8')).toBe(before);
    expect(readFileSync(join(copy.root, 'src/content/docs/runbooks/k3s-upgrade.mdx'), 'utf8')).toContain('runbook:');
  });
});
