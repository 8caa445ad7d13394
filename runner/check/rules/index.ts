import { loadShellParser } from '../../shell/parser.ts';
import type { PageRule, StepRule } from '../types.ts';
import { destructiveRule } from './destructive.ts';
import { sleepRule } from './sleep.ts';
import { manifestRule } from './manifests.ts';
import { targetRule, pageTargetsRule } from './targets.ts';
import { paramsRule } from './params.ts';
import { requiresRule } from './requires.ts';
import { checkWritesRule } from './readonly.ts';
import { interactiveRule } from './interactive.ts';
import { placeholderRule } from './placeholder.ts';
import { sshCommandRule } from './ssh-command.ts';
import { sudoBecomeRule } from './sudo-become.ts';
import { statusExitRule } from './status-exit.ts';

// The shell rules read steps through a wasm parser whose set-up is async; the rules stay
// synchronous because it is loaded here, once, when `check` loads its rules (cli.ts imports a
// verb's module lazily, so list/show/run never pay for it).
await loadShellParser();

/** Synchronous lint rules; bash syntax runs separately because it talks to a bash process. */
export const STEP_RULES: StepRule[] = [
  destructiveRule,
  checkWritesRule,
  sleepRule,
  manifestRule,
  targetRule,
  interactiveRule,
  placeholderRule,
  sshCommandRule,
  sudoBecomeRule,
  statusExitRule,
];
export const PAGE_RULES: PageRule[] = [pageTargetsRule, paramsRule, requiresRule];
