/**
 * The linear-time DNS name expressions: what they match (the same as JavaScript's
 * RegExp anchored to the whole name, ignoring case, checked on generated names),
 * what they refuse with a sentence, and expressions that make a backtracking engine
 * take exponential time finishing at once.
 */
import fc from 'fast-check';
import t from 'tap';
import { compileDnsRegex, dnsRegexProblem, matchesDnsRegex } from '../../src/signer/dns-regex.js';

const matches = (pattern: string, name: string): boolean => matchesDnsRegex(compileDnsRegex(pattern), name);

const table: { pattern: string; yes: string[]; no: string[] }[] = [
  { pattern: '^ip-[0-9-]+\\.ec2\\.internal$', yes: ['ip-10-0-0-1.ec2.internal', 'IP-10-0-0-1.EC2.Internal'], no: ['ip-10-0-0-1.ec2.internal.evil.com', 'x.ip-1.ec2.internal', 'ip-.ec2.internal', 'ip-1xec2.internal'] },
  { pattern: 'node-[0-9]+\\.lab', yes: ['node-7.lab', 'node-123.lab'], no: ['node-7.lab.evil.com', 'a.node-7.lab', 'node-.lab'] },
  { pattern: '(?:web|api)\\d{1,3}\\.example\\.com', yes: ['web1.example.com', 'api999.example.com'], no: ['web1000.example.com', 'db1.example.com', 'web.example.com'] },
  { pattern: '[^.]+\\.nodes\\.example\\.com', yes: ['w1.nodes.example.com'], no: ['a.b.nodes.example.com', '.nodes.example.com'] },
  { pattern: '(a|b)*c?', yes: ['', 'abab', 'abc', 'c'], no: ['cc', 'abd'] },
  { pattern: 'x{2,}', yes: ['xx', 'xxxxx'], no: ['x', ''] },
  { pattern: 'x{2}y{0,1}', yes: ['xx', 'xxy'], no: ['xxx', 'xxyy'] },
  { pattern: '[\\w-]+\\.local', yes: ['my_host-1.local'], no: ['a.b.local'] },
  { pattern: 'a+?b*?', yes: ['a', 'aab'], no: ['b'] },
  { pattern: '.*', yes: ['', 'anything.at.all'], no: [] },
];

void t.test('expressions match whole names, ignoring case', (t) => {
  for (const { pattern, yes, no } of table) {
    for (const name of yes) t.ok(matches(pattern, name), `${pattern} matches ${JSON.stringify(name)}`);
    for (const name of no) t.notOk(matches(pattern, name), `${pattern} does not match ${JSON.stringify(name)}`);
  }
  t.end();
});

void t.test('the same answers as JavaScript\'s RegExp on the whole name, on generated names', (t) => {
  const patterns = table.map((c) => c.pattern).concat(['[a-c]+-[0-9]{1,2}(\\.[a-c]+)*', '(ab|a)(bc|c)?', '[^a]*a[^a]*']);
  const name = fc.stringMatching(/^[a-cA-C0-9.\-xy_]{0,12}$/);
  for (const pattern of patterns) {
    const js = new RegExp(`^(?:${pattern.replace(/^\^/, '').replace(/\$$/, '')})$`, 'i');
    fc.assert(fc.property(name, (n) => matches(pattern, n) === js.test(n)), { numRuns: 300 });
  }
  t.pass('every pattern agreed on 300 names');
  t.end();
});

void t.test('expressions that backtrack exponentially in JavaScript finish in linear time', (t) => {
  const long = `${'a'.repeat(250)}.b`;
  // Each of these takes a backtracking engine 2^n steps on `long`: a hang, not a slow test.
  for (const pattern of ['(a+)+$', '(a|a)*$', '(a|aa)+$', '(a*)*$', '([a-z]+)*\\.c']) {
    t.notOk(matches(pattern, long), `${pattern} against 250 a's and a mismatch`);
  }
  t.ok(matches('(a+)+\\.b', long), 'and still matches when it should');
  t.end();
});

void t.test('what is not supported is refused with one sentence', (t) => {
  const refused: [string, string][] = [
    ['(a)\\1', 'the escape \\1 is not supported'],
    ['(?=a)a', 'a group kind (?= at offset 0 that is not supported'],
    ['a^b', '^ at offset 1 is not supported there'],
    ['a$b', '$ at offset 1 is not supported there'],
    ['*a', 'a quantifier * with nothing to repeat at offset 0'],
    ['(ab', 'a group that is not closed'],
    ['[ab', 'a [ that is not closed'],
    ['[z-a]', 'the range z-a is out of order'],
    ['a{3,2}', 'the count {3,2} is out of order or above 1000'],
    ['a{1001}', 'the count {1001} is out of order or above 1000'],
    ['a{x}', 'a { at offset 1 that is not a count {n}, {n,} or {n,m}'],
    ['\\bword', 'the escape \\b is not supported'],
    ['ab)', 'unexpected ")" at offset 2'],
    ['((((a{1000}){1000})))', 'the expression needs more than 10000 states'],
  ];
  for (const [pattern, why] of refused) {
    t.equal(dnsRegexProblem(pattern), `DNS name expression ${JSON.stringify(pattern)} cannot be used: ${why}`, pattern);
  }
  t.equal(dnsRegexProblem('^ip-[0-9-]+\\.ec2\\.internal$'), undefined, 'a usable expression has no problem');
  t.end();
});

void t.test('{node} stands for the node\'s name, matched literally', (t) => {
  const re = compileDnsRegex('^{node}\\.nodes\\.example\\.com$', 'w1.rack-2');
  t.ok(matchesDnsRegex(re, 'w1.rack-2.nodes.example.com'), 'the node\'s own name');
  t.notOk(matchesDnsRegex(re, 'w1xrack-2.nodes.example.com'), 'a dot of the node name is not "any character"');
  t.notOk(matchesDnsRegex(re, 'w2.rack-2.nodes.example.com'), 'another node\'s name');
  t.ok(matchesDnsRegex(compileDnsRegex('[{node}]+', 'ab'), 'abba'), 'inside a class, its characters');
  t.equal(dnsRegexProblem('^{node}-[0-9]+\\.lab$'), undefined, 'the configuration accepts {node}');
  t.end();
});

void t.test('an expression the configuration accepts compiles for every node name: it is checked with the longest', (t) => {
  const pattern = '(?:{node}){40}';
  t.doesNotThrow(() => compileDnsRegex(pattern, 'a'), 'compiles for a short node name');
  t.equal(dnsRegexProblem(pattern), `DNS name expression ${JSON.stringify(pattern)} cannot be used: the expression needs more than 10000 states`,
    'but is refused: a 253-character node name would not compile');
  t.equal(dnsRegexProblem('\\{node}'), 'DNS name expression "\\\\{node}" cannot be used: } at offset 6 is not supported there', 'an escaped { is no placeholder');
  t.end();
});
