import { accessSync, constants, existsSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Document } from 'yaml';
import { UsageError } from '../errors.ts';
import { DEFAULT_INVENTORY } from '../inventory/default.ts';
import { parseInventory } from '../inventory/load.ts';
import type { Inventory } from '../inventory/schema.ts';
import { findProjectRoot } from '../project-files.ts';
import { readProblem, readRegularFile } from '../read-file.ts';
import { replaceFileDurably } from '../record/durable.ts';
import type { Asker } from './ask.ts';
import {
  describeContent,
  exampleContent,
  LANDING,
  MINIMAL_RUNBOOKS_INDEX,
  minimalLanding,
  RUNBOOKS_INDEX,
  RUNS_FOLDER,
  removeEmptyFolders,
} from './examples.ts';
import { buildInventory, inventoryText, type InventorySource } from './inventory-file.ts';
import { loadSiteFile, SITE_FILE, type SiteFile } from './site-file.ts';
import { updateDocument } from './yaml-update.ts';
import { examplesAnswer, inventoryAnswers, siteAnswers } from './answers.ts';

export interface InitOptions {
  title?: string;
  tagline?: string;
  owner?: string;
  role?: string;
  url?: string;
  repository?: string;
  link?: string[];
  kubeconfig?: string;
  context?: string;
  node?: string[];
  clusterName?: string;
  server?: string;
  k3sVersion?: string;
  sshUser?: string;
  keepInventory?: boolean;
  examples?: string;
  yes?: boolean;
  dryRun?: boolean;
}

export interface Change {
  file: string;
  action: 'create' | 'update' | 'delete';
  /** What changed, in a few words. */
  detail: string;
  text?: string;
}

export interface InitPlan {
  root: string;
  changes: Change[];
  /** What the operator should review or do next. */
  notes: string[];
  dryRun: boolean;
}

/**
 * `runbook init`: gathers the answers (flags, else questions on a terminal, else exit 2 naming the
 * flags), plans every file change, asks before deleting, then writes — or, with --dry-run, only
 * returns the plan. A second run with the same answers plans nothing.
 */
export async function runInit(opts: InitOptions, ask: Asker): Promise<InitPlan> {
  const root = findProjectRoot();
  const notes: string[] = [];
  const site = await siteAnswers(root, opts, ask, notes);
  const inventory = opts.keepInventory ? undefined : await inventoryAnswers(opts, ask);
  const examples = opts.examples ?? (await examplesAnswer(ask));
  const content = examples === 'remove' ? exampleContent(root) : { pages: [], records: [] };
  const deleting = content.pages.length + content.records.length;
  let confirmed = true;
  if (deleting > 0 && !opts.dryRun && !opts.yes) {
    const folders = new Map<string, number>();
    for (const f of [...content.pages, ...content.records]) {
      const folder = content.records.includes(f) ? `${RUNS_FOLDER}/*/` : `${dirname(f)}/`;
      folders.set(folder, (folders.get(folder) ?? 0) + 1);
    }
    const list = [...folders].map(([folder, n]) => `  ${folder} (${n} file${n === 1 ? '' : 's'})`);
    ask.note(
      `--examples remove deletes ${describeContent(content).join(', ')}:\n${list.join('\n')}\n` +
        '(--dry-run lists every file)',
    );
    confirmed = await ask.confirm({ flag: '--yes', message: `Delete these ${deleting} files?` });
  }
  ask.finish();
  if (!confirmed)
    throw new UsageError('init: the example content stays (deleting it was not confirmed); nothing was written');

  const changes: Change[] = [];
  const siteChange = planSite(root, site!);
  if (siteChange) changes.push(siteChange);
  if (inventory) {
    const planned = await planInventory(root, inventory.source, opts, notes);
    if (planned) changes.push(planned);
    if (planned && examples === 'keep')
      notes.push(
        "the example runbooks name the example lab's nodes and cluster: `runbook check --strict` lists each one your " +
          'inventory lacks; adapt those pages, or run `runbook init --examples remove`',
      );
  }
  if (deleting > 0) {
    changes.push(
      ...content.pages.map((file) => ({ file, action: 'delete' as const, detail: 'example content' })),
      ...content.records.map((file) => ({ file, action: 'delete' as const, detail: 'example run record' })),
    );
    // With the example's pages gone, its landing and runbooks index would link to nothing: minimal ones replace them.
    for (const [file, text] of [
      [LANDING, minimalLanding(site!)],
      [RUNBOOKS_INDEX, MINIMAL_RUNBOOKS_INDEX],
    ] as const) {
      const old = readIfThere(root, file);
      if (old !== text)
        changes.push({ file, action: old === undefined ? 'create' : 'update', detail: 'minimal', text });
    }
  }
  if (!opts.dryRun) apply(root, changes);
  return { root, changes, notes, dryRun: opts.dryRun === true };
}

function planSite(root: string, site: SiteFile): Change | undefined {
  const abs = join(root, SITE_FILE);
  const loaded = existsSync(abs) ? loadSiteFile(root) : undefined;
  if (loaded && isDeepStrictEqual(loaded.site, site)) return undefined;
  const doc = loaded?.doc ?? new Document({});
  updateDocument(doc, site);
  const fields = loaded ? changedFields(loaded.site, site) : ['all'];
  return {
    file: SITE_FILE,
    action: loaded ? 'update' : 'create',
    detail: fields.join(', '),
    text: doc.toString({ lineWidth: 120 }),
  };
}

function changedFields(a: SiteFile, b: SiteFile): string[] {
  const top = (['title', 'tagline', 'url', 'repository'] as const).filter((k) => a[k] !== b[k]);
  const owner = (['name', 'role', 'links'] as const)
    .filter((k) => !isDeepStrictEqual(a.owner[k], b.owner[k]))
    .map((k) => `owner.${k}`);
  return [...top, ...owner];
}

async function planInventory(
  root: string,
  source: InventorySource,
  opts: InitOptions,
  notes: string[],
): Promise<Change | undefined> {
  const oldText = readIfThere(root, DEFAULT_INVENTORY);
  let old: Inventory | undefined;
  try {
    old = oldText === undefined ? undefined : parseInventory(oldText, DEFAULT_INVENTORY);
  } catch {
    notes.push(`${DEFAULT_INVENTORY} was not a valid inventory: it is written anew`);
  }
  const inventory = buildInventory(
    {
      source,
      ...(opts.clusterName ? { clusterName: opts.clusterName } : {}),
      ...(opts.k3sVersion ? { k3sVersion: opts.k3sVersion } : {}),
      ...(opts.sshUser ? { sshUser: opts.sshUser } : {}),
    },
    old,
  );
  const from =
    source.kind === 'cluster'
      ? `the cluster behind kube context "${source.facts.context}"`
      : 'the nodes given with --node';
  if (source.kind === 'cluster' && source.facts.mixedVersions)
    notes.push(
      `the nodes run different versions (${source.facts.mixedVersions}); the inventory records ${inventory.cluster.k3sVersion}`,
    );
  const { text } = inventoryText(inventory, oldText, old, DEFAULT_INVENTORY, from);
  if (text === undefined) return undefined;
  if (!old || old.cluster.server !== inventory.cluster.server)
    notes.push(
      `review ${DEFAULT_INVENTORY}: ssh user ${inventory.ssh?.user}, port 22 and become (sudo) are defaults a cluster cannot tell`,
    );
  const n = inventory.nodes.length;
  return {
    file: DEFAULT_INVENTORY,
    action: oldText === undefined ? 'create' : 'update',
    detail: `cluster ${inventory.cluster.name}, ${n} node${n === 1 ? '' : 's'} from ${source.kind === 'cluster' ? `context ${source.facts.context}` : '--node'}`,
    text,
  };
}

/** A file init may replace, as text, or undefined when there is none; a FIFO or a folder there is refused by name. */
function readIfThere(root: string, file: string): string | undefined {
  const abs = join(root, file);
  if (!existsSync(abs)) return undefined;
  try {
    return readRegularFile(abs).toString('utf8');
  } catch (err) {
    throw new UsageError(
      `${file}: cannot read it: ${readProblem(err)}; restore it (git checkout -- ${file}) or remove it, then run runbook init again`,
    );
  }
}

/**
 * Every change must be possible before the first is made: a folder that cannot be written (a
 * read-only checkout, a file another user owns) refuses the whole init, listed, with nothing changed,
 * rather than leaving the site half the example's and half the operator's.
 */
function assertWritable(root: string, changes: Change[]): void {
  const blocked = new Map<string, { files: number; why: string }>();
  for (const c of changes) {
    // A replacement is a new file renamed over the old one, and a deletion an unlink: both write the folder.
    let dir = dirname(join(root, c.file));
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    const folder = relative(root, dir) || '.';
    const known = blocked.get(folder);
    if (known) {
      known.files++;
      continue;
    }
    try {
      accessSync(dir, constants.W_OK | constants.X_OK);
    } catch (err) {
      blocked.set(folder, { files: 1, why: readProblem(err) });
    }
  }
  if (blocked.size) {
    const list = [...blocked].map(([folder, b]) => `${folder} (${b.files} file${b.files === 1 ? '' : 's'}: ${b.why})`);
    throw new UsageError(
      `runbook init cannot change files in ${list.join('; ')}. Nothing was changed; make ${blocked.size === 1 ? 'that folder' : 'those folders'} writable and run it again.`,
    );
  }
}

function apply(root: string, changes: Change[]): void {
  assertWritable(root, changes);
  for (const c of changes) {
    const abs = join(root, c.file);
    if (c.action === 'delete') rmSync(abs, { force: true });
    else {
      mkdirSync(dirname(abs), { recursive: true });
      replaceFileDurably(abs, c.text!);
    }
  }
  removeEmptyFolders(
    root,
    changes.filter((c) => c.action === 'delete').map((c) => c.file),
  );
}

/** The plan as the operator reads it: what changed (or would), then what to review. */
export function formatPlan(plan: InitPlan): string {
  const lines: string[] = [];
  const writes = plan.changes.filter((c) => c.action !== 'delete');
  const deletes = plan.changes.filter((c) => c.action === 'delete');
  if (plan.changes.length === 0) {
    lines.push('runbook init: nothing to change; the site settings, inventory and content already are as asked.');
  } else {
    const verb = plan.dryRun ? 'would change' : 'changed';
    lines.push(
      `runbook init ${verb} ${plan.changes.length} file${plan.changes.length === 1 ? '' : 's'}${plan.dryRun ? ' (dry run: nothing written)' : ''}:`,
    );
    for (const c of writes) lines.push(`  ${c.action === 'create' ? 'created' : 'updated'}  ${c.file} (${c.detail})`);
    if (deletes.length > 0) {
      const content = {
        pages: deletes.filter((d) => d.detail === 'example content').map((d) => d.file),
        records: deletes.filter((d) => d.detail === 'example run record').map((d) => d.file),
      };
      lines.push(`  removed  ${deletes.length} example files: ${describeContent(content).join(', ')}`);
      if (plan.dryRun) lines.push(...deletes.map((d) => `           ${d.file}`));
    }
  }
  if (plan.notes.length > 0) lines.push('Review:', ...plan.notes.map((n) => `  - ${n}`));
  if (plan.changes.length > 0 && !plan.dryRun)
    lines.push('Next: `runbook check --strict`, then `runbook run <id> --dry-run --context <your context>`.');
  return `${lines.join('\n')}\n`;
}
