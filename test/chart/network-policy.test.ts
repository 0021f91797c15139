/**
 * The opt-in NetworkPolicy: ingress only to the metrics port from the configured
 * sources, egress only to the API server's given addresses (NetworkPolicy cannot name
 * it, so the chart refuses to render without them), DNS only when asked.
 */
import t from 'tap';
import { find, renderChart, TemplateError, type Values } from './render.js';

interface Spec { podSelector: unknown; policyTypes: string[]; ingress: unknown[]; egress: unknown[] }
const specOf = (networkPolicy: Values): Spec => find(renderChart({ values: { networkPolicy } }).manifests, 'NetworkPolicy').spec as Spec;
const apiServer = { cidrs: ['10.0.0.10/32', '10.0.0.11/32'] };
const toApiServer = {
  to: [{ ipBlock: { cidr: '10.0.0.10/32' } }, { ipBlock: { cidr: '10.0.0.11/32' } }],
  ports: [{ port: 443, protocol: 'TCP' }, { port: 6443, protocol: 'TCP' }],
};

void t.test('none by default; enabled without the API server\'s addresses is refused', (t) => {
  t.notOk(renderChart().manifests.some((m) => m.kind === 'NetworkPolicy'));
  t.throws(() => renderChart({ values: { networkPolicy: { enabled: true } } }), { constructor: TemplateError, message: /networkPolicy\.egress\.apiServer\.cidrs is required: NetworkPolicy cannot name the API server/ });
  t.end();
});

void t.test('with only the API server: no ingress, egress to its addresses and ports only', (t) => {
  const spec = specOf({ enabled: true, egress: { apiServer } });
  t.same(spec.podSelector, { matchLabels: { 'app.kubernetes.io/name': 'csr-signer', 'app.kubernetes.io/instance': 'csr-signer' } });
  t.same(spec.policyTypes, ['Ingress', 'Egress']);
  t.same(spec.ingress, [], 'no source: nothing may connect (the probes come from the node)');
  t.same(spec.egress, [toApiServer]);
  t.end();
});

void t.test('sources, DNS and extra rules when given', (t) => {
  const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
  const proxy = { to: [{ ipBlock: { cidr: '192.0.2.1/32' } }], ports: [{ port: 3128, protocol: 'TCP' }] };
  const spec = specOf({ enabled: true, ingress: { from: [monitoring] }, egress: { apiServer: { ...apiServer, ports: [6443] }, dns: true, extra: [proxy] } });
  t.same(spec.ingress, [{ from: [monitoring], ports: [{ port: 'metrics', protocol: 'TCP' }] }], 'the metrics port, from Prometheus\'s namespace only');
  t.same(spec.egress, [
    { ...toApiServer, ports: [{ port: 6443, protocol: 'TCP' }] },
    {
      to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }],
      ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }],
    },
    proxy,
  ]);
  t.end();
});
