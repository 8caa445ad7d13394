import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globSync } from 'tinyglobby';
import { parse } from 'yaml';
import { parseDocument } from 'yaml';
import { loadSiteFile, parseSiteFile } from '../../runner/init/site-file.ts';
import { updateDocument } from '../../runner/init/yaml-update.ts';
import { parseNodeFlag } from '../../runner/init/inventory-file.ts';
import { gib, ownLabels } from '../../runner/init/inventory-from-cluster.ts';
import { loadInventory } from '../../runner/inventory/load.ts';
import { checkoutCopy } from './copy.ts';

/** The CLI in the copy, with no terminal (stdin is a pipe) and no kubeconfig to find. */
function init(root: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, ['runner/cli.ts', 'init', ...args], {
    cwd: root,
    encoding: 'utf8',
    input: '',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1', KUBECONFIG: join(root, 'no-kubeconfig'), USER: 'ada', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Every file of the copy's content and its hash: what "nothing was written" is compared against. */
function contentState(root: string): Record<string, string> {
  const files = globSync('src/content/**/*', { cwd: root, dot: true });
  return Object.fromEntries(
    files.map((f) => [
      f,
      createHash('sha256')
        .update(readFileSync(join(root, f)))
        .digest('hex'),
    ]),
  );
}

const ANSWERS = [
  '--owner',
  'Ada Lovelace',
  '--role',
  'Analytical engines',
  '--link',
  'GitHub=https://github.com/ada',
  '--link',
  'Mastodon=https://hachyderm.io/@ada',
  '--repository',
  'https://github.com/ada/lab',
  '--node',
  'lab-1=10.0.0.5:server',
  '--node',
  'lab-2=10.0.0.6',
  '--k3s-version',
  'v1.34.3+k3s1',
];

describe('runbook init on a copy of the checkout', () => {
  let copy: ReturnType<typeof checkoutCopy>;
  beforeAll(() => {
    copy = checkoutCopy();
  });
  afterAll(() => copy?.remove());

  it('without a terminal and with answers missing: exit 2, names each flag, writes nothing', () => {
    const before = contentState(copy.root);
    const r = init(copy.root, ['--role', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^runbook: init: there is no terminal to ask/);
    for (const flag of ['--owner <name>', '--node name=address[:roles]', '--examples keep|remove'])
      expect(r.stderr).toContain(flag);
    expect(r.stderr).toContain('Nothing was written.');
    expect(r.stdout).toBe('');
    // Every missing answer at once, the deletion's confirmation too.
    const remove = init(copy.root, ['--node', 'a=10.0.0.1', '--k3s-version', 'v1.34.3+k3s1', '--examples', 'remove']);
    expect(remove.code).toBe(2);
    expect(remove.stderr).toContain('--owner <name>');
    expect(remove.stderr).toMatch(/--yes \(Delete these \d+ files\)/);
    expect(remove.stderr).not.toContain('--node');
    expect(contentState(copy.root)).toEqual(before);
  });

  it('--dry-run prints the plan and writes nothing', () => {
    const before = contentState(copy.root);
    const r = init(copy.root, [...ANSWERS, '--examples', 'remove', '--dry-run']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('would change');
    expect(r.stdout).toContain('updated  src/content/lab/site.yaml (repository, owner.name, owner.role, owner.links)');
    expect(r.stdout).toContain('src/content/adrs/0001-kubernetes-distribution.mdx');
    expect(contentState(copy.root)).toEqual(before);
  });

  it('--examples remove without --yes and no terminal: exit 2 naming --yes, nothing written', () => {
    const before = contentState(copy.root);
    const r = init(copy.root, [...ANSWERS, '--examples', 'remove']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--yes \(Delete these \d+ files\)/);
    expect(contentState(copy.root)).toEqual(before);
  });

  it('writes the owner, links and inventory, keeping the site file comments', () => {
    const r = init(copy.root, [...ANSWERS, '--examples', 'keep']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('updated  src/content/lab/site.yaml');
    expect(r.stdout).toContain('updated  src/content/lab/inventory.yaml (cluster homelab, 2 nodes from --node)');
    // Keeping the example pages with another inventory is said: their steps name the example's nodes.
    expect(r.stdout).toContain("the example runbooks name the example lab's nodes");
    const site = loadSiteFile(copy.root);
    expect(site.site.owner).toEqual({
      name: 'Ada Lovelace',
      role: 'Analytical engines',
      links: [
        { label: 'GitHub', href: 'https://github.com/ada', icon: 'github' },
        { label: 'Mastodon', href: 'https://hachyderm.io/@ada', icon: 'mastodon' },
      ],
    });
    expect(site.site.repository).toBe('https://github.com/ada/lab');
    expect(site.site.title).toBe('K3s Home Lab');
    expect(site.text).toContain("# Where the site's sources live");
    const { inventory } = loadInventory('src/content/lab/inventory.yaml', copy.root);
    expect(inventory.cluster).toEqual({
      name: 'homelab',
      context: 'homelab',
      server: 'https://10.0.0.5:6443',
      k3sVersion: 'v1.34.3+k3s1',
    });
    expect(inventory.ssh).toEqual({ user: 'ada', port: 22, become: true });
    expect(inventory.nodes).toEqual([
      { name: 'lab-1', roles: ['server'], address: '10.0.0.5' },
      { name: 'lab-2', roles: ['agent'], address: '10.0.0.6' },
    ]);
    expect(existsSync(join(copy.root, 'src/content/adrs/0001-kubernetes-distribution.mdx'))).toBe(true);
  });

  it('a second run with the same answers changes nothing and says so', () => {
    const before = contentState(copy.root);
    const r = init(copy.root, [...ANSWERS, '--examples', 'keep']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^runbook init: nothing to change/);
    expect(contentState(copy.root)).toEqual(before);
    const json = init(copy.root, [...ANSWERS, '--examples', 'keep', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ changed: false, changes: [] });
  });

  it('an operator edit to the inventory survives a re-run, comments included', () => {
    const file = join(copy.root, 'src/content/lab/inventory.yaml');
    const edited = readFileSync(file, 'utf8')
      .replace('  user: ada', '  # my own login\n  user: operator')
      .replace('address: 10.0.0.6', 'address: 10.0.0.6\n    hardware: { disk: 1 TB }');
    writeFileSync(file, edited);
    const r = init(copy.root, [
      ...ANSWERS.slice(0, -4),
      '--node',
      'lab-2=10.0.0.7',
      ...ANSWERS.slice(-2),
      '--examples',
      'keep',
    ]);
    expect(r.code).toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# my own login\n  user: operator');
    const inv = parse(text);
    expect(inv.nodes[1]).toEqual({ name: 'lab-2', roles: ['agent'], address: '10.0.0.7', hardware: { disk: '1 TB' } });
  });

  it('--examples remove --yes leaves a minimal site that passes check --strict, and a re-run changes nothing', () => {
    // A page `runbook import` wrote is the operator's, not the example's: it stays.
    mkdirSync(join(copy.root, 'src/content/docs/runbooks/imported'));
    writeFileSync(
      join(copy.root, 'src/content/docs/runbooks/imported/mine.mdx'),
      '---\ntitle: Mine\n---\n\nMy notes.\n',
    );
    const r = init(copy.root, [...ANSWERS, '--examples', 'remove', '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/removed {2}\d+ example files: 17 ADR files, \d+ runbook pages/);
    const left = globSync('src/content/**/*', { cwd: copy.root }).sort();
    expect(left).toEqual([
      'src/content/docs/index.mdx',
      'src/content/docs/reference/cli.mdx',
      'src/content/docs/reference/import.mdx',
      'src/content/docs/reference/init.mdx',
      'src/content/docs/reference/runbook-format.mdx',
      'src/content/docs/runbooks/imported/mine.mdx',
      'src/content/docs/runbooks/index.mdx',
      'src/content/lab/inventory.yaml',
      'src/content/lab/services.yaml',
      'src/content/lab/site.yaml',
      'src/content/lab/workloads.yaml',
      'src/content/runs/README.md',
    ]);
    const check = spawnSync(process.execPath, ['runner/cli.ts', 'check', '--strict'], {
      cwd: copy.root,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', RUNBOOK_INVENTORY: undefined },
    });
    expect(check.stderr + check.stdout).toMatch(/0 errors, 0 warnings/);
    expect(check.status).toBe(0);
    const again = init(copy.root, [...ANSWERS, '--examples', 'remove']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^runbook init: nothing to change/);
  });
});

describe('runbook init refuses what it cannot finish, before it changes anything', () => {
  const NODE = ['--node', 'a=10.0.0.1', '--k3s-version', 'v1.34.3+k3s1'];

  it.skipIf(process.getuid?.() !== 0)(
    'a folder of the example that cannot be written: exit 2 naming it, not one file changed or removed',
    () => {
      const copy = checkoutCopy();
      try {
        // As an ordinary user (root writes anywhere), with one example folder read-only.
        spawnSync('chown', ['-R', '65534:65534', copy.root]);
        const locked = join(copy.root, 'src/content/runs/k3s-upgrade');
        chmodSync(locked, 0o555);
        const before = contentState(copy.root);
        const r = spawnSync(
          'setpriv',
          [
            '--reuid=65534',
            '--regid=65534',
            '--clear-groups',
            process.execPath,
            'runner/cli.ts',
            'init',
            '--owner',
            'Ada',
            '--examples',
            'remove',
            '--yes',
            ...NODE,
          ],
          {
            cwd: copy.root,
            encoding: 'utf8',
            input: '',
            env: { ...process.env, NO_COLOR: '1', HOME: copy.root, KUBECONFIG: join(copy.root, 'none') },
          },
        );
        expect(r.stderr).toMatch(
          /cannot change files in src\/content\/runs\/k3s-upgrade \(\d+ files: permission denied/,
        );
        expect(r.stderr).toContain('Nothing was changed');
        expect(r.status).toBe(2);
        expect(contentState(copy.root)).toEqual(before);
      } finally {
        copy.remove();
      }
    },
  );

  it('a FIFO or a folder where the inventory is: exit 2 naming it, never waiting on it', () => {
    const copy = checkoutCopy();
    try {
      const inventory = join(copy.root, 'src/content/lab/inventory.yaml');
      rmSync(inventory);
      spawnSync('mkfifo', [inventory]);
      const fifo = init(copy.root, ['--owner', 'Ada', '--examples', 'keep', ...NODE]);
      expect(fifo.stderr).toContain('src/content/lab/inventory.yaml: cannot read it: a FIFO, not a regular file');
      expect(fifo.code).toBe(2);
      rmSync(inventory);
      mkdirSync(inventory);
      const folder = init(copy.root, ['--owner', 'Ada', '--examples', 'keep', ...NODE]);
      expect(folder.stderr).toContain('src/content/lab/inventory.yaml: cannot read it: this is a folder');
      expect(folder.code).toBe(2);
    } finally {
      copy.remove();
    }
  });

  it('an --ssh-user that is no user name is refused', () => {
    const copy = checkoutCopy();
    try {
      for (const user of ['a b', '-oProxyCommand=x']) {
        const r = init(copy.root, ['--owner', 'Ada', '--examples', 'keep', ...NODE, `--ssh-user=${user}`]);
        expect(r.stderr).toContain(`--ssh-user ${user}: not a user name`);
        expect(r.code).toBe(2);
      }
    } finally {
      copy.remove();
    }
  });

  it('a link that is not http(s) or mailto (javascript:, data:) is refused', () => {
    const copy = checkoutCopy();
    try {
      for (const href of ['javascript:alert(1)', 'data:text/html,hi']) {
        const r = init(copy.root, ['--owner', 'Ada', '--examples', 'keep', '--keep-inventory', '--link', `X=${href}`]);
        expect(r.stderr).toContain('--link: href must be a full http(s) URL');
        expect(r.code).toBe(2);
      }
      expect(
        init(copy.root, [
          '--owner',
          'Ada',
          '--examples',
          'keep',
          '--keep-inventory',
          '--link',
          'Mail=mailto:ada@example.org',
          '--dry-run',
        ]).code,
      ).toBe(0);
    } finally {
      copy.remove();
    }
  });
});

describe('the site file', () => {
  it('a wrong value is named with its file, line and field', () => {
    const text =
      'title: Lab\ntagline: t\nurl: not a url\nrepository: https://x.org\nowner:\n  name: A\n  role: r\n  links: []\n';
    expect(() => parseSiteFile(text, 'site.yaml')).toThrow(/^site\.yaml:3 {2}url: url must be a full http\(s\) URL/);
    expect(() => parseSiteFile(`${text}extra: 1\n`, 'site.yaml')).toThrow(/Unrecognized key: "extra"/);
    expect(() => parseSiteFile('title: [\n', 'site.yaml')).toThrow(/^site\.yaml:\d+:\d+ {2}invalid YAML/);
  });

  it('the shipped file gives the shape the site reads', async () => {
    const { siteConfig } = await import('../../src/site.config.ts');
    expect(Object.keys(siteConfig)).toEqual(['title', 'tagline', 'url', 'repository', 'owner']);
    expect(siteConfig.owner.links.every((l) => l.icon && l.href.startsWith('https://'))).toBe(true);
  });
});

describe('updating a YAML document in place', () => {
  it('keeps the comments of what did not change, matches list items by name', () => {
    const doc = parseDocument(
      '# head\na: 1 # stays\nlist:\n  - name: x\n    v: 1\n  # second\n  - name: y\n    v: 2\ngone: true\n',
    );
    updateDocument(doc, {
      a: 1,
      list: [
        { name: 'y', v: 3 },
        { name: 'x', v: 1 },
      ],
      added: 'z',
    });
    expect(doc.toString()).toBe(
      '# head\na: 1 # stays\nlist:\n  # second\n  - name: y\n    v: 3\n  - name: x\n    v: 1\nadded: z\n',
    );
  });
});

describe('answers read from flags and from node objects', () => {
  it('--node name=address[:roles]', () => {
    expect(parseNodeFlag('a=10.0.0.1', 0)).toEqual({ name: 'a', roles: ['server'], address: '10.0.0.1' });
    expect(parseNodeFlag('h=k3s-1.lan', 0).address).toBe('k3s-1.lan');
    for (const bad of ['a=999.1.1.1', 'a=10.0.0', 'a=-x', 'a=bad_name'])
      expect(() => parseNodeFlag(bad, 0)).toThrow(/is not an IP address or a host name/);
    expect(parseNodeFlag('b=10.0.0.2', 1)).toEqual({ name: 'b', roles: ['agent'], address: '10.0.0.2' });
    expect(parseNodeFlag('g=[fd00::7]:agent,gpu', 1)).toEqual({
      name: 'g',
      roles: ['agent', 'gpu'],
      address: 'fd00::7',
    });
    expect(() => parseNodeFlag('nope', 0)).toThrow(/expected name=address\[:roles\]/);
  });

  it('memory quantities in GiB, and only the labels a person set', () => {
    expect(gib('8Gi')).toBe('8 GiB');
    expect(gib('16318412Ki')).toBe('15.6 GiB');
    expect(gib('4096Mi')).toBe('4 GiB');
    expect(gib('8e9')).toBe('7.5 GiB');
    expect(gib('lots')).toBeUndefined();
    expect(
      ownLabels({
        'kubernetes.io/hostname': 'a',
        'beta.kubernetes.io/arch': 'amd64',
        'node-role.kubernetes.io/agent': 'true',
        'node.kubernetes.io/instance-type': 'k3s',
        'k3s.io/hostname': 'a',
        'topology.kubernetes.io/zone': 'rack-1',
        gpu: 'rtx3060',
      }),
    ).toEqual({ gpu: 'rtx3060', 'topology.kubernetes.io/zone': 'rack-1' });
  });
});
