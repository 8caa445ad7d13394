// Health probes for the components, all on 127.0.0.1.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface TlsClient {
  ca: string;
  cert: string;
  key: string;
}

export interface ProbeResult {
  ok: boolean;
  detail: string;
}

/**
 * GET url. With tls, verifies the server against the sandbox CA and presents
 * the admin client cert; without, https URLs are accepted unverified (the
 * controller-manager's and scheduler's self-signed health endpoints).
 */
export function probe(url: string, tls?: TlsClient, timeoutMs = 2000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const opts = {
      method: 'GET',
      timeout: timeoutMs,
      ...(u.protocol === 'https:'
        ? tls
          ? { ca: tls.ca, cert: tls.cert, key: tls.key }
          : { rejectUnauthorized: false }
        : {}),
    };
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(u, opts, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        if (body.length < 4096) body += c;
      });
      res.on('end', () =>
        resolve({ ok: res.statusCode === 200, detail: `HTTP ${res.statusCode}: ${body.trim().slice(0, 300)}` }),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ ok: false, detail: err.message }));
    req.end();
  });
}
