/**
 * Building blocks for the chaos suite (test/chaos/): PKCS#10 requests made in
 * process (openssl is too slow for thousands), an HTTPS client for devapi that
 * survives devapi restarts, a seeded random source, process memory, and the
 * needles of the secrets scan.
 */
import { createPrivateKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';

// ------------------------------------------------------------------ requests
// As bench/signer.js: CN and one DNS name, a fresh P-256 key, ECDSA-SHA256.

const derLength = (n: number): number[] => (n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff]);
const tlv = (tag: number, ...parts: Buffer[]): Buffer => {
  const body = Buffer.concat(parts);
  return Buffer.concat([Buffer.from([tag, ...derLength(body.length)]), body]);
};
const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');
const OID_CN = hex('06 03 55 04 03');
const OID_EXTENSION_REQUEST = hex('06 09 2a 86 48 86 f7 0d 01 09 0e');
const OID_SAN = hex('06 03 55 1d 11');
const ECDSA_SHA256 = tlv(0x30, hex('06 08 2a 86 48 ce 3d 04 03 02'));

/** A PEM certificate request for `dnsName` (also the CN), with a new P-256 key. */
export function p256Request(dnsName: string): string {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const subject = tlv(0x30, tlv(0x31, tlv(0x30, OID_CN, tlv(0x0c, Buffer.from(dnsName)))));
  const san = tlv(0x30, OID_SAN, tlv(0x04, tlv(0x30, tlv(0x82, Buffer.from(dnsName)))));
  const attributes = tlv(0xa0, tlv(0x30, OID_EXTENSION_REQUEST, tlv(0x31, tlv(0x30, san))));
  const info = tlv(0x30, hex('02 01 00'), subject, publicKey.export({ type: 'spki', format: 'der' }), attributes);
  const der = tlv(0x30, info, ECDSA_SHA256, tlv(0x03, Buffer.from([0]), sign('sha256', info, privateKey)));
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n');
  return `-----BEGIN CERTIFICATE REQUEST-----\n${body}-----END CERTIFICATE REQUEST-----\n`;
}

// ------------------------------------------------------------------ devapi over HTTPS

export type Identity = 'admin' | 'requester' | 'approver' | 'signer';

export interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
}

/**
 * devapi's REST and control API over HTTPS with the identities' tokens from its
 * state directory. A network error rejects; any HTTP status resolves.
 */
export class DevapiClient {
  readonly tokens: Record<string, string>;
  readonly #ca: Buffer;
  #agent: Agent;

  constructor(readonly url: string, stateDir: string) {
    this.tokens = JSON.parse(readFileSync(join(stateDir, 'tokens.json'), 'utf8')) as Record<string, string>;
    this.#ca = readFileSync(join(stateDir, 'ca.pem'));
    this.#agent = this.#newAgent();
  }

  #newAgent(): Agent {
    return new Agent({ keepAlive: true, maxSockets: 16, ca: this.#ca });
  }

  /** Drops pooled connections (after devapi restarted on the same port). */
  reset(): void {
    this.#agent.destroy();
    this.#agent = this.#newAgent();
  }

  call(method: string, path: string, body?: unknown, who: Identity = 'admin', timeoutMs = 15_000): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const req = request(`${this.url}${path}`, {
        method, agent: this.#agent, timeout: timeoutMs,
        headers: { Authorization: `Bearer ${this.tokens[who] ?? ''}`, 'Content-Type': 'application/json' },
      }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => { text += d; });
        res.on('end', () => {
          let parsed: unknown = text;
          try { parsed = JSON.parse(text); } catch { /* not JSON */ }
          resolve({ status: res.statusCode ?? 0, body: parsed, text });
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
  }

  /** `call` until `done` accepts the reply; network errors and other statuses are retried every 100 ms until `ms`. */
  async until(method: string, path: string, body: unknown, who: Identity, done: (r: Reply) => boolean, ms = 60_000): Promise<Reply> {
    const end = Date.now() + ms;
    let last = '';
    for (;;) {
      try {
        const r = await this.call(method, path, body, who);
        if (done(r)) return r;
        last = `${r.status} ${r.text.slice(0, 200)}`;
      } catch (e) {
        last = String(e);
      }
      if (Date.now() > end) throw new Error(`${method} ${path} did not succeed in ${ms} ms: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

// ------------------------------------------------------------------ small things

/** mulberry32: a seeded source of numbers in [0, 1), so a failing schedule can be replayed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** VmRSS of a live process, MB. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'latin1');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN) / 1024;
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const address = s.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// ------------------------------------------------------------------ secrets

export interface Needle {
  readonly name: string;
  readonly text: string;
}

/**
 * What must never appear in output: each base64 line of the CA key's PEM body,
 * the key's DER as hex and base64, its private scalar (JWK `d`, and hex), and
 * every bearer token.
 */
export function secretNeedles(caKeyPem: string, tokens: Record<string, string>): Needle[] {
  const needles: Needle[] = [];
  const bodyLines = caKeyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
  bodyLines.forEach((line, i) => { if (line.length >= 16) needles.push({ name: `CA key PEM body line ${i + 1}`, text: line }); });
  const key = createPrivateKey(caKeyPem);
  const der = key.export({ type: 'pkcs8', format: 'der' });
  needles.push({ name: 'CA key DER as hex', text: der.toString('hex') }, { name: 'CA key DER as base64', text: der.toString('base64') });
  const d = key.export({ format: 'jwk' }).d;
  if (d !== undefined) {
    needles.push({ name: 'CA private scalar (base64url)', text: d }, { name: 'CA private scalar (hex)', text: Buffer.from(d, 'base64url').toString('hex') });
  }
  for (const [id, token] of Object.entries(tokens)) needles.push({ name: `bearer token of ${id}`, text: token });
  return needles;
}
