/** matchesSelector: metav1.LabelSelector as the API server applies it; every term must hold. */
import t from 'tap';
import { matchesSelector } from '../../src/signer/label-selector.js';
import type { LabelSelector } from '../../src/signer/types.js';

const prod = { team: 'payments', env: 'prod' };

const cases: [string, LabelSelector | undefined, Record<string, string> | undefined, boolean][] = [
  ['no selector matches every namespace', undefined, prod, true],
  ['no selector matches a namespace without labels', undefined, undefined, true],
  ['an empty selector matches everything', {}, prod, true],
  ['an empty selector matches a namespace without labels', {}, undefined, true],
  ['matchLabels matches when every pair is present', { matchLabels: { env: 'prod', team: 'payments' } }, prod, true],
  ['matchLabels refuses when one value differs', { matchLabels: { env: 'prod', team: 'search' } }, prod, false],
  ['matchLabels refuses when a key is absent', { matchLabels: { tier: 'web' } }, prod, false],
  ['matchLabels refuses a namespace without labels', { matchLabels: { env: 'prod' } }, undefined, false],
  ['matchLabels does not take an inherited property for a label', { matchLabels: { constructor: 'x' } }, {}, false],
  ['In matches a value in the set', { matchExpressions: [{ key: 'env', operator: 'In', values: ['staging', 'prod'] }] }, prod, true],
  ['In refuses a value outside the set', { matchExpressions: [{ key: 'env', operator: 'In', values: ['staging'] }] }, prod, false],
  ['In refuses when the key is absent', { matchExpressions: [{ key: 'tier', operator: 'In', values: ['web'] }] }, prod, false],
  ['In refuses a namespace without labels', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, undefined, false],
  ['NotIn refuses a value in the set', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, prod, false],
  ['NotIn matches a value outside the set', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['dev'] }] }, prod, true],
  ['NotIn matches when the key is absent', { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['web'] }] }, prod, true],
  ['NotIn matches a namespace without labels', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, undefined, true],
  ['Exists matches a present key, whatever its value', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, prod, true],
  ['Exists matches a present key with an empty value', { matchExpressions: [{ key: 'team', operator: 'Exists' }] }, { team: '' }, true],
  ['Exists refuses an absent key', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, prod, false],
  ['Exists does not take an inherited property for a label', { matchExpressions: [{ key: 'toString', operator: 'Exists' }] }, {}, false],
  ['DoesNotExist matches an absent key', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, prod, true],
  ['DoesNotExist refuses a present key', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, prod, false],
  ['DoesNotExist matches a namespace without labels', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, undefined, true],
  ['matchLabels and matchExpressions must both hold', { matchLabels: { team: 'payments' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['dev'] }] }, prod, false],
  ['every expression must hold', {
    matchExpressions: [{ key: 'team', operator: 'Exists' }, { key: 'env', operator: 'NotIn', values: ['dev'] }, { key: 'tier', operator: 'DoesNotExist' }],
  }, prod, true],
];

for (const [name, selector, labels, want] of cases) {
  void t.test(name, (t) => {
    t.equal(matchesSelector(selector, labels), want);
    t.end();
  });
}
