// The lab twin's pod simulator: one program, called by command name from the pod's PATH
// (<state>/twin/pods/bin/<name> runs `node main.ts <name> <args…>`), inside kwok's
// namespace (only lo). Which pod it is comes from the env kwok's ClusterExec gives
// (TWIN_POD_NAMESPACE, TWIN_POD_WORKLOAD), its config from TWIN_PODS_CONFIG.
//   main.ts <command> [args…]    run a command of the pod table
//   main.ts --table              print the table as Markdown
import { readFileSync } from 'node:fs';
import { POD_COMMAND_TABLE, podHandlerFor, podTableMarkdown, type PodContext, type PodsConfig } from './commands.ts';
import { PodSimError } from './errors.ts';

export function podLabel(ctx: Pick<PodContext, 'pod' | 'env'>): string {
  const p = ctx.pod;
  return p ? `${p.namespace}/${p.pod}` : `${ctx.env.HOSTNAME ?? '(unknown pod)'}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help') {
    process.stdout.write(
      `the lab twin's pod simulator; commands: ${POD_COMMAND_TABLE.map((c) => c.name).join(', ')}\n`,
    );
    return name ? 0 : 2;
  }
  if (name === '--table') {
    process.stdout.write(`${podTableMarkdown()}\n`);
    return 0;
  }
  const file = process.env.TWIN_PODS_CONFIG;
  if (!file)
    throw new PodSimError(
      `${name}: the lab twin's pod simulator runs only inside a twin pod (TWIN_PODS_CONFIG is not set)`,
      2,
    );
  const config = JSON.parse(readFileSync(file, 'utf8')) as PodsConfig;
  const pod = config.pods.find(
    (p) => p.namespace === process.env.TWIN_POD_NAMESPACE && p.workload === process.env.TWIN_POD_WORKLOAD,
  );
  const ctx: PodContext = {
    pod,
    config,
    env: process.env,
    out: (s) => {
      process.stdout.write(s);
    },
    err: (s) => {
      process.stderr.write(s);
    },
  };
  const entry = POD_COMMAND_TABLE.find((c) => c.name === name);
  const handler = await podHandlerFor(name);
  if (!entry || !handler || (entry.pods === 'postgresql' && pod?.simulate !== 'postgresql')) {
    const has = POD_COMMAND_TABLE.filter((c) => c.pods === 'all' || pod?.simulate === c.pods).map((c) => c.name);
    ctx.err(
      `${name}: ${name} is not simulated in pod ${podLabel(ctx)} on the lab twin (its commands: ${has.join(', ')})\n`,
    );
    return 127;
  }
  return handler(ctx, args);
}

// `… | head` closes the pipe early: that ends the output, not the program with a stack trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof PodSimError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.code;
    } else {
      process.stderr.write(`lab twin pod simulator: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
