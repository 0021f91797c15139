/**
 * devapi's persistence: a snapshot plus an append-only log of changes. What a stop keeps,
 * what a kill (no stop) keeps, versions that keep increasing, and a torn last line.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { readBoundedText } from '../../../src/files.js';
import { Store } from '../../../devapi/storage/store.js';
import { tempDir } from '../../helpers/tools.js';
import { until } from '../../helpers/wait.js';

const csr = (name: string, signerName = 'example.com/a'): Record<string, unknown> => ({ metadata: { name }, spec: { signerName }, status: {} });
const names = (store: Store): string[] => store.list('certificatesigningrequests').map((o) => o.metadata.name);
/** Waits until the log holds `lines` lines: the periodic write, without flush (as if killed right after). */
async function logged(file: string, lines: number): Promise<void> {
  await until(() => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').length >= lines, { what: `${lines} lines in ${file}`, ms: 10_000 });
}

void t.test('a stop (flush) keeps every object and the version counter, and leaves the log empty', (t) => {
  const file = join(tempDir('devapi-store-'), 'state.json');
  const store = new Store({ stateFile: file, readText: readBoundedText });
  store.create('certificatesigningrequests', csr('a'));
  const b = store.create('certificatesigningrequests', csr('b'));
  store.replace('certificatesigningrequests', { ...b, status: { conditions: [{ type: 'Failed', status: 'True' }] } });
  store.delete('certificatesigningrequests', undefined, 'a');
  const rv = store.resourceVersion;
  store.flush();
  t.equal(readFileSync(join(file, '..', 'state.log'), 'utf8'), '', 'the log is folded into the snapshot');
  const again = new Store({ stateFile: file, readText: readBoundedText });
  t.same(names(again), ['b']);
  t.same(again.get('certificatesigningrequests', undefined, 'b')?.status, { conditions: [{ type: 'Failed', status: 'True' }] });
  t.equal(again.resourceVersion, rv);
  t.ok(Number(again.create('certificatesigningrequests', csr('c')).metadata.resourceVersion) > rv, 'versions keep increasing');
  again.flush();
  t.end();
});

void t.test('without a stop, changes written by the periodic log write survive; deletes too', async (t) => {
  const file = join(tempDir('devapi-store-'), 'state.json');
  const log = join(file, '..', 'state.log');
  const store = new Store({ stateFile: file, readText: readBoundedText, persistIntervalMs: 1 });
  store.create('certificatesigningrequests', csr('a'));
  store.create('certificatesigningrequests', csr('b'));
  store.delete('certificatesigningrequests', undefined, 'a');
  const modified = store.replace('certificatesigningrequests', { ...store.get('certificatesigningrequests', undefined, 'b')!, spec: { signerName: 'example.com/z' } });
  await logged(log, 4);
  // No flush: a new store reads the state as a process killed now would leave it.
  const again = new Store({ stateFile: file, readText: readBoundedText });
  t.same(names(again), ['b']);
  t.same(again.get('certificatesigningrequests', undefined, 'b'), modified, 'the last version of each object, uid and all');
  t.equal(again.resourceVersion, store.resourceVersion);
  t.equal(readFileSync(log, 'utf8'), '', 'loading folds the log into the snapshot');
  again.flush();
  store.flush();
});

void t.test('a torn last log line (a kill in the middle of a write) is ignored; damage before it is reported', (t) => {
  const dir = tempDir('devapi-store-');
  const file = join(dir, 'state.json');
  const store = new Store({ stateFile: file, readText: readBoundedText });
  store.create('certificatesigningrequests', csr('kept'));
  store.flush();
  const line = (rv: number, name: string): string => `${JSON.stringify({ rv, type: 'ADDED', resource: 'certificatesigningrequests', object: { metadata: { name, uid: name, resourceVersion: String(rv), creationTimestamp: '2026-11-28T00:00:00Z' } } })}\n`;
  appendFileSync(join(dir, 'state.log'), `${line(100, 'whole')}{"rv":101,"type":"ADD`);
  const again = new Store({ stateFile: file, readText: readBoundedText });
  t.same(names(again), ['kept', 'whole']);
  t.equal(again.resourceVersion, 100);
  writeFileSync(join(dir, 'state.log'), `{"rv":200,"ty\n${line(201, 'after')}`);
  t.throws(() => new Store({ stateFile: file, readText: readBoundedText }), /state\.log line 1 is not JSON/);
  t.end();
});

void t.test('log lines the snapshot already holds (a kill between snapshot and log reset) are skipped', (t) => {
  const dir = tempDir('devapi-store-');
  const file = join(dir, 'state.json');
  const store = new Store({ stateFile: file, readText: readBoundedText });
  const a = store.create('certificatesigningrequests', csr('a'));
  store.flush();
  const stale = { rv: Number(a.metadata.resourceVersion), type: 'DELETED', resource: 'certificatesigningrequests', object: a };
  writeFileSync(join(dir, 'state.log'), `${JSON.stringify(stale)}\n`);
  t.same(names(new Store({ stateFile: file, readText: readBoundedText })), ['a']);
  t.end();
});

void t.test('listAt reads a resource as it was at an earlier version, until that version is compacted', (t) => {
  const store = new Store();
  store.create('certificatesigningrequests', csr('a'));
  const b = store.create('certificatesigningrequests', csr('b'));
  const at = store.resourceVersion;
  store.replace('certificatesigningrequests', { ...b, spec: { signerName: 'example.com/z' } });
  store.delete('certificatesigningrequests', undefined, 'a');
  store.create('certificatesigningrequests', csr('c'));
  store.create('leases', { metadata: { name: 'other', namespace: 'x' } });
  const then = store.listAt('certificatesigningrequests', undefined, at);
  t.same(then?.map((o) => [o.metadata.name, o.metadata.resourceVersion, (o.spec as { signerName: string }).signerName]), [['a', '1', 'example.com/a'], ['b', '2', 'example.com/a']]);
  t.same(store.listAt('certificatesigningrequests', undefined, store.resourceVersion)?.map((o) => o.metadata.name), ['b', 'c'], 'now');
  store.compact();
  t.equal(store.listAt('certificatesigningrequests', undefined, at), undefined, 'compacted: gone');
  t.end();
});

void t.test('replace stores nothing when the object would be stored as it is', (t) => {
  const store = new Store();
  const a = store.create('certificatesigningrequests', csr('a'));
  const events: string[] = [];
  store.subscribe((c) => events.push(`${c.type} ${c.rv}`));
  t.equal(store.replace('certificatesigningrequests', { ...a, status: {}, spec: { signerName: 'example.com/a' } }), a, 'the stored object comes back');
  t.equal(store.resourceVersion, 1);
  const changed = store.replace('certificatesigningrequests', { ...a, status: { conditions: [] } });
  t.equal(changed.metadata.resourceVersion, '2');
  t.same(events, ['MODIFIED 2']);
  t.end();
});
