// The lab twin's simulator: one program, called by command name (the per-node launcher
// <nodeDir>/bin/twin-sim passes the name it was invoked as, or its first argument).
//   twin-sim <command> [args…]      run a command of the table on the node TWIN_NODE_DIR
//   twin-sim --table                print the command table as Markdown
import { COMMAND_TABLE, handlerFor, tableMarkdown } from './commands.ts';
import { SimError, nodeFromEnv } from './node.ts';

async function main(argv: string[]): Promise<number> {
  let [name, ...args] = argv;
  if (name === 'twin-sim') [name, ...args] = args;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(
      `twin-sim: the lab twin's simulator (one program, called by command name)\nCommands: ${COMMAND_TABLE.map((c) => c.name).join(', ')}\n`,
    );
    return name ? 0 : 2;
  }
  if (name === '--table') {
    process.stdout.write(`${tableMarkdown()}\n`);
    return 0;
  }
  if (name === '__reboot') {
    const [dir, delay, unit] = args;
    process.env.TWIN_NODE_DIR = dir;
    const { rebootNow } = await import('./service.ts');
    await rebootNow(nodeFromEnv(), Number(delay), unit ?? 'reboot');
    return 0;
  }
  if (name === '__scheduled-snapshots') {
    // The twin at up: the snapshot of the server's last scheduled run (k3s.ts scheduledSnapshot).
    const { scheduledSnapshot } = await import('./k3s.ts');
    const file = scheduledSnapshot(nodeFromEnv());
    if (file) process.stdout.write(`${file}\n`);
    return 0;
  }
  const handler = await handlerFor(name);
  if (!handler) {
    process.stderr.write(
      `${name}: not a command of the lab twin's simulator (see its command table: twin-sim --table)\n`,
    );
    return 127;
  }
  const node = nodeFromEnv();
  const out = (s: string) => {
    process.stdout.write(s);
  };
  return handler(node, args, out, name);
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
    if (err instanceof SimError) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = err.code;
    } else {
      process.stderr.write(`lab twin simulator: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
