import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { parse } from 'yaml';

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

  describe('publishes the site to GitHub Pages from main only', () => {
    const workflow = parse(content) as { jobs: Record<string, Record<string, any>> };
    const deploy = workflow.jobs['deploy-pages'] ?? {};
    const onMainPush = "github.event_name == 'push' && github.ref == 'refs/heads/main'";
    const buildSteps = workflow.jobs['check-and-build']?.steps as Array<Record<string, any>>;
    const step = (uses: string) => buildSteps.find((s) => String(s.uses).startsWith(uses));

    it('a deploy job that waits for the build and runs only on pushes to main', () => {
      expect(deploy.steps).toBeDefined();
      expect(deploy.needs).toBe('check-and-build');
      expect(deploy.if).toBe(onMainPush);
    });

    it('has the permissions and environment Pages needs, one deployment at a time', () => {
      expect(deploy.permissions).toEqual({ pages: 'write', 'id-token': 'write' });
      expect(deploy.environment.name).toBe('github-pages');
      expect(deploy.concurrency.group).toBe('pages');
      expect(deploy.steps.some((s: Record<string, any>) => String(s.uses).startsWith('actions/deploy-pages@'))).toBe(
        true,
      );
    });

    it('the build asks configure-pages for the base path and uploads dist/ on main only', () => {
      expect(step('actions/configure-pages@')?.if).toBe(onMainPush);
      expect(step('actions/upload-pages-artifact@')?.if).toBe(onMainPush);
      expect(step('actions/upload-pages-artifact@')?.with.path).toBe('dist/');
      const build = buildSteps.find((s) => s.run === 'npm run build');
      expect(build?.env).toEqual({
        SITE_URL: '${{ steps.pages.outputs.origin }}',
        SITE_BASE: '${{ steps.pages.outputs.base_path }}',
      });
    });
  });

  it('the validator rejects a broken workflow (so the test above can fail)', () => {
    const broken = content.replace('runs-on: ubuntu-latest', 'runs-on: ubuntu-latest\n    stepz: []');
    expect(validate(broken).length).toBeGreaterThan(0);
    expect(validate('on: push\njobs:\n  x:\n    steps: 3\n').length).toBeGreaterThan(0);
  });
});
