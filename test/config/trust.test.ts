/**
 * A signer's `trust:` (src/config/trust.ts): the defaults, what is read, and each
 * refusal naming the file, the signer and the field, with the API server's rules for
 * names, keys, labels and selectors.
 */
import t from 'tap';
import { stringify } from 'yaml';
import { readConfigFile } from '../../src/config/index.js';
import { clusterTrustBundlePrefix, defaultBundleKey, defaultBundleSuffix } from '../../src/config/trust.js';

const file = 'signers.yaml';
const ca = { certFile: 'ca.pem', keyFile: 'ca-key.pem' };

/** A config file of `signers` (name → trust), each with a CA. */
const configOf = (...signers: readonly { readonly name: string; readonly trust?: unknown }[]): string => stringify({
  apiVersion: 'csr-signer.io/v1alpha1',
  kind: 'SignerConfiguration',
  signers: signers.map((s) => ({ name: s.name, ca, ...(s.name.startsWith('kubernetes.io/') ? {} : { policy: { unrestricted: true } }), ...(s.trust === undefined ? {} : { trust: s.trust }) })),
});
const trustOf = (trust: unknown, name = 'example.com/serving'): unknown => readConfigFile(file, configOf({ name, trust }))[0]?.trust;

void t.test('defaults', (t) => {
  t.equal(defaultBundleKey, 'ca.crt', 'the key of kube-root-ca.crt');
  t.equal(defaultBundleSuffix, 'csr-signer');
  t.equal(clusterTrustBundlePrefix('example.com/serving'), 'example.com:serving:', 'every / becomes :');
  t.equal(clusterTrustBundlePrefix('example.com/a/b'), 'example.com:a:b:');
  t.equal(trustOf(undefined), undefined, 'no trust: publish nowhere');
  t.same(trustOf({ configMap: { name: 'serving-ca' } }), { configMap: { name: 'serving-ca', key: 'ca.crt' } }, 'the key defaults to ca.crt; no selector: every namespace');
  t.same(trustOf({ clusterTrustBundle: {} }), { clusterTrustBundle: { name: 'example.com:serving:csr-signer', labels: {} } }, 'an empty clusterTrustBundle takes the default name');
  t.same(trustOf({ clusterTrustBundle: null }), { clusterTrustBundle: { name: 'example.com:serving:csr-signer', labels: {} } }, 'so does `clusterTrustBundle:` with nothing after it');
  t.same(trustOf({ clusterTrustBundle: {} }, 'kubernetes.io/kubelet-serving'), { clusterTrustBundle: { name: 'kubernetes.io:kubelet-serving:csr-signer', labels: {} } }, 'a built-in signer may publish too');
  t.end();
});

void t.test('every field is read', (t) => {
  const trust = {
    configMap: {
      name: 'serving-ca', key: 'bundle.pem',
      namespaceSelector: {
        matchLabels: { 'example.com/trust': 'serving', team: '' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
          { key: 'owner', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist', values: [] },
        ],
      },
    },
    clusterTrustBundle: { name: 'example.com:serving:v2', labels: { 'trust.example.com/bundle': 'serving' } },
  };
  t.same(trustOf(trust), {
    configMap: {
      name: 'serving-ca', key: 'bundle.pem',
      namespaceSelector: {
        matchLabels: { 'example.com/trust': 'serving', team: '' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system'] },
          { key: 'owner', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      },
    },
    clusterTrustBundle: { name: 'example.com:serving:v2', labels: { 'trust.example.com/bundle': 'serving' } },
  });
  t.same(trustOf({ configMap: { name: 'a', namespaceSelector: {} } }), { configMap: { name: 'a', key: 'ca.crt', namespaceSelector: {} } }, 'an empty selector is kept: it selects every namespace');
  t.same(trustOf({ configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['', 'web'] }] } } }),
    { configMap: { name: 'a', key: 'ca.crt', namespaceSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['', 'web'] }] } } },
    'an empty label value may be listed, as in matchLabels');
  t.end();
});

const where = `${file}: signer "example.com/serving"`;
const at = 'signers[0].trust';
const label63 = 'a'.repeat(64);

/** [sentence, trust, field, detail] */
const refusals: [string, unknown, string, string][] = [
  ['refuses trust that is not a mapping', ['configMap'], at, 'must be a mapping, not a list'],
  ['refuses an empty trust', {}, at, 'give configMap, clusterTrustBundle or both (leave trust out to publish nowhere)'],
  ['refuses an unknown field of trust', { configmap: { name: 'a' } }, `${at}.configmap`, `unknown field; the fields of ${at} are configMap, clusterTrustBundle`],
  ['refuses a configMap without a name', { configMap: { key: 'ca.crt' } }, `${at}.configMap.name`, 'is required: the ConfigMap to publish the bundle to in each namespace'],
  ['refuses an unknown field of configMap', { configMap: { name: 'a', namespace: 'b' } }, `${at}.configMap.namespace`, `unknown field; the fields of ${at}.configMap are name, key, namespaceSelector`],
  ['refuses a ConfigMap name with upper case', { configMap: { name: 'Serving-CA' } }, `${at}.configMap.name`, `"Serving-CA" is not a valid object name: at most 253 lower case letters, digits, '-' and '.', starting and ending with a letter or digit`],
  ['refuses a ConfigMap name over 253 characters', { configMap: { name: 'a'.repeat(254) } }, `${at}.configMap.name`, `"${'a'.repeat(254)}" is not a valid object name: at most 253 lower case letters, digits, '-' and '.', starting and ending with a letter or digit`],
  ['refuses a ConfigMap name that is a number', { configMap: { name: 42 } }, `${at}.configMap.name`, 'must be a string, not number 42'],
  ['refuses an empty ConfigMap name', { configMap: { name: '' } }, `${at}.configMap.name`, 'must not be empty'],
  ['refuses a ConfigMap key with a slash', { configMap: { name: 'a', key: 'certs/ca.crt' } }, `${at}.configMap.key`, `"certs/ca.crt" is not a valid ConfigMap key: letters, digits, '-', '_' and '.', not "." and not starting with ".." (the kubelet's own names in a mounted volume)`],
  ['refuses the ConfigMap key ..data, the kubelet\'s own', { configMap: { name: 'a', key: '..data' } }, `${at}.configMap.key`, `"..data" is not a valid ConfigMap key: letters, digits, '-', '_' and '.', not "." and not starting with ".." (the kubelet's own names in a mounted volume)`],
  ['refuses an unknown field of namespaceSelector', { configMap: { name: 'a', namespaceSelector: { labels: {} } } }, `${at}.configMap.namespaceSelector.labels`, `unknown field; the fields of ${at}.configMap.namespaceSelector are matchLabels, matchExpressions`],
  ['refuses matchLabels that are a list', { configMap: { name: 'a', namespaceSelector: { matchLabels: ['a=b'] } } }, `${at}.configMap.namespaceSelector.matchLabels`, 'must be a mapping, not a list'],
  ['refuses a label key with two slashes', { configMap: { name: 'a', namespaceSelector: { matchLabels: { 'a/b/c': 'x' } } } }, `${at}.configMap.namespaceSelector.matchLabels.a/b/c`, `"a/b/c" is not a valid label key: its prefix must be a DNS subdomain`],
  ['refuses a label key over 63 characters', { configMap: { name: 'a', namespaceSelector: { matchLabels: { [label63]: 'x' } } } }, `${at}.configMap.namespaceSelector.matchLabels.${label63}`, `"${label63}" is not a valid label key: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional prefix/`],
  ['refuses a label value that is a boolean', { configMap: { name: 'a', namespaceSelector: { matchLabels: { trust: true } } } }, `${at}.configMap.namespaceSelector.matchLabels.trust`, 'must be a string (quote numbers and booleans), not true'],
  ['refuses a label value with a space', { configMap: { name: 'a', namespaceSelector: { matchLabels: { trust: 'a b' } } } }, `${at}.configMap.namespaceSelector.matchLabels.trust`, `"a b" is not a valid label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit`],
  ['refuses matchExpressions that are a mapping', { configMap: { name: 'a', namespaceSelector: { matchExpressions: { key: 'a' } } } }, `${at}.configMap.namespaceSelector.matchExpressions`, 'must be a list, not a mapping'],
  ['refuses an expression without a key', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ operator: 'Exists' }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].key`, 'is required'],
  ['refuses an expression with an invalid key', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: '-env', operator: 'Exists' }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].key`, `"-env" is not a valid label key: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, after an optional prefix/`],
  ['refuses an expression without an operator', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env' }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].operator`, 'is required: one of In, NotIn, Exists, DoesNotExist'],
  ['refuses an operator in the wrong case', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'in', values: ['x'] }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].operator`, '"in" is not one of In, NotIn, Exists, DoesNotExist'],
  ['refuses an unknown field of an expression', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists', value: 'x' }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].value`, `unknown field; the fields of ${at}.configMap.namespaceSelector.matchExpressions[0] are key, operator, values`],
  ['refuses In without values', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In' }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].values`, 'must list at least one value for In'],
  ['refuses NotIn with an empty list', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'NotIn', values: [] }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].values`, 'must list at least one value for NotIn'],
  ['refuses Exists with values', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'Exists', values: ['x'] }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].values`, 'must be empty for Exists'],
  ['refuses an invalid value in values', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['ok', 'not ok'] }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].values[1]`, `"not ok" is not a valid label value: at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit`],
  ['refuses a value listed twice', { configMap: { name: 'a', namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In', values: ['x', 'x'] }] } } }, `${at}.configMap.namespaceSelector.matchExpressions[0].values[1]`, '"x" is listed twice'],
  ['refuses an unknown field of clusterTrustBundle', { clusterTrustBundle: { signerName: 'example.com/serving' } }, `${at}.clusterTrustBundle.signerName`, `unknown field; the fields of ${at}.clusterTrustBundle are name, labels`],
  ['refuses a ClusterTrustBundle name not linked to the signer', { clusterTrustBundle: { name: 'serving-bundle' } }, `${at}.clusterTrustBundle.name`, '"serving-bundle" must start with "example.com:serving:" and a suffix: Kubernetes names a signer-linked ClusterTrustBundle after its signer'],
  ['refuses a ClusterTrustBundle name of another signer', { clusterTrustBundle: { name: 'example.com:client:x' } }, `${at}.clusterTrustBundle.name`, '"example.com:client:x" must start with "example.com:serving:" and a suffix: Kubernetes names a signer-linked ClusterTrustBundle after its signer'],
  ['refuses a ClusterTrustBundle name without a suffix', { clusterTrustBundle: { name: 'example.com:serving:' } }, `${at}.clusterTrustBundle.name`, '"example.com:serving:" must start with "example.com:serving:" and a suffix: Kubernetes names a signer-linked ClusterTrustBundle after its signer'],
  ['refuses a ClusterTrustBundle suffix with a slash', { clusterTrustBundle: { name: 'example.com:serving:a/b' } }, `${at}.clusterTrustBundle.name`, `"example.com:serving:a/b" is not a valid ClusterTrustBundle name: the suffix may not contain '/' or '%' and the name is at most 253 characters`],
  ['refuses a ClusterTrustBundle suffix ..', { clusterTrustBundle: { name: 'example.com:serving:..' } }, `${at}.clusterTrustBundle.name`, `"example.com:serving:.." is not a valid ClusterTrustBundle name: the suffix may not contain '/' or '%' and the name is at most 253 characters`],
  ['refuses a ClusterTrustBundle name over 253 characters', { clusterTrustBundle: { name: `example.com:serving:${'x'.repeat(234)}` } }, `${at}.clusterTrustBundle.name`, `"example.com:serving:${'x'.repeat(234)}" is not a valid ClusterTrustBundle name: the suffix may not contain '/' or '%' and the name is at most 253 characters`],
  ['refuses ClusterTrustBundle labels that are a list', { clusterTrustBundle: { labels: ['a'] } }, `${at}.clusterTrustBundle.labels`, 'must be a mapping, not a list'],
  ['refuses a ClusterTrustBundle label value that is a number', { clusterTrustBundle: { labels: { generation: 2 } } }, `${at}.clusterTrustBundle.labels.generation`, 'must be a string (quote numbers and booleans), not 2'],
];

for (const [sentence, trust, field, detail] of refusals) {
  void t.test(sentence, (t) => {
    t.throws(() => readConfigFile(file, configOf({ name: 'example.com/serving', trust })), {
      code: 'CSR_SIGNER_ERR_INVALID_CONFIG',
      message: `${where}: ${field}: ${detail}`,
    });
    t.end();
  });
}

void t.test('a ClusterTrustBundle name of exactly 253 characters is accepted', (t) => {
  const name = `example.com:serving:${'x'.repeat(233)}`;
  t.equal(name.length, 253);
  t.same(trustOf({ clusterTrustBundle: { name } }), { clusterTrustBundle: { name, labels: {} } });
  t.end();
});

void t.test('refuses two signers publishing to one ConfigMap name, naming the later one and the earlier index', (t) => {
  const text = configOf(
    { name: 'example.com/serving', trust: { configMap: { name: 'shared-ca', namespaceSelector: { matchLabels: { a: 'x' } } } } },
    { name: 'example.com/client' },
    { name: 'example.com/peer', trust: { configMap: { name: 'shared-ca', key: 'peer.crt' } } },
  );
  t.throws(() => readConfigFile(file, text), {
    code: 'CSR_SIGNER_ERR_INVALID_CONFIG',
    message: `${file}: signer "example.com/peer": signers[2].trust.configMap.name: signers[0] publishes to the ConfigMap "shared-ca" too; each signer needs its own`,
  }, 'even with other keys and selectors: the two would overwrite each other');
  t.end();
});

void t.test('two signers with their own ConfigMaps and ClusterTrustBundles are fine', (t) => {
  const signers = readConfigFile(file, configOf(
    { name: 'example.com/serving', trust: { configMap: { name: 'serving-ca' }, clusterTrustBundle: {} } },
    { name: 'example.com/client', trust: { configMap: { name: 'client-ca' }, clusterTrustBundle: {} } },
  ));
  t.same(signers.map((s) => [s.trust?.configMap?.name, s.trust?.clusterTrustBundle?.name]), [
    ['serving-ca', 'example.com:serving:csr-signer'],
    ['client-ca', 'example.com:client:csr-signer'],
  ]);
  t.end();
});

void t.test('ca.trustFile is resolved against the directory of the file', (t) => {
  const text = stringify({
    apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration',
    signers: [
      { name: 'example.com/a', ca: { ...ca, trustFile: 'next.pem' }, policy: { unrestricted: true } },
      { name: 'example.com/b', ca: { ...ca, trustFile: '/abs/trust.pem' }, policy: { unrestricted: true } },
    ],
  });
  const signers = readConfigFile('/etc/csr-signer/signers.yaml', text);
  t.equal(signers[0]?.ca?.trustFile, '/etc/csr-signer/next.pem');
  t.equal(signers[1]?.ca?.trustFile, '/abs/trust.pem');
  t.throws(() => readConfigFile(file, stringify({ apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration', signers: [{ name: 'example.com/a', ca: { ...ca, trustFile: '' } }] })), {
    message: `${file}: signer "example.com/a": signers[0].ca.trustFile: must not be empty`,
  });
  t.end();
});
