import type { StepAttributes } from './model.ts';

/**
 * The on/off step attributes, in the order they are shown: the name written in a fence, the
 * StepAttributes key the parser sets, and how the site's badge explains it. The parser, the run
 * record's `flags`, `show`'s plan and the site's badges all read this table, so a new flag is added
 * once. Documented in reference/runbook-format.
 */
export const STEP_FLAGS = [
  { name: 'confirm', key: 'confirm', badge: 'Asks before running', chip: 'rb-chip-confirm' },
  { name: 'check', key: 'check', badge: 'Read-only verification', chip: 'rb-chip-check' },
  { name: 'continue-on-error', key: 'continueOnError', badge: 'A failure does not stop the run', chip: 'rb-chip-soft' },
  { name: 'apply', key: 'apply', badge: 'Manifest applied with kubectl apply -f -', chip: undefined },
] as const satisfies readonly { name: string; key: keyof StepAttributes; badge: string; chip?: string }[];

export type StepFlag = (typeof STEP_FLAGS)[number];
export type StepFlagName = StepFlag['name'];
export type StepFlagKey = StepFlag['key'];

export const STEP_FLAG_NAMES = STEP_FLAGS.map((f) => f.name) as [StepFlagName, ...StepFlagName[]];

/** The flags a step has, in table order. */
export function stepFlagsOf(attrs: Pick<StepAttributes, StepFlagKey>): StepFlag[] {
  return STEP_FLAGS.filter((f) => attrs[f.key]);
}
