// The lab's web services in the operator's namespace: `node operator-web.ts <web.json>`,
// started by the operator's init.sh (operator.ts). HTTPS on 127.0.0.1:443 with the
// twin CA's certificate, plain HTTP on 127.0.0.1:80 (redirects, as Traefik does),
// both answering from src/content/lab/services.yaml (operator-services.ts). It
// writes <ready> once it listens and the API forwarder on 127.0.0.1:<apiPort>
// accepts, so `twin up` returns with the whole namespace working.
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { answerRequest, loadServices, type LabService } from './operator-services.ts';

export interface WebConfig {
  servicesFile: string;
  cert: string;
  key: string;
  https: number;
  http: number;
  apiPort: number;
  ready: string;
}

const MAX_BODY = 64 * 1024;

function handler(services: readonly LabService[], scheme: 'http' | 'https') {
  return (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      const raw = req.rawHeaders;
      const headers: Array<[string, string]> = [];
      for (let i = 0; i + 1 < raw.length; i += 2) headers.push([raw[i]!, raw[i + 1]!]);
      const a = answerRequest(services, {
        method: req.method ?? 'GET',
        host: req.headers.host ?? '',
        url: req.url ?? '/',
        httpVersion: req.httpVersion,
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        remoteAddress: `${req.socket.remoteAddress}:${req.socket.remotePort}`,
        scheme,
      });
      res.writeHead(a.status, { ...a.headers, 'Content-Length': Buffer.byteLength(a.body) });
      res.end(req.method === 'HEAD' ? undefined : a.body);
      console.log(
        `${new Date().toISOString()} ${scheme} ${req.method} ${req.headers.host ?? '-'}${req.url} ${a.status}`,
      );
    });
  };
}

function listen(server: ReturnType<typeof createHttp>, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect({ host: '127.0.0.1', port });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

async function main(configFile: string): Promise<void> {
  const cfg = JSON.parse(readFileSync(configFile, 'utf8')) as WebConfig;
  const services = loadServices(cfg.servicesFile);
  const https = createHttps({ cert: readFileSync(cfg.cert), key: readFileSync(cfg.key) }, handler(services, 'https'));
  const http = createHttp(handler(services, 'http'));
  await Promise.all([listen(https, cfg.https), listen(http, cfg.http)]);
  for (let i = 0; !(await accepts(cfg.apiPort)); i++) {
    if (i > 400) throw new Error(`the API forwarder on 127.0.0.1:${cfg.apiPort} does not accept connections`);
    await sleep(25);
  }
  writeFileSync(cfg.ready, `${process.pid}\n`);
  console.log(
    `lab services of the twin on 127.0.0.1:${cfg.https} (https) and :${cfg.http} (http): ${services.map((s) => s.hostname).join(', ')}`,
  );
}

if (import.meta.main) {
  main(process.argv[2] ?? '').catch((err: unknown) => {
    console.error(`operator-web: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
