/**
 * A custom signer's policy: every rule kept and broken, with its message; the
 * DNS patterns and CIDR ranges also as properties.
 */
import fc from 'fast-check';
import t from 'tap';
import { parseRequestDer } from '../../src/pki/index.js';
import { cidrContains, ipInRanges, parseCidr } from '../../src/signer/cidr.js';
import { matchesDnsPattern, serviceAccountNamespace } from '../../src/signer/dns-pattern.js';
import { checkPolicy } from '../../src/signer/policy.js';
import type { Csr, Policy } from '../../src/signer/types.js';
import { buildRequest, caTrueBasicConstraints, type RequestSpec } from '../helpers/requests.js';

const signer = 'example.com/serving';
const base: Policy = { allowEmailAddresses: false, allowUris: false, commonName: 'any', allowCA: false };
const sa = 'system:serviceaccount:team-a:web';
const spec = (username: string, groups: string[] = []): Csr['spec'] => ({ request: '', signerName: signer, username, groups });

interface Case {
  readonly name: string;
  readonly policy: Partial<Policy>;
  readonly request: RequestSpec;
  readonly username?: string;
  readonly groups?: string[];
  /** undefined: the policy lets the request through. */
  readonly message?: string;
}

const ca = { oid: '2.5.29.19', critical: true, value: caTrueBasicConstraints() };

const cases: Case[] = [
  // DNS names
  { name: 'with no dnsNames rule any DNS name passes', policy: {}, request: { dns: ['anything.example'] } },
  { name: 'an exact DNS pattern matches its name', policy: { dnsNames: ['web.example.com'] }, request: { dns: ['web.example.com'] } },
  { name: 'DNS names are compared without case', policy: { dnsNames: ['web.example.com'] }, request: { dns: ['WEB.Example.COM'] } },
  { name: 'a DNS name outside the patterns is refused and named', policy: { dnsNames: ['*.{namespace}.svc'] }, request: { dns: ['evil.example'] }, username: sa,
    message: 'subjectAltName DNS "evil.example" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc)' },
  { name: '*.{namespace}.svc takes one label in the requester\'s namespace', policy: { dnsNames: ['*.{namespace}.svc', '*.{namespace}.svc.cluster.local'] }, request: { dns: ['api.team-a.svc', 'api.team-a.svc.cluster.local'] }, username: sa },
  { name: '*.{namespace}.svc refuses two labels', policy: { dnsNames: ['*.{namespace}.svc'] }, request: { dns: ['a.b.team-a.svc'] }, username: sa,
    message: 'subjectAltName DNS "a.b.team-a.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc)' },
  { name: '*.{namespace}.svc refuses no label at all', policy: { dnsNames: ['*.{namespace}.svc'] }, request: { dns: ['team-a.svc'] }, username: sa,
    message: 'subjectAltName DNS "team-a.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc)' },
  { name: '*.{namespace}.svc refuses another namespace', policy: { dnsNames: ['*.{namespace}.svc'] }, request: { dns: ['api.team-b.svc'] }, username: sa,
    message: 'subjectAltName DNS "api.team-b.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc)' },
  { name: 'a {namespace} pattern matches nothing for a requester that is not a service account', policy: { dnsNames: ['*.{namespace}.svc'] }, request: { dns: ['api.team-a.svc'] }, username: 'alice',
    message: 'subjectAltName DNS "api.team-a.svc" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc)' },
  { name: 'exact names and {namespace} patterns mix', policy: { dnsNames: ['{namespace}.example.com', 'static.example.com'] }, request: { dns: ['team-a.example.com', 'static.example.com'] }, username: sa },
  { name: 'the first DNS name outside the patterns is the one named', policy: { dnsNames: ['ok.example.com'] }, request: { dns: ['ok.example.com', 'bad1.example.com', 'bad2.example.com'] },
    message: 'subjectAltName DNS "bad1.example.com" is not allowed by signer example.com/serving (allowed: ok.example.com)' },
  { name: 'an empty dnsNames list allows no DNS name', policy: { dnsNames: [] }, request: { dns: ['web.example.com'] },
    message: 'subjectAltName DNS "web.example.com" is not allowed by signer example.com/serving (allowed: none)' },
  { name: 'an empty dnsNames list lets a request without DNS names through', policy: { dnsNames: [] }, request: { commonName: 'x' } },
  // IP addresses
  { name: 'with no ipRanges any IP passes', policy: {}, request: { ips: ['203.0.113.9', '2001:db8::1'] } },
  { name: 'an IPv4 SAN inside a range passes', policy: { ipRanges: ['10.0.0.0/8'] }, request: { ips: ['10.1.2.3'] } },
  { name: 'an IPv4 SAN outside every range is refused', policy: { ipRanges: ['10.0.0.0/8', '192.168.1.0/24'] }, request: { ips: ['10.0.0.1', '192.168.2.1'] },
    message: 'subjectAltName IP "192.168.2.1" is not allowed by signer example.com/serving (allowed: 10.0.0.0/8, 192.168.1.0/24)' },
  { name: 'an IPv6 SAN inside an IPv6 range passes', policy: { ipRanges: ['fd00::/8'] }, request: { ips: ['fd12:3456::1'] } },
  { name: 'an IPv6 SAN outside is refused', policy: { ipRanges: ['fd00::/8'] }, request: { ips: ['2001:db8::1'] },
    message: 'subjectAltName IP "2001:db8::1" is not allowed by signer example.com/serving (allowed: fd00::/8)' },
  { name: 'an IPv4-mapped IPv6 address is not inside an IPv4 range', policy: { ipRanges: ['10.0.0.0/8'] }, request: { ips: ['::ffff:a00:1'] },
    message: 'subjectAltName IP "::ffff:a00:1" is not allowed by signer example.com/serving (allowed: 10.0.0.0/8)' },
  { name: 'an empty ipRanges list allows no IP', policy: { ipRanges: [] }, request: { ips: ['10.0.0.1'] },
    message: 'subjectAltName IP "10.0.0.1" is not allowed by signer example.com/serving (allowed: none)' },
  // email and URI
  { name: 'an email SAN is refused by default', policy: {}, request: { emails: ['ops@example.com'] },
    message: 'subjectAltName email "ops@example.com" is not allowed by signer example.com/serving (allowEmailAddresses is false)' },
  { name: 'an email SAN passes with allowEmailAddresses', policy: { allowEmailAddresses: true }, request: { emails: ['ops@example.com'] } },
  { name: 'a URI SAN is refused by default', policy: {}, request: { uris: ['spiffe://cluster.local/ns/a/sa/b'] },
    message: 'subjectAltName URI "spiffe://cluster.local/ns/a/sa/b" is not allowed by signer example.com/serving (allowUris is false)' },
  { name: 'a URI SAN passes with allowUris', policy: { allowUris: true }, request: { uris: ['spiffe://cluster.local/ns/a/sa/b'] } },
  // how many
  { name: 'more names than maxSubjectAltNames is refused', policy: { maxSubjectAltNames: 2 }, request: { dns: ['a.example', 'b.example'], ips: ['10.0.0.1'] },
    message: 'the request has 3 subjectAltNames, more than signer example.com/serving allows (maxSubjectAltNames: 2)' },
  { name: 'exactly maxSubjectAltNames passes', policy: { maxSubjectAltNames: 3 }, request: { dns: ['a.example', 'b.example'], ips: ['10.0.0.1'] } },
  // commonName
  { name: 'commonName any: anything passes', policy: { commonName: 'any' }, request: { commonName: 'whatever', dns: ['web.example.com'] } },
  { name: 'commonName dns-name: an empty CN passes', policy: { commonName: 'dns-name' }, request: { dns: ['web.example.com'] } },
  { name: 'commonName dns-name: a CN among the DNS names passes, without case', policy: { commonName: 'dns-name' }, request: { commonName: 'Web.Example.com', dns: ['web.example.com'] } },
  { name: 'commonName dns-name: another CN is refused', policy: { commonName: 'dns-name' }, request: { commonName: 'admin', dns: ['web.example.com'] },
    message: 'subject commonName "admin" is not one of the request\'s DNS subjectAltNames, which signer example.com/serving requires when a commonName is present' },
  { name: 'commonName required-dns-name: an empty CN is refused', policy: { commonName: 'required-dns-name' }, request: { dns: ['web.example.com'] },
    message: 'subject commonName is empty, but signer example.com/serving requires one of the request\'s DNS subjectAltNames' },
  { name: 'commonName required-dns-name: a CN among the DNS names passes', policy: { commonName: 'required-dns-name' }, request: { commonName: 'web.example.com', dns: ['web.example.com'] } },
  { name: 'commonName required-dns-name: another CN is refused', policy: { commonName: 'required-dns-name' }, request: { commonName: 'other.example.com', dns: ['web.example.com'] },
    message: 'subject commonName "other.example.com" is not one of the request\'s DNS subjectAltNames, as signer example.com/serving requires' },
  { name: 'commonName requester: the requester\'s username passes', policy: { commonName: 'requester' }, request: { commonName: sa }, username: sa },
  { name: 'commonName requester: another name is refused', policy: { commonName: 'requester' }, request: { commonName: 'root' }, username: 'alice',
    message: 'subject commonName "root" is not the requester\'s username "alice", as signer example.com/serving requires' },
  // organizations
  { name: 'an organization in the allow-list passes', policy: { organizations: ['acme', 'acme-labs'] }, request: { organizations: ['acme'] } },
  { name: 'an organization outside the allow-list is refused', policy: { organizations: ['acme'] }, request: { organizations: ['acme', 'system:masters'] },
    message: 'subject organization "system:masters" is not allowed by signer example.com/serving (allowed: acme)' },
  { name: 'an empty organizations list allows no organization', policy: { organizations: [] }, request: { organizations: ['acme'] },
    message: 'subject organization "acme" is not allowed by signer example.com/serving (allowed: none)' },
  // requesters
  { name: 'a listed username passes', policy: { requesters: { usernames: ['alice'] } }, request: { commonName: 'x' }, username: 'alice' },
  { name: 'a member of a listed group passes', policy: { requesters: { usernames: ['alice'], groups: ['ops'] } }, request: { commonName: 'x' }, username: 'bob', groups: ['system:authenticated', 'ops'] },
  { name: 'a requester neither listed nor in a listed group is refused', policy: { requesters: { usernames: ['alice'], groups: ['ops'] } }, request: { commonName: 'x' }, username: 'mallory', groups: ['system:authenticated'],
    message: 'requester "mallory" is not allowed by signer example.com/serving (allowed usernames: alice; groups: ops)' },
  { name: 'requesters with neither list restricts nobody', policy: { requesters: {} }, request: { commonName: 'x' }, username: 'anyone' },
  // CA
  { name: 'a CA request is refused without allowCA', policy: {}, request: { commonName: 'sub', extensions: [ca] },
    message: 'basicConstraints CA:TRUE is not allowed by signer example.com/serving (allowCA is false)' },
  { name: 'a CA request passes with allowCA', policy: { allowCA: true }, request: { commonName: 'sub', extensions: [ca] } },
  // order
  { name: 'the requester is checked first', policy: { requesters: { usernames: ['alice'] }, dnsNames: [] }, request: { dns: ['evil.example'], extensions: [ca] }, username: 'mallory',
    message: 'requester "mallory" is not allowed by signer example.com/serving (allowed usernames: alice; groups: none)' },
  { name: 'a CA request is reported before its names', policy: { dnsNames: [] }, request: { dns: ['evil.example'], extensions: [ca] },
    message: 'basicConstraints CA:TRUE is not allowed by signer example.com/serving (allowCA is false)' },
];

void t.test('each policy rule, kept and broken, with the message that names field and value', (t) => {
  for (const c of cases) {
    const request = parseRequestDer(buildRequest(c.request));
    t.equal(checkPolicy({ ...base, ...c.policy }, request, spec(c.username ?? 'alice', c.groups), signer), c.message, c.name);
  }
  t.end();
});

void t.test('service-account namespaces: only system:serviceaccount:NS:NAME with NS a DNS label', (t) => {
  const cases: [string | undefined, string | undefined][] = [
    ['system:serviceaccount:team-a:web', 'team-a'],
    ['system:serviceaccount:team-a', undefined],
    ['system:serviceaccount:team-a:', undefined],
    ['system:serviceaccount:a.b:web', undefined],
    ['system:serviceaccount:Team-A:web', undefined],
    ['system:serviceaccount:team-a:web:extra', undefined],
    ['system:serviceaccounts:team-a', undefined],
    ['alice', undefined],
    [undefined, undefined],
  ];
  for (const [username, namespace] of cases) t.equal(serviceAccountNamespace(username), namespace, `${String(username)} → ${String(namespace)}`);
  t.end();
});

const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);

void t.test('property: *.{namespace}.svc matches a name iff it has exactly one label before .NS.svc', (t) => {
  fc.assert(fc.property(fc.array(label, { maxLength: 4 }), label, label, fc.boolean(), (labels, ns, other, upper) => {
    const name = [...labels, ns, 'svc'].join('.');
    const asked = upper ? name.toUpperCase() : name;
    const ok = matchesDnsPattern(asked, '*.{namespace}.svc', ns) === (labels.length === 1);
    const elsewhere = other === ns || !matchesDnsPattern(asked, '*.{namespace}.svc', other);
    const noNamespace = !matchesDnsPattern(asked, '*.{namespace}.svc', undefined);
    return ok && elsewhere && noNamespace;
  }), { numRuns: 500 });
  t.pass('500 names');
  t.end();
});

void t.test('CIDR ranges: parsing, and containment as a property', (t) => {
  t.same(parseCidr('10.1.2.3/8'), { network: Uint8Array.of(10, 0, 0, 0), prefix: 8 }, 'host bits are cleared');
  t.match(parseCidr('192.0.2.7'), { prefix: 32 }, 'a bare IPv4 address is a /32');
  t.match(parseCidr('2001:db8::1'), { prefix: 128 }, 'a bare IPv6 address is a /128');
  for (const bad of ['10.0.0.0/33', 'fd00::/129', '10.0.0/8', '10.0.0.0/', '10.0.0.0/-1', 'x/8', '']) t.equal(parseCidr(bad), undefined, `${JSON.stringify(bad)} is not a range`);
  t.ok(ipInRanges('0.0.0.0', ['0.0.0.0/0']) && ipInRanges('255.255.255.255', ['0.0.0.0/0']), '/0 holds every IPv4 address');
  t.notOk(ipInRanges('::1', ['0.0.0.0/0']), 'but no IPv6 address');
  t.notOk(ipInRanges('10.0.0.1', ['not a range']), 'an unparsable range matches nothing');
  const address = (size: 4 | 16): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength: size, maxLength: size });
  fc.assert(fc.property(fc.constantFrom<4 | 16>(4, 16).chain((size) => fc.tuple(address(size), fc.nat({ max: size * 8 }), fc.nat({ max: size * 8 - 1 }))), ([ip, prefix, flip]) => {
    const network = parseCidr(`${ip.length === 4 ? ip.join('.') : Array.from({ length: 8 }, (_, i) => (((ip[2 * i] as number) << 8) | (ip[2 * i + 1] as number)).toString(16)).join(':')}/${prefix}`);
    if (network === undefined) return false;
    const changed = Uint8Array.from(ip);
    changed[flip >> 3] = (changed[flip >> 3] as number) ^ (0x80 >> (flip & 7));
    // An address is inside its own network; flipping one bit leaves it inside iff the bit is a host bit.
    return cidrContains(network, ip) && cidrContains(network, changed) === (flip >= prefix);
  }), { numRuns: 1000 });
  t.pass('1000 addresses and prefixes');
  t.end();
});
