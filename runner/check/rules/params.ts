import type { Diagnostic } from '../../format/model.ts';
import { validateParamValue } from '../../plan/params.ts';
import type { PageRule } from '../types.ts';

/** Defaults must satisfy their own pattern/enum; a required param with a default is never missing. */
export const paramsRule: PageRule = (procedure) => {
  const out: Diagnostic[] = [];
  for (const [name, spec] of Object.entries(procedure.runbook?.params ?? {})) {
    // The line is looked up only for a finding: it needs the position-aware YAML document.
    const warn = (severity: Diagnostic['severity'], message: string) =>
      out.push({
        file: procedure.file,
        line: procedure.runbook?.lines.params[name] ?? 1,
        column: 1,
        severity,
        rule: 'param-spec',
        message,
      });
    if (spec.default !== undefined) {
      const problem = validateParamValue(name, spec, spec.default);
      if (problem) warn('error', `the default of ${problem}`);
      if (spec.secret)
        warn(
          'error',
          `param ${name} is secret but has a default: secrets come from the environment or --set, never from the page`,
        );
      if (spec.required)
        warn('warning', `param ${name} is required and has a default, so it can never be missing: drop one`);
    }
    if (spec.enum && spec.pattern) warn('warning', `param ${name} has both enum and pattern: the enum alone says it`);
  }
  return out;
};
