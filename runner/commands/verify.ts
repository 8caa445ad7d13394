import type { Command } from 'commander';
import { addCommon, contextOption, inventoryOption, jsonOption, recordsOption } from './options.ts';
import type { VerifyOptions } from '../run/verify.ts';

export function registerVerify(program: Command) {
  addCommon(
    program
      .command('verify')
      .argument('[pages...]', 'page ids or .mdx files (default: every page with a check step)')
      .description(
        'run every check step of the pages (ADR validations, weekend success criteria, runbook checks) in one read-only sweep',
      ),
    jsonOption(),
    inventoryOption(),
    recordsOption(),
    contextOption('the kube context to use instead of the kubeconfig current-context; checks use it too'),
  )
    .option('--verbose', "show each page's run as `runbook run` does (step headers, output, summary)")
    .addHelpText(
      'after',
      `
Before the first page, the kube context must be the inventory's and the cluster must answer with the
inventory's identity (kube-system UID), or nothing runs (exit 2). Then each page runs as its own run:
only its check steps execute, behind the read-only shims (kubectl, helm, k3s, crictl and ctr refuse
writes), every other step is recorded as skipped, and the record lands where \`runbook run\` puts it,
so the site shows the sweep as the page's latest run. A failed check does not stop the page's other
checks. One line per page as it finishes, one more per failed check, then a summary table.
A page that cannot run here (a required param without a value, a check that needs confirmation, page
errors) is listed as not run. Exit: 0 every check passed, 1 a check failed, 2 refused (wrong cluster,
a named page that has no check step or could not run), 130 Ctrl-C.`,
    )
    .action(async (pages: string[], opts: VerifyOptions) => {
      // Loaded on use: the run machinery stays out of the other verbs' start-up.
      const { verifyPages } = await import('../run/verify.ts');
      process.exitCode = await verifyPages(pages, opts);
    });
}
