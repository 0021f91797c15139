/**
 * kubernetes.io/kubelet-serving approval: only what the requesting node really is.
 * Real requests parsed by the real parser, the Node as the fact, the exact decision
 * (kind, rule, message) asserted — every rule and every message of the ladder.
 */
import t from 'tap';
import { approvalFacts, decideApproval } from '../../src/signer/approval.js';
import type { ApprovalDecision, ApproverSignerConfig, Csr, Node } from '../../src/signer/types.js';
import {
  csrBuilder, signerConfig, withGroups, withRawRequest, withRequest, withSigner, withUsages, withUsername, type CsrModifier,
} from '../helpers/csr.js';
import type { RequestSpec } from '../helpers/requests.js';
import { parsed, withForgedSignature } from '../helpers/approval.js';

const signerName = 'kubernetes.io/kubelet-serving';
const entry: ApproverSignerConfig = { signerName, profile: 'kubelet-serving' };
const widened: ApproverSignerConfig = {
  ...entry,
  extraDnsNames: ['*.nodes.example.com', 'kubelet.example.com'],
  extraDnsRegexes: ['^ip-[0-9-]+\\.ec2\\.internal$', 'node-[0-9]+\\.lab'],
  extraIpRanges: ['10.0.0.0/8', 'fd00:1::/64'],
};

const worker1: Node = {
  metadata: { name: 'worker-1' },
  status: {
    addresses: [
      { type: 'Hostname', address: 'worker-1' },
      { type: 'InternalDNS', address: 'worker-1.cluster.internal' },
      { type: 'ExternalDNS', address: 'Worker-1.Example.COM' },
      { type: 'InternalIP', address: '192.168.1.10' },
      { type: 'ExternalIP', address: '2001:db8:0:0::a' },
      { type: 'SomethingElse', address: 'other.example.com' },
    ],
  },
};

const nodeWith = (...addresses: { type: string; address: string }[]): Node => ({ metadata: { name: 'worker-1' }, status: { addresses } });
/** basicConstraints CA:TRUE: SEQUENCE { BOOLEAN TRUE }. */
const caTrue = { oid: '2.5.29.19', critical: true, value: Uint8Array.from([0x30, 0x03, 0x01, 0x01, 0xff]).buffer };

const request = (more: Partial<RequestSpec>): RequestSpec =>
  ({ key: 'p256', commonName: 'system:node:worker-1', organizations: ['system:nodes'], ...more });
const servingCsr = (spec: RequestSpec, ...more: CsrModifier[]): Csr => csrBuilder(
  withSigner(signerName), withRequest(spec), withUsages('digital signature', 'server auth'),
  withUsername('system:node:worker-1'), withGroups('system:nodes', 'system:authenticated'), ...more,
);

/** 4 labels of 62 a's: 251 characters, within DNS limits, a worst case for a backtracking engine. */
const longName = Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.');

/** 4 labels of 63 characters: 255, more than a DNS name may have. */
const tooLong = Array.from({ length: 4 }, () => 'b'.repeat(63)).join('.');

const approvedFor = (node: string): ApprovalDecision => ({
  kind: 'approve', rule: 'kubelet-serving',
  message: `Auto approving kubelet serving certificate for node "${node}": every name is an address of the node.`,
});
const approvedWidened = (node: string): ApprovalDecision => ({
  kind: 'approve', rule: 'kubelet-serving',
  message: `Auto approving kubelet serving certificate for node "${node}": every name is an address of the node or allowed by the approver's configuration.`,
});
const denied = (message: string): ApprovalDecision => ({ kind: 'deny', rule: 'kubelet-serving', message });
const notANodeName = (name: string): string =>
  `requester ${JSON.stringify(`system:node:${name}`)} names node ${JSON.stringify(name)}, which is not a node name (a lowercase DNS-1123 subdomain of at most 253 characters)`;

interface Case {
  readonly name: string;
  readonly csr: Csr;
  readonly entry?: ApproverSignerConfig;
  readonly node?: Node | null;
  readonly expected: ApprovalDecision;
}

const cases: Case[] = [
  // approved
  { name: 'the node\'s hostname and IPv4 address: approved', csr: servingCsr(request({ dns: ['worker-1'], ips: ['192.168.1.10'] })), expected: approvedFor('worker-1') },
  { name: 'every DNS address type, compared without case', csr: servingCsr(request({ dns: ['worker-1.cluster.internal', 'worker-1.example.com', 'WORKER-1'] })), expected: approvedFor('worker-1') },
  { name: 'the IPv6 address written differently from the Node\'s (2001:db8::a vs 2001:db8:0:0::a)', csr: servingCsr(request({ ips: ['2001:DB8::A'] })), expected: approvedFor('worker-1') },
  { name: 'an IP address only, no DNS name', csr: servingCsr(request({ ips: ['192.168.1.10'] })), expected: approvedFor('worker-1') },
  { name: 'an RSA key with key encipherment (what the kubelet asks with an RSA key)', csr: servingCsr(request({ key: 'rsa2048', dns: ['worker-1'] }), withUsages('digital signature', 'key encipherment', 'server auth')), expected: approvedFor('worker-1') },
  { name: 'an ECDSA key with key encipherment (what older kubelets ask): accepted too', csr: servingCsr(request({ dns: ['worker-1'] }), withUsages('key encipherment', 'digital signature', 'server auth')), expected: approvedFor('worker-1') },
  { name: 'an extra DNS pattern (one leftmost label)', entry: widened, csr: servingCsr(request({ dns: ['worker-1', 'w1.nodes.example.com', 'kubelet.example.com'] })), expected: approvedWidened('worker-1') },
  { name: 'an extra DNS regular expression, anchored by the operator', entry: widened, csr: servingCsr(request({ dns: ['ip-10-0-0-1.ec2.internal'] })), expected: approvedWidened('worker-1') },
  { name: 'an extra DNS regular expression, not anchored: it must match the whole name', entry: widened, csr: servingCsr(request({ dns: ['node-7.lab'] })), expected: approvedWidened('worker-1') },
  { name: 'extra IP ranges, IPv4 and IPv6', entry: widened, csr: servingCsr(request({ ips: ['10.200.3.4', 'fd00:1::5'] })), expected: approvedWidened('worker-1') },
  { name: 'exactly maxSubjectAltNames names', entry: { ...entry, maxSubjectAltNames: 2 }, csr: servingCsr(request({ dns: ['worker-1'], ips: ['192.168.1.10'] })), expected: approvedFor('worker-1') },

  // denied: the requester
  { name: 'a requester that is not a node', csr: servingCsr(request({ dns: ['worker-1'] }), withUsername('alice'), withGroups('system:authenticated')), expected: denied('requester "alice" is not a node: kubelet serving certificates are approved for system:node:<name> users only') },
  { name: 'a node user without a name', csr: servingCsr(request({ dns: ['worker-1'] }), withUsername('system:node:')), expected: denied(notANodeName('')) },
  { name: 'a node user named ".."', csr: servingCsr(request({ dns: ['worker-1'] }), withUsername('system:node:..')), expected: denied(notANodeName('..')) },
  { name: 'a node user with an empty label', csr: servingCsr(request({ dns: ['worker-1'] }), withUsername('system:node:worker-1..x')), expected: denied(notANodeName('worker-1..x')) },
  { name: 'a node user in upper case (Node names are lowercase)', csr: servingCsr(request({ dns: ['worker-1'] }), withUsername('system:node:Worker-1')), expected: denied(notANodeName('Worker-1')) },
  { name: 'a node user whose name is longer than 253 characters', csr: servingCsr(request({ dns: ['worker-1'] }), withUsername(`system:node:${'a'.repeat(254)}`)), expected: denied(notANodeName('a'.repeat(254))) },
  { name: 'a node user outside system:nodes', csr: servingCsr(request({ dns: ['worker-1'] }), withGroups('system:authenticated')), expected: denied('requester "system:node:worker-1" is not in group system:nodes') },
  { name: 'the request\'s CN names another node than the requester', csr: servingCsr(request({ commonName: 'system:node:worker-2', dns: ['worker-1'] })), expected: denied('subject common name "system:node:worker-2" is not the requester "system:node:worker-1"') },

  // denied: the in-tree shape, with the in-tree messages
  { name: 'wrong organization', csr: servingCsr(request({ organizations: ['system:masters'], dns: ['worker-1'] })), expected: denied('subject organization ["system:masters"] is not system:nodes') },
  { name: 'no DNS name and no IP address', csr: servingCsr(request({})), expected: denied('DNS or IP subjectAltName is required') },
  { name: 'an email address', csr: servingCsr(request({ dns: ['worker-1'], emails: ['root@worker-1'] })), expected: denied('Email subjectAltNames are not allowed: ["root@worker-1"]') },
  { name: 'a URI', csr: servingCsr(request({ dns: ['worker-1'], uris: ['spiffe://cluster/node/worker-1'] })), expected: denied('URI subjectAltNames are not allowed: ["spiffe://cluster/node/worker-1"]') },
  { name: 'client auth asked for', csr: servingCsr(request({ dns: ['worker-1'] }), withUsages('digital signature', 'server auth', 'client auth')), expected: denied('usages ["digital signature","server auth","client auth"] did not match [digital signature key encipherment server auth] or [digital signature server auth]') },
  { name: 'a CN that is not a node\'s', csr: servingCsr(request({ commonName: 'worker-1', dns: ['worker-1'] })), expected: denied('subject common name "worker-1" does not begin with system:node:') },

  // denied: the exact subject
  { name: 'an extra subject attribute (OU)', csr: servingCsr(request({ dns: ['worker-1'], subject: [[{ type: '2.5.4.10', value: 'system:nodes' }], [{ type: '2.5.4.11', value: 'ops' }], [{ type: '2.5.4.3', value: 'system:node:worker-1' }]] })), expected: denied('subject attribute 2.5.4.11="ops" is not allowed: the subject must be exactly CN=system:node:worker-1, O=system:nodes') },
  { name: 'two common names', csr: servingCsr(request({ dns: ['worker-1'], subject: [[{ type: '2.5.4.10', value: 'system:nodes' }], [{ type: '2.5.4.3', value: 'system:node:worker-1' }], [{ type: '2.5.4.3', value: 'system:node:worker-1' }]] })), expected: denied('subject has 2 common names, and must have exactly one, "system:node:worker-1"') },

  // denied: the names
  { name: 'more names than maxSubjectAltNames', entry: { ...entry, maxSubjectAltNames: 1 }, csr: servingCsr(request({ dns: ['worker-1'], ips: ['192.168.1.10'] })), expected: denied('the request has 2 DNS names and IP addresses, more than the 1 allowed') },
  { name: 'the Node does not exist', node: null, csr: servingCsr(request({ dns: ['worker-1'] })), expected: denied('node "worker-1" does not exist') },
  { name: 'a foreign IP address', csr: servingCsr(request({ dns: ['worker-1'], ips: ['192.168.1.10', '10.9.9.9'] })), expected: denied('IP address "10.9.9.9" is not an address of node "worker-1"') },
  { name: 'a foreign IPv6 address, printed in its canonical form', csr: servingCsr(request({ ips: ['2001:0db8:0000:0000:0000:0000:0000:000b'] })), expected: denied('IP address "2001:db8::b" is not an address of node "worker-1"') },
  { name: 'a foreign DNS name', csr: servingCsr(request({ dns: ['worker-1', 'api.example.com'] })), expected: denied('DNS name "api.example.com" is not a name of node "worker-1"') },
  { name: 'an address of another type (not Hostname, InternalDNS or ExternalDNS)', csr: servingCsr(request({ dns: ['other.example.com'] })), expected: denied('DNS name "other.example.com" is not a name of node "worker-1"') },
  { name: 'a wildcard, even one an extra pattern would match', entry: widened, csr: servingCsr(request({ dns: ['*.nodes.example.com'] })), expected: denied('DNS name "*.nodes.example.com" is a wildcard, which a node\'s name never is') },
  { name: 'an extra pattern matches one label only', entry: widened, csr: servingCsr(request({ dns: ['a.b.nodes.example.com'] })), expected: denied('DNS name "a.b.nodes.example.com" is not a name of node "worker-1"') },
  { name: 'an extra regular expression matches the whole name only', entry: widened, csr: servingCsr(request({ dns: ['node-7.lab.evil.com'] })), expected: denied('DNS name "node-7.lab.evil.com" is not a name of node "worker-1"') },
  { name: 'an expression that would backtrack exponentially in JavaScript: answered at once', entry: { ...entry, extraDnsRegexes: ['([a.]+)+x'] }, csr: servingCsr(request({ dns: [longName] })), expected: denied(`DNS name "${longName}" is not a name of node "worker-1"`) },
  { name: 'a DNS name longer than 253 characters: the parser refuses it, so no expression ever sees it', entry: widened, csr: servingCsr(request({ dns: [tooLong] })), expected: denied('the request\'s subjectAltName is invalid: a DNS name of 255 characters is longer than the limit of 253') },
  { name: 'an expression that does not compile (the configuration refuses it) decides nothing: wait, loudly', entry: { ...entry, extraDnsRegexes: ['(?=w)worker-2'] }, csr: servingCsr(request({ dns: ['worker-2'] })), expected: { kind: 'wait', rule: 'kubelet-serving', message: 'extraDnsRegexes expression "(?=w)worker-2" cannot be used (a group kind (?= at offset 0 that is not supported); the configuration should have refused it, so nothing is decided for DNS name "worker-2" of node "worker-1"' } },
  { name: 'an expression that does not compile is not consulted for the node\'s own names', entry: { ...entry, extraDnsRegexes: ['(?=w)worker-2'] }, csr: servingCsr(request({ dns: ['worker-1'] })), expected: approvedFor('worker-1') },
  { name: 'an address outside the extra IP ranges', entry: widened, csr: servingCsr(request({ ips: ['11.0.0.1'] })), expected: denied('IP address "11.0.0.1" is not an address of node "worker-1"') },
  { name: 'an IPv4-mapped IPv6 address is the node\'s IPv4 address (Go\'s net.IP.Equal)', csr: servingCsr(request({ ips: ['::ffff:c0a8:10a'] })), expected: approvedFor('worker-1') },
  // the DNS names' syntax, checked first
  { name: 'a DNS name with a trailing dot', csr: servingCsr(request({ dns: ['worker-1.'] })), expected: denied('DNS name "worker-1." is not a valid host name') },
  { name: 'a DNS name with an underscore', csr: servingCsr(request({ dns: ['my_host'] })), expected: denied('DNS name "my_host" is not a valid host name') },
  { name: 'an IP address as a DNS name, even one of the node', csr: servingCsr(request({ dns: ['192.168.1.10'] })), expected: denied('DNS name "192.168.1.10" is an IP address; request it as an IP address subjectAltName') },
  { name: 'an IPv4 address with leading zeros as a DNS name', csr: servingCsr(request({ dns: ['010.0.0.5'] })), expected: denied('DNS name "010.0.0.5" is an IP address; request it as an IP address subjectAltName') },
  { name: 'a bad DNS name is named before the Node is looked at', node: null, csr: servingCsr(request({ dns: ['worker-1', 'bad..name'] })), expected: denied('DNS name "bad..name" is not a valid host name') },

  // the exact subject, more
  { name: 'the organization twice', csr: servingCsr(request({ organizations: ['system:nodes', 'system:nodes'], dns: ['worker-1'] })), expected: denied('subject organization ["system:nodes","system:nodes"] is not system:nodes') },
  { name: 'CN and O in one multi-valued RDN: the same two attributes, as Go reads them, so approved', csr: servingCsr(request({ dns: ['worker-1'], subject: [[{ type: '2.5.4.10', value: 'system:nodes' }, { type: '2.5.4.3', value: 'system:node:worker-1' }]] })), expected: approvedFor('worker-1') },

  // the Node read
  { name: 'a Node of another name than the requester\'s', node: { ...worker1, metadata: { name: 'worker-2' } }, csr: servingCsr(request({ dns: ['worker-1'] })), expected: denied('the Node read is "worker-2", not the requester\'s node "worker-1"') },

  // the Node's addresses as the kubelet reads them
  { name: 'a Hostname that is an IP address is an IP address', node: nodeWith({ type: 'Hostname', address: '192.168.1.20' }), csr: servingCsr(request({ ips: ['192.168.1.20'] })), expected: approvedFor('worker-1') },
  { name: 'an InternalIP with leading zeros is read as Go\'s ParseIPSloppy does (decimal)', node: nodeWith({ type: 'InternalIP', address: '010.000.001.030' }), csr: servingCsr(request({ ips: ['10.0.1.30'] })), expected: approvedFor('worker-1') },
  { name: 'an InternalIP written as IPv4-mapped IPv6 is the IPv4 address', node: nodeWith({ type: 'InternalIP', address: '::ffff:192.168.1.40' }), csr: servingCsr(request({ ips: ['192.168.1.40'] })), expected: approvedFor('worker-1') },
  { name: 'an InternalIP that does not parse is no address at all', node: nodeWith({ type: 'InternalIP', address: 'worker-1' }), csr: servingCsr(request({ dns: ['worker-1'] })), expected: denied('DNS name "worker-1" is not a name of node "worker-1"') },
  { name: 'an empty address is skipped', node: nodeWith({ type: 'Hostname', address: '' }, { type: 'InternalIP', address: '192.168.1.10' }), csr: servingCsr(request({ ips: ['192.168.1.10'] })), expected: approvedFor('worker-1') },

  // what the signer would fail, when csr-signer does not sign for kubelet-serving
  { name: 'a CA request', csr: servingCsr(request({ dns: ['worker-1'], extensions: [caTrue] })), expected: denied('the request asks for a CA certificate (basicConstraints CA:TRUE), which a node\'s serving certificate never is') },

  { name: 'a Node without addresses', node: { metadata: { name: 'worker-1' } }, csr: servingCsr(request({ dns: ['worker-1'] })), expected: denied('DNS name "worker-1" is not a name of node "worker-1"') },
];

void t.test('kubelet-serving: the decision table', (t) => {
  for (const c of cases) {
    const node = c.node === undefined ? worker1 : c.node;
    t.same(decideApproval({ csr: c.csr, request: parsed(c.csr), entry: c.entry ?? entry, signer: undefined, node, access: [] }), c.expected, c.name);
  }
  t.end();
});

void t.test('kubelet-serving: a request without proof of possession is denied with the parser\'s sentence', (t) => {
  const csr = servingCsr(request({ dns: ['worker-1'] }), withRawRequest(Buffer.from('garbage').toString('base64')));
  t.same(decideApproval({ csr, request: parsed(csr), entry, signer: undefined, node: worker1, access: [] }),
    denied('the request must be exactly one CERTIFICATE REQUEST PEM block, found no PEM block'));
  t.end();
});

void t.test('kubelet-serving: a request whose signature does not verify is denied: no proof of possession', (t) => {
  const spec = request({ dns: ['worker-1'] });
  const csr = servingCsr(spec, withForgedSignature(spec));
  const decision = decideApproval({ csr, request: parsed(csr), entry, signer: undefined, node: worker1, access: [] });
  t.match(decision, { kind: 'deny', rule: 'kubelet-serving', message: /^the request's signature does not verify with its own public key \(.+\), so it does not prove possession of the private key$/ });
  t.end();
});

void t.test('kubelet-serving: the Node is read only for a requester that is a node', (t) => {
  t.same(approvalFacts(servingCsr(request({})), entry), { node: 'worker-1', access: [] }, 'system:node:worker-1 in system:nodes: its Node');
  t.same(approvalFacts(servingCsr(request({}), withUsername('alice')), entry), { access: [] }, 'another user: nothing to read');
  t.same(approvalFacts(servingCsr(request({}), withGroups('system:authenticated')), entry), { access: [] }, 'a node user outside system:nodes: nothing to read');
  const csr = servingCsr(request({ dns: ['worker-1'] }));
  t.same(decideApproval({ csr, request: parsed(csr), entry, signer: undefined, access: [] }),
    { kind: 'wait', rule: 'kubelet-serving', message: 'node "worker-1" was not read' }, 'the Node not read: wait, decide nothing');
  t.end();
});

void t.test('kubelet-serving: {node} scopes a widening to the requesting node; a pattern without it admits its names for any node', (t) => {
  const scoped: ApproverSignerConfig = {
    ...entry,
    extraDnsNames: ['{node}.nodes.example.com', 'kubelet.example.com'],
    extraDnsRegexes: ['^{node}-[0-9]+\\.lab$'],
  };
  const worker2: Node = { metadata: { name: 'worker-2' }, status: { addresses: [{ type: 'Hostname', address: 'worker-2' }] } };
  const from2 = (dns: string[]): Csr => servingCsr(request({ commonName: 'system:node:worker-2', dns }), withUsername('system:node:worker-2'));
  const decide = (csr: Csr, node: Node): ApprovalDecision => decideApproval({ csr, request: parsed(csr), entry: scoped, signer: undefined, node, access: [] });
  t.same(decide(servingCsr(request({ dns: ['worker-1.nodes.example.com'] })), worker1), approvedWidened('worker-1'), 'worker-1 gets worker-1.nodes.example.com');
  t.same(decide(from2(['worker-1.nodes.example.com']), worker2), denied('DNS name "worker-1.nodes.example.com" is not a name of node "worker-2"'), 'worker-2 does not get worker-1\'s name');
  t.same(decide(from2(['worker-2.nodes.example.com']), worker2), approvedWidened('worker-2'), 'worker-2 gets its own');
  t.same(decide(servingCsr(request({ dns: ['worker-1-7.lab'] })), worker1), approvedWidened('worker-1'), 'the expression with {node}: worker-1-7.lab for worker-1');
  t.same(decide(from2(['worker-1-7.lab']), worker2), denied('DNS name "worker-1-7.lab" is not a name of node "worker-2"'), 'but not for worker-2');
  t.same(decide(servingCsr(request({ dns: ['kubelet.example.com'] })), worker1), approvedWidened('worker-1'), 'a pattern without {node}: worker-1 may claim it');
  t.same(decide(from2(['kubelet.example.com']), worker2), approvedWidened('worker-2'), 'a pattern without {node}: so may worker-2, any node');
  const dotted: Node = { metadata: { name: 'w1.rack' }, status: { addresses: [] } };
  const fromDotted = (dns: string[]): Csr => servingCsr(request({ commonName: 'system:node:w1.rack', dns }), withUsername('system:node:w1.rack'));
  const regexOnly: ApproverSignerConfig = { ...entry, extraDnsRegexes: ['{node}\\.lab'] };
  const decideRegex = (csr: Csr): ApprovalDecision => decideApproval({ csr, request: parsed(csr), entry: regexOnly, signer: undefined, node: dotted, access: [] });
  t.same(decideRegex(fromDotted(['w1.rack.lab'])), approvedWidened('w1.rack'), 'a node name with a dot is matched literally in an expression');
  t.same(decideRegex(fromDotted(['w1xrack.lab'])), denied('DNS name "w1xrack.lab" is not a name of node "w1.rack"'), 'its dot is not "any character"');
  t.end();
});

void t.test('kubelet-serving: what csr-signer\'s own kubelet-serving signer would fail is denied with the signer\'s sentence', (t) => {
  const signer = signerConfig(signerName, { allowedKeyTypes: ['rsa'] });
  const csr = servingCsr(request({ dns: ['worker-1'] }));
  t.match(decideApproval({ csr, request: parsed(csr), entry, signer, node: worker1, access: [] }),
    { kind: 'deny', rule: 'kubelet-serving', message: /key type.*ECDSA P-256|ECDSA P-256.*rsa/i }, 'a key type the signer does not allow');
  const ca = servingCsr(request({ dns: ['worker-1'], extensions: [caTrue] }));
  const caDecision = decideApproval({ csr: ca, request: parsed(ca), entry, signer: signerConfig(signerName), node: worker1, access: [] });
  t.match(caDecision, { kind: 'deny', rule: 'kubelet-serving', message: /CA/ }, 'a CA request, in the signer\'s words');
  t.not((caDecision as { message?: string }).message, 'the request asks for a CA certificate (basicConstraints CA:TRUE), which a node\'s serving certificate never is');
  t.same(decideApproval({ csr, request: parsed(csr), entry, signer: signerConfig(signerName), node: worker1, access: [] }), approvedFor('worker-1'),
    'what the signer issues is approved');
  t.end();
});

void t.test('kubelet-serving: no Node is read for a requester whose node name is not a Node name', (t) => {
  for (const username of ['system:node:', 'system:node:..', 'system:node:Worker-1']) {
    t.same(approvalFacts(servingCsr(request({}), withUsername(username)), entry), { access: [] }, username);
  }
  t.end();
});
