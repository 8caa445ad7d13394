import { beforeAll, describe, expect, it } from 'vitest';
import { checkProcedure } from '../../runner/check/lint.ts';
import { parseProcedure } from '../../runner/format/parse.ts';
import { loadShellParser } from '../../runner/shell/parser.ts';
import { testInventory } from '../helpers/inventory.ts';

beforeAll(() => loadShellParser());

/** Rule ids (with severity) of one step's findings; `attrs` goes on the fence. */
function findings(code: string, attrs = '', requires = '[kubectl, ssh]'): string[] {
  const front = `---\ntitle: t\nrunbook:\n  risk: low\n  requires: ${requires}\n---\n\n`;
  const page = `${front}\`\`\`bash step=s ${attrs}\n${code}\n\`\`\`\n`;
  return checkProcedure(parseProcedure(page, 'p.mdx'), testInventory())
    .filter((d) => !d.rule.startsWith('destructive'))
    .map((d) => `${d.rule}:${d.severity}`);
}

describe('interactive-command', () => {
  it('a bound makes a watch return', () => {
    expect(findings('timeout 60 kubectl get pods -w')).toEqual([]);
    expect(findings('sudo timeout 5 journalctl -fu k3s')).toEqual([]);
    expect(findings('tail -f --pid=1 /var/log/x')).toEqual([]);
    expect(findings('kubectl logs -f=false deploy/x')).toEqual([]);
  });

  it('follows commands through ssh and kubectl exec', () => {
    expect(findings(`ssh server-1 'journalctl -u k3s -f'`)).toEqual(['interactive-command:error']);
    expect(findings('kubectl exec p -- tail -F /log')).toEqual(['interactive-command:error']);
  });

  it('tells hangs and dead ends (errors) from useless terminals (warnings)', () => {
    expect(findings('kubectl logs --follow deploy/x')).toEqual(['interactive-command:error']);
    expect(findings('vim /etc/hosts')).toEqual(['interactive-command:error']);
    expect(findings('sudo -e /etc/hosts')).toEqual(['interactive-command:error']);
    expect(findings('docker compose exec web sh -c true')).toEqual(['interactive-command:error']);
    expect(findings('docker compose exec -T web sh -c true')).toEqual([]);
    expect(findings('journalctl -u k3s | less')).toEqual(['interactive-command:warning']);
    expect(findings('ssh -t server-1 uptime')).toEqual(['interactive-command:warning']);
    expect(findings('vim -es -c "%s/a/b/" -c wq /tmp/f')).toEqual([]);
    expect(findings('visudo -c')).toEqual([]);
  });
});

describe('placeholder', () => {
  it('finds <name> followed by more words or at the end of the line', () => {
    expect(findings('kubectl cordon <node> --dry-run=client')).toEqual(['placeholder:error']);
    expect(findings('curl -sf https://<server-ip>:6443/readyz', '', '[curl]')).toEqual(['placeholder:error']);
    expect(findings('kubectl get pod <pod>')).toContain('placeholder:error');
  });

  it('leaves redirections, comparisons and quoted text alone', () => {
    expect(findings('sort < /etc/hosts > /tmp/nr-sorted 2>&1')).toEqual([]);
    expect(findings('echo "<b>" \'<x>\'; [[ a < b ]]; (( 1 < 2 ))')).toEqual([]);
    expect(findings("cat <<'X'\n<y>\nX")).toEqual([]);
  });
});

describe('ssh-without-command', () => {
  it('is quiet when stdin carries the script', () => {
    expect(findings('cat /tmp/s.sh | ssh server-1')).toEqual([]);
    expect(findings('ssh server-1 < /tmp/s.sh')).toEqual([]);
    expect(findings("ssh server-1 <<< 'uptime'")).toEqual([]);
    expect(findings('ssh -O exit server-1')).toEqual([]);
  });

  it('flags a bare ssh, also behind a wrapper', () => {
    expect(findings('sudo -u operator ssh -p 2201 server-1')).toEqual(['ssh-without-command:error']);
  });
});

describe('sudo-with-become', () => {
  it('warns only when every node of the step becomes root', () => {
    expect(findings('sudo systemctl is-active k3s', 'on=server-1 check')).toEqual(['sudo-with-become:warning']);
    expect(findings('sudo systemctl is-active k3s', 'on=role:agent check')).toEqual([]);
    expect(findings('sudo systemctl is-active k3s', 'on=server-1,agent-1 check')).toEqual([]);
    expect(findings('sudo -u nobody id', 'on=server-1 check')).toEqual([]);
  });
});

describe('status-under-set-e', () => {
  it('counts where the status can end the step', () => {
    expect(findings('systemctl status k3s | head -n 5', 'check')).toEqual(['status-under-set-e:warning']);
    expect(findings('state="$(systemctl status k3s)"', 'check')).toEqual(['status-under-set-e:warning']);
    expect(findings("ssh server-1 'systemctl status k3s'", 'check')).toEqual(['status-under-set-e:warning']);
    expect(findings('sudo timeout 5 systemctl status k3s', 'check')).toEqual(['status-under-set-e:warning']);
  });

  it('not where something absorbs it', () => {
    expect(findings('systemctl status k3s && echo up', 'check')).toEqual([]);
    expect(findings('while ! systemctl status k3s; do break; done', 'check')).toEqual([]);
    expect(findings('echo "$(systemctl status k3s)"', 'check')).toEqual([]);
    expect(findings('local_state=x; export s="$(systemctl status k3s)"', 'check')).toEqual([]);
    expect(findings("ssh server-1 'systemctl status k3s; echo done'", 'check')).toEqual([]);
    expect(findings("bash -c 'systemctl status k3s | cat'", 'check')).toEqual([]);
  });
});

describe('missing-requirement for tools run in a pod', () => {
  it('a step the parser cannot fully read still keeps the pod psql in the pod', () => {
    const code = `kubectl exec pg-0 -- sh -c '\n  psql -U postgres -c 1'\n)(`;
    expect(findings(code, '', '[kubectl]')).not.toContain('missing-requirement:warning');
  });
});
