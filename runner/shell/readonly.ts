import { globToRegExp, isGlob } from './glob.ts';
import { parseOptions, type OptionSyntax, type ParsedArgs } from './options.ts';
import { syntaxOf } from './syntax.ts';
import { literal, type Word } from './words.ts';

export const READ_ONLY_TOOLS = ['kubectl', 'helm', 'k3s', 'crictl', 'ctr'] as const;
export type ReadOnlyTool = (typeof READ_ONLY_TOOLS)[number];

/** How a read verb may be used; every condition given must hold. */
export interface VerbSpec {
  /** Only these sub-verbs (not the verb alone). */
  subs?: readonly string[];
  /** The words after the verb are a line of this tool (`k3s kubectl …`, `k3s crictl …`). */
  tool?: ReadOnlyTool;
  /** Any of these options makes the line a write (`kubectl kustomize -o out.yaml`). */
  writes?: readonly string[];
  /** The line reads only with one of these options (`crictl config --get key`). */
  needs?: readonly string[];
}
/** `true`: any sub-verb; a list: only these sub-verbs; else a VerbSpec. */
export type VerbRule = true | readonly string[] | VerbSpec;

export function verbSpec(rule: VerbRule): VerbSpec {
  if (rule === true) return {};
  return Array.isArray(rule) ? { subs: rule } : (rule as VerbSpec);
}

/** ctr's groups: each reads only through these sub-verbs. */
const CTR_READS = ['ls', 'list', 'info', 'version'];
const ctrGroups = (...names: string[]) => Object.fromEntries(names.map((n) => [n, CTR_READS]));

/** The empty verb is the tool run with options only (`kubectl --help`, `k3s --version`). */
export const READ_ONLY_VERBS: Record<ReadOnlyTool, Record<string, VerbRule>> = {
  kubectl: {
    '': true,
    get: true,
    describe: true,
    logs: true,
    top: true,
    explain: true,
    'api-resources': true,
    'api-versions': true,
    version: true,
    'cluster-info': true,
    events: true,
    diff: true,
    wait: true,
    exec: true,
    'port-forward': true,
    completion: true,
    help: true,
    kustomize: { writes: ['-o', '--output'] },
    options: true,
    auth: ['can-i', 'whoami'],
    config: ['view', 'get-contexts', 'get-clusters', 'get-users', 'current-context'],
    rollout: ['status', 'history'],
    apply: ['view-last-applied'],
    plugin: ['list'],
  },
  helm: {
    '': true,
    get: true,
    list: true,
    ls: true,
    status: true,
    history: true,
    hist: true,
    show: true,
    inspect: true,
    template: { writes: ['--output-dir'] },
    lint: true,
    search: true,
    version: true,
    env: true,
    verify: true,
    completion: true,
    help: true,
    repo: ['list', 'ls', 'update', 'up'],
    dependency: ['list', 'ls'],
    dep: ['list', 'ls'],
    plugin: ['list', 'ls'],
  },
  k3s: {
    '': true,
    kubectl: { tool: 'kubectl' },
    crictl: { tool: 'crictl' },
    ctr: { tool: 'ctr' },
    'check-config': true,
    completion: { writes: ['-i', '--i', '--install'] },
    help: true,
    'etcd-snapshot': ['ls', 'list'],
    token: ['list'],
    certificate: ['check'],
    'secrets-encrypt': ['status'],
  },
  crictl: {
    '': true,
    ps: true,
    pods: true,
    images: true,
    img: true,
    inspect: true,
    inspecti: true,
    inspectp: true,
    logs: true,
    info: true,
    version: true,
    stats: true,
    statsp: true,
    imagefsinfo: true,
    help: true,
    h: true,
    completion: true,
    config: { needs: ['--get', '--list'] },
  },
  ctr: {
    '': true,
    version: true,
    info: true,
    help: true,
    h: true,
    ...ctrGroups(
      'containers',
      'container',
      'c',
      'content',
      'images',
      'image',
      'i',
      'leases',
      'namespaces',
      'namespace',
      'ns',
      'plugins',
      'plugin',
      'snapshots',
      'snapshot',
      'tasks',
      'task',
      't',
      'sandboxes',
      'sandbox',
      'sb',
    ),
  },
};

/** Options that write a file whatever the verb (kubectl's log and profile files). */
export const WRITING_OPTIONS: Record<ReadOnlyTool, readonly string[]> = {
  kubectl: ['--log-file', '--log-dir', '--profile', '--profile-output'],
  helm: [],
  k3s: [],
  crictl: [],
  ctr: [],
};

/**
 * crictl and ctr (urfave/cli, Go flag rules): the global options that take a value, so the verb
 * is found. Kept here rather than in syntax.ts while that file is being changed elsewhere.
 */
const TOOL_SYNTAX: Partial<Record<ReadOnlyTool, OptionSyntax>> = {
  crictl: {
    values: [
      '-c',
      '--config',
      '-i',
      '--image-endpoint',
      '-r',
      '--runtime-endpoint',
      '-t',
      '--timeout',
      '--tracing-endpoint',
      '--tracing-sampling-rate-per-million',
    ],
    style: 'go',
  },
  ctr: { values: ['-a', '--address', '--timeout', '--connect-timeout', '-n', '--namespace'], style: 'go' },
};

/** The tool a command name runs: the name, or one a glob command word (`k3[s]`) matches. */
export function readOnlyToolOf(name: string | undefined): ReadOnlyTool | undefined {
  if (name === undefined) return undefined;
  return READ_ONLY_TOOLS.find((t) => t === name || (isGlob(name) && globToRegExp(name).test(t)));
}

export function readOnlySyntax(tool: ReadOnlyTool): OptionSyntax {
  return TOOL_SYNTAX[tool] ?? syntaxOf(tool);
}

/**
 * The words naming what was refused (`kubectl rollout restart`, `kubectl kustomize -o`), or
 * undefined when the line only reads. With words known only at run time, a verb that cannot be
 * read is `unknown`. The shim (execute/readonly.ts) decides in the same order.
 */
export function refusedVerb(tool: ReadOnlyTool, args: readonly (string | Word)[]): string | undefined | 'unknown' {
  const words = args.map((a) => (typeof a === 'string' ? literal(a, 0) : a));
  const parsed = parseOptions(words, readOnlySyntax(tool));
  const [verbWord, subWord] = parsed.operands;
  if (verbWord && verbWord.value === undefined) return 'unknown';
  const verb = verbWord?.value ?? '';
  const rule = Object.hasOwn(READ_ONLY_VERBS[tool], verb) ? READ_ONLY_VERBS[tool][verb] : undefined;
  if (rule === undefined) return `${tool} ${verb}`;
  const global = firstOption(parsed, WRITING_OPTIONS[tool]);
  if (global) return `${tool} ${global}`;
  const spec = verbSpec(rule);
  if (spec.tool) return refusedVerb(spec.tool, words.slice(words.indexOf(verbWord!) + 1));
  const writes = firstOption(parsed, spec.writes ?? []);
  if (writes) return `${tool} ${verb} ${writes}`;
  if (spec.needs && !firstOption(parsed, spec.needs)) return `${tool} ${verb}`;
  if (!spec.subs) return undefined;
  if (subWord === undefined) return `${tool} ${verb}`;
  if (subWord.value === undefined) return 'unknown';
  return spec.subs.includes(subWord.value) ? undefined : `${tool} ${verb} ${subWord.value}`;
}

/** The first option of the line, in argv order, that is one of `names`. */
function firstOption(parsed: ParsedArgs, names: readonly string[]): string | undefined {
  return parsed.options.find((o) => names.includes(o.name))?.name;
}
