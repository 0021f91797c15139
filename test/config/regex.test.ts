/** extraDnsRegexes: what is accepted (what the approver's linear-time compiler runs), and each refusal with its sentence. */
import t from 'tap';
import { dnsRegexProblem, maxRegexLength } from '../../src/config/regex.js';
import { compileDnsRegex, matchesDnsRegex } from '../../src/signer/dns-regex.js';

const unsupported = (detail: string): string => `is not an expression the approver runs (literals, ., \\d, \\w, classes, groups, (?:), |, *, +, ?, {n,m}): ${detail}`;

void t.test('accepts anchored expressions the approver runs, nested repetition included (it runs in linear time)', (t) => {
  for (const source of [
    '^ip-[0-9-]+\\.ec2\\.internal$',
    '^(node|worker)-[0-9]+\\.example\\.com$',
    '^([a-z0-9-]+\\.)*example\\.com$',
    '^(a+)+$',
    '^(?:ab)+$',
    '^[a-z]{1,3}-\\d+$',
    '^[(|)+]+$',
    '^a*?b$',
    `^${'a'.repeat(maxRegexLength - 2)}$`,
  ]) t.equal(dnsRegexProblem(source), undefined, source);
  // (a+)+$ is the classic exponential case for a backtracking engine: the approver's
  // automaton answers it for a 253-character name that almost matches.
  t.equal(matchesDnsRegex(compileDnsRegex('^(a+)+$'), `${'a'.repeat(252)}!`), false, 'and it runs: no match, no stall');
  t.end();
});

void t.test('refuses each unusable or unanchored expression with one sentence', (t) => {
  const unanchored = 'must be anchored, starting with ^ and ending with $, so that it reads as what it does: match a whole name';
  const cases: [string, string, string][] = [
    ['not anchored at the start', 'ip-[0-9]+$', unanchored],
    ['not anchored at the end', '^ip-[0-9]+', unanchored],
    ['an escaped dollar is not an anchor', '^ip\\$', unanchored],
    ['too long', `^${'a'.repeat(maxRegexLength - 1)}$`, `is ${maxRegexLength + 1} characters long; at most ${maxRegexLength} are allowed`],
    ['a group not closed', '^(a$', unsupported('a group that is not closed')],
    ['a back-reference', '^(a)\\1$', unsupported('the escape \\1 is not supported')],
    ['a lookahead', '^(?=a)a$', unsupported('a group kind (?= at offset 1 that is not supported')],
    ['a named group', '^(?<n>a)$', unsupported('a group kind (?< at offset 1 that is not supported')],
    ['an inline flag', '^(?i)a$', unsupported('a group kind (?i at offset 1 that is not supported')],
    ['a whitespace class', '^a\\sb$', unsupported('the escape \\s is not supported')],
    ['a range out of order', '^[z-a]$', unsupported('the range z-a is out of order')],
    ['a count above 1000', '^a{2000}$', unsupported('the count {2000} is out of order or above 1000')],
    ['anchors around each alternative', '^a$|^b$', unsupported('$ at offset 2 is not supported there')],
    ['a top-level alternative', '^a|b$', 'has | outside a group, which other engines read as "starts with one, or ends with the other": group the alternatives, as in ^(a|b)\\.example\\.com$'],
  ];
  for (const [name, source, problem] of cases) t.equal(dnsRegexProblem(source), problem, name);
  t.equal(dnsRegexProblem('^(a|b)\\|[|]$'), undefined, 'a | in a group, escaped or in a class is fine');
  t.end();
});
