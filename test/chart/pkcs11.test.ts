/**
 * CA keys on PKCS#11 tokens in the chart (docs/hsm.md): `signers[].ca.key` (and `ca.cert`)
 * as URIs with `signers[].ca.pkcs11`, the top-level `pkcs11` volumes, mounts and
 * environment for the vendor's module. The PIN Secret is mounted read-only, mode 0400, and
 * passed as pinFile; the CA Secret then holds the certificate only, or there is none; the
 * rendered file loads with csr-signer's own loader; the schema refuses what it refuses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Secret } from 'kubernetes-models/v1/Secret';
import { parse } from 'yaml';
import { loadRunConfig, type RunConfig } from '../../src/config/index.js';
import { chartDir, defaultValues, find, mergeValues, renderChart, type Manifest, type Values } from './render.js';

const keyUri = 'pkcs11:token=csr-signer-ca;object=ca-key;id=%01;type=private';
const certUri = 'pkcs11:token=csr-signer-ca;object=ca-cert;id=%01;type=cert';
const certPem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const keyPem = '-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n';
const module = '/opt/hsm/lib/libsofthsm2.so';
const pkcs11 = { module, pinSecret: { name: 'hsm-pin', key: 'pin' } };
const policy = { dnsNames: ['*.example.com'], ipRanges: [] };
/** The vendor's module and configuration, as docs/hsm.md shows them for SoftHSM2. */
const vendor = {
  volumes: [{ name: 'hsm', persistentVolumeClaim: { claimName: 'hsm' } }],
  volumeMounts: [{ name: 'hsm', mountPath: '/opt/hsm' }],
  env: [{ name: 'SOFTHSM2_CONF', value: '/opt/hsm/softhsm2.conf' }],
};

interface Container { env: { name: string; value?: string }[]; volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[]; args: string[] }
interface Volume { name: string; secret?: { secretName: string; defaultMode: number; items: { key: string; path: string }[] }; persistentVolumeClaim?: unknown }
interface PodSpec { containers: Container[]; volumes: Volume[] }

const podOf = (manifests: readonly Manifest[]): { pod: PodSpec; c: Container } => {
  const pod = (find(manifests, 'Deployment').spec as { template: { spec: PodSpec } }).template.spec;
  return { pod, c: pod.containers[0] as Container };
};
const configText = (manifests: readonly Manifest[]): string => (find(manifests, 'ConfigMap').data as Record<string, string>)['signers.yaml'] ?? '';

/** What `csr-signer run` makes of the rendered arguments and config file (the PIN file is read only when the CA loads). */
function loaded(manifests: readonly Manifest[]): RunConfig {
  const { c } = podOf(manifests);
  const text = configText(manifests);
  return loadRunConfig(c.args.slice(1), { POD_NAMESPACE: 'pki' }, (path) => {
    if (path === '/etc/csr-signer/config/signers.yaml') return text;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  });
}

void t.test('a key on a token, the certificate from existingSecret: only tls.crt is mounted, the PIN Secret read-only 0400', (t) => {
  const values: Values = {
    signers: [{ name: 'example.com/serving', ca: { existingSecret: 'serving-ca', key: keyUri, pkcs11: { ...pkcs11, sessions: 4 } }, policy }],
    pkcs11: vendor,
  };
  const { manifests } = renderChart({ values, namespace: 'pki' });
  const { pod, c } = podOf(manifests);
  t.same(pod.volumes.find((v) => v.name === 'ca-0')?.secret, { secretName: 'serving-ca', defaultMode: 0o440, items: [{ key: 'tls.crt', path: 'tls.crt' }] }, 'the key is not read from the Secret');
  t.same(pod.volumes.find((v) => v.name === 'pkcs11-pin-0')?.secret, { secretName: 'hsm-pin', defaultMode: 0o400, items: [{ key: 'pin', path: 'pin' }] }, 'the PIN: one key, mode 0400');
  t.same(c.volumeMounts.filter((m) => m.name !== 'config'), [
    { name: 'ca-0', mountPath: '/etc/csr-signer/ca/0', readOnly: true },
    { name: 'pkcs11-pin-0', mountPath: '/etc/csr-signer/pkcs11/0', readOnly: true },
    { name: 'hsm', mountPath: '/opt/hsm' },
  ], 'the PIN read-only; the vendor volume as given');
  t.same(pod.volumes.filter((v) => v.persistentVolumeClaim), vendor.volumes, "the vendor's volume");
  t.match(c.env, [{ name: 'POD_NAMESPACE' }, { name: 'SOFTHSM2_CONF', value: '/opt/hsm/softhsm2.conf' }], "the module's configuration in the environment");
  t.same(parse(configText(manifests)), {
    apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration',
    signers: [{ name: 'example.com/serving', ca: { certFile: '/etc/csr-signer/ca/0/tls.crt', key: keyUri, pkcs11: { module, pinFile: '/etc/csr-signer/pkcs11/0/pin', sessions: 4 } }, policy }],
  }, 'the config file names the URI, the module and the mounted PIN file, never the PIN');
  t.same(manifests.filter((m) => m.kind === 'Secret'), [], 'no Secret made by the chart');
  t.doesNotThrow(() => new Deployment(find(manifests, 'Deployment')).validate(), 'a valid Deployment');
  t.end();
});

void t.test('inline certificate with a key on a token: the chart\'s Secret holds the certificate only, not marked development-only', (t) => {
  const { manifests } = renderChart({ values: { signers: [{ name: 'example.com/serving', ca: { cert: certPem, key: keyUri, pkcs11 }, policy }] } });
  const secret = find(manifests, 'Secret');
  t.same(Object.keys(secret.data as object), ['tls.crt']);
  t.equal(Buffer.from((secret.data as Record<string, string>)['tls.crt'] ?? '', 'base64').toString(), certPem);
  t.equal((secret as { type?: string }).type, 'Opaque', 'not kubernetes.io/tls, which requires tls.key');
  t.notOk(secret.metadata.annotations?.['csr-signer.io/development-only'], 'no key in the values');
  t.doesNotThrow(() => new Secret(secret).validate());
  const { pod } = podOf(manifests);
  t.same(pod.volumes.find((v) => v.name === 'ca-0')?.secret?.items, [{ key: 'tls.crt', path: 'tls.crt' }]);
  t.end();
});

void t.test('certificate and key on the token: no CA Secret, no CA volume', (t) => {
  const { manifests } = renderChart({ values: { signers: [{ name: 'example.com/serving', ca: { cert: certUri, key: keyUri, pkcs11 }, policy }] } });
  t.same(manifests.filter((m) => m.kind === 'Secret'), []);
  const { pod, c } = podOf(manifests);
  t.same(pod.volumes.map((v) => v.name), ['config', 'pkcs11-pin-0']);
  t.same(c.volumeMounts.map((m) => m.name), ['config', 'pkcs11-pin-0']);
  t.match(parse(configText(manifests)), { signers: [{ ca: { cert: certUri, key: keyUri, pkcs11: { module, pinFile: '/etc/csr-signer/pkcs11/0/pin' } } }] });
  t.end();
});

void t.test('signers on and off tokens side by side; the default values mount no PIN and add no environment', (t) => {
  const { manifests } = renderChart({
    values: { signers: [{ name: 'example.com/a', ca: { existingSecret: 'a-ca' }, policy }, { name: 'example.com/b', ca: { existingSecret: 'b-ca', key: keyUri, pkcs11 }, policy }] },
  });
  const { pod } = podOf(manifests);
  t.same(pod.volumes.map((v) => [v.name, v.secret?.items.map((i) => i.path)]), [['config', undefined], ['ca-0', ['tls.crt', 'tls.key']], ['ca-1', ['tls.crt']], ['pkcs11-pin-1', ['pin']]]);
  const defaults = podOf(renderChart().manifests);
  t.notOk(defaults.pod.volumes.some((v) => v.name.startsWith('pkcs11')));
  t.same(defaults.c.env.map((e) => e.name), ['POD_NAMESPACE']);
  t.end();
});

const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
const validate = new Ajv({ allErrors: true, strict: true, strictRequired: false, strictTypes: false }).compile(schema);

void t.test('the schema accepts what csr-signer run loads, and refuses what it refuses', (t) => {
  /** [case, the signer's ca, valid] */
  const cases: [string, Record<string, unknown>, boolean][] = [
    ['key on the token, certificate from existingSecret', { existingSecret: 's', key: keyUri, pkcs11 }, true],
    ['key on the token, certificate inline', { cert: certPem, key: keyUri, pkcs11 }, true],
    ['both on the token', { cert: certUri, key: keyUri, pkcs11: { ...pkcs11, sessions: 64 } }, true],
    ['a URI without type', { existingSecret: 's', key: 'pkcs11:token=ca;object=k', pkcs11 }, true],
    ['pkcs11 beside a key file (a rotation may put a URI in tls.key)', { existingSecret: 's', pkcs11 }, true],
    ['a trust key beside a key on the token', { existingSecret: 's', trustKey: 'next.crt', key: keyUri, pkcs11 }, true],
    ['a key URI without pkcs11', { existingSecret: 's', key: keyUri }, false],
    ['a certificate URI without pkcs11', { cert: certUri, key: keyUri }, false],
    ['a key URI naming a certificate', { existingSecret: 's', key: 'pkcs11:token=ca;object=k;type=cert', pkcs11 }, false],
    ['a certificate URI naming a private key', { cert: 'pkcs11:token=ca;object=c;type=private', key: keyUri, pkcs11 }, false],
    ['a key URI with an unknown type', { existingSecret: 's', key: 'pkcs11:token=ca;object=k;type=privat', pkcs11 }, false],
    ['a key URI with a longer type', { existingSecret: 's', key: 'pkcs11:token=ca;type=privates;object=k', pkcs11 }, false],
    ['a key URI with type=private before other attributes', { existingSecret: 's', key: 'pkcs11:token=ca;type=private;object=k', pkcs11 }, true],
    ['a certificate URI with type=cert', { cert: 'pkcs11:token=ca;object=c;type=cert', key: keyUri, pkcs11 }, true],
    ['a certificate URI with an unknown type', { cert: 'pkcs11:token=ca;object=c;type=certificate', key: keyUri, pkcs11 }, false],
    ['a PIN in the URI (pin-value)', { existingSecret: 's', key: `${keyUri}?pin-value=1234`, pkcs11 }, false],
    ['a passphrase for a key on a token', { existingSecret: 's', key: keyUri, pkcs11, passphraseFile: '/etc/p/passphrase' }, false],
    ['a relative module path', { existingSecret: 's', key: keyUri, pkcs11: { ...pkcs11, module: 'libsofthsm2.so' } }, false],
    ['65 sessions', { existingSecret: 's', key: keyUri, pkcs11: { ...pkcs11, sessions: 65 } }, false],
    ['0 sessions', { existingSecret: 's', key: keyUri, pkcs11: { ...pkcs11, sessions: 0 } }, false],
  ];
  for (const [name, ca, valid] of cases) {
    const values: Values = { signers: [{ name: 'example.com/serving', ca, policy }], pkcs11: vendor };
    t.equal(validate(mergeValues(defaultValues(), values)), valid, `${name}: the schema ${valid ? 'accepts' : 'refuses'}`);
    let loads: boolean;
    try {
      loaded(renderChart({ values, namespace: 'pki' }).manifests);
      loads = true;
    } catch {
      loads = false;
    }
    t.equal(loads, valid, `${name}: csr-signer run ${valid ? 'loads' : 'refuses'} the rendered file`);
  }
  t.end();
});

void t.test('the schema refuses what the chart cannot mount', (t) => {
  const bad: [string, Record<string, unknown>][] = [
    ['pkcs11 without a PIN Secret (the chart\'s only PIN source)', { existingSecret: 's', key: keyUri, pkcs11: { module } }],
    ['pkcs11 without a module', { existingSecret: 's', key: keyUri, pkcs11: { pinSecret: pkcs11.pinSecret } }],
    ['a PIN Secret without its key', { existingSecret: 's', key: keyUri, pkcs11: { module, pinSecret: { name: 'hsm-pin' } } }],
    ['a pin-source in the URI (the PIN comes from pinSecret)', { existingSecret: 's', key: `${keyUri}?pin-source=/etc/pin`, pkcs11 }],
    ['a certificate URI with existingSecret (two certificates)', { existingSecret: 's', cert: certUri, key: keyUri, pkcs11 }],
    ['a certificate URI with a key from a Secret', { cert: certUri, key: keyPem, pkcs11 }],
    ['an inline key beside existingSecret', { existingSecret: 's', key: keyPem }],
    ['an inline certificate without a key', { cert: certPem }],
    ['an unknown pkcs11 field', { existingSecret: 's', key: keyUri, pkcs11: { ...pkcs11, pin: '1234' } }],
  ];
  for (const [name, ca] of bad) t.not(validate(mergeValues(defaultValues(), { signers: [{ name: 'example.com/serving', ca, policy }] })), true, name);
  t.notOk(validate(mergeValues(defaultValues(), { pkcs11: { volumes: [{ name: 'x' }], modules: [] } })), 'an unknown top-level pkcs11 field');
  t.notOk(validate(mergeValues(defaultValues(), { pkcs11: { volumeMounts: [{ name: 'x' }] } })), 'a mount without a mountPath');
  t.ok(validate(mergeValues(defaultValues(), { pkcs11: vendor })), 'the vendor values of docs/hsm.md');
  t.end();
});

void t.test('the PKCS#11 values shown in the chart README and docs/hsm.md are valid and render', (t) => {
  for (const doc of ['charts/csr-signer/README.md', 'docs/hsm.md']) {
    const blocks = [...readFileSync(join(chartDir, '../..', doc), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((m) => parse(m[1] ?? '') as Values).filter((v) => typeof v === 'object' && v !== null && 'pkcs11' in v && 'signers' in v);
    t.equal(blocks.length, 1, `${doc}: one values file with pkcs11`);
    for (const values of blocks) {
      t.ok(validate(mergeValues(defaultValues(), values)), `${doc}: ${JSON.stringify(validate.errors)}`);
      const { pod } = podOf(renderChart({ values }).manifests);
      t.ok(pod.volumes.some((v) => v.name === 'pkcs11-pin-0' && v.secret?.defaultMode === 0o400), `${doc}: the PIN Secret is mounted`);
    }
  }
  t.end();
});

void t.test('NOTES.txt says where each CA key is, and warns only of a key in the values', (t) => {
  const notes = (ca: Record<string, unknown>): string => renderChart({ values: { signers: [{ name: 'example.com/serving', ca, policy }] } }).files.get('NOTES.txt') ?? '';
  const secret = notes({ existingSecret: 's', key: keyUri, pkcs11 });
  t.match(secret, /- example\.com\/serving \(CA key on a PKCS#11 token, certificate from Secret s\)/);
  t.match(notes({ cert: certPem, key: keyUri, pkcs11 }), /\(CA key on a PKCS#11 token, certificate from inline values\)/);
  t.match(notes({ cert: certUri, key: keyUri, pkcs11 }), /\(CA key on a PKCS#11 token, certificate on the token\)/);
  for (const text of [secret, notes({ cert: certPem, key: keyUri, pkcs11 })]) t.notMatch(text, /WARNING: the CA key/, 'no development-only warning: the key is on the token');
  t.match(notes({ cert: certPem, key: keyPem }), /CA from inline values: DEVELOPMENT ONLY[\s\S]*WARNING: the CA key of example\.com\/serving is in your Helm values/, 'an inline PEM key still warns');
  t.end();
});
