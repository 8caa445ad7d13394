import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';

/**
 * The operator's GitHub workflow cannot run here, so it is validated against
 * GitHub's own workflow schema (the parser GitHub's language services use).
 */
function validate(content: string) {
  const result = parseWorkflow({ name: '.github/workflows/runbooks.yml', content }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => e.message);
}

describe('.github/workflows/runbooks.yml', () => {
  const content = readFileSync('.github/workflows/runbooks.yml', 'utf8');

  it('is a valid GitHub Actions workflow', () => {
    expect(validate(content)).toEqual([]);
  });

  it('checks strictly, dry-runs and builds', () => {
    expect(content).toMatch(/npx runbook check --strict/);
    expect(content).toMatch(/--dry-run/);
    expect(content).toMatch(/npm run build/);
  });

  it('the validator rejects a broken workflow (so the test above can fail)', () => {
    const broken = content.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    stepz: []');
    expect(validate(broken).length).toBeGreaterThan(0);
    expect(validate('on: push\njobs:\n  x:\n    steps: 3\n').length).toBeGreaterThan(0);
  });
});
