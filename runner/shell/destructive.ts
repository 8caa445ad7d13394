/**
 * Commands that destroy or interrupt something: each must sit in a `confirm` step, and none in a
 * `check` step. The one table behind `destructive-unconfirmed` / `destructive-check`, the
 * reference page's list and the fuzz tests. Matching is by argv after option parsing, through
 * wrappers and nested scripts (see analyse.ts), so any spelling of one of these counts.
 */
import type { CommandPattern } from './patterns.ts';

const K3S_SCRIPTS = ['k3s-uninstall.sh', 'k3s-agent-uninstall.sh', 'k3s-killall.sh'];

export const DESTRUCTIVE: readonly CommandPattern[] = [
  { what: 'rm -r', commands: ['rm'], anyOption: ['-r', '-R', '--recursive'], example: 'rm -rf /var/lib/rancher/k3s' },
  { what: 'find -delete', commands: ['find'], anyWord: ['-delete'], example: 'find /var/log -name "*.gz" -delete' },
  {
    what: 'find -exec rm',
    commands: ['find'],
    execs: ['rm', 'shred', 'unlink'],
    example: 'find /backups -mtime +7 -exec rm {} +',
  },
  { what: 'shred', commands: ['shred'], example: 'shred -u /root/token' },
  { what: 'truncate', commands: ['truncate'], example: 'truncate -s 0 /var/log/syslog' },
  { what: 'dd', commands: ['dd'], operandPrefix: 'of=', example: 'dd if=/dev/zero of=/dev/sdb bs=1M count=10' },
  { what: 'mkfs', commands: ['mkfs', 'mkfs.*', 'mke2fs'], example: 'mkfs.ext4 /dev/sdb1' },
  {
    what: 'wipefs',
    commands: ['wipefs'],
    anyOption: ['-a', '--all', '-o', '--offset'],
    noneOption: ['-n', '--no-act'],
    example: 'wipefs -a /dev/sdb',
  },
  { what: 'blkdiscard', commands: ['blkdiscard'], example: 'blkdiscard /dev/nvme0n1' },
  {
    what: 'reboot/shutdown',
    commands: ['reboot', 'shutdown', 'poweroff', 'halt'],
    noneOption: ['-c', '--help'],
    example: 'shutdown -r now',
  },
  { what: 'reboot/shutdown', commands: ['init', 'telinit'], verbs: ['0|6'], example: 'init 6' },
  {
    what: 'systemctl stop/disable/mask',
    commands: ['systemctl'],
    verbs: ['stop|disable|mask|kill|reboot|poweroff|halt|kexec|soft-reboot|isolate|rescue|emergency|suspend|hibernate'],
    example: 'systemctl stop k3s-agent',
  },
  { what: 'kubectl delete', commands: ['kubectl'], verbs: ['delete'], example: 'kubectl delete pod web-0' },
  {
    what: 'kubectl drain',
    commands: ['kubectl'],
    verbs: ['drain'],
    example: 'kubectl drain k3s-worker-01 --ignore-daemonsets',
  },
  { what: 'kubectl cordon', commands: ['kubectl'], verbs: ['cordon'], example: 'kubectl cordon k3s-worker-01' },
  {
    what: 'kubectl replace --force',
    commands: ['kubectl'],
    verbs: ['replace'],
    anyOption: ['--force'],
    example: 'kubectl replace --force -f pod.yaml',
  },
  {
    what: 'kubectl scale to zero',
    commands: ['kubectl'],
    verbs: ['scale'],
    optionValue: { names: ['--replicas'], values: ['0'] },
    example: 'kubectl scale deploy/web --replicas=0',
  },
  {
    what: 'helm uninstall',
    commands: ['helm'],
    verbs: ['uninstall|delete|del|un'],
    example: 'helm uninstall traefik -n kube-system',
  },
  { what: 'helm rollback', commands: ['helm'], verbs: ['rollback'], example: 'helm rollback traefik 3' },
  {
    what: 'k3s etcd-snapshot delete/prune',
    commands: ['k3s'],
    verbs: ['etcd-snapshot delete|prune|rm'],
    example: 'k3s etcd-snapshot prune --snapshot-retention 5',
  },
  {
    what: 'k3s server --cluster-reset',
    commands: ['k3s'],
    verbs: ['server'],
    anyOption: ['--cluster-reset'],
    example: 'k3s server --cluster-reset',
  },
  {
    what: 'k3s token rotate',
    commands: ['k3s'],
    verbs: ['token rotate'],
    example: 'k3s token rotate --new-token "$NEW"',
  },
  {
    what: 'k3s certificate rotate',
    commands: ['k3s'],
    verbs: ['certificate rotate|rotate-ca'],
    example: 'k3s certificate rotate',
  },
  { what: 'k3s kill/uninstall script', commands: K3S_SCRIPTS, example: '/usr/local/bin/k3s-uninstall.sh' },
  {
    what: 'velero restore',
    commands: ['velero'],
    verbs: ['restore create', 'create restore'],
    example: 'velero restore create --from-backup nightly',
  },
  {
    what: 'velero delete',
    commands: ['velero'],
    verbs: ['* delete', 'delete *'],
    example: 'velero backup delete nightly --confirm',
  },
  {
    what: 'DROP/TRUNCATE (SQL)',
    commands: ['psql'],
    sql: { options: ['-c', '--command'] },
    example: 'psql -c "DROP DATABASE app"',
  },
  {
    what: 'DROP/TRUNCATE (SQL)',
    commands: ['mysql', 'mariadb'],
    sql: { options: ['-e', '--execute'] },
    example: 'mysql -e "TRUNCATE t"',
  },
  {
    what: 'DROP/TRUNCATE (SQL)',
    commands: ['sqlite3'],
    sql: { operands: true },
    example: 'sqlite3 app.db "DROP TABLE t"',
  },
  {
    what: 'pg_restore --clean',
    commands: ['pg_restore'],
    anyOption: ['-c', '--clean'],
    example: 'pg_restore --clean -d app dump.pgc',
  },
];
