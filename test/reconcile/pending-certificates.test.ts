/**
 * The certificates awaiting word of their delivery: by CSR name, removed when
 * resolved, and bounded (the oldest is given up and handed back).
 */
import t from 'tap';
import { PendingCertificates, type PendingCertificate } from '../../src/reconcile/pending-certificates.js';

const entry = (name: string): PendingCertificate => ({ csr: { metadata: { name } } }) as unknown as PendingCertificate;

void t.test('entries are found by CSR name and leave when removed', (t) => {
  const pending = new PendingCertificates(10);
  const [a1, a2, b] = [entry('a'), entry('a'), entry('b')];
  for (const e of [a1, a2, b]) t.equal(pending.add(e), undefined);
  t.same(pending.forName('a'), [a1, a2]);
  pending.remove(a1);
  t.same(pending.forName('a'), [a2]);
  pending.remove(a2);
  t.same(pending.forName('a'), []);
  t.equal(pending.size, 1);
  t.end();
});

void t.test('past the bound the oldest entry is given up and returned', (t) => {
  const pending = new PendingCertificates(2);
  const [first, second, third] = [entry('a'), entry('b'), entry('a')];
  pending.add(first);
  pending.add(second);
  t.equal(pending.add(third), first);
  t.equal(pending.size, 2);
  t.same(pending.forName('a'), [third]);
  t.end();
});
