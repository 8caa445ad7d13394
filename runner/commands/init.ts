import { InvalidArgumentError, Option, type Command } from 'commander';
import { addCommon, contextOption, jsonOption, valueOption } from './options.ts';

/** An option given once per value (`--node a=… --node b=…`), never with an empty one. */
const repeatable = (flags: string, description: string) =>
  new Option(flags, description).argParser((value: string, previous: string[] = []) => {
    if (value.trim() === '') throw new InvalidArgumentError('An empty value: give one, or leave the option out.');
    return [...previous, value];
  });

export function registerInit(program: Command) {
  const cmd = program
    .command('init')
    .description('make this checkout your lab: site owner and links, the inventory, the example content');
  addCommon(
    cmd,
    valueOption('--owner <name>', "the site owner's name (required without a terminal)"),
    valueOption('--role <text>', `shown beside the name (default for a new owner: "home lab operator")`),
    valueOption('--title <text>', 'the site title'),
    valueOption('--tagline <text>', "the landing page's one sentence"),
    valueOption('--url <url>', 'public URL of the built site'),
    valueOption(
      '--repository <url>',
      'the repository "Edit page" links point into (default for a new owner: git origin)',
    ),
    repeatable('--link <label=href>', "a link beside the owner's name (repeatable; replaces the list)"),
    repeatable('--node <name=address[:roles]>', 'a node of the inventory instead of reading the cluster (repeatable)'),
    valueOption('--kubeconfig <file>', 'read the nodes from this kubeconfig (default: KUBECONFIG, ~/.kube/config)'),
    contextOption('read the nodes from this kube context (default: the current-context)'),
    valueOption('--k3s-version <version>', 'the K3s version, such as v1.34.3+k3s1 (required with --node)'),
    valueOption('--cluster-name <name>', 'the cluster name runbooks use (default: the context name)'),
    valueOption('--server <url>', 'the API server URL, with --node (default: https://<first server>:6443)'),
    valueOption('--ssh-user <user>', 'the ssh user for the nodes (default: $USER)'),
    jsonOption(),
  )
    .option('--keep-inventory', 'leave src/content/lab/inventory.yaml as it is')
    .addOption(
      new Option(
        '--examples <keep|remove>',
        "keep or remove the example lab's pages and run history (required without a terminal)",
      ).choices(['keep', 'remove']),
    )
    .option('--yes', 'delete the example content without asking')
    .option('--dry-run', 'write nothing; print what would change')
    .addHelpText(
      'after',
      `
Writes src/content/lab/site.yaml (comments kept) and src/content/lab/inventory.yaml: read from the cluster
behind the kube context (nodes, roles, InternalIP, kubelet version, cpu and memory, kube-system UID), or
built from --node answers. --examples remove deletes the example's ADRs, runbooks, weekends, incidents,
notebook, architecture pages, roadmap and run records, leaving a landing page and an empty runbooks index.
On a terminal missing answers are asked; without one a missing answer exits 2 naming its flag.
A second run with the same answers changes nothing. Exit: 0 done (or nothing to do), 2 refused.`,
    )
    .action(async (opts: import('../init/run-init.ts').InitOptions & { json?: boolean }) => {
      const [{ runInit, formatPlan }, { terminalAsker, flagsOnlyAsker }] = await Promise.all([
        import('../init/run-init.ts'),
        import('../init/ask.ts'),
      ]);
      const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
      const plan = await runInit(opts, interactive ? terminalAsker() : flagsOnlyAsker());
      if (opts.json) {
        const { printJson } = await import('../ui/json.ts');
        printJson({
          dryRun: plan.dryRun,
          changed: plan.changes.length > 0,
          changes: plan.changes.map(({ file, action, detail }) => ({ file, action, detail })),
          notes: plan.notes,
        });
      } else process.stdout.write(formatPlan(plan));
    });
}
