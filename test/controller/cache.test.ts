/**
 * The watches' cache: an older object never replaces a newer one, and a write path's
 * `update` replaces only what is still cached, never bringing a deleted object back.
 */
import t from 'tap';
import { ObjectCache } from '../../src/controller/cache.js';

interface Thing { metadata: { name: string; namespace?: string; resourceVersion?: string } }
const thing = (name: string, resourceVersion: string, namespace?: string): Thing => ({ metadata: { name, resourceVersion, ...(namespace ? { namespace } : {}) } });

void t.test('set keeps the newer resourceVersion', (t) => {
  const cache = new ObjectCache<Thing>();
  t.ok(cache.set(thing('a', '10')));
  t.notOk(cache.set(thing('a', '9')), 'older refused');
  t.ok(cache.set(thing('a', '11')));
  t.equal(cache.get('a')?.metadata.resourceVersion, '11');
  t.end();
});

void t.test('update never adds: an object deleted while a write was in flight stays deleted', (t) => {
  const cache = new ObjectCache<Thing>();
  t.notOk(cache.update(thing('a', '5', 'shop')), 'absent: not stored');
  t.equal(cache.size, 0);
  cache.set(thing('a', '5', 'shop'));
  t.ok(cache.update(thing('a', '6', 'shop')), 'cached: replaced');
  t.notOk(cache.update(thing('a', '4', 'shop')), 'older: refused');
  t.equal(cache.get('shop/a')?.metadata.resourceVersion, '6');
  cache.delete('shop/a');
  t.notOk(cache.update(thing('a', '7', 'shop')));
  t.equal(cache.get('shop/a'), undefined);
  t.end();
});
