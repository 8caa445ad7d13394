// The twin's certificate authority: a CA and one server certificate for the
// lab's service hostnames, made with node:crypto alone (ECDSA P-256).
//
// node:crypto makes keys and signs, but has no certificate builder, so the
// X.509 structure (RFC 5280) is written here in DER: only what a TLS client
// checks — subject/issuer names, validity, the key, and the extensions
// basicConstraints, keyUsage, extKeyUsage, subjectAltName and the key ids.
// (The sandbox's `kube-sandbox certs` makes the apiserver's fixed set and
// cannot add names; openssl is not a dependency of the sandbox.)
import { createHash, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

// ---- DER, as little as a certificate needs ----

function tlv(tag: number, content: Buffer): Buffer {
  const n = content.length;
  const len =
    n < 0x80
      ? Buffer.from([n])
      : (() => {
          const bytes: number[] = [];
          for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
          return Buffer.from([0x80 | bytes.length, ...bytes]);
        })();
  return Buffer.concat([Buffer.from([tag]), len, content]);
}
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
const octets = (b: Buffer) => tlv(0x04, b);
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
/** A BIT STRING of whole bytes, or with `unused` trailing bits. */
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));

function uint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return tlv(0x02, v[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const chunk: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      chunk.unshift((v % 128) | (chunk.length ? 0x80 : 0));
      if (v < 128) break;
    }
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime until 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = `${d.toISOString().replace(/[-:T]/g, '').slice(0, 14)}Z`;
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2))) : tlv(0x18, Buffer.from(iso));
}

const OID = {
  ecdsaSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  subjectKeyId: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyId: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
} as const;

const name = (cn: string) =>
  seq(set(seq(oid(OID.organization), utf8('k3s-lab-runbooks lab twin'))), set(seq(oid(OID.commonName), utf8(cn))));
const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
const keyId = (key: KeyObject) => createHash('sha1').update(spki(key)).digest();

interface CertSpec {
  subject: string;
  issuer: string;
  publicKey: KeyObject;
  issuerPublicKey: KeyObject;
  signer: KeyObject;
  ca: boolean;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  days: number;
  now: Date;
}

function certificate(c: CertSpec): string {
  const alg = seq(oid(OID.ecdsaSha256));
  const serial = randomBytes(16);
  serial[0]! &= 0x7f;
  const extensions = c.ca
    ? [
        extension(OID.basicConstraints, true, seq(bool(true))),
        // keyCertSign (bit 5) and cRLSign (bit 6): 0b0000_0110, one unused bit.
        extension(OID.keyUsage, true, bits(Buffer.from([0x06]), 1)),
        extension(OID.subjectKeyId, false, octets(keyId(c.publicKey))),
      ]
    : [
        extension(OID.basicConstraints, true, seq()),
        // digitalSignature (bit 0): 0b1000_0000, seven unused bits.
        extension(OID.keyUsage, true, bits(Buffer.from([0x80]), 7)),
        extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth))),
        extension(
          OID.subjectAltName,
          false,
          seq(
            ...(c.dnsNames ?? []).map((n) => tlv(0x82, Buffer.from(n, 'ascii'))),
            ...(c.ipAddresses ?? []).map((ip) => tlv(0x87, Buffer.from(ip.split('.').map(Number)))),
          ),
        ),
        extension(OID.subjectKeyId, false, octets(keyId(c.publicKey))),
        extension(OID.authorityKeyId, false, seq(tlv(0x80, keyId(c.issuerPublicKey)))),
      ];
  const tbs = seq(
    explicit(0, uint(Buffer.from([2]))), // v3
    uint(serial),
    alg,
    name(c.issuer),
    seq(time(new Date(c.now.getTime() - 3600_000)), time(new Date(c.now.getTime() + c.days * 86_400_000))),
    name(c.subject),
    spki(c.publicKey),
    explicit(3, seq(...extensions)),
  );
  const signature = sign('sha256', tbs, c.signer); // DER-encoded ECDSA signature
  return pem('CERTIFICATE', seq(tbs, alg, bits(signature)));
}

function pem(label: string, der: Buffer): string {
  const b64 = der
    .toString('base64')
    .match(/.{1,64}/g)!
    .join('\n');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

export interface TwinCertificates {
  caCert: string;
  serverCert: string;
  serverKey: string;
}

/**
 * A fresh CA (key discarded: nothing else is ever signed with it) and a server
 * certificate for `dnsNames` and 127.0.0.1, all PEM.
 */
export function makeTwinCertificates(
  dnsNames: readonly string[],
  opts: { days?: number; now?: Date } = {},
): TwinCertificates {
  const now = opts.now ?? new Date();
  const days = opts.days ?? 365;
  const ca = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const server = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const caName = "lab twin CA (simulation, not the lab's)";
  const caCert = certificate({
    subject: caName,
    issuer: caName,
    publicKey: ca.publicKey,
    issuerPublicKey: ca.publicKey,
    signer: ca.privateKey,
    ca: true,
    days,
    now,
  });
  const serverCert = certificate({
    subject: dnsNames[0] ?? 'lab twin',
    issuer: caName,
    publicKey: server.publicKey,
    issuerPublicKey: ca.publicKey,
    signer: ca.privateKey,
    ca: false,
    dnsNames,
    ipAddresses: ['127.0.0.1'],
    days,
    now,
  });
  return { caCert, serverCert, serverKey: server.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
}
