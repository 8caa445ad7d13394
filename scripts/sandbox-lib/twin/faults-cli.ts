// `scripts/sandbox fault …`: the verbs over faults.ts, registered on the
// sandbox CLI by one call from cli.ts (addFaultCommands).
import { type Command, Option } from 'commander';
import {
  clearFaults,
  describeFault,
  FAULT_TABLE,
  FaultRefused,
  injectFault,
  readFaults,
  waitWhileSandbox,
  type Fault,
  type InjectOptions,
} from './faults.ts';

type Colors = {
  red: (s: string) => string;
  green: (s: string) => string;
  dim: (s: string) => string;
  yellow: (s: string) => string;
};

/** The kinds, as `fault --help` and the docs list them. */
export function faultHelpTable(): string {
  const w = Math.max(...FAULT_TABLE.map((f) => f.kind.length + (f.target === 'node' ? 7 : 0)));
  return FAULT_TABLE.map(
    (f) =>
      `  ${`${f.kind}${f.target === 'node' ? ' <node>' : ''}`.padEnd(w)}  ${f.summary}${f.actedBy === 'simulator' ? " (acted out by the twin's simulator)" : ''}`,
  ).join('\n');
}

export function addFaultCommands(program: Command, stateDirOption: () => Option, pc: Colors): void {
  const fault = program
    .command('fault')
    .description(
      'inject a failure into the running sandbox to rehearse for it; `fault clear` takes it back, `down` clears all',
    )
    .addHelpText(
      'after',
      `
Kinds:
${faultHelpTable()}

Each is listed in kube-system/lab-twin (what makes a run a rehearsal, recorded with its faults) and in
<state>/twin/faults.json, and shown by \`scripts/sandbox status\` and \`fault list\`.

Examples:
  scripts/sandbox fault k3s-stopped k3s-worker-01
  scripts/sandbox fault api-down --seconds 20
  scripts/sandbox fault pdb-block k3s-worker-02
  scripts/sandbox fault clear pdb-block
  scripts/sandbox fault clear all`,
    );

  const finish = (err: unknown): never => {
    const code = err instanceof FaultRefused ? err.exitCode : 1;
    console.error(pc.red(`sandbox fault: ${err instanceof Error ? err.message : String(err)}`));
    process.exit(code);
  };

  for (const spec of FAULT_TABLE) {
    const cmd = fault.command(spec.kind).summary(spec.summary).description(`${spec.summary}: ${spec.effect}`);
    if (spec.target === 'node') cmd.argument('<node>', 'the inventory node');
    cmd
      .addOption(stateDirOption())
      .option('--seconds <n>', 'clear by itself after N seconds (default: until `fault clear`)')
      .option('--json', 'print the fault as JSON');
    if (spec.kind === 'slow-ready') cmd.option('--delay <seconds>', 'seconds from k3s start to Ready', '30');
    if (spec.kind === 'install-fails')
      cmd.option('--version <v>', 'only installs of this K3s version fail (default: any)');
    if (spec.kind === 'api-down')
      cmd.addOption(
        new Option('--how <how>', 'pause: SIGSTOP (requests hang); stop: the process exits (connections refused)')
          .choices(['pause', 'stop'])
          .default('pause'),
      );
    cmd.action(async (...args: unknown[]) => {
      const node = spec.target === 'node' ? (args[0] as string) : undefined;
      const opts = args[spec.target === 'node' ? 1 : 0] as {
        stateDir: string;
        seconds?: string;
        json?: boolean;
        delay?: string;
        version?: string;
        how?: 'pause' | 'stop';
      };
      try {
        const o: InjectOptions = {
          ...(node ? { node } : {}),
          ...(opts.seconds !== undefined ? { seconds: Number(opts.seconds) } : {}),
          ...(opts.delay !== undefined ? { delaySeconds: Number(opts.delay) } : {}),
          ...(opts.version ? { version: opts.version } : {}),
          ...(opts.how ? { how: opts.how } : {}),
        };
        const f = await injectFault(opts.stateDir, spec.kind, o);
        if (opts.json) console.log(JSON.stringify(f));
        else console.log(`fault ${describeFault()(f)}`);
      } catch (err) {
        finish(err);
      }
    });
  }

  fault
    .command('clear')
    .description('take faults back (undo what each did): one kind, one kind on one node, or all (the default)')
    .argument('[kind]', 'a fault kind, or all', 'all')
    .argument('[node]', "only this node's fault of that kind")
    .addOption(stateDirOption())
    // The `--seconds` timer: waits, then clears exactly the fault it was started for.
    .addOption(new Option('--after <seconds>').hideHelp())
    .addOption(new Option('--only-since <iso>').hideHelp())
    .action(
      async (
        kind: string,
        node: string | undefined,
        opts: { stateDir: string; after?: string; onlySince?: string },
      ) => {
        try {
          if (opts.after && !(await waitWhileSandbox(opts.stateDir, Number(opts.after)))) return; // `down` came first
          const cleared = await clearFaults(opts.stateDir, {
            kind,
            ...(node ? { node } : {}),
            ...(opts.onlySince ? { onlySince: opts.onlySince, fromTimer: true } : {}),
          });
          if (cleared.length === 0) console.log('no such fault was active.');
          for (const f of cleared) console.log(`cleared ${f.kind}${f.node ? ` ${f.node}` : ''}`);
        } catch (err) {
          finish(err);
        }
      },
    );

  fault
    .command('list')
    .description('the active faults (also shown by `scripts/sandbox status`)')
    .addOption(stateDirOption())
    .option('--json', 'the list as faults.json holds it')
    .action((opts: { stateDir: string; json?: boolean }) => {
      const faults: Fault[] = readFaults(opts.stateDir);
      if (opts.json) return console.log(JSON.stringify(faults, null, 2));
      if (faults.length === 0) return console.log('no faults active.');
      for (const line of faults.map(describeFault())) console.log(line);
    });
}

/** For `scripts/sandbox status`: the faults block, or nothing when none is active. */
export function faultStatusLines(stateDir: string, pc: Colors): string[] {
  const faults = readFaults(stateDir);
  if (faults.length === 0) return [];
  return ['faults:', ...faults.map(describeFault()).map((l) => `  ${pc.yellow('fault')} ${l}`)];
}
