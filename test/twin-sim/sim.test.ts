// The lab twin's simulator against a fake node dir, without namespaces: each command
// behaves as on a K3s node (docs.k3s.io), keeps to the node's root, and asks the API
// (a fake kubectl here) for exactly the Node changes a real node would cause.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMAND_TABLE, handlerFor } from '../../scripts/sandbox-lib/twin/sim/commands.ts';
import { execStartArgv } from '../../scripts/sandbox-lib/twin/sim/service.ts';
import { type FakeTwin, fakeTwin } from './fake-node.ts';

const M = 'k3s-master';
const W = 'k3s-worker-01';
let twin: FakeTwin;
beforeEach(() => {
  twin = fakeTwin();
});
afterEach(() => twin.cleanup());

const read = (n: string, p: string) => readFileSync(twin.root(n, p), 'utf8');
const sim = (n: string) => JSON.parse(readFileSync(join(twin.nodeDir(n), 'sim.json'), 'utf8'));

describe('the command table', () => {
  it('names each command once, with absolute paths, a summary and a handler', async () => {
    const names = COMMAND_TABLE.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    for (const c of COMMAND_TABLE) {
      expect(c.summary.length).toBeGreaterThan(10);
      for (const p of c.paths) expect(p).toMatch(/^\/(usr\/)?s?bin\/[\w.-]+$/);
      expect(await handlerFor(c.name), c.name).toBeTypeOf('function');
    }
    for (const must of [
      'systemctl',
      'journalctl',
      'curl',
      'mount',
      'umount',
      'k3s',
      'ip',
      'ping',
      'arping',
      'apt-get',
      'ufw',
      'timedatectl',
      'df',
      'free',
      'reboot',
      'systemd-run',
    ]) {
      expect(names).toContain(must);
    }
  });

  it('prints itself as Markdown and refuses unknown names', () => {
    const sim = join(twin.nodeDir(M), 'bin', 'twin-sim');
    const r = twin.sh(M, `${sim} --table; ${sim} frobnicate`);
    expect(r.stdout).toContain('| `systemctl` | `/usr/bin/systemctl`');
    expect(r.stderr).toContain("frobnicate: not a command of the lab twin's simulator");
    expect(r.status).toBe(127);
  });
});

describe('node files as weekend 1 writes them', () => {
  it('server: config.yaml, the unit without flags, the env file with K3S_TOKEN, the token file, k3s.yaml, etcd', () => {
    const cfg = read(M, '/etc/rancher/k3s/config.yaml');
    for (const line of [
      'cluster-init: true',
      'etcd-snapshot-retention: 10',
      'secrets-encryption: true',
      '  - servicelb',
      'write-kubeconfig-mode: "0600"',
      '  - k3s-master',
    ]) {
      expect(cfg).toContain(line);
    }
    const token = JSON.parse(readFileSync(join(twin.twinDir, 'cluster.json'), 'utf8'));
    expect(cfg).toContain(`token: "${token.token}"`);
    expect(execStartArgv(read(M, '/etc/systemd/system/k3s.service'))).toEqual(['/usr/local/bin/k3s', 'server']);
    expect(read(M, '/etc/systemd/system/k3s.service.env')).toBe(`K3S_TOKEN='${token.token}'\n`);
    expect(read(M, '/var/lib/rancher/k3s/server/token')).toBe(`K10${token.caHash}::server:${token.token}\n`);
    expect(read(M, '/etc/rancher/k3s/k3s.yaml')).toContain('server: https://127.0.0.1:6443');
    expect(existsSync(twin.root(M, '/var/lib/rancher/k3s/server/db/etcd'))).toBe(true);
    expect(readdirSync(twin.root(M, '/usr/local/bin')).sort()).toEqual([
      'crictl',
      'ctr',
      'k3s',
      'k3s-killall.sh',
      'k3s-uninstall.sh',
      'kubectl',
    ]);
  });

  it('agent: the server URL and token, k3s-agent unit, no k3s.yaml', () => {
    const cfg = read(W, '/etc/rancher/k3s/config.yaml');
    expect(cfg).toMatch(/^server: https:\/\/k3s-master:6443$/m);
    expect(cfg).toMatch(/^token: "[0-9a-f]{64}"$/m);
    expect(execStartArgv(read(W, '/etc/systemd/system/k3s-agent.service'))).toEqual(['/usr/local/bin/k3s', 'agent']);
    expect(existsSync(twin.root(W, '/etc/rancher/k3s/k3s.yaml'))).toBe(false);
  });
});

describe('k3s-upgrade node steps', () => {
  it('preflight: the unit runs the bare command, mount.nfs exists, both release URLs answer', () => {
    const r = twin.sh(
      M,
      `set -e
argv="$(systemctl show k3s -p ExecStart --value | sed -n 's/.*argv\\[\\]=\\([^;]*\\);.*/\\1/p' | xargs)"
[ "$argv" = "/usr/local/bin/k3s server" ]
command -v mount.nfs >/dev/null
TARGET_VERSION=v1.35.0+k3s1
curl -sfL -o /dev/null https://get.k3s.io
curl -sfL -o /dev/null "https://github.com/k3s-io/k3s/releases/download/\${TARGET_VERSION/+/%2B}/sha256sum-amd64.txt"
echo ready`,
    );
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ready\n');
  });

  it('the install script stand-in: rewrites unit and env file, installs the binary at the version, restarts k3s, drives the Node', () => {
    twin.apiCalls();
    const r = twin.sh(
      M,
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=server sh -s - && k3s --version',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('[INFO]  Using v1.35.0+k3s1 as release');
    expect(r.stdout).toContain('[INFO]  systemd: Starting k3s');
    expect(r.stdout).toContain('k3s version v1.35.0+k3s1 (lab twin simulation)');
    // The env file is rewritten from the K3S_ variables given: none here.
    expect(read(M, '/etc/systemd/system/k3s.service.env')).toBe('');
    expect(execStartArgv(read(M, '/etc/systemd/system/k3s.service'))).toEqual(['/usr/local/bin/k3s', 'server']);
    expect(sim(M).services.k3s).toMatchObject({ state: 'active', runningVersion: 'v1.35.0+k3s1' });
    const calls = twin.apiCalls();
    expect(calls[0]).toContain(
      'patch node k3s-master --subresource=status --type=merge -p {"status":{"nodeInfo":{"kubeletVersion":"v1.35.0+k3s1"',
    );
    expect(calls[1]).toMatch(
      /^annotate node k3s-master twin\.k3s-lab\/k3s=running twin\.k3s-lab\/ready-at=\S+Z --overwrite$/,
    );
    // The same version again: hash matches, nothing changed, no restart.
    const again = twin.sh(
      M,
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=server sh -s -',
    );
    expect(again.stdout).toContain('Skipping binary downloaded, installed k3s matches hash');
    expect(again.stdout).toContain('No change detected so skipping service start');
    expect(twin.apiCalls()).toEqual([]);
  });

  it('K3S_ variables land in the env file, flags in ExecStart; K3S_URL alone makes an agent and needs a token', () => {
    const r = twin.sh(
      W,
      'curl -sfL https://get.k3s.io | K3S_URL=https://k3s-master:6443 K3S_TOKEN=abc HTTPS_PROXY=http://p INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_SKIP_START=true sh -s - --node-label=a=b',
    );
    expect(r.status, r.stderr).toBe(0);
    expect(read(W, '/etc/systemd/system/k3s-agent.service.env')).toBe(
      "K3S_TOKEN='abc'\nK3S_URL='https://k3s-master:6443'\nHTTPS_PROXY='http://p'\n",
    );
    expect(execStartArgv(read(W, '/etc/systemd/system/k3s-agent.service'))).toEqual([
      '/usr/local/bin/k3s',
      'agent',
      '--node-label=a=b',
    ]);
    const noToken = twin.sh(
      W,
      'curl -sfL https://get.k3s.io | K3S_URL=https://k3s-master:6443 INSTALL_K3S_VERSION=v1.35.0+k3s1 sh -s -',
    );
    expect(noToken.status).toBe(1);
    expect(noToken.stderr).toContain(
      "Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined.",
    );
    const wrongRole = twin.sh(
      W,
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=server sh -s -',
    );
    expect(wrongRole.status).toBe(2);
    expect(wrongRole.stderr).toContain('k3s-install: refused on the lab twin (simulation): k3s-worker-01 is an agent');
  });

  it('fault install-fails: the download fails before anything changes, on that node only', () => {
    twin.setFaults([{ kind: 'install-fails', node: W, since: new Date().toISOString() }]);
    const before = read(W, '/usr/local/bin/k3s');
    const r = twin.sh(
      W,
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=agent sh -s -',
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[ERROR]  Download failed (lab twin fault install-fails on k3s-worker-01)');
    expect(read(W, '/usr/local/bin/k3s')).toBe(before);
    expect(
      twin.sh(
        'k3s-worker-02',
        'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=agent sh -s -',
      ).status,
    ).toBe(0);
  });

  it('fault never-returns: the install succeeds, the node is marked stopped and never reports the version', () => {
    twin.setFaults([{ kind: 'never-returns', node: W }]);
    twin.apiCalls();
    const r = twin.sh(
      W,
      'curl -sfL https://get.k3s.io | INSTALL_K3S_VERSION=v1.35.0+k3s1 INSTALL_K3S_EXEC=agent sh -s -; systemctl is-active k3s-agent',
    );
    expect(r.stdout).toContain('active');
    expect(twin.apiCalls()).toEqual(['annotate node k3s-worker-01 twin.k3s-lab/k3s=stopped --overwrite']);
    expect(twin.sh(W, 'journalctl -u k3s-agent --no-pager | tail -n 1').stdout).toContain(
      'lab twin fault never-returns',
    );
  });

  it('the pre-upgrade snapshot: <name>-<node>-<unix time>, copied with its token and checksum to the NAS twin', () => {
    const snaps = twin.root(M, '/var/lib/rancher/k3s/server/db/snapshots');
    const r = twin.sh(
      M,
      `set -e
name=pre-upgrade-v1.35.0-k3s1
k3s etcd-snapshot save --name "$name"
snap="$(find ${snaps} -maxdepth 1 -type f -name "$name-*" | tail -n 1)"
file="$(basename "$snap")"
mnt="$(mktemp -d)"
mount -t nfs 192.168.2.2:/volume1/k3s-backups "$mnt"
mkdir -p "$mnt/etcd"
install -m 600 "$snap" "$mnt/etcd/$file"
install -m 600 ${twin.root(M, '/var/lib/rancher/k3s/server/token')} "$mnt/etcd/$file.token"
(cd "$mnt/etcd" && sha256sum "$file" > "$file.sha256" && sha256sum -c "$file.sha256")
umount "$mnt" && rmdir "$mnt"
echo "$file"`,
    );
    expect(r.status, r.stderr).toBe(0);
    const file = r.stdout.trim().split('\n').pop() as string;
    expect(file).toMatch(/^pre-upgrade-v1\.35\.0-k3s1-k3s-master-\d{10}$/);
    expect(r.stderr).toContain(`Snapshot ${file} saved.`);
    const nas = join(twin.twinDir, 'nas', 'volume1', 'k3s-backups', 'etcd');
    expect(readdirSync(nas).sort()).toEqual([file, `${file}.sha256`, `${file}.token`]);
    const sum = createHash('sha256')
      .update(readFileSync(join(nas, file)))
      .digest('hex');
    expect(readFileSync(join(nas, `${file}.sha256`), 'utf8')).toBe(`${sum}  ${file}\n`);
  });
});

describe('etcd snapshots, token, reset, certificates', () => {
  it('save, ls, prune (newest kept), delete; agents and a stopped server refuse', () => {
    const r = twin.sh(
      M,
      'k3s etcd-snapshot save --name a && sleep 1.1 && k3s etcd-snapshot save --name a && sleep 1.1 && k3s etcd-snapshot save --name b && k3s etcd-snapshot ls',
    );
    expect(r.status, r.stderr).toBe(0);
    const names = r.stdout
      .split('\n')
      .slice(1)
      .filter(Boolean)
      .map((l) => l.split(/\s+/)[0]);
    expect(names).toHaveLength(3);
    expect(r.stdout.split('\n')[0]).toMatch(/^Name\s+Location\s+Size\s+Created$/);
    twin.sh(M, 'k3s etcd-snapshot prune --name a --snapshot-retention 1');
    const left = readdirSync(twin.root(M, '/var/lib/rancher/k3s/server/db/snapshots')).sort();
    expect(left).toEqual([names[1], names[2]].sort());
    twin.sh(M, `k3s etcd-snapshot delete ${names[2]}`);
    expect(readdirSync(twin.root(M, '/var/lib/rancher/k3s/server/db/snapshots'))).toEqual([names[1]]);
    expect(twin.sh(W, 'k3s etcd-snapshot save').stderr).toContain('runs no K3s server (it is an agent)');
    twin.sh(M, 'systemctl stop k3s');
    expect(twin.sh(M, 'k3s etcd-snapshot save').stderr).toContain('connection refused (k3s.service is not running)');
  });

  it('token rotate: the old token no longer starts anything; the new one in the config does', () => {
    const token = () => read(M, '/var/lib/rancher/k3s/server/token').trim();
    const rot = twin.sh(M, `k3s token rotate --token "${token()}" --new-token newtoken0123456789abcdef0123456789`);
    expect(rot.stdout).toBe('Token rotated, restart k3s nodes with new token\n');
    expect(token()).toMatch(/::server:newtoken0123456789abcdef0123456789$/);
    const stale = twin.sh(M, 'systemctl restart k3s');
    expect(stale.status).toBe(1);
    expect(twin.sh(M, 'journalctl -u k3s -n 1').stdout).toContain('encrypted with different token');
    twin.sh(
      M,
      `sed -i -E 's|^token:.*|token: "newtoken0123456789abcdef0123456789"|' ${twin.root(M, '/etc/rancher/k3s/config.yaml')}; sed -i -E "s|^K3S_TOKEN=.*|K3S_TOKEN='newtoken0123456789abcdef0123456789'|" ${twin.root(M, '/etc/systemd/system/k3s.service.env')}`,
    );
    expect(twin.sh(M, 'systemctl restart k3s').status).toBe(0);
    expect(twin.sh(W, 'systemctl restart k3s-agent').status).toBe(1);
    expect(twin.sh(W, 'journalctl -u k3s-agent -n 1').stdout).toContain('401 Unauthorized');
    expect(twin.sh(M, 'k3s token rotate --token wrong --new-token x').stderr).toContain('401 Unauthorized');
  });

  it("server --cluster-reset --cluster-reset-restore-path: needs k3s stopped and the snapshot's token", () => {
    twin.sh(M, 'k3s etcd-snapshot save --name keep');
    const snap = readdirSync(twin.root(M, '/var/lib/rancher/k3s/server/db/snapshots'))[0];
    const path = `/var/lib/rancher/k3s/server/db/snapshots/${snap}`;
    expect(twin.sh(M, `k3s server --cluster-reset --cluster-reset-restore-path=${path}`).stderr).toContain(
      'address already in use (stop k3s first)',
    );
    twin.sh(M, 'systemctl stop k3s');
    expect(
      twin.sh(M, `k3s server --cluster-reset --cluster-reset-restore-path=${path} --token=other`).stderr,
    ).toContain('encrypted with different token');
    const ok = twin.sh(
      M,
      `k3s server --cluster-reset --cluster-reset-restore-path=${path} 2>&1 | grep -q 'restart without --cluster-reset flag now'`,
    );
    expect(ok.status).toBe(0);
    expect(readdirSync(twin.root(M, '/var/lib/rancher/k3s/server/db')).some((d) => d.startsWith('etcd-old-'))).toBe(
      true,
    );
    expect(twin.sh(M, 'systemctl start k3s && systemctl is-active k3s').stdout).toBe('active\n');
  });

  it('certificate check --output table, then rotate with k3s stopped', () => {
    const check = twin.sh(M, 'k3s certificate check --output table');
    expect(check.stdout.split('\n')[0]).toMatch(/^FILENAME\s+SUBJECT\s+USAGES\s+EXPIRES\s+RESIDUAL TIME\s+STATUS$/);
    expect(check.stdout).toContain('client-admin.crt');
    const rot = twin.sh(M, 'systemctl stop k3s && k3s certificate rotate && systemctl start k3s');
    expect(rot.status, rot.stderr).toBe(0);
    expect(rot.stderr).toMatch(/Backing up certificates to \/var\/lib\/rancher\/k3s\/server\/tls-\d+/);
  });
});

describe('systemctl, journalctl and the Node', () => {
  it('stop → stopped; start → version and running; is-active and status follow', () => {
    twin.apiCalls();
    expect(twin.sh(W, 'systemctl stop k3s-agent; systemctl is-active k3s-agent').stdout).toBe('inactive\n');
    expect(twin.apiCalls()).toEqual(['annotate node k3s-worker-01 twin.k3s-lab/k3s=stopped --overwrite']);
    expect(twin.sh(W, 'systemctl status k3s-agent').status).toBe(3);
    expect(twin.sh(W, 'systemctl start k3s-agent; systemctl is-active k3s-agent').stdout).toBe('active\n');
    const calls = twin.apiCalls();
    expect(calls[0]).toContain('"kubeletVersion":"v1.34.3+k3s1"');
    expect(calls[1]).toContain('twin.k3s-lab/k3s=running');
    const j = twin.sh(W, 'journalctl -u k3s-agent --since "-30min" --no-pager');
    expect(j.stdout).toMatch(/k3s-worker-01 systemd\[1\]: Stopped Lightweight Kubernetes\./);
  });

  it('fault k3s-stopped: the service died at the fault; a restart brings it back', () => {
    twin.setFaults([{ kind: 'k3s-stopped', node: W, since: new Date(Date.now() + 5).toISOString() }]);
    const r = twin.sh(
      W,
      'sleep 0.05; systemctl is-active k3s-agent; journalctl -u k3s-agent -n 1; systemctl restart k3s-agent; systemctl is-active k3s-agent',
    );
    expect(r.stdout.split('\n')[0]).toBe('failed');
    expect(r.stdout).toContain('status=9/KILL (lab twin fault k3s-stopped)');
    expect(r.stdout.trim().split('\n').pop()).toBe('active');
  });

  it('a unit edited on disk needs daemon-reload before show sees it; other units are refused', () => {
    const unit = twin.root(W, '/etc/systemd/system/k3s-agent.service');
    twin.sh(W, 'systemctl daemon-reload');
    writeFileSync(unit, readFileSync(unit, 'utf8').replace('    agent \\\n', "    agent \\\n\t'--debug' \\\n"));
    expect(twin.sh(W, 'systemctl show k3s-agent -p ExecStart --value').stdout).toContain(
      'argv[]=/usr/local/bin/k3s agent ;',
    );
    twin.sh(W, 'systemctl daemon-reload');
    expect(twin.sh(W, 'systemctl show k3s-agent -p ExecStart --value').stdout).toContain(
      'argv[]=/usr/local/bin/k3s agent --debug ;',
    );
    const other = twin.sh(W, 'systemctl restart ssh');
    expect(other.status).toBe(2);
    expect(other.stderr).toContain('systemctl restart: refused on the lab twin (simulation): unit ssh');
  });

  it('systemd-run --on-active reboots the node later: down, then the enabled unit starts again', async () => {
    twin.apiCalls();
    const r = twin.sh(W, 'systemd-run --on-active=0.2 --unit=node-maintenance-reboot /usr/bin/systemctl reboot');
    expect(r.stdout).toContain('Running timer as unit: node-maintenance-reboot.timer');
    const boot = sim(W).bootId;
    const deadline = Date.now() + 10_000;
    while (sim(W).bootId === boot && Date.now() < deadline) await new Promise((res) => setTimeout(res, 100));
    while (existsSync(join(twin.nodeDir(W), 'run', 'node-maintenance-reboot.pid')) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 100));
    expect(sim(W).bootId).not.toBe(boot);
    const calls = twin.apiCalls();
    expect(calls[0]).toContain('twin.k3s-lab/k3s=stopped');
    expect(calls.at(-1)).toContain('twin.k3s-lab/k3s=running');
  });
});

describe('curl, NAS, network and the rest', () => {
  it('curl refuses every other URL naming the twin, with exit 7, even with -s', () => {
    const r = twin.sh(M, 'curl -sfL https://grafana.home.jetzinger.com/api/health');
    expect(r.status).toBe(7);
    expect(r.stderr).toContain('is outside the twin (simulation)');
    expect(twin.sh(M, 'curl -sf https://github.com/k3s-io/k3s/releases/download/v9/k3s').status).toBe(22);
  });

  it("without the node's namespace a mount is never made: the export is copied in and written back on umount", () => {
    const r = twin.sh(
      M,
      'd=$(mktemp -d); mount -t nfs 192.168.2.2:/volume1/k3s-backups "$d"; grep -cF "$d" /proc/self/mounts; echo hi > "$d/f"; umount "$d"; rmdir "$d"; umount "$d"',
    );
    expect(r.stdout).toBe('0\n');
    expect(r.stderr).toMatch(/umount: \S+: not mounted\.\n$/);
    expect(readFileSync(join(twin.twinDir, 'nas', 'volume1', 'k3s-backups', 'f'), 'utf8')).toBe('hi\n');
  });

  it('fault nas-unreachable: mount.nfs times out, showmount fails; unknown exports are denied', () => {
    expect(twin.sh(M, 'showmount -e 192.168.2.2').stdout).toContain('/volume1/k3s-backups');
    expect(twin.sh(M, 'd=$(mktemp -d); mount -t nfs 192.168.2.2:/volume1/other "$d"').stderr).toContain(
      'access denied by server',
    );
    twin.setFaults([{ kind: 'nas-unreachable', timeoutMs: 50 }]);
    const r = twin.sh(M, 'd=$(mktemp -d); mount -t nfs -o ro 192.168.2.2:/volume1/k3s-backups "$d"');
    expect(r.status).toBe(32);
    expect(r.stderr).toContain('mount.nfs: Connection timed out (lab twin fault nas-unreachable');
  });

  it("node self-check commands answer from the twin's model; storage commands are refused by name", () => {
    const r = twin.sh(
      W,
      `ip -br address; gateway="$(ip route show default | awk '{ print $3; exit }')"; iface="$(ip route show default | awk '{ print $5; exit }')"
arping -D -q -c 3 -I "$iface" 127.0.1.2 && echo unique
ping -c 2 -W 2 "$gateway" >/dev/null && echo gateway-ok
ping -c 1 -W 2 127.0.1.1 >/dev/null && echo server-ok
timedatectl show -p NTPSynchronized --value; free -m | head -n 2 | tail -n 1; df -h / | tail -n 1; ufw status; apt-get -o DPkg::Lock::Timeout=600 update >/dev/null && echo updated`,
    );
    expect(r.stdout).toContain('eth0             UP             127.0.1.2/24');
    for (const s of ['unique', 'gateway-ok', 'server-ok', 'yes', 'Status: inactive', 'updated'])
      expect(r.stdout).toContain(s);
    expect(r.stdout).toMatch(/Mem:\s+8192/);
    expect(r.stdout).toMatch(/50G/);
    expect(twin.sh(W, 'ping -c 1 192.168.2.20').stderr).toContain('Network is unreachable');
    const lsblk = twin.sh(W, 'lsblk');
    expect(lsblk.status).toBe(2);
    expect(lsblk.stderr).toBe('lsblk: refused on the lab twin (simulation): the twin has no block devices\n');
  });

  it('a simulator call takes well under a second', () => {
    const times = [1, 2, 3].map(() => twin.sh(M, 'k3s --version >/dev/null').ms);
    expect(Math.min(...times)).toBeLessThan(1000);
    console.log(`twin-sim: k3s --version wall time ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  });
});
