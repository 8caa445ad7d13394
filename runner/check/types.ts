import type { Diagnostic, Procedure, Severity, Step } from '../format/model.ts';
import type { RuleId } from '../format/rule-ids.ts';
import type { Inventory } from '../inventory/schema.ts';

export interface StepContext {
  procedure: Procedure;
  inventory: Inventory;
  /** A diagnostic at a 0-based line of the step's code (the fence line is -1). */
  at: (codeLine: number, rule: RuleId, message: string, severity?: Severity) => Diagnostic;
}

export type StepRule = (step: Step, ctx: StepContext) => Diagnostic[];
export type PageRule = (procedure: Procedure, inventory: Inventory) => Diagnostic[];
