/**
 * The serials' random source: bytes drawn a block at a time from node:crypto, each handed
 * out once, each caller with its own copy.
 */
import t from 'tap';
import { randomSource } from '../../src/pki/random.js';
import { randomSerial } from '../../src/pki/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

void t.test('gives the sizes asked for, and never the same bytes twice across refills', (t) => {
  const random = randomSource(64); // a small block: 4 serials per refill
  const seen = new Set<string>();
  for (let i = 0; i < 5000; i++) {
    const bytes = random(16);
    t.equal(bytes.length, 16);
    seen.add(hex(bytes));
  }
  t.equal(seen.size, 5000, '5,000 serials, all different');
  t.equal(random(1).length, 1);
  t.equal(random(64).length, 64, 'a whole block');
  t.equal(random(1000).length, 1000, 'more than a block is filled on its own');
  t.end();
});

void t.test('each caller gets its own copy: a refill of the block changes nothing handed out', (t) => {
  const random = randomSource(16); // one serial per block: the next call refills it
  const first = random(16);
  const before = hex(first);
  const second = random(16);
  t.equal(hex(first), before, 'the first bytes are unchanged by the refill');
  t.not(hex(second), before);
  t.equal(first.buffer === second.buffer, false, 'no shared buffer');
  t.equal(first.byteLength, first.buffer.byteLength, 'the copy owns exactly its bytes');
  t.end();
});

void t.test('a size that is not a whole, non-negative count is refused, and nothing is handed out twice', (t) => {
  const random = randomSource(64);
  const first = random(16);
  for (const size of [-8, Number.NaN, 1.5, Number.POSITIVE_INFINITY]) {
    t.throws(() => random(size), /random bytes are asked for by a whole, non-negative count/, String(size));
  }
  const next = random(16);
  t.not(hex(next.subarray(0, 8)), hex(first.subarray(8)), 'the cursor did not move backwards');
  t.equal(random(16).length, 16, 'still gives bytes');
  t.end();
});

void t.test('the bytes are random: every bit position takes both values, about half the time', (t) => {
  const random = randomSource();
  const ones = new Array<number>(128).fill(0);
  const n = 4000;
  for (let i = 0; i < n; i++) {
    const bytes = random(16);
    for (let bit = 0; bit < 128; bit++) ones[bit]! += ((bytes[bit >> 3]! >> (bit & 7)) & 1);
  }
  // Binomial(4000, 0.5): the standard deviation is about 32; 6 of them is a one-in-a-billion miss.
  const worst = Math.max(...ones.map((c) => Math.abs(c - n / 2)));
  t.ok(worst < 6 * 32, `the furthest bit from half is ${worst} of ${n} away`);
  t.end();
});

void t.test('serial numbers from it are 16 bytes and never zero', (t) => {
  const random = randomSource();
  for (let i = 0; i < 1000; i++) {
    const serial = randomSerial(random);
    t.equal(serial.length, 16);
    t.ok(serial.some((b) => b !== 0));
  }
  t.end();
});

void t.test('a block size outside 1 to 65,536 bytes is refused with a sentence', (t) => {
  for (const size of [0, -1, 1.5, 65_537, Number.NaN]) {
    t.throws(() => randomSource(size), /a random block holds 1 to 65,536 bytes/, String(size));
  }
  t.end();
});
