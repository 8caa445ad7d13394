import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { rehearsalTwin } from './helpers.ts';

/**
 * `kubectl exec` and `logs` into the twin's pods (scripts/sandbox-lib/twin/pods/): kwok serves
 * the kubelet API from a namespace with only lo, the pod simulator answers PostgreSQL's client
 * tools as the Bitnami chart's pod would (password authentication against the chart's Secret),
 * and nothing an exec runs reaches a network. On a twin of this suite's own: it creates and
 * drops databases.
 */
const twin = rehearsalTwin('k3s-twin-pods-');
const POD = ['-n', 'data', 'postgres-postgresql-0', '-c', 'postgresql'];
const SUPER =
  'export PGPASSWORD="${POSTGRES_POSTGRES_PASSWORD:-$(cat "${POSTGRES_POSTGRES_PASSWORD_FILE:-/dev/null}")}"';
/** What the runbooks read before the content fix: n8n's password, used for -U postgres. */
const USER_PASSWORD = 'export PGPASSWORD="${POSTGRES_PASSWORD:-$(cat "${POSTGRES_PASSWORD_FILE:-/dev/null}")}"';

/** kubectl exec [-i] into the PostgreSQL pod; stdin given as a Buffer. */
function exec(command: string[], input?: Buffer | string) {
  const args = ['exec', ...(input !== undefined ? ['-i'] : []), ...POD, '--', ...command];
  const r = spawnSync(twin.state().kubectl, args, {
    env: { ...process.env, KUBECONFIG: twin.state().kubeconfig },
    input,
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, out: r.stdout.toString('utf8'), err: r.stderr.toString('utf8') };
}
const sh = (script: string, ...args: string[]) => exec(['sh', '-c', script, 'sh', ...args]);

describe("kubectl exec into the twin's PostgreSQL pod", () => {
  it("the pod has the env of the chart: n8n's password file and the superuser's", () => {
    const r = sh('echo "$POSTGRES_USER $POSTGRES_DATABASE $POSTGRES_PASSWORD_FILE $POSTGRES_POSTGRES_PASSWORD_FILE"');
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(
      'n8n n8n /opt/bitnami/postgresql/secrets/password /opt/bitnami/postgresql/secrets/postgres-password',
    );
    expect(
      twin.kubectl('-n', 'data', 'get', 'secret', 'postgres-credentials', '-o', 'jsonpath={.data.postgres-password}'),
    ).not.toBe('');
  });

  it("psql with the superuser's password lists the databases and their sizes; with n8n's it is refused as the server refuses it", () => {
    const ok = sh(
      `${SUPER}; psql -U postgres -d postgres -c "select datname, pg_size_pretty(pg_database_size(datname)) as size from pg_database where not datistemplate order by datname"; psql -U postgres -d postgres -Atc "select 1"`,
    );
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/^ datname\s+\|\s+size/m);
    expect(ok.out).toMatch(/^ n8n\s+\| \d+ kB$/m);
    expect(ok.out).toMatch(/\(2 rows\)\n[\s\S]*^1$/m);
    const wrong = sh(`${USER_PASSWORD}; psql -U postgres -d postgres -Atc "select 1"`);
    expect(wrong.code).not.toBe(0);
    expect(wrong.err).toContain('FATAL:  password authentication failed for user "postgres"');
    const none = exec(['psql', '-U', 'postgres', '-Atc', 'select 1']);
    expect(none.err).toContain('fe_sendauth: no password supplied');
    // n8n with its own password reaches its database, but cannot read the roles' hashes.
    const n8n = sh(
      `${USER_PASSWORD}; psql -U n8n -d n8n -Atc "select count(*) from pg_stat_user_tables"; pg_dumpall -U n8n --globals-only`,
    );
    expect(n8n.out.trim()).toMatch(/^\d+$/);
    expect(n8n.err).toContain('permission denied for table pg_authid');
  }, 60_000);

  it('pg_dump -Fc, pg_restore --list, then a restore into a scratch database round-trips the tables and row counts', () => {
    const dump = sh(`${SUPER}; exec pg_dump -U postgres -Fc -d "$1"`, 'n8n');
    expect(dump.code, dump.err).toBe(0);
    expect(dump.stdout.subarray(0, 5).toString()).toBe('PGDMP');
    const toc = exec(['pg_restore', '--list'], dump.stdout);
    expect(toc.code, toc.err).toBe(0);
    expect(toc.out).toMatch(/^;\s+dbname: n8n$/m);
    expect(toc.out).toMatch(/^\d+; 0 \d+ TABLE DATA public workflow_entity n8n$/m);

    expect(sh(`${SUPER}; createdb -U postgres "$1"`, 'n8n_restore_check').code).toBe(0);
    const restore = exec(
      [
        'sh',
        '-c',
        `${SUPER}; exec pg_restore -U postgres -d "$1" --no-owner --no-acl --exit-on-error`,
        'sh',
        'n8n_restore_check',
      ],
      dump.stdout,
    );
    expect(restore.code, restore.err).toBe(0);
    const counts =
      'select format($q$select %L || $s$ $s$ || count(*) from %I.%I$q$, schemaname || $d$.$d$ || tablename, schemaname, tablename)\n' +
      '  from pg_tables where schemaname not in ($n$pg_catalog$n$, $n$information_schema$n$) order by 1 \\gexec\n';
    const live = exec(['sh', '-c', `${SUPER}; psql -U postgres -d "$1" -At`, 'sh', 'n8n'], counts);
    const copy = exec(['sh', '-c', `${SUPER}; psql -U postgres -d "$1" -At`, 'sh', 'n8n_restore_check'], counts);
    expect(live.code, live.err).toBe(0);
    expect(live.out).toMatch(/^public\.workflow_entity \d+$/m);
    expect(copy.out).toBe(live.out);
    // Restoring again without --clean fails and, with --single-transaction, changes nothing.
    const again = exec(
      ['sh', '-c', `${SUPER}; exec pg_restore -U postgres -d "$1" --single-transaction`, 'sh', 'n8n_restore_check'],
      dump.stdout,
    );
    expect(again.code).not.toBe(0);
    expect(again.err).toMatch(/relation "public\.\w+" already exists/);
    const drop = sh(
      `${SUPER}; psql -U postgres -d postgres -v ON_ERROR_STOP=1 -c "DROP DATABASE \\"$1\\""`,
      'n8n_restore_check',
    );
    expect(drop.out).toBe('DROP DATABASE\n');
    expect(
      sh(
        `${SUPER}; psql -U postgres -d postgres -Atc "select datname from pg_database where not datistemplate order by 1"`,
      ).out,
    ).toBe('n8n\npostgres\n');
    // A file that is no archive is refused as pg_restore refuses it.
    expect(exec(['pg_restore', '--list'], 'not a dump\n').err).toContain(
      'input file does not appear to be a valid archive',
    );
  }, 120_000);

  it("pg_dumpall --globals-only, pg_isready and df answer as in the chart's pod", () => {
    const globals = sh(`${SUPER}; exec pg_dumpall -U postgres --globals-only`);
    expect(globals.out).toMatch(/^CREATE ROLE n8n;$/m);
    expect(globals.out).toMatch(/^ALTER ROLE postgres WITH SUPERUSER .* PASSWORD 'SCRAM-SHA-256\$4096:/m);
    expect(exec(['pg_isready', '-h', '127.0.0.1', '-U', 'postgres']).out).toBe(
      '127.0.0.1:5432 - accepting connections\n',
    );
    const df = exec(['df', '-hP', '/bitnami/postgresql']);
    expect(df.out).toMatch(
      /^192\.168\.2\.2:\/volume1\/k3s\/data-data-postgres-postgresql-0\s+\S+\s+\S+\s+\S+\s+\d+% \/bitnami\/postgresql$/m,
    );
  }, 60_000);

  it("a command the pod table lacks is refused by name, in a shell and exec'd directly", () => {
    const inShell = sh('curl -sS http://192.0.2.1/');
    expect(inShell.code).not.toBe(0);
    expect(inShell.err).toContain('curl is not simulated in pod data/postgres-postgresql-0 on the lab twin');
    const direct = exec(['wget', 'http://192.0.2.1/']);
    expect(direct.err).toContain('wget is not simulated in pod data/postgres-postgresql-0 on the lab twin');
    const n8n = spawnSync(twin.state().kubectl, ['-n', 'apps', 'exec', 'deploy/n8n', '--', 'psql'], {
      encoding: 'utf8',
      env: { ...process.env, KUBECONFIG: twin.state().kubeconfig },
    });
    expect(n8n.stderr).toContain('psql is not simulated in pod apps/n8n-');
  }, 60_000);

  it("an exec'd command cannot reach 192.0.2.1: its network has only lo", () => {
    const ifaces = exec(['cat', '/proc/net/dev']);
    expect(
      ifaces.out
        .split('\n')
        .slice(2)
        .map((l) => l.split(':')[0]!.trim())
        .filter(Boolean),
    ).toEqual(['lo']);
    // bash's /dev/tcp: a connect() from inside the pod's shell.
    const t0 = Date.now();
    const r = sh('exec 3<>/dev/tcp/192.0.2.1/80 && echo connected');
    expect(r.out).not.toContain('connected');
    expect(r.err).toMatch(/Network is unreachable/);
    expect(Date.now() - t0).toBeLessThan(10_000);
    // An absolute path bypasses the PATH, not the namespace.
    const host = exec(['/usr/bin/bash', '-c', 'exec 3<>/dev/tcp/192.0.2.1/80 && echo connected']);
    expect(host.out).not.toContain('connected');
    expect(host.err).toMatch(/Network is unreachable/);
  }, 60_000);

  it("an exec'd command runs as the chart's uid 1001 on a read-only host filesystem", () => {
    expect(exec(['id', '-u']).out.trim()).toBe('1001');
    const w = sh('echo x > /tmp/lab-twin-pods-test-write');
    expect(w.code).not.toBe(0);
    expect(w.err).toMatch(/Read-only file system/);
    expect(existsSync('/tmp/lab-twin-pods-test-write')).toBe(false);
  }, 60_000);

  it("kubectl logs says it is the twin's simulated log", () => {
    const logs = twin.kubectl('-n', 'data', 'logs', 'postgres-postgresql-0', '-c', 'postgresql');
    expect(logs).toMatch(/^lab twin: simulated log of container postgresql in data\/postgres-postgresql-0/);
    expect(logs).toContain('database system is ready to accept connections');
    expect(twin.kubectl('-n', 'kube-system', 'logs', 'deploy/coredns')).toMatch(
      /^lab twin: simulated log of container coredns/,
    );
  }, 60_000);
});
