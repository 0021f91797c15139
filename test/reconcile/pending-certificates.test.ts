/**
 * The certificates awaiting word of their delivery: by CSR name, removed when
 * resolved, and bounded (the oldest is given up and handed back).
 */
import t from 'tap';
import { KubeApiError } from '../../src/kube/http.js';
import { PendingCertificates, PendingWrites, type PendingCertificate } from '../../src/reconcile/pending-certificates.js';

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

void t.test('settleAll: each key read once; a 404 settles as gone, another error gives its entries up as unknown, what stays undecided is abandoned', async (t) => {
  type W = { key: string; id: string };
  const pending = new PendingWrites<W>(10, (w) => w.key);
  const [seen1, seen2, gone, broken, decided] = [
    { key: 'seen', id: 's1' }, { key: 'seen', id: 's2' }, { key: 'gone', id: 'g' }, { key: 'broken', id: 'b' }, { key: 'decided', id: 'd' },
  ];
  for (const w of [seen1, seen2, gone, broken, decided]) pending.add(w);
  const broke = new KubeApiError(500, 'InternalError', 'boom', undefined);
  const calls: string[] = [];
  await pending.settleAll<string>({
    read: (key) => {
      calls.push(`read ${key}`);
      if (key === 'gone') return Promise.reject(new KubeApiError(404, 'NotFound', 'gone', undefined));
      if (key === 'broken') return Promise.reject(broke);
      return Promise.resolve(`${key}-object`);
    },
    settle: (key, current) => {
      calls.push(`settle ${key} ${current ?? 'undefined'}`);
      // The caller's settle resolves what the object decides: here the first of 'seen' and all of 'decided'.
      for (const w of pending.forName(key)) if (w === seen1 || w === decided) pending.remove(w);
    },
    unknown: (w, err) => calls.push(`unknown ${w.id} ${err === broke ? 'broke' : String(err)}`),
    abandoned: (w) => calls.push(`abandoned ${w.id}`),
  });
  t.same(calls, [
    'read seen', 'settle seen seen-object', 'abandoned s2',
    'read gone', 'settle gone undefined', 'abandoned g',
    'read broken', 'unknown b broke',
    'read decided', 'settle decided decided-object',
  ]);
  t.equal(pending.size, 0);
});
