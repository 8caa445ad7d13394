import type { Step } from '../../format/model.ts';
import { shellLines } from '../shell-text.ts';
import type { StepRule } from '../types.ts';

/**
 * Commands that destroy or interrupt something; each must sit in a `confirm` step.
 * `word` is text every match contains (lowercase): lines without it skip the regex.
 */
export const DESTRUCTIVE: Array<{ what: string; word: string; re: RegExp }> = [
  { what: 'kubectl delete', word: 'kubectl', re: /\bkubectl\b[^|;&]*\sdelete\b/ },
  { what: 'kubectl drain', word: 'kubectl', re: /\bkubectl\b[^|;&]*\sdrain\b/ },
  { what: 'kubectl replace --force', word: 'kubectl', re: /\bkubectl\b[^|;&]*\sreplace\b[^|;&]*--force\b/ },
  { what: 'rm -r', word: 'rm', re: /\brm\s+(-[a-zA-Z]*[rR][a-zA-Z]*\b|--recursive\b)/ },
  { what: 'k3s server --cluster-reset', word: 'k3s', re: /\bk3s\b[^|;&]*--cluster-reset\b/ },
  { what: 'k3s etcd-snapshot delete/prune', word: 'k3s', re: /\bk3s\s+etcd-snapshot\s+(delete|prune|rm)\b/ },
  { what: 'k3s token rotate', word: 'k3s', re: /\bk3s\s+token\s+rotate\b/ },
  { what: 'k3s certificate rotate', word: 'k3s', re: /\bk3s\s+certificate\s+rotate(-ca)?\b/ },
  { what: 'k3s kill/uninstall script', word: 'k3s', re: /\bk3s-(killall|uninstall|agent-uninstall)\.sh\b/ },
  { what: 'systemctl stop/disable/mask', word: 'systemctl', re: /\bsystemctl\b[^|;&]*\s(stop|disable|mask|kill)\b/ },
  { what: 'helm uninstall', word: 'helm', re: /\bhelm\s+(uninstall|delete|del)\b/ },
  { what: 'dd', word: 'dd', re: /(^|[;&|(]\s*|\s)dd\s+[^|;&]*\bof=/ },
  { what: 'mkfs', word: 'mkfs', re: /\bmkfs(\.\w+)?\b/ },
  { what: 'wipefs', word: 'wipefs', re: /\bwipefs\b/ },
  { what: 'reboot/shutdown', word: '', re: /(^|[;&|]\s*|\bsudo\s+)(reboot|shutdown|poweroff|halt)\b/ },
  { what: 'DROP DATABASE/TABLE', word: 'drop', re: /\bDROP\s+(DATABASE|TABLE|SCHEMA)\b/i },
  { what: 'pg_restore --clean', word: 'pg_restore', re: /\bpg_restore\b[^|;&]*(--clean\b|\s-[a-zA-Z]*c[a-zA-Z]*\b)/ },
  { what: 'velero delete', word: 'velero', re: /\bvelero\s+\S+\s+delete\b/ },
  { what: 'kubectl scale to zero', word: 'kubectl', re: /\bkubectl\b[^|;&]*\sscale\b[^|;&]*--replicas[= ]0\b/ },
];

export function findDestructive(step: Step): Array<{ what: string; line: number }> {
  if (step.kind !== 'shell') return [];
  const found: Array<{ what: string; line: number }> = [];
  for (const l of shellLines(step.code)) {
    const lower = l.text.toLowerCase();
    for (const d of DESTRUCTIVE) if (lower.includes(d.word) && d.re.test(l.text)) found.push({ what: d.what, line: l.line });
  }
  return found;
}

export const destructiveRule: StepRule = (step, { at }) => {
  const found = findDestructive(step);
  if (found.length === 0) return [];
  if (step.attrs.check) {
    return found.map((f) => at(f.line, 'destructive-check', `step "${step.id}" is a read-only check but runs ${f.what}: checks must not change anything`));
  }
  if (step.attrs.confirm) return [];
  return found.map((f) =>
    at(f.line, 'destructive-unconfirmed', `step "${step.id}" runs ${f.what} without confirm: add the confirm flag so the operator sees the command and agrees before it runs`),
  );
};
