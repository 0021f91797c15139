/**
 * The PodDisruptionBudget: maxUnavailable 1 when neither bound is set, either bound on its
 * own (0 included), never both, and the unhealthy-pod eviction policy.
 */
import t from 'tap';
import { find, renderChart, TemplateError, type Values } from './render.js';

const spec = (podDisruptionBudget: Values): Record<string, unknown> => {
  const s = { ...(find(renderChart({ values: { podDisruptionBudget } }).manifests, 'PodDisruptionBudget').spec as Record<string, unknown>) };
  delete s.selector;
  return s;
};

void t.test('each setting renders the budget it says', (t) => {
  const cases: [string, Values, Record<string, unknown>][] = [
    ['neither set: maxUnavailable 1, unhealthy pods always evictable', {}, { maxUnavailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
    ['minAvailable alone', { minAvailable: 1 }, { minAvailable: 1, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
    ['maxUnavailable 0 stays 0 (every eviction blocked)', { maxUnavailable: 0 }, { maxUnavailable: 0, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
    ['minAvailable 0', { minAvailable: 0 }, { minAvailable: 0, unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
    ['a percentage stays a string', { maxUnavailable: '50%' }, { maxUnavailable: '50%', unhealthyPodEvictionPolicy: 'AlwaysAllow' }],
    ['the cluster\'s own eviction policy', { maxUnavailable: 2, unhealthyPodEvictionPolicy: 'IfHealthyBudget' }, { maxUnavailable: 2, unhealthyPodEvictionPolicy: 'IfHealthyBudget' }],
    ['no eviction policy (null): the field is left out', { unhealthyPodEvictionPolicy: null }, { maxUnavailable: 1 }],
  ];
  for (const [name, values, want] of cases) t.same(spec(values), want, name);
  t.end();
});

void t.test('both bounds are refused; enabled: false renders none', (t) => {
  t.throws(() => renderChart({ values: { podDisruptionBudget: { minAvailable: 1, maxUnavailable: 1 } } }), { constructor: TemplateError, message: /set minAvailable or maxUnavailable, not both/ });
  t.throws(() => renderChart({ values: { podDisruptionBudget: { minAvailable: 0, maxUnavailable: 0 } } }), { constructor: TemplateError, message: /not both/ }, 'zeros count as set');
  t.notOk(renderChart({ values: { podDisruptionBudget: { enabled: false } } }).manifests.some((m) => m.kind === 'PodDisruptionBudget'));
  t.end();
});
