/** etcd's key order: strings compared by their UTF-8 bytes, and objects sorted by namespace/name in it. */
import fc from 'fast-check';
import t from 'tap';
import { byKeyOrder, compareBytes } from '../../../devapi/storage/key-order.js';
import type { KubeObject } from '../../../devapi/storage/kube-object.js';

const sign = (n: number): number => Math.sign(n);
const bytes = (a: string, b: string): number => sign(Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));

void t.test('compares as the UTF-8 bytes compare, surrogate pairs included', (t) => {
  for (const [a, b] of [['B1', 'a1'], ['Zed', 'a1'], ['a-b/x', 'a/x'], ['a', 'ab'], ['\uffff', '\u{10000}'], ['\ue000', '\ud800\udc00'], ['x', 'x']] as const) {
    t.equal(sign(compareBytes(a, b)), bytes(a, b), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
  fc.assert(fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (a, b) => sign(compareBytes(a, b)) === bytes(a, b)));
  t.end();
});

void t.test('sorts objects by namespace/name, or by name when cluster-scoped', (t) => {
  const object = (name: string, namespace?: string): KubeObject => ({ metadata: { name, ...(namespace === undefined ? {} : { namespace }), uid: name, resourceVersion: '1', creationTimestamp: '' } });
  t.same(byKeyOrder([object('a1'), object('Zed'), object('b2'), object('B1')]).map((o) => o.metadata.name), ['B1', 'Zed', 'a1', 'b2']);
  t.same(byKeyOrder([object('x', 'a'), object('x', 'a-b'), object('a', 'b')]).map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`), ['a-b/x', 'a/x', 'b/a']);
  t.end();
});
