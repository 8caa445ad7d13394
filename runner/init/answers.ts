import { spawnSync } from 'node:child_process';
import { UsageError } from '../errors.ts';
import type { Asker } from './ask.ts';
import { K3S_VERSION, parseNodeFlag, type InventorySource } from './inventory-file.ts';
import { kubeView, readClusterFacts } from './inventory-from-cluster.ts';
import { iconFor, loadSiteFile, siteSchema, type SiteFile, type SiteLink } from './site-file.ts';

import type { InitOptions } from './run-init.ts';

/** What `runbook init` is told: from the flags, else asked on a terminal (ask.ts), else named as missing. */

/** The role a new owner gets when none is given: the footer reads "Built and operated by <name>, <role>." */
export const DEFAULT_ROLE = 'home lab operator';

export async function siteAnswers(
  root: string,
  opts: InitOptions,
  ask: Asker,
  notes: string[],
): Promise<SiteFile | undefined> {
  const base = loadSiteFile(root).site;
  const nonEmpty = (what: string) => (v: string) => (v.trim() === '' ? `${what} cannot be empty` : undefined);
  // No initial value: Enter must not keep the example's owner by accident.
  const owner =
    opts.owner ??
    (await ask.text({
      flag: '--owner <name>',
      message: "Your name (the site's owner)",
      validate: nonEmpty('the name'),
    }));
  if (owner === undefined) return undefined;
  const changed = owner !== base.owner.name;
  /** A flag's value, else (on a terminal) the answer to its question, else the fallback. */
  const optional = async (
    given: string | undefined,
    flag: string,
    message: string,
    fallback: string,
    required = false,
  ) =>
    given ??
    (ask.interactive
      ? ((await ask.text({ flag, message, initial: fallback, ...(required ? { validate: nonEmpty(flag) } : {}) })) ??
        fallback)
      : fallback);
  const role = await optional(
    opts.role,
    '--role',
    'Your role (shown beside your name)',
    changed ? DEFAULT_ROLE : base.owner.role,
  );
  const title = await optional(opts.title, '--title', 'Site title', base.title, true);
  const tagline = await optional(
    opts.tagline,
    '--tagline',
    'Tagline (one sentence on the landing page)',
    base.tagline,
    true,
  );
  const repository = await optional(
    opts.repository,
    '--repository',
    "The site's source repository (its Edit links point there)",
    (changed ? gitOrigin(root) : undefined) ?? base.repository,
  );
  const url = await optional(opts.url, '--url', 'Public URL of the built site', base.url);
  let links: SiteLink[];
  if (opts.link) links = opts.link.map(parseLink);
  else if (ask.interactive) {
    const initial = changed ? '' : base.owner.links.map((l) => `${l.label}=${l.href}`).join(', ');
    const answer = await ask.text({
      flag: '--link',
      message: 'Links, as label=href separated by commas (empty for none)',
      initial,
    });
    links = (answer ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map(parseLink);
  } else links = changed ? [] : base.owner.links;
  if (changed && !opts.link && !ask.interactive && base.owner.links.length > 0)
    notes.push(`the previous owner's links were dropped: add yours with --link label=href`);
  if (changed && !opts.repository && repository === base.repository)
    notes.push(`the repository is still ${repository}: pass --repository <url> (it is where "Edit page" links go)`);
  if (changed && !opts.tagline && tagline === base.tagline)
    notes.push('the tagline is still the example lab\'s: pass --tagline "…"');
  const value = { title, tagline, url, repository, owner: { name: owner, role, links } };
  const result = siteSchema.safeParse(value);
  if (!result.success) {
    const flag = (path: PropertyKey[]) =>
      path[0] === 'owner'
        ? path[1] === 'links'
          ? '--link'
          : `--${path[1] === 'name' ? 'owner' : String(path[1])}`
        : `--${String(path[0])}`;
    throw new UsageError(result.error.issues.map((i) => `${flag(i.path)}: ${i.message}`).join('\n'));
  }
  return result.data;
}

/** `--link label=href`: the icon is picked from the address. */
export function parseLink(flag: string): SiteLink {
  const at = flag.indexOf('=');
  if (at <= 0)
    throw new UsageError(`--link ${flag}: expected label=href, such as --link GitHub=https://github.com/you`);
  const label = flag.slice(0, at).trim();
  const href = flag.slice(at + 1).trim();
  return { label, href, icon: iconFor(href) };
}

/** The origin remote as an https URL (git@host:a/b.git → https://host/a/b), when the project has one. */
function gitOrigin(root: string): string | undefined {
  const r = spawnSync('git', ['remote', 'get-url', 'origin'], { cwd: root, encoding: 'utf8' });
  const url = r.status === 0 ? r.stdout.trim() : '';
  const ssh = /^git@([^:]+):(.+?)(?:\.git)?$/.exec(url);
  if (ssh) return `https://${ssh[1]}/${ssh[2]}`;
  return /^https:\/\//.test(url) ? url.replace(/\.git$/, '') : undefined;
}

export async function inventoryAnswers(
  opts: InitOptions,
  ask: Asker,
): Promise<{ source: InventorySource } | undefined> {
  const fromFlags = async (nodes: string[]) => {
    const k3sVersion =
      opts.k3sVersion ??
      (await ask.text({
        flag: '--k3s-version',
        message: 'K3s version the nodes run, such as v1.34.3+k3s1',
        validate: (v) => (K3S_VERSION.test(v) ? undefined : 'a K3s version such as v1.34.3+k3s1'),
      }));
    const parsed = nodes.map(parseNodeFlag);
    if (k3sVersion === undefined) return undefined;
    return {
      source: {
        kind: 'answers' as const,
        nodes: parsed,
        k3sVersion,
        ...(opts.server ? { server: opts.server } : {}),
        ...(opts.context ? { context: opts.context } : {}),
      },
    };
  };
  if (opts.node?.length) return fromFlags(opts.node);
  const view = kubeView(opts);
  if (view) {
    const use =
      !ask.interactive ||
      opts.kubeconfig !== undefined ||
      opts.context !== undefined ||
      (await ask.confirm({
        flag: '--context',
        message: `Read the nodes from context "${view.context}" (${view.server})?`,
        initial: true,
      }));
    // Answers already missing fail the run anyway: no cluster is asked for nothing.
    if (use) return ask.pending() ? undefined : { source: { kind: 'cluster', facts: await readClusterFacts(view) } };
  }
  const answer = await ask.text({
    flag: '--node name=address[:roles]',
    message: ask.interactive
      ? 'The nodes, as name=address[:roles] separated by commas'
      : 'once per node; or --kubeconfig/--context to read them from the cluster, or --keep-inventory',
    validate: (v) => (v.trim() === '' ? 'at least one node' : undefined),
  });
  return answer === undefined
    ? undefined
    : fromFlags(
        answer
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      );
}

export async function examplesAnswer(ask: Asker): Promise<string | undefined> {
  return ask.choose({
    flag: '--examples keep|remove',
    message: "Keep or remove the example lab's pages and run history",
    options: [
      { value: 'remove', label: 'remove: start from an empty site (a landing page and an empty runbooks index)' },
      { value: 'keep', label: 'keep: leave the example pages and their history' },
    ],
  });
}
