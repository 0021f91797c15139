/**
 * The Deployment the chart renders: probes, ports, the hardened security context, the
 * CA Secret mount, and arguments plus config file that `csr-signer run` itself accepts
 * (loadRunConfig reads them as the container would).
 */
import t from 'tap';
import { loadRunConfig } from '../../src/config/index.js';
import { find, renderChart, type Manifest, type Values } from './render.js';

interface Container {
  name: string; image: string; args: string[]; ports: { name: string; containerPort: number; protocol: string }[];
  livenessProbe: Record<string, unknown>; readinessProbe: Record<string, unknown>; resources: { requests?: object; limits?: object };
  securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  env: { name: string }[];
}
interface PodSpec {
  containers: Container[]; securityContext: Record<string, unknown>; terminationGracePeriodSeconds: number;
  volumes: { name: string; secret?: { secretName: string; defaultMode: number; items: unknown[] }; configMap?: { name: string } }[];
  topologySpreadConstraints: { topologyKey: string; maxSkew: number; labelSelector: { matchLabels: Record<string, string> } }[];
  serviceAccountName: string; nodeSelector?: Record<string, string>; tolerations?: unknown[]; affinity?: unknown; priorityClassName?: string;
}
interface DeploymentShape { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { annotations: Record<string, string>; labels: Record<string, string> }; spec: PodSpec } } }

function deploymentOf(manifests: readonly Manifest[]): { d: DeploymentShape; pod: PodSpec; c: Container } {
  const d = find(manifests, 'Deployment') as unknown as DeploymentShape;
  const pod = d.spec.template.spec;
  return { d, pod, c: pod.containers[0] as Container };
}

void t.test('two replicas, spread across nodes, selected by stable labels', (t) => {
  const { d, pod } = deploymentOf(renderChart().manifests);
  t.equal(d.spec.replicas, 2);
  t.same(d.spec.selector.matchLabels, { 'app.kubernetes.io/name': 'csr-signer', 'app.kubernetes.io/instance': 'csr-signer' });
  t.match(d.spec.template.metadata.labels, d.spec.selector.matchLabels);
  t.same(pod.topologySpreadConstraints, [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: d.spec.selector.matchLabels } }]);
  t.equal(pod.serviceAccountName, 'csr-signer');
  t.end();
});

void t.test('probes hit /livez and /readyz on the named metrics port, which the Service exposes', (t) => {
  const { manifests } = renderChart();
  const { c } = deploymentOf(manifests);
  t.same(c.ports, [{ name: 'metrics', containerPort: 8080, protocol: 'TCP' }]);
  t.match(c.livenessProbe, { httpGet: { path: '/livez', port: 'metrics' }, periodSeconds: 10, failureThreshold: 3 });
  t.match(c.readinessProbe, { httpGet: { path: '/readyz', port: 'metrics' } });
  t.ok(c.args.includes('--http-address=:8080'), 'the signer listens where the probes look');
  const service = find(manifests, 'Service');
  t.same((service.spec as { ports: unknown[] }).ports, [{ name: 'metrics', port: 8080, targetPort: 'metrics', protocol: 'TCP' }]);
  t.end();
});

void t.test('the security context is hardened', (t) => {
  const { pod, c } = deploymentOf(renderChart().manifests);
  t.same(pod.securityContext, { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, fsGroup: 65532, seccompProfile: { type: 'RuntimeDefault' } });
  t.same(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, privileged: false, capabilities: { drop: ['ALL'] } });
  t.ok(c.resources.requests && c.resources.limits, 'resource requests and limits');
  t.end();
});

void t.test('each CA Secret is mounted read-only with mode 0440 for the fsGroup', (t) => {
  const values: Values = { signers: [{ name: 'example.com/a', ca: { existingSecret: 'a-ca' } }, { name: 'example.com/b', ca: { existingSecret: 'b-ca' } }] };
  const { pod, c } = deploymentOf(renderChart({ values }).manifests);
  const secrets = pod.volumes.filter((v) => v.secret);
  t.same(secrets.map((v) => [v.name, v.secret?.secretName, v.secret?.defaultMode]), [['ca-0', 'a-ca', 0o440], ['ca-1', 'b-ca', 0o440]]);
  t.same(c.volumeMounts, [
    { name: 'config', mountPath: '/etc/csr-signer/config', readOnly: true },
    { name: 'ca-0', mountPath: '/etc/csr-signer/ca/0', readOnly: true },
    { name: 'ca-1', mountPath: '/etc/csr-signer/ca/1', readOnly: true },
  ]);
  t.end();
});

void t.test('csr-signer run accepts the rendered arguments and config file', (t) => {
  const values: Values = {
    signers: [
      { name: 'example.com/serving', ca: { existingSecret: 'serving-ca' }, duration: { default: '720h', max: '2160h', min: '1h' }, usages: { allowed: ['digital signature', 'server auth'], required: ['server auth'] }, keyTypes: ['ecdsa-p256'], includeChain: true, policy: { dnsNames: ['*.{namespace}.svc'], ipRanges: [], commonName: 'dns-name', requesters: { groups: ['system:serviceaccounts'] } } },
      { name: 'kubernetes.io/kubelet-serving', ca: { existingSecret: 'kubelet-ca' }, duration: { max: '720h' } },
    ],
    extraArgs: ['--workers=3'],
    logLevel: 'debug',
  };
  const { manifests } = renderChart({ values, namespace: 'pki' });
  const { c, pod } = deploymentOf(manifests);
  t.equal(c.args[0], 'run');
  const configFile = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] as string;
  const files: Record<string, string> = { '/etc/csr-signer/config/signers.yaml': configFile };
  const config = loadRunConfig(c.args.slice(1), { POD_NAMESPACE: 'pki' }, (path) => {
    const text = files[path];
    if (text === undefined) throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
    return text;
  });
  t.same(config.signers.map((s) => s.name), ['example.com/serving', 'kubernetes.io/kubelet-serving']);
  t.match(config.signers[0], { ca: { certFile: '/etc/csr-signer/ca/0/tls.crt', keyFile: '/etc/csr-signer/ca/0/tls.key' }, includeChain: true });
  t.match(config, { workers: 3, logLevel: 'debug', shutdownTimeoutMs: 30_000, leaderElection: { enabled: true, resourceName: 'csr-signer', resourceNamespace: 'pki' } });
  t.ok(pod.terminationGracePeriodSeconds * 1000 > config.shutdownTimeoutMs, 'the grace period outlasts the shutdown timeout');
  t.end();
});

void t.test("a signer's trust targets and trust key reach csr-signer run as ca.trustFile and trust:", (t) => {
  const trust = {
    configMap: { name: 'serving-ca', key: 'bundle.pem', namespaceSelector: { matchLabels: { 'serving-ca': 'true' }, matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] } },
    clusterTrustBundle: { labels: { 'trust.example.com/bundle': 'serving' } },
  };
  const values: Values = {
    signers: [
      { name: 'example.com/serving', ca: { existingSecret: 'serving-ca', trustKey: 'next.crt' }, trust, policy: { unrestricted: true } },
      { name: 'example.com/client', ca: { existingSecret: 'client-ca' }, trust: { clusterTrustBundle: {} }, policy: { unrestricted: true } },
    ],
  };
  const { manifests } = renderChart({ values, namespace: 'pki' });
  const { c, pod } = deploymentOf(manifests);
  const secrets = pod.volumes.filter((v) => v.secret);
  t.same(secrets.map((v) => [v.secret?.defaultMode, v.secret?.items]), [
    [0o440, [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }, { key: 'next.crt', path: 'trust.crt' }]],
    [0o440, [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }]],
  ], 'the trust key is mounted as trust.crt beside the pair, with the same 0440 mode; only where given');
  const configFile = (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] as string;
  const config = loadRunConfig(c.args.slice(1), { POD_NAMESPACE: 'pki' }, (path) => {
    if (path === '/etc/csr-signer/config/signers.yaml') return configFile;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  });
  t.same(config.signers[0]?.ca, { certFile: '/etc/csr-signer/ca/0/tls.crt', keyFile: '/etc/csr-signer/ca/0/tls.key', trustFile: '/etc/csr-signer/ca/0/trust.crt' });
  t.same(config.signers[0]?.trust, { ...trust, clusterTrustBundle: { name: 'example.com:serving:csr-signer', labels: trust.clusterTrustBundle.labels } }, 'read by the real loader');
  t.same(config.signers[1]?.ca, { certFile: '/etc/csr-signer/ca/1/tls.crt', keyFile: '/etc/csr-signer/ca/1/tls.key' }, 'no trustFile without a trust key');
  t.same(config.signers[1]?.trust, { clusterTrustBundle: { name: 'example.com:client:csr-signer', labels: {} } });
  t.same(config.rotationRecord, { namespace: 'pki', name: 'csr-signer-rotation' }, 'the rotation record is on by default, in the release namespace');
  t.end();
});

void t.test('the config checksum changes with the signers, so pods roll', (t) => {
  const sum = (values: Values): string | undefined => deploymentOf(renderChart({ values }).manifests).d.spec.template.metadata.annotations['checksum/config'];
  t.not(sum({}), sum({ signers: [{ name: 'example.com/other', ca: { existingSecret: 'x' } }] }));
  t.not(sum({}), sum({ signers: [{ name: 'example.com/serving', ca: { existingSecret: 'csr-signer-ca' }, trust: { clusterTrustBundle: {} } }] }), 'trust targets too');
  t.end();
});

void t.test('pod options are passed through', (t) => {
  const values: Values = {
    podAnnotations: { 'example.com/a': 'b' }, nodeSelector: { 'kubernetes.io/arch': 'arm64' }, priorityClassName: 'high',
    tolerations: [{ operator: 'Exists' }], affinity: { podAntiAffinity: {} }, image: { tag: '9.9.9' },
  };
  const { d, pod, c } = deploymentOf(renderChart({ values }).manifests);
  t.equal(d.spec.template.metadata.annotations['example.com/a'], 'b');
  t.same(pod.nodeSelector, { 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64' });
  t.equal(pod.priorityClassName, 'high');
  t.same(pod.tolerations, [{ operator: 'Exists' }]);
  t.same(pod.affinity, { podAntiAffinity: {} });
  t.equal(c.image, 'csr-signer:9.9.9');
  t.end();
});
