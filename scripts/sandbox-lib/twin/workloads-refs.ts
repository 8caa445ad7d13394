// What the content's steps name in the cluster, so the workloads file cannot
// drift from the pages: a small scanner over each step's kubectl lines for
// `-n <namespace>` and `<kind>/<name>` (or `get <kind> <name>`), with `$PARAM`
// read as the page's param default. Pure text work; the unit test
// test/twin-workloads/ checks every reference against workloads.yaml.
import type { Procedure } from '../../../runner/format/model.ts';
import type { LabWorkloads } from './workloads-schema.ts';

export interface StepRef {
  page: string;
  step: string;
  namespace?: string;
  /** Lowercase kind as kubectl takes it (deployment, daemonset, statefulset, certificate, clusterissuer, pvc, pod, service, namespace). */
  kind: string;
  name?: string;
  /** The kubectl line it came from. */
  line: string;
}

const KINDS: Record<string, string> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  certificate: 'certificate',
  certificates: 'certificate',
  'certificates.cert-manager.io': 'certificate',
  clusterissuer: 'clusterissuer',
  clusterissuers: 'clusterissuer',
  pvc: 'pvc',
  persistentvolumeclaim: 'pvc',
  persistentvolumeclaims: 'pvc',
  pod: 'pod',
  pods: 'pod',
  service: 'service',
  services: 'service',
  svc: 'service',
  'ipaddresspools.metallb.io': 'ipaddresspool',
  ipaddresspool: 'ipaddresspool',
  ipaddresspools: 'ipaddresspool',
  'l2advertisements.metallb.io': 'l2advertisement',
  l2advertisement: 'l2advertisement',
  l2advertisements: 'l2advertisement',
  'backupstoragelocations.velero.io': 'backupstoragelocation',
  backupstoragelocations: 'backupstoragelocation',
};

/** `$NAME`, `"$NAME"` or `${NAME}` → the param's default; literal words as they are; anything else undefined. */
function resolveWord(word: string, params: Record<string, string | undefined>): string | undefined {
  const w = word.replace(/^["']|["']$/g, '');
  const v = /^\$\{?([A-Z_][A-Z0-9_]*)\}?$/.exec(w);
  if (v) return params[v[1]!];
  return /^[a-z0-9][-a-z0-9.]*$/.test(w) ? w : undefined;
}

export function stepRefs(pages: Procedure[]): StepRef[] {
  const refs: StepRef[] = [];
  for (const p of pages) {
    const params: Record<string, string | undefined> = {};
    for (const [k, spec] of Object.entries(p.runbook?.params ?? {})) params[k] = spec.default;
    for (const s of p.steps) {
      if (s.kind !== 'shell') continue;
      for (const raw of s.code.split('\n')) {
        // Each kubectl command of the line (pipes and `;` split it), comments dropped.
        const line = raw.replace(/(^|\s)#.*$/, '');
        for (const cmd of line.split(/\||;|&&|\$\(/).filter((c) => /(^|\s)kubectl\s/.test(c))) {
          const words = cmd
            .trim()
            .split(/\s+/)
            .slice(cmd.trim().split(/\s+/).indexOf('kubectl') + 1);
          let namespace: string | undefined;
          let nsUnknown = false;
          for (let i = 0; i < words.length; i++) {
            const w = words[i]!;
            const m = /^(?:-n|--namespace)(?:=(.+))?$/.exec(w);
            if (m) {
              const value = m[1] ?? words[i + 1];
              namespace = value === undefined ? undefined : resolveWord(value, params);
              nsUnknown = namespace === undefined;
            }
          }
          if (/(^|\s)(-A|--all-namespaces)(\s|$)/.test(cmd)) continue;
          if (nsUnknown) continue;
          const base = { page: p.id, step: s.id, line: raw.trim() };
          if (namespace) refs.push({ ...base, kind: 'namespace', name: namespace });
          const verbAt = words.findIndex((w) => !w.startsWith('-') && words[words.indexOf(w) - 1] !== '-n');
          for (let i = 0; i < words.length; i++) {
            const w = words[i]!.replace(/^["']|["']$/g, '');
            const slash = /^([a-z0-9.-]+)\/(.+)$/.exec(w);
            if (slash && KINDS[slash[1]!]) {
              const name = resolveWord(slash[2]!, params);
              if (name) refs.push({ ...base, ...(namespace ? { namespace } : {}), kind: KINDS[slash[1]!]!, name });
            }
          }
          // `get <kind> <name>` (one object by name).
          const get = words.indexOf('get');
          if (
            get >= 0 &&
            get >= verbAt &&
            words[get + 1] &&
            KINDS[words[get + 1]!] &&
            words[get + 2] &&
            !words[get + 2]!.startsWith('-')
          ) {
            const name = resolveWord(words[get + 2]!, params);
            if (name) refs.push({ ...base, ...(namespace ? { namespace } : {}), kind: KINDS[words[get + 1]!]!, name });
          }
        }
      }
    }
  }
  return refs;
}

/** Whether the workloads file has what a reference names (undefined), or why not. */
export function missingFromWorkloads(doc: LabWorkloads, ref: StepRef): string | undefined {
  if (ref.kind === 'namespace')
    return doc.namespaces.some((n) => n.name === ref.name)
      ? undefined
      : `namespace ${ref.name} is not in workloads.yaml`;
  const ns = doc.namespaces.find((n) => n.name === ref.namespace);
  const where = ref.namespace ? ` in namespace ${ref.namespace}` : '';
  if (ref.namespace && !ns) return `namespace ${ref.namespace} is not in workloads.yaml`;
  const workloads = ns?.workloads ?? [];
  const has = (ok: boolean) => (ok ? undefined : `${ref.kind}/${ref.name}${where} is not in workloads.yaml`);
  switch (ref.kind) {
    case 'deployment':
      return has(workloads.some((w) => w.kind === 'Deployment' && w.name === ref.name));
    case 'daemonset':
      return has(workloads.some((w) => w.kind === 'DaemonSet' && w.name === ref.name));
    case 'statefulset':
      return has(workloads.some((w) => w.kind === 'StatefulSet' && w.name === ref.name));
    case 'pod':
      return has(
        workloads.some(
          (w) =>
            w.kind === 'StatefulSet' &&
            new RegExp(`^${w.name}-(\\d+)$`).test(ref.name ?? '') &&
            Number(/-(\d+)$/.exec(ref.name!)![1]) < (w.replicas ?? 1),
        ),
      );
    case 'pvc':
      return has(
        (ns?.claims ?? []).some((c) => c.name === ref.name) ||
          workloads.some((w) =>
            (w.volumeClaims ?? []).some((v) =>
              Array.from({ length: w.replicas ?? 1 }, (_, i) => `${v.name}-${w.name}-${i}`).includes(ref.name!),
            ),
          ),
      );
    case 'service':
      return has((ns?.services ?? []).some((s) => s.name === ref.name));
    default: {
      const kind = {
        certificate: 'Certificate',
        clusterissuer: 'ClusterIssuer',
        ipaddresspool: 'IPAddressPool',
        l2advertisement: 'L2Advertisement',
        backupstoragelocation: 'BackupStorageLocation',
      }[ref.kind];
      if (!kind) return undefined;
      return has(
        doc.customResources.some(
          (r) =>
            r.kind === kind &&
            r.name === ref.name &&
            (r.namespace ?? undefined) === (kind === 'ClusterIssuer' ? undefined : ref.namespace),
        ),
      );
    }
  }
}
