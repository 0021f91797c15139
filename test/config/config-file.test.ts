/**
 * The --config file: a full example read into SignerConfigs, the defaults, and
 * each validation error naming the file, the signer and the field.
 */
import t from 'tap';
import { stringify } from 'yaml';
import { defaultPolicy } from '../../src/config/index.js';
import { parseRequestDer } from '../../src/pki/index.js';
import { checkPolicy } from '../../src/signer/policy.js';
import { buildRequest, type RequestSpec } from '../helpers/requests.js';
import { failure, load } from './fixtures/load.js';

const file = '/etc/csr-signer/signers.yaml';
const hour = 3_600_000;

const fullExample = `# every field
apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
  - name: example.com/serving
    ca:
      certFile: ca/serving.pem
      keyFile: /secrets/serving-key.pem
      passphraseFile: ca/passphrase.txt
    duration: { default: 720h, max: 2160h, min: 1h }
    usages:
      allowed: [digital signature, key encipherment, server auth]
      required: [server auth]
    keyTypes: [ecdsa-p256, rsa]
    includeChain: true
    policy:
      dnsNames: ["*.{namespace}.svc", "*.{namespace}.svc.cluster.local", api.example.com]
      ipRanges: [10.0.0.0/8, "fd00::/8"]
      allowEmailAddresses: false
      allowUris: true
      maxSubjectAltNames: 10
      commonName: dns-name
      organizations: [Example Inc]
      requesters: { usernames: [admin], groups: ["system:serviceaccounts"] }
      allowCA: false
  - name: example.com/client
    ca: { certFile: client.pem, keyFile: client-key.pem }
    policy: { unrestricted: true }
  - name: kubernetes.io/kubelet-serving
    ca: { certFile: kubelet.pem, keyFile: kubelet-key.pem }
    duration: { max: 24h }
`;

void t.test('a full example is read into signers, with relative paths resolved against the file', (t) => {
  const signers = load(['--config', file], { [file]: fullExample }).signers;
  t.same(signers[0], {
    name: 'example.com/serving', source: file,
    ca: { certFile: '/etc/csr-signer/ca/serving.pem', keyFile: '/secrets/serving-key.pem', passphraseFile: '/etc/csr-signer/ca/passphrase.txt' },
    defaultDurationMs: 720 * hour, maxDurationMs: 2160 * hour, minDurationMs: hour,
    allowedUsages: ['digital signature', 'key encipherment', 'server auth'], requiredUsages: ['server auth'],
    allowedKeyTypes: ['ecdsa-p256', 'rsa'], includeChain: true,
    policy: {
      dnsNames: ['*.{namespace}.svc', '*.{namespace}.svc.cluster.local', 'api.example.com'], ipRanges: ['10.0.0.0/8', 'fd00::/8'],
      allowEmailAddresses: false, allowUris: true, maxSubjectAltNames: 10, commonName: 'dns-name',
      organizations: ['Example Inc'], requesters: { usernames: ['admin'], groups: ['system:serviceaccounts'] }, allowCA: false,
    },
  }, 'every field');
  t.same(signers[1], {
    name: 'example.com/client', source: file, ca: { certFile: '/etc/csr-signer/client.pem', keyFile: '/etc/csr-signer/client-key.pem' },
    defaultDurationMs: 8760 * hour, maxDurationMs: 8760 * hour, includeChain: false, policy: { ...defaultPolicy, unrestricted: true },
  }, 'the defaults: 8760h, no chain, the default policy stated unrestricted');
  t.same(signers[2], {
    name: 'kubernetes.io/kubelet-serving', source: file, ca: { certFile: '/etc/csr-signer/kubelet.pem', keyFile: '/etc/csr-signer/kubelet-key.pem' },
    defaultDurationMs: 24 * hour, maxDurationMs: 24 * hour, includeChain: false,
  }, 'a built-in signer: the default follows max, no policy');
  const relative = load(['--config', 'conf/signers.yaml'], { 'conf/signers.yaml': fullExample }).signers[1];
  t.same(relative?.ca, { certFile: 'conf/client.pem', keyFile: 'conf/client-key.pem' }, 'a relative config path keeps CA paths relative to where it was run');
  t.end();
});

const head = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n';
const ca = { certFile: 'ca.pem', keyFile: 'ca-key.pem' };
const signer = (fields: Record<string, unknown>): Record<string, unknown> => ({ name: 'example.com/a', ca, policy: { unrestricted: true }, ...fields });
const withSigners = (...signers: unknown[]): string => head + stringify({ signers });
const named = (path: string, detail: string): string => `${file}: signer "example.com/a": ${path}: ${detail}`;

void t.test('a custom signer that bounds no name refuses to start unless the file says unrestricted: true', (t) => {
  const ways = 'the signer would sign any DNS name and IP address an approver let through: bound them (dnsNames, ipRanges; an empty list allows none), or state policy: {unrestricted: true}';
  const cases: [string, Record<string, unknown>, string][] = [
    ['no policy', { name: 'example.com/a', ca }, `${file}: signer "example.com/a": signers[0].policy: is missing, so ${ways}`],
    ['an empty policy', { name: 'example.com/a', ca, policy: {} }, `${file}: signer "example.com/a": signers[0].policy: has neither dnsNames nor ipRanges, so ${ways}`],
    ['a policy of other rules only', { name: 'example.com/a', ca, policy: { commonName: 'requester', requesters: { groups: ['g'] } } },
      `${file}: signer "example.com/a": signers[0].policy: has neither dnsNames nor ipRanges, so ${ways}`],
    ['DNS names bounded, IP addresses not', { name: 'example.com/a', ca, policy: { dnsNames: ['*.example.com'] } },
      `${file}: signer "example.com/a": signers[0].policy: has dnsNames but no ipRanges, so the signer would sign any IP address an approver let through: list the CIDRs allowed (ipRanges: [] for none)`],
    ['IP addresses bounded, DNS names not', { name: 'example.com/a', ca, policy: { ipRanges: [] } },
      `${file}: signer "example.com/a": signers[0].policy: has ipRanges but no dnsNames, so the signer would sign any DNS name an approver let through: list the DNS name patterns allowed (dnsNames: [] for none)`],
    ['unrestricted: false said aloud', { name: 'example.com/a', ca, policy: { unrestricted: false } }, `${file}: signer "example.com/a": signers[0].policy: has neither dnsNames nor ipRanges, so ${ways}`],
    ['unrestricted with bounds, which contradict it', { name: 'example.com/a', ca, policy: { unrestricted: true, dnsNames: ['*.example.com'] } },
      `${file}: signer "example.com/a": signers[0].policy.unrestricted: contradicts dnsNames: remove unrestricted: true to keep the bounds, or the bounds to sign any name`],
  ];
  for (const [name, entry, message] of cases) t.equal(failure(['--config', file], { [file]: withSigners(entry) }).message, message, name);
  const bounded = (policy: Record<string, unknown>) => load(['--config', file], { [file]: withSigners({ name: 'example.com/a', ca, policy }) }).signers[0]?.policy;
  t.same(bounded({ unrestricted: true }), { ...defaultPolicy, unrestricted: true }, 'unrestricted: true, stated, is accepted and kept (the start-up log names the signer)');
  t.same(bounded({ dnsNames: ['*.example.com'], ipRanges: [] }), { ...defaultPolicy, commonName: 'dns-name', dnsNames: ['*.example.com'], ipRanges: [] }, 'DNS names under example.com and no IP address; the CN bounded too');
  t.same(bounded({ dnsNames: [], ipRanges: ['10.0.0.0/8'] }), { ...defaultPolicy, commonName: 'dns-name', dnsNames: [], ipRanges: ['10.0.0.0/8'] }, 'no DNS name and IP addresses in 10/8');
  t.same(bounded({ dnsNames: [], ipRanges: [], commonName: 'any' }), { ...defaultPolicy, commonName: 'any', dnsNames: [], ipRanges: [] }, 'commonName: any, written, is kept: the CN may then name any host');
  t.same(load(['--config', file], { [file]: withSigners({ name: 'kubernetes.io/kubelet-serving', ca }) }).signers[0]?.policy, undefined, 'a kubernetes.io/* signer keeps its built-in rules and needs no policy');
  t.end();
});

void t.test('each mistake in the file is an error naming the file, the signer and the field', (t) => {
  const cases: [string, string, string | RegExp][] = [
    ['a YAML syntax error', 'signers: [', new RegExp(`^${file}: \\(YAML\\): `)],
    ['two YAML documents', `${head}signers: []\n---\nsigners: []\n`, `${file}: (YAML): holds more than one YAML document; the config is one document at line 4, column 1`],
    ['a tab as indentation', '\tapiVersion: x\n', `${file}: (YAML): Tabs are not allowed as indentation at line 1, column 1`],
    ['a duplicate key', `${head}kind: SignerConfiguration\n`, new RegExp(`^${file}: \\(YAML\\): Map keys must be unique`)],
    ['an empty file', '', `${file}: (document): is empty; expected apiVersion: csr-signer.io/v1alpha1, kind: SignerConfiguration and signers`],
    ['a list at the top', '- a\n', `${file}: (document): must be a mapping, not a list`],
    ['a wrong apiVersion', 'apiVersion: v1\nkind: SignerConfiguration\nsigners: []\n', `${file}: apiVersion: must be csr-signer.io/v1alpha1, not "v1"`],
    ['a missing kind', 'apiVersion: csr-signer.io/v1alpha1\nsigners: []\n', `${file}: kind: must be SignerConfiguration, not null`],
    ['an unknown top-level key', `${head}signer: []\n`, `${file}: signer: unknown field; the top-level fields are apiVersion, kind, signers`],
    ['no signers', head, `${file}: signers: is required: a list of at least one signer`],
    ['an empty signer list', `${head}signers: []\n`, `${file}: signers: must list at least one signer`],
    ['a signer that is not a mapping', withSigners('example.com/a'), `${file}: signers[0] (no name yet): signers[0]: must be a mapping, not the string "example.com/a"`],
    ['a signer without a name', withSigners({ ca }), `${file}: signers[0] (no name yet): signers[0].name: is required: a signerName such as example.com/serving`],
    ['an invalid name', withSigners(signer({}), { name: 'example/b', ca }),
      `${file}: signers[1] (no name yet): signers[1].name: "example/b" is not a valid signerName: the domain "example" should have at least two segments separated by dots`],
    ['a reserved kubernetes.io name', withSigners({ name: 'kubernetes.io/mine', ca }), /^\/etc\/csr-signer\/signers.yaml: signers\[0\] \(no name yet\): signers\[0\].name: "kubernetes.io\/mine" is in the kubernetes.io domain/],
    ['a duplicate name', withSigners(signer({}), signer({ name: 'example.com/b' }), signer({})), named('signers[2].name', 'signers[0] has the same name; each signer may appear once')],
    ['an unknown signer key, named with the signer', withSigners(signer({ policies: {} })),
      named('signers[0].policies', 'unknown field; the fields of signers[0] are name, ca, duration, usages, keyTypes, includeChain, policy')],
    ['no ca', withSigners({ name: 'example.com/a' }), named('signers[0].ca', 'is required: the CA that signs, as {certFile, keyFile}')],
    ['no key file', withSigners(signer({ ca: { certFile: 'c' } })), named('signers[0].ca.keyFile', 'is required')],
    ['an empty cert file', withSigners(signer({ ca: { certFile: '', keyFile: 'k' } })), named('signers[0].ca.certFile', 'must not be empty')],
    ['an unknown ca key', withSigners(signer({ ca: { ...ca, chainFile: 'x' } })), named('signers[0].ca.chainFile', 'unknown field; the fields of signers[0].ca are certFile, keyFile, passphraseFile')],
    ['a duration without a unit', withSigners(signer({ duration: { max: '24' } })), named('signers[0].duration.max', 'invalid duration "24": a number needs a unit (ns, us, ms, s, m, h)')],
    ['a duration as a number', withSigners(signer({ duration: { max: 24 } })), named('signers[0].duration.max', 'must be a Go duration string such as "720h", not number 24')],
    ['a default over the maximum', withSigners(signer({ duration: { default: '48h', max: '24h' } })), named('signers[0].duration.default', '48h0m0s is longer than max (24h0m0s)')],
    ['a default over the default maximum', withSigners(signer({ duration: { default: '9000h' } })), named('signers[0].duration.default', '9000h0m0s is longer than max (8760h0m0s)')],
    ['a minimum over the default', withSigners(signer({ duration: { default: '1h', min: '2h' } })), named('signers[0].duration.min', '2h0m0s is longer than default (1h0m0s)')],
    ['a minimum under 10 minutes', withSigners(signer({ duration: { min: '5m' } })), named('signers[0].duration.min', '5m0s is shorter than 10m0s, the shortest certificate Kubernetes lets a request ask for')],
    ['a zero maximum', withSigners(signer({ duration: { max: '0s' } })), named('signers[0].duration.max', 'must be longer than 0s')],
    ['an unknown usage', withSigners(signer({ usages: { allowed: ['server auth', 'server-auth'] } })), new RegExp(`^${named('signers\\[0\\].usages.allowed\\[1\\]', '"server-auth" is not a Kubernetes usage; the usages are signing, digital signature')}`)],
    ['a usage listed twice', withSigners(signer({ usages: { allowed: ['server auth', 'server auth'] } })), named('signers[0].usages.allowed[1]', '"server auth" is listed twice')],
    ['an empty allowed list', withSigners(signer({ usages: { allowed: [] } })), named('signers[0].usages.allowed', 'must not be empty (leave the field out instead)')],
    ['a required usage that is not allowed', withSigners(signer({ usages: { allowed: ['server auth'], required: ['client auth'] } })), named('signers[0].usages.required[0]', '"client auth" is required but not in allowed')],
    ['an unknown key type', withSigners(signer({ keyTypes: ['ecdsa-p256', 'dsa'] })), named('signers[0].keyTypes[1]', '"dsa" is not one of rsa, ecdsa-p256, ecdsa-p384, ecdsa-p521, ed25519')],
    ['includeChain as a string', withSigners(signer({ includeChain: 'yes' })), named('signers[0].includeChain', 'must be true or false, not the string "yes"')],
    ['a policy on a built-in signer', withSigners({ name: 'kubernetes.io/kubelet-serving', ca, policy: {} }),
      `${file}: signer "kubernetes.io/kubelet-serving": signers[0].policy: kubernetes.io/* signers follow the in-tree rules of kube-controller-manager; remove this field`],
    ['usages on a built-in signer', withSigners({ name: 'kubernetes.io/legacy-unknown', ca, usages: { allowed: ['any'] } }), /signers\[0\]\.usages: kubernetes.io\/\* signers follow the in-tree rules/],
    ['a minimum duration on a built-in signer', withSigners({ name: 'kubernetes.io/kube-apiserver-client', ca, duration: { min: '1h' } }), /signers\[0\]\.duration\.min: kubernetes.io\/\* signers follow the in-tree rules/],
    ['an unknown policy key', withSigners(signer({ policy: { dnsName: [] } })), /^\/etc\/csr-signer\/signers.yaml: signer "example.com\/a": signers\[0\].policy.dnsName: unknown field; the fields of signers\[0\].policy are dnsNames, /],
    ['a wildcard inside a name', withSigners(signer({ policy: { dnsNames: ['ok.example.com', 'a.*.example.com'] } })), named('signers[0].policy.dnsNames[1]', "'*' is allowed only as the whole leftmost label, as in '*.example.com'")],
    ['a partial wildcard', withSigners(signer({ policy: { dnsNames: ['web-*.example.com'] } })), named('signers[0].policy.dnsNames[0]', "'*' is allowed only as the whole leftmost label, as in '*.example.com'")],
    ['a bare wildcard', withSigners(signer({ policy: { dnsNames: ['*'] } })), named('signers[0].policy.dnsNames[0]', "a wildcard needs a domain after it, as in '*.example.com'")],
    ['an unknown placeholder', withSigners(signer({ policy: { dnsNames: ['*.{ns}.svc'] } })), named('signers[0].policy.dnsNames[0]', "the only placeholder is {namespace}, as a whole label (as in '*.{namespace}.svc')")],
    ['a placeholder inside a label', withSigners(signer({ policy: { dnsNames: ['svc-{namespace}.example.com'] } })), named('signers[0].policy.dnsNames[0]', "the only placeholder is {namespace}, as a whole label (as in '*.{namespace}.svc')")],
    ['{node}, which only the approver\'s kubelet-serving entry knows', withSigners(signer({ policy: { dnsNames: ['{node}.example.com'] } })), named('signers[0].policy.dnsNames[0]', "the only placeholder is {namespace}, as a whole label (as in '*.{namespace}.svc')")],
    ['an empty label', withSigners(signer({ policy: { dnsNames: ['a..example.com'] } })), named('signers[0].policy.dnsNames[0]', 'has an empty label (two dots in a row, or a leading dot)')],
    ['a trailing dot', withSigners(signer({ policy: { dnsNames: ['example.com.'] } })), named('signers[0].policy.dnsNames[0]', 'must not end with a dot')],
    ['an underscore', withSigners(signer({ policy: { dnsNames: ['my_host.example.com'] } })), named('signers[0].policy.dnsNames[0]', 'the label "my_host" must be 1–63 letters, digits or \'-\', starting and ending with a letter or digit')],
    ['an IP without a prefix', withSigners(signer({ policy: { ipRanges: ['10.0.0.1'] } })), named('signers[0].policy.ipRanges[0]', 'must be a CIDR such as 10.0.0.0/8 or fd00::/8 (add /32 or /128 for a single address)')],
    ['a bad address', withSigners(signer({ policy: { ipRanges: ['10.0.0.256/32'] } })), named('signers[0].policy.ipRanges[0]', '"10.0.0.256" is not an IPv4 or IPv6 address')],
    ['a prefix too long for IPv4', withSigners(signer({ policy: { ipRanges: ['10.0.0.0/33'] } })), named('signers[0].policy.ipRanges[0]', 'the prefix length must be a number from 0 to 32, not "33"')],
    ['host bits set in IPv4', withSigners(signer({ policy: { ipRanges: ['10.0.0.1/8'] } })), named('signers[0].policy.ipRanges[0]', 'has host bits set after the first 8; did you mean a network address or a /32?')],
    ['host bits set in IPv6', withSigners(signer({ policy: { ipRanges: ['192.168.0.0/16', 'fd00::1/64'] } })), named('signers[0].policy.ipRanges[1]', 'has host bits set after the first 64; did you mean a network address or a /128?')],
    ['a zero SAN limit', withSigners(signer({ policy: { maxSubjectAltNames: 0 } })), named('signers[0].policy.maxSubjectAltNames', 'must be a whole number of at least 1, not number 0')],
    ['an unknown commonName rule', withSigners(signer({ policy: { commonName: 'dns' } })), named('signers[0].policy.commonName', '"dns" is not one of any, dns-name, required-dns-name, requester')],
    ['organizations not a list', withSigners(signer({ policy: { organizations: 'Example' } })), named('signers[0].policy.organizations', 'must be a list, not the string "Example"')],
    ['empty requesters', withSigners(signer({ policy: { requesters: {} } })), named('signers[0].policy.requesters', 'give usernames, groups or both (leave requesters out to allow anyone the approver approved)')],
    ['an unknown requesters key', withSigners(signer({ policy: { requesters: { users: ['a'] } } })), named('signers[0].policy.requesters.users', 'unknown field; the fields of signers[0].policy.requesters are usernames, groups')],
    ['allowCA as a string', withSigners(signer({ policy: { allowCA: 'false' } })), named('signers[0].policy.allowCA', 'must be true or false, not the string "false"')],
  ];
  for (const [name, text, message] of cases) {
    const error = failure(['--config', file], { [file]: text });
    t.match(error, { kind: 'InvalidConfig', code: 'CSR_SIGNER_ERR_INVALID_CONFIG', message }, name);
  }
  t.end();
});

void t.test('valid patterns, ranges and edge values are accepted', (t) => {
  const policy = {
    dnsNames: ['*.{namespace}.svc', '{namespace}.example.com', 'EXAMPLE.com', '*.a'], ipRanges: ['0.0.0.0/0', '::/0', '2001:db8::/32', '::ffff:10.0.0.0/104', '192.0.2.1/32'],
    organizations: [], requesters: { groups: [] },
  };
  const read = load(['--config', file], { [file]: withSigners(signer({ policy, usages: { required: ['server auth'] }, duration: { min: '10m', default: '10m', max: '10m' } })) }).signers[0];
  t.match(read, { policy: { ...policy, allowCA: false, commonName: 'dns-name' }, requiredUsages: ['server auth'], minDurationMs: 600_000, maxDurationMs: 600_000 });
  t.notOk(read && 'allowedUsages' in read, 'required alone leaves every usage allowed');
  t.end();
});

void t.test('a bounded policy bounds the CN too: a CN outside dnsNames with no DNS SAN is refused under the default rule', (t) => {
  // A TLS client checks the CN as the host name when there is no DNS subjectAltName
  // (OpenSSL's X509_check_host, Node's checkServerIdentity), so CN=evil.example.org
  // alone would be a certificate for a host dnsNames does not allow.
  const policyOf = (policy: Record<string, unknown>) => {
    const read = load(['--config', file], { [file]: withSigners({ name: 'example.com/a', ca, policy }) }).signers[0]?.policy;
    if (read === undefined) throw new Error('no policy read');
    return read;
  };
  const sa = 'system:serviceaccount:team-a:web';
  const spec = { request: '', signerName: 'example.com/a', username: sa, groups: [] };
  const check = (policy: Record<string, unknown>, request: RequestSpec) => checkPolicy(policyOf(policy), parseRequestDer(buildRequest(request)), spec, 'example.com/a');
  const bounded = { dnsNames: ['*.{namespace}.svc'], ipRanges: [] };
  t.equal(check(bounded, { commonName: 'evil.example.org' }),
    'subject commonName "evil.example.org" is not one of the request\'s DNS subjectAltNames, which signer example.com/a requires when a commonName is present', 'CN=evil.example.org, no SAN: refused');
  t.equal(check(bounded, { commonName: 'evil.example.org', dns: ['api.team-a.svc'] }),
    'subject commonName "evil.example.org" is not one of the request\'s DNS subjectAltNames, which signer example.com/a requires when a commonName is present', 'nor beside an allowed DNS SAN');
  t.equal(check(bounded, { commonName: 'api.team-a.svc', dns: ['api.team-a.svc'] }), undefined, 'a CN that is one of the allowed DNS SANs passes');
  t.equal(check(bounded, { dns: ['api.team-a.svc'] }), undefined, 'no CN passes');
  t.equal(check({ ...bounded, commonName: 'any' }, { commonName: 'evil.example.org' }), undefined, 'commonName: any, written, lets the CN name any host, as stated');
  t.equal(check({ unrestricted: true }, { commonName: 'evil.example.org' }), undefined, 'an unrestricted signer keeps any CN');
  t.end();
});
