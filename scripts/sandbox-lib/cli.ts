// scripts/sandbox: a local Kubernetes control plane with simulated nodes,
// shaped like the lab in the inventory, for trying runbooks without a lab.
import { Command, Option } from 'commander';
import picocolors from 'picocolors';
import { relative } from 'node:path';
import { defaultInventory, defaultStateDir, repoRoot } from './paths.ts';
import { AlreadyRunningError, down, isRunning, readState, status, up, type SandboxState } from './sandbox.ts';
import { readTwin, twinEnv, twinStatus } from './twin/index.ts';
import { addFaultCommands, faultStatusLines } from './twin/faults-cli.ts';

// Colour only on a terminal: picocolors alone would colour piped output under CI=true.
const pc = picocolors.createColors(
  !process.env.NO_COLOR && (!!process.env.FORCE_COLOR || (!!process.stdout.isTTY && !!process.stderr.isTTY)),
);

const program = new Command('sandbox')
  .description(
    'A real kube-apiserver, controller-manager and scheduler with kwok-simulated nodes from the lab inventory,\n' +
      'and the lab twin: every node a machine you can ssh into (its own namespaces, K3s files and a simulated k3s).\n' +
      'Not a real K3s: no containers run; pods are marked Running by kwok; k3s, systemctl, curl… on a node are simulated.',
  )
  .addHelpText(
    'after',
    `
Examples:
  scripts/sandbox up                 start it with the twin (first run builds the binaries, ~15 min; the twin needs root)
  scripts/sandbox up --no-twin       the API and simulated Node objects only (no root needed)
  eval "$(scripts/sandbox env)"      point kubectl (and the runbook CLI, and its ssh) at it
  kubectl get nodes
  scripts/sandbox down               stop everything and remove its files`,
  );

const stateDirOption = () =>
  new Option('--state-dir <dir>', 'where certificates, kubeconfig, data, logs and pids live').default(
    defaultStateDir(),
  );

program
  .command('up')
  .description(
    "build (once), start the control plane and kwok, register the inventory's nodes, wait until all are Ready",
  )
  .addOption(stateDirOption())
  .option('--inventory <file>', 'lab inventory whose nodes to simulate', defaultInventory)
  .option('--timeout <seconds>', 'per component, and for the nodes to become Ready', '120')
  .option('--no-twin', 'do not start the lab twin (the nodes stay Node objects: no ssh, no node steps; no root needed)')
  .action(async (opts: { stateDir: string; inventory: string; timeout: string; twin: boolean }) => {
    const ac = new AbortController();
    const onSignal = () => {
      if (ac.signal.aborted) return;
      console.error(pc.yellow('\ninterrupted: stopping what was started…'));
      ac.abort(new Error('interrupted'));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const t0 = Date.now();
    try {
      const state = await up({
        stateDir: opts.stateDir,
        inventory: opts.inventory,
        timeoutMs: Number(opts.timeout) * 1000,
        twin: opts.twin,
        signal: ac.signal,
        log: (l) => console.error(`${pc.dim(`[${elapsed(t0)}]`)} ${l}`),
      });
      const twin = state.twin ? ', twin: every node answers ssh' : '';
      console.error(
        pc.green(`sandbox up in ${elapsed(t0)}: ${state.nodes.length} nodes Ready${twin}, context ${state.context}`),
      );
      printUsage(state, opts.stateDir);
    } catch (err) {
      if (ac.signal.aborted) {
        console.error('sandbox stopped; nothing left running.');
        process.exit(130);
      }
      if (err instanceof AlreadyRunningError) {
        console.error(pc.yellow(err.message));
        const state = readState(opts.stateDir);
        if (state) printUsage(state, opts.stateDir);
        return;
      }
      fail(err);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  });

program
  .command('down')
  .description('stop every sandbox process and remove the state dir')
  .addOption(stateDirOption())
  .action(async (opts: { stateDir: string }) => {
    try {
      const was = await down(opts.stateDir);
      console.error(
        was ? 'sandbox stopped and removed.' : 'no sandbox was running; state dir removed if there was one.',
      );
    } catch (err) {
      fail(err);
    }
  });

program
  .command('status')
  .description('show whether the sandbox runs (exit 0 running, 1 degraded, 3 not running)')
  .addOption(stateDirOption())
  .action(async (opts: { stateDir: string }) => {
    const { state, components } = await status(opts.stateDir);
    if (!state) {
      console.log(`not running (no sandbox in ${opts.stateDir})`);
      process.exit(3);
    }
    console.log(
      `sandbox in ${state.stateDir}: ${state.phase}, context ${state.context}, server ${state.server || '-'}`,
    );
    for (const c of components) {
      const port = c.listening === undefined ? '' : c.listening ? ', port open' : pc.red(', port closed');
      console.log(`  ${c.alive ? pc.green('up  ') : pc.red('down')} ${c.name.padEnd(24)} pid ${c.pid}${port}`);
    }
    const twin = await twinStatus(opts.stateDir);
    let twinOk = true;
    if (twin) {
      console.log(`twin: ssh config ${twin.twin.sshConfig}`);
      for (const n of twin.nodes) {
        const how = !n.alive ? pc.red('down  ') : n.ssh ? pc.green('ssh ok') : pc.yellow('no ssh');
        console.log(`  ${how} ${n.name.padEnd(24)} ${n.address}`);
      }
      twinOk = twin.apiForwarder && twin.nodes.every((n) => n.alive);
    }
    for (const line of faultStatusLines(state.stateDir, pc)) console.log(line); // the twin's active faults (twin/faults.ts)
    process.exit(isRunning(state) && twinOk ? 0 : 1);
  });

program
  .command('env')
  .description('print shell exports for the running sandbox: eval "$(scripts/sandbox env)"')
  .addOption(stateDirOption())
  .action((opts: { stateDir: string }) => {
    const state = readState(opts.stateDir);
    if (!state || !isRunning(state)) {
      console.error(`no running sandbox in ${opts.stateDir}; start one with: scripts/sandbox up`);
      process.exit(3);
    }
    console.log(`export KUBECONFIG=${shq(state.kubeconfig)}`);
    console.log(`export RUNBOOK_INVENTORY=${shq(state.sandboxInventory)}`);
    console.log(`export PATH=${shq(state.binDir)}:"$PATH"`);
    for (const [k, v] of Object.entries(twinEnv(opts.stateDir))) console.log(`export ${k}=${shq(v)}`);
  });

// ---- fault: scripts/sandbox fault <kind> [node] / fault clear / fault list (owned by twin/faults-cli.ts) ----
addFaultCommands(program, stateDirOption, pc);
// ---- end fault ----

function printUsage(state: SandboxState, stateDir: string): void {
  const flag = stateDir === defaultStateDir() ? '' : ` --state-dir ${shq(stateDir)}`;
  const self = relative(process.cwd(), `${repoRoot}/scripts/sandbox`) || 'scripts/sandbox';
  const twin = state.twin ? readTwin(stateDir) : undefined;
  console.log(`
Use it:
  export KUBECONFIG=${shq(state.kubeconfig)}
  ${shq(state.kubectl)} get nodes -o wide

or set KUBECONFIG, the matching kubectl on PATH and RUNBOOK_INVENTORY (the
inventory with the sandbox's addresses)${twin ? " and RUNBOOK_SSH_CONFIG (ssh to the twin's nodes)" : ''} for the runbook CLI in one go:
  eval "$(${self} env${flag})"
${twin ? `\nssh to a node of the twin:\n  ssh -F ${shq(twin.sshConfig)} ${state.nodes[0]}\n` : ''}
Stop it:
  ${self} down${flag}`);
}

function elapsed(t0: number): string {
  const s = Math.round((Date.now() - t0) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

function shq(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

function fail(err: unknown): never {
  console.error(pc.red(`sandbox: ${err instanceof Error ? err.message : String(err)}`));
  process.exit(1);
}

await program.parseAsync();
