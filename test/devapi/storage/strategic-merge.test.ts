/**
 * Strategic merge patch over the Node's merge lists (strategicpatch mergeMap/mergeSlice): addresses and
 * conditions merge by type, a new element is appended, `$patch: delete` removes one, `$setElementOrder`
 * orders, scalar sets union and `$deleteFromPrimitiveList` removes; lists without a strategy are replaced.
 */
import t from 'tap';
import { NODE_MERGE_STRATEGIES } from '../../../devapi/resources/nodes.js';
import { applyStrategicMergePatch } from '../../../devapi/storage/strategic-merge.js';

const node = {
  metadata: { name: 'w', finalizers: ['a'] },
  spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'k', effect: 'NoSchedule' }] },
  status: {
    addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'w' }],
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
  },
};
const patch = (p: unknown): unknown => applyStrategicMergePatch(node, p, NODE_MERGE_STRATEGIES);

void t.test('what each patch makes of the Node', (t) => {
  const cases: [string, unknown, (n: typeof node) => unknown, unknown][] = [
    ['an address of a known type is merged into it', { status: { addresses: [{ type: 'InternalIP', address: '10.0.0.9' }] } }, (n) => n.status.addresses,
      [{ type: 'InternalIP', address: '10.0.0.9' }, { type: 'Hostname', address: 'w' }]],
    ['an address of a new type is appended', { status: { addresses: [{ type: 'ExternalIP', address: '1.2.3.4' }] } }, (n) => n.status.addresses,
      [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'w' }, { type: 'ExternalIP', address: '1.2.3.4' }]],
    ['$patch: delete removes the element with that key', { status: { addresses: [{ type: 'Hostname', $patch: 'delete' }] } }, (n) => n.status.addresses,
      [{ type: 'InternalIP', address: '10.0.0.1' }]],
    ['$setElementOrder orders the merged list', { status: { '$setElementOrder/addresses': [{ type: 'Hostname' }, { type: 'InternalIP' }] } },
      (n) => n.status.addresses, [{ type: 'Hostname', address: 'w' }, { type: 'InternalIP', address: '10.0.0.1' }]],
    ['a condition merges field by field', { status: { conditions: [{ type: 'Ready', status: 'False' }] } }, (n) => n.status.conditions,
      [{ type: 'Ready', status: 'False', reason: 'KubeletReady' }]],
    ['a scalar set is a union', { spec: { podCIDRs: ['10.0.0.0/24', 'fd00::/64'] } }, (n) => n.spec.podCIDRs, ['10.0.0.0/24', 'fd00::/64']],
    ['$deleteFromPrimitiveList removes scalars', { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, (n) => n.metadata.finalizers, []],
    ['a list without a strategy is replaced', { spec: { taints: [] } }, (n) => n.spec.taints, []],
    ['null deletes a field', { status: { conditions: null } }, (n) => n.status.conditions, undefined],
  ];
  for (const [name, p, pick, want] of cases) t.same(pick(patch(p) as typeof node), want, name);
  t.same(node.status.addresses.length, 2, 'the stored object is not changed');
  t.end();
});

void t.test('an element without the merge key is 400, as upstream refuses it', (t) => {
  t.throws(() => patch({ status: { addresses: [{ address: '10.0.0.1' }] } }), { code: 400, message: /does not contain declared merge key: type/ });
  t.end();
});
