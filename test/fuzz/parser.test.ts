/**
 * Fuzzing the two parsers that read untrusted or operator-supplied bytes: the request
 * parser and the CA loader. Random bytes and mutations of valid DER (bit flips,
 * truncations, byte and length-byte edits) must give a valid result or a CsrSignerError:
 * never another exception, never a hang. FUZZ_RUNS sets the iterations per property
 * (default 2,000, a few seconds in CI).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { decodeRequestBytes, parseRequestDer, readCertificateBundle, readPrivateKey } from '../../src/pki/index.js';

const runs = Number(process.env['FUZZ_RUNS'] ?? '2000');
const fixtures = join(import.meta.dirname, '..', 'fixtures');
const pemToDer = (path: string): Uint8Array => {
  const body = readFileSync(path, 'latin1').replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return Uint8Array.from(Buffer.from(body, 'base64'));
};
/** A call slower than this is treated as a hang (the slowest valid parse is ~10 ms). */
const slowMs = 2000;

const seeds = {
  request: [pemToDer(join(fixtures, 'requests', 'ec-p256.pem')), pemToDer(join(fixtures, 'requests', 'rsa-2048-pss.pem')), pemToDer(join(fixtures, 'requests', 'all-san-types.pem'))],
  certificate: [pemToDer(join(fixtures, 'ca', 'ca-ec.pem')), pemToDer(join(fixtures, 'ca', 'ca-rsa.pem'))],
  key: [pemToDer(join(fixtures, 'ca', 'ca-ec-key.pem')), pemToDer(join(fixtures, 'ca', 'ca-ed25519-key.pem'))],
};

/** Offsets of every length byte in a DER tree (the byte after each tag, and long-form bytes). */
function lengthOffsets(der: Uint8Array, start = 0, end = der.length, out: number[] = []): number[] {
  for (let at = start; at + 1 < end;) {
    const tag = der[at] ?? 0;
    const first = der[at + 1] ?? 0;
    const count = first & 0x80 ? first & 0x7f : 0;
    for (let i = 0; i <= count; i++) out.push(at + 1 + i);
    let length = first & 0x80 ? 0 : first;
    for (let i = 0; i < count; i++) length = length * 256 + (der[at + 2 + i] ?? 0);
    const content = at + 2 + count;
    if (tag & 0x20) lengthOffsets(der, content, Math.min(content + length, end), out);
    at = content + length;
  }
  return out;
}

type Mutation = { kind: 'flip'; at: number; bit: number } | { kind: 'set'; at: number; value: number } | { kind: 'length'; which: number; value: number } | { kind: 'cut'; at: number };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('length' as const), which: fc.nat(), value: fc.oneof(fc.nat({ max: 255 }), fc.constantFrom(0x00, 0x7f, 0x80, 0x81, 0x84, 0x88, 0xff)) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
);

function mutate(seed: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let bytes = Uint8Array.from(seed);
  const lengths = lengthOffsets(seed);
  for (const m of mutations) {
    if (bytes.length === 0) break;
    if (m.kind === 'flip') bytes[m.at % bytes.length] = (bytes[m.at % bytes.length] ?? 0) ^ (1 << m.bit);
    else if (m.kind === 'set') bytes[m.at % bytes.length] = m.value;
    else if (m.kind === 'length') bytes[(lengths[m.which % lengths.length] ?? 0) % bytes.length] = m.value;
    else bytes = bytes.slice(0, m.at % bytes.length);
  }
  return bytes;
}

/** Runs `parse`; true when it returned or threw a CsrSignerError, in time. */
function typedOrValid(parse: () => unknown, stats: { accepted: number; slowest: number }): boolean {
  const started = performance.now();
  try {
    parse();
    stats.accepted++;
    return true;
  } catch (e) {
    if (!isCsrSignerError(e)) throw e; // fast-check shrinks and reports the input
    return true;
  } finally {
    stats.slowest = Math.max(stats.slowest, performance.now() - started);
  }
}

const derInput = (pick: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> => fc.oneof(
  { weight: 4, arbitrary: fc.tuple(fc.nat({ max: pick.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 6 })).map(([i, ms]) => mutate(pick[i] as Uint8Array, ms)) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  // Random content under a plausible outer SEQUENCE header, to get past the first byte.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([0x30, 0x82, b.length >> 8, b.length & 0xff, ...b])) },
);

const cases: [string, readonly Uint8Array[], (bytes: Uint8Array) => unknown][] = [
  ['parseRequestDer: request DER', seeds.request, (b) => parseRequestDer(b)],
  ['decodeRequestBytes + parseRequestDer: the same as PEM text', seeds.request, (b) => parseRequestDer(decodeRequestBytes(`-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(b).toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`))],
  ['readCertificateBundle: CA certificate DER', seeds.certificate, (b) => readCertificateBundle({ name: 'fuzz.pem', bytes: b })],
  ['readPrivateKey: CA key DER', seeds.key, (b) => readPrivateKey({ name: 'fuzz-key.pem', bytes: b })],
];

for (const [what, pick, parse] of cases) {
  void t.test(`${what}: ${runs} random and mutated inputs give a result or a CsrSignerError, never another exception or a hang`, (t) => {
    const stats = { accepted: 0, slowest: 0 };
    fc.assert(fc.property(derInput(pick), (bytes) => typedOrValid(() => parse(bytes), stats)), { numRuns: runs });
    t.ok(stats.slowest < slowMs, `slowest call ${stats.slowest.toFixed(1)} ms (limit ${slowMs} ms)`);
    t.pass(`${runs} inputs, ${stats.accepted} accepted`);
    t.end();
  });
}

void t.test('the PEM decoder: random text around and inside a block gives a result or a CsrSignerError', (t) => {
  const stats = { accepted: 0, slowest: 0 };
  const pem = readFileSync(join(fixtures, 'requests', 'ec-p256.pem'), 'latin1');
  fc.assert(fc.property(fc.string({ maxLength: 80 }), fc.nat(), fc.string({ maxLength: 20 }), (noise, at, insert) => {
    const i = at % pem.length;
    return typedOrValid(() => decodeRequestBytes(noise + pem.slice(0, i) + insert + pem.slice(i)), stats);
  }), { numRuns: runs });
  t.ok(stats.slowest < slowMs, `slowest call ${stats.slowest.toFixed(1)} ms`);
  t.end();
});
