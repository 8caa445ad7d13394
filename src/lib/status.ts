import type { RunStatus, StepStatus } from '../../runner/record/schema.ts';

/** How a run or step status reads on the page: one glyph, one word, one colour. */
export const STATUS_LOOK: Record<
  RunStatus | StepStatus,
  { icon: string; label: string; tone: 'ok' | 'bad' | 'warn' | 'info' | 'muted' }
> = {
  succeeded: { icon: '✓', label: 'succeeded', tone: 'ok' },
  failed: { icon: '✕', label: 'failed', tone: 'bad' },
  'timed-out': { icon: '✕', label: 'timed out', tone: 'bad' },
  interrupted: { icon: '‖', label: 'interrupted', tone: 'warn' },
  running: { icon: '●', label: 'running', tone: 'info' },
  pending: { icon: '○', label: 'not reached', tone: 'muted' },
  skipped: { icon: '–', label: 'skipped', tone: 'muted' },
};

export const ADR_TONE: Record<string, 'ok' | 'bad' | 'warn' | 'info' | 'muted'> = {
  accepted: 'ok',
  proposed: 'info',
  superseded: 'warn',
  deprecated: 'muted',
  rejected: 'bad',
};

export const RISK_TONE: Record<string, 'ok' | 'warn' | 'bad'> = { low: 'ok', medium: 'warn', high: 'bad' };

export const WEEKEND_TONE: Record<string, 'ok' | 'info' | 'muted'> = {
  done: 'ok',
  'in-progress': 'info',
  planned: 'muted',
};
export const INCIDENT_TONE: Record<string, 'ok' | 'info' | 'bad' | 'warn'> = {
  SEV1: 'bad',
  SEV2: 'bad',
  SEV3: 'warn',
  SEV4: 'info',
};

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
