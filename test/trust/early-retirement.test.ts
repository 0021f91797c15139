/** Which CAs left a trust bundle while certificates they signed are still valid. */
import t from 'tap';
import { retiredEarly } from '../../src/trust/early-retirement.js';
import type { CaIssuance } from '../../src/trust/rotation-record.js';

const now = new Date('2030-01-01T00:00:00Z');
const later = new Date('2030-02-01T00:00:00Z');
const earlier = new Date('2029-12-01T00:00:00Z');
const issued = (signer: string, notAfter: Date): CaIssuance => ({ signer, subject: `CN=${signer} CA`, notAfter });

void t.test('a CA that left with certificates still valid is reported; the others are not', (t) => {
  const latest = new Map<string, CaIssuance>([
    ['old', issued('example.com/serving', later)],
    ['expired', issued('example.com/serving', earlier)],
    ['other-signer', issued('example.com/other', later)],
    ['stays', issued('example.com/serving', later)],
  ]);
  const before = new Set(['old', 'expired', 'other-signer', 'stays', 'never-used']);
  const after = new Set(['stays', 'new']);
  t.same(retiredEarly('example.com/serving', before, after, latest, now), [{ ca: 'old', issued: issued('example.com/serving', later) }]);
  t.end();
});

void t.test('NotAfter exactly now counts as no longer valid', (t) => {
  t.same(retiredEarly('s', new Set(['a']), new Set(), new Map([['a', issued('s', now)]]), now), []);
  t.end();
});
