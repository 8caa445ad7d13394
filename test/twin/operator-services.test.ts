import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeTwinCertificates } from '../../scripts/sandbox-lib/twin/operator-ca.ts';
import { answerRequest, loadServices, type TwinRequest } from '../../scripts/sandbox-lib/twin/operator-services.ts';

/** The data and answers of the operator machine's web services, and the twin CA: no namespace needed. */
const services = loadServices();
const req = (over: Partial<TwinRequest>): TwinRequest => ({
  method: 'GET',
  host: 'grafana.home.jetzinger.com',
  url: '/',
  httpVersion: '1.1',
  headers: [['User-Agent', 'test']],
  body: '',
  remoteAddress: '127.0.0.1:1',
  scheme: 'https',
  ...over,
});

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e);
    return statSync(p).isDirectory() ? files(p) : /\.(mdx?|ya?ml)$/.test(e) ? [p] : [];
  });
}

describe('the lab services of the operator machine', () => {
  it('lists every lab hostname the content names', () => {
    const named = new Set(
      files('src/content').flatMap((f) => readFileSync(f, 'utf8').match(/\b[a-z0-9-]+\.home\.jetzinger\.com\b/g) ?? []),
    );
    // A generated name (ADR-0010's wildcard check) is not a service.
    const listed = new Set(services.map((s) => s.hostname));
    expect([...named].filter((n) => !listed.has(n))).toEqual([]);
    expect(listed.size).toBeGreaterThanOrEqual(4);
  });

  it('answers documented paths, 404 otherwise, redirects plain HTTP, and always says it is the twin', () => {
    const health = answerRequest(services, req({ url: '/api/health' }));
    expect(health.status).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ database: 'ok' });
    expect(answerRequest(services, req({ host: 'n8n.home.jetzinger.com:443', url: '/healthz' })).body).toContain('ok');
    expect(answerRequest(services, req({ host: 'ollama.home.jetzinger.com', url: '/api/tags' })).body).toMatch(
      /llama3[.]2:3b/,
    );
    expect(answerRequest(services, req({ host: 'ollama.home.jetzinger.com', url: '/api/ps' })).body).toMatch(
      /"size_vram":[1-9]/,
    );
    expect(
      answerRequest(
        services,
        req({ host: 'ollama.home.jetzinger.com', url: '/api/generate', method: 'POST', body: '{}' }),
      ).body,
    ).toContain('"done":true');
    expect(answerRequest(services, req({ host: 'ollama.home.jetzinger.com', url: '/api/generate' })).status).toBe(404);
    const who = answerRequest(
      services,
      req({ host: 'whoami.home.jetzinger.com', url: '/x?y=1', method: 'POST', body: 'hello' }),
    );
    expect(who.body).toMatch(
      /^Hostname: whoami \(lab twin\)\n[\s\S]*POST \/x\?y=1 HTTP\/1\.1\nHost: whoami\.home\.jetzinger\.com\nUser-Agent: test\n\nhello$/,
    );
    const missing = answerRequest(services, req({ url: '/nope' }));
    expect(missing.status).toBe(404);
    expect(missing.body).toContain('src/content/lab/services.yaml');
    expect(answerRequest(services, req({ host: 'example.com' })).status).toBe(404);
    const http = answerRequest(services, req({ scheme: 'http', url: '/a' }));
    expect([http.status, http.headers.Location]).toEqual([308, 'https://grafana.home.jetzinger.com/a']);
    for (const a of [health, missing, who, http]) expect(a.headers['X-Lab-Twin']).toBe('simulated');
  });

  it('the twin CA signs a server certificate for the hostnames and 127.0.0.1', () => {
    const names = services.map((s) => s.hostname);
    const c = makeTwinCertificates(names);
    const ca = new X509Certificate(c.caCert);
    const server = new X509Certificate(c.serverCert);
    expect(ca.ca).toBe(true);
    expect(server.ca).toBe(false);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.verify(ca.publicKey)).toBe(true);
    for (const n of names) expect(server.checkHost(n)).toBe(n);
    expect(server.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(server.checkHost('example.com')).toBeUndefined();
    expect(server.checkPrivateKey(createPrivateKey(c.serverKey))).toBe(true);
  });
});
