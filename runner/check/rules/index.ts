import type { PageRule, StepRule } from '../types.ts';
import { destructiveRule } from './destructive.ts';
import { sleepRule } from './sleep.ts';
import { manifestRule } from './manifests.ts';
import { targetRule, pageTargetsRule } from './targets.ts';
import { paramsRule } from './params.ts';
import { requiresRule } from './requires.ts';

/** Synchronous lint rules; bash syntax runs separately because it talks to a bash process. */
export const STEP_RULES: StepRule[] = [destructiveRule, sleepRule, manifestRule, targetRule];
export const PAGE_RULES: PageRule[] = [pageTargetsRule, paramsRule, requiresRule];
