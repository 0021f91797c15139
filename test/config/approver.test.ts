/**
 * `approver:` of the config file: every accepted form, read into ApproverConfig, and
 * every refusal with its exact sentence naming the file, the entry and the field.
 */
import t from 'tap';
import { stringify } from 'yaml';
import { approvableSigners, bindsByNamespace, impliedProfile, maxRegexLength } from '../../src/config/approver.js';
import { readConfigDocument } from '../../src/config/file.js';
import { defaultPolicy } from '../../src/config/policy.js';
import { approvalTriage, impliedProfile as signerProfile } from '../../src/signer/approval.js';
import type { ApproverConfig, Csr } from '../../src/signer/types.js';

const file = 'signers.yaml';
const ca = { certFile: 'ca.pem', keyFile: 'ca-key.pem' };
const byRequesters = { name: 'example.com/serving', ca, policy: { dnsNames: ['*.example.com'], ipRanges: [], requesters: { groups: ['team'] } } };
const byNamespace = { name: 'example.com/mesh', ca, policy: { dnsNames: ['*.{namespace}.svc'], ipRanges: [] } };
const unbound = { name: 'example.com/open', ca, policy: { dnsNames: ['*.example.com'], ipRanges: [] } };
const unrestricted = { name: 'example.com/any', ca, policy: { unrestricted: true } };
const signers = [byRequesters, byNamespace, unbound, unrestricted];
const sar = { verb: 'use', group: 'certificates.k8s.io', resource: 'signers', name: 'example.com/open' };

const config = (approver: unknown, extra: Record<string, unknown> = {}): string =>
  stringify({ apiVersion: 'csr-signer.io/v1alpha1', kind: 'SignerConfiguration', signers, approver, ...extra });
const approverOf = (approver: unknown, extra?: Record<string, unknown>): unknown => readConfigDocument(file, config(approver, extra)).approver;

void t.test('each signerName implies its profile; two built-in signers are never approved', (t) => {
  t.same(impliedProfile('kubernetes.io/kube-apiserver-client-kubelet'), { profile: 'kubelet-client' });
  t.same(impliedProfile('kubernetes.io/kubelet-serving'), { profile: 'kubelet-serving' });
  t.same(impliedProfile('example.com/serving'), { profile: 'policy' });
  t.match(impliedProfile('kubernetes.io/kube-apiserver-client'), { never: /log in to the API server as whatever user and groups the request names/ });
  t.match(impliedProfile('kubernetes.io/legacy-unknown'), { never: /no defined use/ });
  t.match(impliedProfile('kubernetes.io/some-future-signer'), { never: /csr-signer has approval rules only for its kubelet signers/ });
  t.end();
});

void t.test("the profile is the approver's own: the configuration reads it from the decision's impliedProfile", (t) => {
  const names = [
    'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/kube-apiserver-client',
    'kubernetes.io/legacy-unknown', 'kubernetes.io/some-future-signer', 'example.com/serving', 'example.com/kubernetes.io',
  ];
  for (const name of names) {
    const implied = impliedProfile(name);
    t.equal('profile' in implied ? implied.profile : undefined, signerProfile(name), name);
  }
  // What loads is configured for the decision: a pending CSR of each entry's signer goes on past the triage.
  const loaded = approverOf({ signers: ['kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'example.com/serving', 'example.com/mesh'].map((signerName) => ({ signerName })) }) as ApproverConfig;
  for (const entry of loaded.signers) {
    const csr: Csr = { metadata: { name: 'csr-1' }, spec: { signerName: entry.signerName, request: '', usages: [] } };
    t.equal(approvalTriage(csr, entry), undefined, `${entry.signerName}: ${entry.profile}`);
  }
  t.end();
});

void t.test('accepted forms are read into the approver configuration', (t) => {
  const cases: [string, unknown, unknown][] = [
    ['the kubelet signers, mode left out (enforce), kubelet-* not among the signers', { signers: [{ signerName: 'kubernetes.io/kube-apiserver-client-kubelet' }, { signerName: 'kubernetes.io/kubelet-serving' }] },
      { mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', profile: 'kubelet-client' }, { signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' }] }],
    ['audit mode', { mode: 'audit', signers: [{ signerName: 'kubernetes.io/kubelet-serving' }] }, { mode: 'audit', signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' }] }],
    ['the profile written as implied', { signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' }] }, { mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' }] }],
    ['every kubelet-serving option', { signers: [{ signerName: 'kubernetes.io/kubelet-serving', extraDnsNames: ['*.nodes.example.com', 'node.example.com'], extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$'], extraIpRanges: ['10.0.0.0/8', 'fd00::/8'], maxSubjectAltNames: 8 }] },
      { mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving', extraDnsNames: ['*.nodes.example.com', 'node.example.com'], extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$'], extraIpRanges: ['10.0.0.0/8', 'fd00::/8'], maxSubjectAltNames: 8 }] }],
    ['empty extra lists', { signers: [{ signerName: 'kubernetes.io/kubelet-serving', extraDnsNames: [], extraDnsRegexes: [], extraIpRanges: [] }] },
      { mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving', extraDnsNames: [], extraDnsRegexes: [], extraIpRanges: [] }] }],
    ['a custom signer bound by requesters', { signers: [{ signerName: 'example.com/serving' }] }, { mode: 'enforce', signers: [{ signerName: 'example.com/serving', profile: 'policy' }] }],
    ['a custom signer bound by namespace', { signers: [{ signerName: 'example.com/mesh', profile: 'policy' }] }, { mode: 'enforce', signers: [{ signerName: 'example.com/mesh', profile: 'policy' }] }],
    ['an unbound custom signer with a SubjectAccessReview', { signers: [{ signerName: 'example.com/open', subjectAccessReview: sar }] }, { mode: 'enforce', signers: [{ signerName: 'example.com/open', profile: 'policy', subjectAccessReview: sar }] }],
    ['an unrestricted signer with a SubjectAccessReview of every field, group left out (core)', { signers: [{ signerName: 'example.com/any', subjectAccessReview: { verb: 'create', resource: 'pods', subresource: 'exec', name: 'x', namespace: 'certs' } }] },
      { mode: 'enforce', signers: [{ signerName: 'example.com/any', profile: 'policy', subjectAccessReview: { verb: 'create', group: '', resource: 'pods', subresource: 'exec', name: 'x', namespace: 'certs' } }] }],
  ];
  for (const [name, approver, expected] of cases) t.same(approverOf(approver), expected, name);
  t.equal(readConfigDocument(file, config(undefined)).approver, undefined, 'no approver: off');
  t.end();
});

void t.test('refuses each mistake with one sentence naming the entry and the field', (t) => {
  const entry = (e: Record<string, unknown>): unknown => ({ signers: [e] });
  const named = (signer: string, field: string, detail: string): string => `${file}: approver for "${signer}": ${field}: ${detail}`;
  const serving = 'kubernetes.io/kubelet-serving';
  const cases: [string, unknown, string][] = [
    ['not a mapping', ['x'], `${file}: approver: must be a mapping, not a list`],
    ['an unknown field', { mode: 'enforce', signers: [], extra: 1 }, `${file}: approver.extra: unknown field; the fields of approver are mode, signers`],
    ['an unknown mode', { mode: 'dry-run', signers: [{ signerName: serving }] }, `${file}: approver.mode: "dry-run" is not one of enforce, audit`],
    ['no signers', { mode: 'audit' }, `${file}: approver.signers: is required: the signers whose CSRs are approved, at least one`],
    ['an empty signers list', { signers: [] }, `${file}: approver.signers: must list at least one signer (leave approver out to turn the approver off)`],
    ['signers not a list', { signers: 'x' }, `${file}: approver.signers: must be a list, not the string "x"`],
    ['an entry without signerName', entry({ profile: 'policy' }), `${file}: approver.signers[0] (no signerName yet): approver.signers[0].signerName: is required: the signerName whose CSRs are approved`],
    ['an invalid signerName', entry({ signerName: 'serving' }), `${file}: approver.signers[0] (no signerName yet): approver.signers[0].signerName: "serving" is not a valid signerName: must be a fully qualified domain and path of the form 'example.com/signer-name'`],
    ['a reserved signerName', entry({ signerName: 'kubernetes.io/mine' }), `${file}: approver.signers[0] (no signerName yet): approver.signers[0].signerName: "kubernetes.io/mine" is in the kubernetes.io domain, which Kubernetes reserves; csr-signer serves only the built-in kubernetes.io/kube-apiserver-client, kubernetes.io/kube-apiserver-client-kubelet, kubernetes.io/kubelet-serving and kubernetes.io/legacy-unknown there`],
    ['an unknown entry field', entry({ signerName: serving, extraDNSNames: [] }), named(serving, 'approver.signers[0].extraDNSNames', 'unknown field; the fields of approver.signers[0] are signerName, profile, extraDnsNames, extraDnsRegexes, extraIpRanges, maxSubjectAltNames, subjectAccessReview')],
    ['a signer twice', { signers: [{ signerName: serving }, { signerName: serving }] }, named(serving, 'approver.signers[1].signerName', 'approver.signers[0] names the same signer; each signer may appear once')],
    ['kube-apiserver-client', entry({ signerName: 'kubernetes.io/kube-apiserver-client' }), named('kubernetes.io/kube-apiserver-client', 'approver.signers[0].signerName', 'kubernetes.io/kube-apiserver-client is never auto-approved: its certificates log in to the API server as whatever user and groups the request names, which no rule here can judge; kube-controller-manager never auto-approves it either')],
    ['legacy-unknown', entry({ signerName: 'kubernetes.io/legacy-unknown' }), named('kubernetes.io/legacy-unknown', 'approver.signers[0].signerName', 'kubernetes.io/legacy-unknown is never auto-approved: its certificates have no defined use, so no rule can say what a requester is entitled to; kube-controller-manager never auto-approves it either')],
    ['a profile other than the implied one', entry({ signerName: serving, profile: 'policy' }), named(serving, 'approver.signers[0].profile', 'kubernetes.io/kubelet-serving is approved by the kubelet-serving profile, not policy; the signerName decides it (leave profile out)')],
    ['an unknown profile', entry({ signerName: serving, profile: 'node' }), named(serving, 'approver.signers[0].profile', '"node" is not one of kubelet-client, kubelet-serving, policy')],
    ['a serving option on kubelet-client', entry({ signerName: 'kubernetes.io/kube-apiserver-client-kubelet', extraIpRanges: ['10.0.0.0/8'] }), named('kubernetes.io/kube-apiserver-client-kubelet', 'approver.signers[0].extraIpRanges', 'only for kubernetes.io/kubelet-serving; kubernetes.io/kube-apiserver-client-kubelet is approved by the kubelet-client profile')],
    ['a serving option on a custom signer', entry({ signerName: 'example.com/serving', maxSubjectAltNames: 3 }), named('example.com/serving', 'approver.signers[0].maxSubjectAltNames', 'only for kubernetes.io/kubelet-serving; example.com/serving is approved by the policy profile')],
    ['a SubjectAccessReview on kubelet-serving', entry({ signerName: serving, subjectAccessReview: sar }), named(serving, 'approver.signers[0].subjectAccessReview', 'only for a custom signer (profile policy); the kubelet-serving profile asks its own SubjectAccessReviews')],
    ['a bad DNS pattern', entry({ signerName: serving, extraDnsNames: ['a.*.example.com'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', "'*' is allowed only as the whole leftmost label, as in '*.example.com'")],
    ['{namespace} for a node', entry({ signerName: serving, extraDnsNames: ['*.{namespace}.svc'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', "{namespace} never matches here, as a node has no namespace; {node} stands for the requesting node's name")],
    ['{namespace} inside a label for a node', entry({ signerName: serving, extraDnsNames: ['{node}-{namespace}.example.com'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', "{namespace} never matches here, as a node has no namespace; {node} stands for the requesting node's name")],
    ['an unknown placeholder for a node', entry({ signerName: serving, extraDnsNames: ['{nodename}.example.com'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', "the only placeholder here is {node}, the requesting node's name (as in '{node}.nodes.example.com')")],
    ['{node} making a wildcard', entry({ signerName: serving, extraDnsNames: ['*{node}.example.com'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', "'*' is allowed only as the whole leftmost label, as in '*.example.com'")],
    ['{node} in a label that is not a host name', entry({ signerName: serving, extraDnsNames: ['{node}_bmc.example.com'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', 'the label "{node}_bmc" must be 1–63 letters, digits or \'-\', starting and ending with a letter or digit')],
    ['a DNS pattern twice', entry({ signerName: serving, extraDnsNames: ['a.example.com', 'a.example.com'] }), named(serving, 'approver.signers[0].extraDnsNames[1]', '"a.example.com" is listed twice')],
    ['a regex the approver cannot run', entry({ signerName: serving, extraDnsRegexes: ['^(?=a)a$'] }), named(serving, 'approver.signers[0].extraDnsRegexes[0]', 'DNS name expression "^(?=a)a$" cannot be used: a group kind (?= at offset 1 that is not supported')],
    ['a regex that is not a string', entry({ signerName: serving, extraDnsRegexes: [5] }), named(serving, 'approver.signers[0].extraDnsRegexes[0]', 'must be a string, not number 5')],
    ['a bad CIDR', entry({ signerName: serving, extraIpRanges: ['10.0.0.1/8'] }), named(serving, 'approver.signers[0].extraIpRanges[0]', 'has host bits set after the first 8; did you mean a network address or a /32?')],
    ['every IPv4 address', entry({ signerName: serving, extraIpRanges: ['10.0.0.0/8', '0.0.0.0/0'] }), named(serving, 'approver.signers[0].extraIpRanges[1]', 'holds every IPv4 address, so every node could get a serving certificate for any address: list your nodes\' networks')],
    ['every IPv6 address', entry({ signerName: serving, extraIpRanges: ['::/0'] }), named(serving, 'approver.signers[0].extraIpRanges[0]', 'holds every IPv6 address, so every node could get a serving certificate for any address: list your nodes\' networks')],
    ['an IPv4 range wider than /8', entry({ signerName: serving, extraIpRanges: ['10.0.0.0/7'] }), named(serving, 'approver.signers[0].extraIpRanges[0]', 'is wider than /8 (the widest private range, 10.0.0.0/8), so every node could get serving certificates for addresses of networks not yours: list narrower ranges')],
    ['an IPv6 range wider than /8', entry({ signerName: serving, extraIpRanges: ['2000::/3'] }), named(serving, 'approver.signers[0].extraIpRanges[0]', 'is wider than /8 (the widest unique local range, fd00::/8), so every node could get serving certificates for addresses of networks not yours: list narrower ranges')],
    ['a wildcard over a top-level domain', entry({ signerName: serving, extraDnsNames: ['*.com'] }), named(serving, 'approver.signers[0].extraDnsNames[0]', '\'*.com\' covers names of every domain under "com" for any node: name a domain of yours after \'*.\', as in \'*.nodes.example.com\'')],
    ['maxSubjectAltNames 0', entry({ signerName: serving, maxSubjectAltNames: 0 }), named(serving, 'approver.signers[0].maxSubjectAltNames', 'must be a whole number of at least 1, not number 0')],
    ['maxSubjectAltNames written as a float', entry({ signerName: serving, maxSubjectAltNames: 8.5 }), named(serving, 'approver.signers[0].maxSubjectAltNames', 'must be a whole number of at least 1, not the number 8.5: only the decimal digits 0-9 are allowed (no sign, space, decimal point, exponent or 0x)')],
    ['a custom signer not in signers:', entry({ signerName: 'example.com/other' }), named('example.com/other', 'approver.signers[0].signerName', 'example.com/other is not in signers:, and a custom signer is approved by its policy there: add the signer (with signing: false, without its ca), or remove this entry')],
    ['a policy that does not say who gets what', entry({ signerName: 'example.com/open' }), named('example.com/open', 'approver.signers[0]', 'the policy of signers[2] ("example.com/open") does not say who gets what, so every request within it would be approved: add policy.requesters to the signer, or a subjectAccessReview to its approver: entry, or bind names to the requester\'s namespace (every policy.dnsNames pattern with {namespace}, ipRanges: [], no email or URI names, no CA, commonName other than any)')],
    ['an unrestricted signer without a SubjectAccessReview', entry({ signerName: 'example.com/any' }), named('example.com/any', 'approver.signers[0]', 'signers[3] ("example.com/any") is unrestricted, so its policy does not say who gets which names and only a SubjectAccessReview can: give its approver: entry a subjectAccessReview')],
    ['a SubjectAccessReview without verb', entry({ signerName: 'example.com/open', subjectAccessReview: { resource: 'signers' } }), named('example.com/open', 'approver.signers[0].subjectAccessReview.verb', 'is required')],
    ['a SubjectAccessReview without resource', entry({ signerName: 'example.com/open', subjectAccessReview: { verb: 'use' } }), named('example.com/open', 'approver.signers[0].subjectAccessReview.resource', 'is required')],
    ['a SubjectAccessReview with an unknown field', entry({ signerName: 'example.com/open', subjectAccessReview: { verb: 'use', resource: 'signers', user: 'x' } }), named('example.com/open', 'approver.signers[0].subjectAccessReview.user', 'unknown field; the fields of approver.signers[0].subjectAccessReview are verb, group, resource, subresource, name, namespace')],
    ['a SubjectAccessReview with an empty name', entry({ signerName: 'example.com/open', subjectAccessReview: { verb: 'use', resource: 'signers', name: '' } }), named('example.com/open', 'approver.signers[0].subjectAccessReview.name', 'must not be empty')],
  ];
  for (const [name, approver, message] of cases) {
    t.throws(() => approverOf(approver), { name: 'CsrSignerError', kind: 'InvalidConfig', message }, name);
  }
  t.end();
});

void t.test('{node} is accepted in kubelet-serving extraDnsNames, anywhere, and stands for the node\'s name (no other placeholder)', (t) => {
  const patterns = ['{node}.nodes.example.com', '*.{node}', '*.{node}.nodes.example.com', '{node}-bmc.example.com', 'bmc-{node}.example.com', `${'a'.repeat(62)}{node}.example.com`];
  t.same(approverOf({ signers: [{ signerName: 'kubernetes.io/kubelet-serving', extraDnsNames: patterns }] }), {
    mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving', extraDnsNames: patterns }],
  });
  t.end();
});

void t.test('extraDnsRegexes: what loads is what the approver runs, {node} included; its own bounds are the length and an expression that matches names in any domain', (t) => {
  const serving = (extraDnsRegexes: string[]): unknown => approverOf({ signers: [{ signerName: 'kubernetes.io/kubelet-serving', extraDnsRegexes }] });
  const accepted = [
    '^ip-[0-9-]+\\.ec2\\.internal$',
    'ip-[0-9-]+\\.ec2\\.internal',
    '^{node}\\.nodes\\.example\\.com$',
    '{node}-[0-9]+\\.lab',
    '^(?:{node}|bmc-{node})\\.example\\.com$',
    '^(a+)+$',
    '^a|b$',
    '.*\\.com',
    '^{node}\\..*$',
    '^.*{node}.*$',
    `^${'a'.repeat(maxRegexLength - 2)}$`,
  ];
  t.same(serving(accepted), { mode: 'enforce', signers: [{ signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving', extraDnsRegexes: accepted }] });
  const refused: [string, string, string][] = [
    ['too long', `^${'a'.repeat(maxRegexLength - 1)}$`, `is ${maxRegexLength + 1} characters long; at most ${maxRegexLength} are allowed`],
    ['a back-reference', '^(a)\\1$', 'DNS name expression "^(a)\\\\1$" cannot be used: the escape \\1 is not supported'],
    ['anchors around each alternative', '^a$|^b$', 'DNS name expression "^a$|^b$" cannot be used: $ at offset 2 is not supported there'],
    // Compiled for the longest node name (253 characters), 40 copies of {node} exceed the automaton's bound.
    ['{node} repeated beyond the automaton', '(?:{node}){40}', 'DNS name expression "(?:{node}){40}" cannot be used: the expression needs more than 10000 states'],
    ['any name', '.*', 'DNS name expression ".*" matches host names in any domain, so every node could get a serving certificate for every name: anchor it to a domain of yours, as in "^ip-[0-9-]+\\\\.ec2\\\\.internal$"'],
    ['any name with a dot', '^.+\\..+$', 'DNS name expression "^.+\\\\..+$" matches host names in any domain, so every node could get a serving certificate for every name: anchor it to a domain of yours, as in "^ip-[0-9-]+\\\\.ec2\\\\.internal$"'],
    ['any name of host-name characters', '^[a-z0-9.-]+$', 'DNS name expression "^[a-z0-9.-]+$" matches host names in any domain, so every node could get a serving certificate for every name: anchor it to a domain of yours, as in "^ip-[0-9-]+\\\\.ec2\\\\.internal$"'],
    ['{node} or any name', '^({node}|.*)$', 'DNS name expression "^({node}|.*)$" matches host names in any domain, so every node could get a serving certificate for every name: anchor it to a domain of yours, as in "^ip-[0-9-]+\\\\.ec2\\\\.internal$"'],
    ['an escaped { is no placeholder', '\\{node}', 'DNS name expression "\\\\{node}" cannot be used: } at offset 6 is not supported there'],
  ];
  for (const [name, source, detail] of refused) {
    t.throws(() => serving([source]), { name: 'CsrSignerError', kind: 'InvalidConfig', message: `${file}: approver for "kubernetes.io/kubelet-serving": approver.signers[0].extraDnsRegexes[0]: ${detail}` }, name);
  }
  t.end();
});

void t.test('a namespace-bound policy leaves nothing else open', (t) => {
  const bound = { ...defaultPolicy, commonName: 'dns-name' as const, dnsNames: ['*.{namespace}.svc', '{namespace}.example.com'], ipRanges: [] };
  t.ok(bindsByNamespace(bound), 'every pattern holds {namespace}, no IP');
  t.ok(bindsByNamespace({ ...bound, commonName: 'requester' }), 'a CN bound to the requester');
  const open: [string, object][] = [
    ['a pattern without {namespace}', { dnsNames: ['*.{namespace}.svc', 'api.example.com'] }],
    ['{namespace} only inside a label is no placeholder', { dnsNames: ['x{namespace}.svc'] }],
    ['no DNS name at all', { dnsNames: [] }],
    ['IP ranges', { ipRanges: ['10.0.0.0/8'] }],
    ['IP addresses unbounded', { ipRanges: undefined }],
    ['email names', { allowEmailAddresses: true }],
    ['URI names', { allowUris: true }],
    ['CA certificates', { allowCA: true }],
    ['any CN', { commonName: 'any' }],
  ];
  for (const [name, change] of open) t.notOk(bindsByNamespace({ ...bound, ...change }), name);
  t.end();
});

void t.test('approvableSigners keeps every signer with a profile and says which it leaves out', (t) => {
  const { entries, leftOut } = approvableSigners(['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown', 'example.com/a']);
  t.same(entries, [
    { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', profile: 'kubelet-client' },
    { signerName: 'kubernetes.io/kubelet-serving', profile: 'kubelet-serving' },
    { signerName: 'example.com/a', profile: 'policy' },
  ]);
  t.same(leftOut.map((l) => l.signerName), ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/legacy-unknown']);
  t.end();
});
