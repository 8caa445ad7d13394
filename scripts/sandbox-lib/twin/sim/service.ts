// systemctl, journalctl, systemd-run, reboot and k3s-killall.sh for the K3s units.
// A unit's life follows systemd: the unit file on disk is what `daemon-reload` loads;
// `start` runs the installed /usr/local/bin/k3s (its version is what the Node reports);
// `stop` makes the Node NotReady. Faults: k3s-stopped (the service died), never-returns
// (starts but the node never comes back), slow-ready (a long way back to Ready).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { markRunning, markStopped, readyStatus, waitReady } from './kube.ts';
import { type Node, type ServiceName, SimError, present, refuse, tokenPassword } from './node.ts';
import { parse } from 'yaml';

const k3sUnits: ServiceName[] = ['k3s', 'k3s-agent'];

function unitName(arg: string | undefined, command: string): ServiceName {
  const name = (arg ?? '').replace(/\.service$/, '').replace(/^.*\//, '');
  if (!arg) throw new SimError(`${command}: no unit given`, 1);
  if (!k3sUnits.includes(name as ServiceName)) {
    refuse(command, `unit ${arg}: the twin simulates only k3s.service and k3s-agent.service`);
  }
  return name as ServiceName;
}

export function unitFile(node: Node, unit: ServiceName): string {
  return node.root(`/etc/systemd/system/${unit}.service`);
}

function loadedUnit(node: Node, unit: ServiceName): string | undefined {
  const loaded = node.state.loadedUnits?.[unit];
  if (loaded !== undefined) return loaded;
  return existsSync(unitFile(node, unit)) ? readFileSync(unitFile(node, unit), 'utf8') : undefined;
}

function changedOnDisk(node: Node, unit: ServiceName): boolean {
  const loaded = node.state.loadedUnits?.[unit];
  const disk = existsSync(unitFile(node, unit)) ? readFileSync(unitFile(node, unit), 'utf8') : undefined;
  return loaded !== undefined && disk !== loaded;
}

function daemonReload(node: Node): void {
  const loaded: Record<string, string> = {};
  for (const u of k3sUnits) if (existsSync(unitFile(node, u))) loaded[u] = readFileSync(unitFile(node, u), 'utf8');
  node.state.loadedUnits = loaded;
}

/** ExecStart's argv, from a unit file: backslash continuations joined, single quotes removed (as systemd parses it). */
export function execStartArgv(unitText: string): string[] {
  const joined = unitText.replace(/\\\n/g, ' ');
  const line = joined.split('\n').find((l) => /^ExecStart=/.test(l.trim()));
  if (!line) return [];
  const words: string[] = [];
  const re = /'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  const body = line.trim().slice('ExecStart='.length);
  for (let m = re.exec(body); m; m = re.exec(body)) words.push(m[1] ?? m[2] ?? m[3] ?? '');
  return words;
}

/** The configured token: config.yaml `token:` first, then K3S_TOKEN in the unit's env file (K3s's own precedence: flags/config over env). */
function configuredToken(node: Node, unit: ServiceName): string | undefined {
  try {
    const cfg = parse(readFileSync(node.root('/etc/rancher/k3s/config.yaml'), 'utf8')) as Record<
      string,
      unknown
    > | null;
    if (cfg && typeof cfg.token === 'string') return cfg.token;
  } catch {
    /* no config: fall through */
  }
  try {
    const env = readFileSync(node.root(`/etc/systemd/system/${unit}.service.env`), 'utf8');
    const m = /^K3S_TOKEN=['"]?([^'"\n]*)['"]?$/m.exec(env);
    if (m) return m[1];
  } catch {
    /* no env file */
  }
  return undefined;
}

export interface StartResult {
  ok: boolean;
  message?: string;
}

/** Starts a K3s unit the way systemd runs ExecStart, and drives the Node accordingly. */
export async function startUnit(node: Node, unit: ServiceName): Promise<StartResult> {
  const text = loadedUnit(node, unit);
  if (text === undefined)
    return { ok: false, message: `Failed to start ${unit}.service: Unit ${unit}.service not found.` };
  const jobFailed = `Job for ${unit}.service failed because the control process exited with error code.\nSee "systemctl status ${unit}.service" and "journalctl -xeu ${unit}.service" for details.`;
  const version = node.installedVersion();
  node.log(unit, 'Starting Lightweight Kubernetes...');
  if (!version) {
    node.setService(unit, { state: 'failed', result: 'exit-code', runningVersion: undefined });
    node.log(unit, `${unit}.service: Failed to locate executable /usr/local/bin/k3s: No such file or directory`);
    node.save();
    markStopped(node);
    return { ok: false, message: jobFailed };
  }
  const argv = execStartArgv(text);
  const mode = argv[1];
  const wantMode = unit === 'k3s' ? 'server' : 'agent';
  if (mode !== wantMode) {
    node.setService(unit, { state: 'activating', result: 'exit-code' });
    node.log(
      unit,
      `level=fatal msg="${unit}.service runs '${argv.join(' ')}' on a node the twin knows as ${node.state.role} (lab twin simulation)"`,
    );
    node.save();
    markStopped(node);
    return { ok: false, message: jobFailed };
  }
  const token = configuredToken(node, unit);
  const cluster = node.cluster();
  if (token !== undefined && tokenPassword(token) !== cluster.token) {
    node.setService(unit, { state: 'activating', result: 'exit-code' });
    node.log(
      unit,
      unit === 'k3s'
        ? 'level=fatal msg="starting kubernetes: preparing server: bootstrap data already found and encrypted with different token (lab twin simulation)"'
        : 'level=fatal msg="Error: failed to get CA certs: https://127.0.0.1:6443/cacerts: 401 Unauthorized (lab twin simulation: the configured token is not the server\'s)"',
    );
    node.save();
    markStopped(node);
    return { ok: false, message: jobFailed };
  }
  node.setService(unit, { state: 'active', result: 'success', runningVersion: version });
  node.log(unit, `Starting k3s ${version} (lab twin simulation)`);
  node.log(unit, 'Started Lightweight Kubernetes.');
  node.save();
  if (node.fault('never-returns')) {
    node.log(unit, 'level=error msg="Unable to register node with API server (lab twin fault never-returns)"');
    markStopped(node);
    return { ok: true };
  }
  const slow = node.fault('slow-ready');
  if (slow) {
    // A slow return starts from NotReady: let the stopped stage land first, so the wait is seen.
    if (readyStatus(node) === 'True') {
      markStopped(node);
      await waitReady(node, 'Unknown', 5000);
    }
    const secs = Number(slow.seconds ?? slow.delaySeconds ?? 60);
    node.log(
      unit,
      `level=info msg="kubelet waiting for the node to become Ready (lab twin fault slow-ready: ${secs}s)"`,
    );
    markRunning(node, version, secs * 1000);
    return { ok: true };
  }
  markRunning(node, version, node.state.readyDelayMs);
  return { ok: true };
}

export function stopUnit(node: Node, unit: ServiceName): void {
  const rec = node.service(unit);
  if (rec && rec.state !== 'inactive') node.log(unit, 'Stopping Lightweight Kubernetes...');
  node.setService(unit, { state: 'inactive', result: 'success', runningVersion: undefined });
  node.log(unit, `${unit}.service: Deactivated successfully.`);
  node.log(unit, 'Stopped Lightweight Kubernetes.');
  node.save();
  markStopped(node);
}

function activeLabel(state: string): string {
  return (
    (
      {
        active: 'active (running)',
        inactive: 'inactive (dead)',
        failed: 'failed (Result: signal)',
        activating: 'activating (auto-restart) (Result: exit-code)',
      } as Record<string, string>
    )[state] ?? state
  );
}

export async function systemctl(node: Node, args: string[], out: (s: string) => void): Promise<number> {
  const flags = args.filter((a) => a.startsWith('-'));
  const rest = args.filter((a) => !a.startsWith('-'));
  const verb = rest[0];
  const warnReload = (u: ServiceName) => {
    if (changedOnDisk(node, u))
      process.stderr.write(
        `Warning: The unit file, source configuration file or drop-ins of ${u}.service changed on disk. Run 'systemctl daemon-reload' to reload units.\n`,
      );
  };
  switch (verb) {
    case 'daemon-reload':
      daemonReload(node);
      node.save();
      return 0;
    case 'start':
    case 'restart':
    case 'try-restart':
    case 'reload-or-restart': {
      for (const arg of rest.slice(1)) {
        const u = unitName(arg, `systemctl ${verb}`);
        warnReload(u);
        const rec = node.service(u);
        if (verb === 'start' && rec?.state === 'active') continue; // systemd: starting a running unit does nothing
        if (verb === 'try-restart' && rec?.state !== 'active') continue;
        if (rec?.state === 'active') node.log(u, 'Stopping Lightweight Kubernetes...');
        const r = await startUnit(node, u);
        if (!r.ok) {
          process.stderr.write(`${r.message}\n`);
          return 1;
        }
      }
      return 0;
    }
    case 'stop':
      for (const arg of rest.slice(1)) stopUnit(node, unitName(arg, 'systemctl stop'));
      return 0;
    case 'enable':
    case 'disable': {
      for (const arg of rest.slice(1)) {
        const u = unitName(arg, `systemctl ${verb}`);
        if (!existsSync(unitFile(node, u))) {
          process.stderr.write(`Failed to ${verb} unit: Unit file ${u}.service does not exist.\n`);
          return 1;
        }
        const wants = node.root('/etc/systemd/system/multi-user.target.wants');
        const link = join(wants, `${u}.service`);
        if (verb === 'enable' && !present(link)) {
          mkdirSync(wants, { recursive: true });
          symlinkSync(`/etc/systemd/system/${u}.service`, link);
          process.stderr.write(
            `Created symlink /etc/systemd/system/multi-user.target.wants/${u}.service → /etc/systemd/system/${u}.service.\n`,
          );
        } else if (verb === 'disable' && present(link)) {
          rmSync(link);
          process.stderr.write(`Removed "/etc/systemd/system/multi-user.target.wants/${u}.service".\n`);
        }
        node.state.services[u] = {
          ...(node.state.services[u] ?? { state: 'inactive', changedAt: new Date().toISOString() }),
          enabled: verb === 'enable',
        };
        if (flags.includes('--now')) {
          if (verb === 'enable') {
            const r = await startUnit(node, u);
            if (!r.ok) {
              process.stderr.write(`${r.message}\n`);
              return 1;
            }
          } else stopUnit(node, u);
        }
      }
      node.save();
      return 0;
    }
    case 'is-active': {
      let code = 0;
      for (const arg of rest.slice(1)) {
        const u = arg.replace(/\.service$/, '');
        const st = k3sUnits.includes(u as ServiceName)
          ? (node.service(u as ServiceName)?.state ?? 'inactive')
          : 'inactive';
        if (!flags.includes('--quiet') && !flags.includes('-q')) out(`${st}\n`);
        if (st !== 'active') code = 3;
      }
      return code;
    }
    case 'is-enabled': {
      const u = unitName(rest[1], 'systemctl is-enabled');
      const en =
        existsSync(unitFile(node, u)) && present(node.root(`/etc/systemd/system/multi-user.target.wants/${u}.service`));
      out(`${existsSync(unitFile(node, u)) ? (en ? 'enabled' : 'disabled') : 'not-found'}\n`);
      return en ? 0 : 1;
    }
    case 'status': {
      const u = unitName(rest[1], 'systemctl status');
      if (!existsSync(unitFile(node, u))) {
        process.stderr.write(`Unit ${u}.service could not be found.\n`);
        return 4;
      }
      const rec = node.service(u);
      const st = rec?.state ?? 'inactive';
      const en = present(node.root(`/etc/systemd/system/multi-user.target.wants/${u}.service`))
        ? 'enabled'
        : 'disabled';
      out(`● ${u}.service - Lightweight Kubernetes (lab twin simulation)\n`);
      out(`     Loaded: loaded (/etc/systemd/system/${u}.service; ${en}; vendor preset: enabled)\n`);
      out(`     Active: ${activeLabel(st)} since ${new Date(rec?.changedAt ?? 0).toUTCString()}\n`);
      out('       Docs: https://k3s.io\n');
      if (st === 'active')
        out(
          `   Main PID: ${4000 + ((node.name.length * 17) % 900)} (k3s-${u === 'k3s' ? 'server' : 'agent'}) ${rec?.runningVersion ?? ''}\n`,
        );
      out('\n');
      const { journalLines } = await import('./journal.ts');
      for (const l of journalLines(node, [u], undefined).slice(-10)) out(`${l}\n`);
      return st === 'active' ? 0 : 3;
    }
    case 'show': {
      const u = unitName(rest[1], 'systemctl show');
      const props = args
        .flatMap((a, i) =>
          a === '-p' || a === '--property'
            ? [args[i + 1]]
            : a.startsWith('--property=')
              ? [a.slice(11)]
              : a.startsWith('-p') && a.length > 2
                ? [a.slice(2)]
                : [],
        )
        .flatMap((p) => (p ?? '').split(','));
      const text = loadedUnit(node, u);
      const rec = node.service(u);
      const argv = text ? execStartArgv(text) : [];
      const values: Record<string, string> = {
        Id: `${u}.service`,
        LoadState: text === undefined ? 'not-found' : 'loaded',
        ActiveState: rec?.state ?? 'inactive',
        SubState:
          (
            { active: 'running', inactive: 'dead', failed: 'failed', activating: 'auto-restart' } as Record<
              string,
              string
            >
          )[rec?.state ?? 'inactive'] ?? '',
        UnitFileState: present(node.root(`/etc/systemd/system/multi-user.target.wants/${u}.service`))
          ? 'enabled'
          : 'disabled',
        ExecStart: argv.length
          ? `{ path=${argv[0]} ; argv[]=${argv.join(' ')} ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }`
          : '',
        EnvironmentFiles: `/etc/systemd/system/${u}.service.env (ignore_errors=yes)`,
        FragmentPath: `/etc/systemd/system/${u}.service`,
      };
      const want = props.length ? props : Object.keys(values);
      for (const p of want) out(flags.includes('--value') ? `${values[p] ?? ''}\n` : `${p}=${values[p] ?? ''}\n`);
      return 0;
    }
    case 'reboot':
    case 'poweroff':
    case 'halt':
      if (verb !== 'reboot') refuse(`systemctl ${verb}`, 'a twin node can reboot but not power off');
      scheduleReboot(node, 0, 'systemctl-reboot');
      out('');
      return 0;
    case 'list-units':
    case 'list-unit-files':
    case 'reset-failed':
      return 0;
    default:
      refuse(
        `systemctl ${verb ?? ''}`.trim(),
        'the twin simulates start, stop, restart, status, is-active, is-enabled, enable, disable, show and daemon-reload of the K3s units, and reboot',
      );
  }
}

/** A reboot after `delayMs`, run by a detached simulator process (its pid in <nodeDir>/run/, for `down`). */
export function scheduleReboot(node: Node, delayMs: number, unit: string): void {
  const runDir = join(node.dir, 'run');
  mkdirSync(runDir, { recursive: true });
  const main = new URL('./main.ts', import.meta.url).pathname;
  const child = spawn(process.execPath, ['--no-warnings', main, '__reboot', node.dir, String(delayMs), unit], {
    // systemd runs the timer, not the caller: nothing of the caller's environment (the runner's step and run
    // marks included, which would have the runner end it with the step) reaches it.
    detached: true,
    stdio: 'ignore',
    env: { ...systemdEnvironment(), TWIN_NODE_DIR: node.dir },
  });
  if (child.pid) writeFileSync(join(runDir, `${unit}.pid`), `${child.pid}\n`);
  child.unref();
}

/** The reboot itself: k3s goes down, the machine boots (a new boot id), enabled K3s units start. */
export async function rebootNow(node: Node, delayMs: number, unit: string): Promise<void> {
  await new Promise((r) => setTimeout(r, delayMs));
  for (const u of k3sUnits) {
    if (node.state.services[u]?.state === 'active' || node.state.services[u]?.state === 'activating') {
      node.setService(u, { state: 'inactive', runningVersion: undefined });
      node.log(u, 'Stopped Lightweight Kubernetes. (reboot)');
    }
  }
  node.save();
  markStopped(node);
  await new Promise((r) => setTimeout(r, node.state.bootMs));
  // /run is a tmpfs: a boot starts without the reboot request unattended-upgrade left there (sim/apt.ts).
  for (const f of ['/run/reboot-required', '/run/reboot-required.pkgs']) rmSync(node.root(f), { force: true });
  node.state.bootId = crypto.randomUUID();
  node.state.bootedAt = new Date().toISOString();
  node.state.loadedUnits = undefined; // a fresh systemd reads the unit files from disk
  node.save();
  for (const u of k3sUnits) {
    if (present(node.root(`/etc/systemd/system/multi-user.target.wants/${u}.service`))) await startUnit(node, u);
  }
  rmSync(join(node.dir, 'run', `${unit}.pid`), { force: true });
}

export function systemdRun(node: Node, args: string[], out: (s: string) => void): number {
  let delay = 0;
  let unit = `run-u${process.pid}`;
  let i = 0;
  for (; i < args.length && (args[i] ?? '').startsWith('-'); i++) {
    const a = args[i] ?? '';
    const m = /^--on-active=(.+)$/.exec(a);
    if (m) delay = parseSeconds(m[1] ?? '0') * 1000;
    const u = /^--unit=(.+)$/.exec(a);
    if (u) unit = u[1] ?? unit;
  }
  const cmd = args.slice(i);
  const isReboot = (cmd[0]?.endsWith('systemctl') && cmd[1] === 'reboot') || cmd[0]?.endsWith('reboot');
  if (!isReboot)
    refuse(
      'systemd-run',
      `only a delayed reboot (systemd-run --on-active=… systemctl reboot) is simulated, not '${cmd.join(' ')}'`,
    );
  scheduleReboot(node, delay, unit);
  out(`Running timer as unit: ${unit}.timer\nWill run service as unit: ${unit}.service\n`);
  return 0;
}

function parseSeconds(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?$/.exec(v.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  return (
    ({ ms: n / 1000, s: n, sec: n, m: n * 60, min: n * 60, h: n * 3600 } as Record<string, number>)[m[2] ?? 's'] ?? n
  );
}

/** k3s-killall.sh: stops every k3s unit (the real script also kills containers and removes CNI links, which the twin has none of). */
export function killall(node: Node, out: (s: string) => void): number {
  for (const f of readdirSync(node.root('/etc/systemd/system'))) {
    const m = /^(k3s(?:-agent)?)\.service$/.exec(f);
    if (m) {
      out(`+ systemctl stop ${f}\n`);
      stopUnit(node, m[1] as ServiceName);
    }
  }
  out('+ (lab twin simulation: no containers, mounts or CNI interfaces to remove)\n');
  return 0;
}

/** What a unit systemd starts sees: the simulator's own settings and a plain PATH, not the caller's session. */
function systemdEnvironment(): NodeJS.ProcessEnv {
  const keep = Object.entries(process.env).filter(([k]) => k.startsWith('TWIN_'));
  return {
    ...Object.fromEntries(keep),
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    LANG: 'C.UTF-8',
  };
}
