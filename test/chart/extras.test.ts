/**
 * What an operator adds to the chart: volumes and mounts of their own (an encrypted CA
 * key's passphrase, a trust file from elsewhere), passed to the signer as
 * ca.passphraseFile and ca.trustFile; and extraObjects, rendered with tpl.
 */
import t from 'tap';
import { loadRunConfig } from '../../src/config/index.js';
import { find, renderChart, TemplateError, type Manifest, type Values } from './render.js';

/** A custom signer must bound its names (it refuses to start otherwise): the chart's own default policy. */
const policy = { dnsNames: ['*.{namespace}.svc', '*.{namespace}.svc.cluster.local'], ipRanges: [] };

interface Pod {
  volumes: { name: string }[];
  containers: { args: string[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
}
const podOf = (manifests: readonly Manifest[]): Pod => (find(manifests, 'Deployment') as unknown as { spec: { template: { spec: Pod } } }).spec.template.spec;

const passphrase: Values = {
  signers: [{ name: 'example.com/serving', policy, ca: { existingSecret: 'serving-ca', passphraseFile: '/etc/csr-signer/passphrase/passphrase' } }],
  volumes: [{ name: 'ca-passphrase', secret: { secretName: 'serving-ca-passphrase', defaultMode: 288 } }],
  volumeMounts: [{ name: 'ca-passphrase', mountPath: '/etc/csr-signer/passphrase', readOnly: true }],
};

void t.test('an encrypted CA key: the passphrase Secret is mounted and passed as ca.passphraseFile', (t) => {
  const { manifests } = renderChart({ values: passphrase, namespace: 'certs' });
  const pod = podOf(manifests);
  t.same(pod.volumes.map((v) => v.name), ['config', 'ca-0', 'ca-passphrase'], 'the chart\'s volumes, then the operator\'s');
  t.same(pod.containers[0]?.volumeMounts.at(-1), { name: 'ca-passphrase', mountPath: '/etc/csr-signer/passphrase', readOnly: true });
  const file = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] ?? '';
  const config = loadRunConfig(pod.containers[0]?.args.slice(1) ?? [], { POD_NAMESPACE: 'certs' }, () => file);
  t.equal(config.signers[0]?.ca?.passphraseFile, '/etc/csr-signer/passphrase/passphrase', 'the signer reads the passphrase from the mount');
  t.end();
});

void t.test('a trust file from another volume is passed as ca.trustFile; trustKey and trustFile together are refused', (t) => {
  const values: Values = {
    signers: [{ name: 'example.com/serving', policy, ca: { existingSecret: 'serving-ca', trustFile: '/etc/csr-signer/next/ca.crt' } }],
    volumes: [{ name: 'next-ca', configMap: { name: 'next-ca' } }],
    volumeMounts: [{ name: 'next-ca', mountPath: '/etc/csr-signer/next', readOnly: true }],
  };
  const { manifests } = renderChart({ values, namespace: 'certs' });
  const file = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] ?? '';
  const config = loadRunConfig(podOf(manifests).containers[0]?.args.slice(1) ?? [], { POD_NAMESPACE: 'certs' }, () => file);
  t.equal(config.signers[0]?.ca?.trustFile, '/etc/csr-signer/next/ca.crt');
  t.throws(() => renderChart({ values: { signers: [{ name: 'example.com/serving', policy, ca: { existingSecret: 's', trustKey: 'next.crt', trustFile: '/x' } }] } }),
    { constructor: TemplateError, message: /signers\[0\]\.ca: set trustKey or trustFile, not both/ });
  t.end();
});

void t.test('extraObjects: maps and strings, rendered with tpl', (t) => {
  const values: Values = {
    extraObjects: [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'serving-ca-passphrase', namespace: '{{ .Release.Namespace }}', labels: { app: '{{ include "csr-signer.name" . }}' } }, stringData: { passphrase: 'x' } },
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ include "csr-signer.fullname" . }}-extra\ndata:\n  replicas: "{{ .Values.replicaCount }}"\n',
    ],
  };
  const { manifests } = renderChart({ values, namespace: 'certs', releaseName: 'pki' });
  t.match(find(manifests, 'Secret', 'serving-ca-passphrase'), { metadata: { namespace: 'certs', labels: { app: 'csr-signer' } }, stringData: { passphrase: 'x' } });
  t.match(find(manifests, 'ConfigMap', 'pki-csr-signer-extra'), { data: { replicas: '2' } });
  t.same(renderChart().manifests.filter((m) => m.metadata.name.endsWith('-extra')), [], 'none by default');
  t.end();
});
