/**
 * Building blocks for the chaos suite (test/chaos/): a seeded random source, process
 * memory, a free port and the needles of the secrets scan. (Its requests come from
 * helpers/requests.ts `p256Request`, its devapi client is helpers/devapi.ts
 * `DevapiClient` with pooled connections.)
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

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
