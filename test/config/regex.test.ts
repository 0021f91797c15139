/** extraDnsRegexes: what is accepted, and each refusal with its sentence. */
import t from 'tap';
import { dnsRegexProblem, maxRegexLength } from '../../src/config/regex.js';

const nesting = (what: string): string => `repeats a group that itself ${what} (as in (a+)+ or (a|b)*), which can take exponential time on a name that almost matches; write it without the nesting, e.g. [a-z0-9.-]* instead of ([a-z0-9-]+\\.)*`;

void t.test('accepts anchored expressions without nested repetition', (t) => {
  for (const source of [
    '^ip-[0-9-]+\\.ec2\\.internal$',
    '^(node|worker)-[0-9]+\\.example\\.com$',
    '^[a-z0-9.-]*\\.example\\.com$',
    '^(?:ab)+$',
    '^(?<zone>[a-z]+)-[0-9]{1,3}$',
    '^((ab)c)+$',
    '^(x+)?$',
    '^[(|)+]+$',
    '^a*?b$',
    '^(a|b)\\.example\\.com$',
    `^${'a'.repeat(maxRegexLength - 2)}$`,
  ]) t.equal(dnsRegexProblem(source), undefined, source);
  t.end();
});

void t.test('refuses each unsafe or unanchored expression with one sentence', (t) => {
  const cases: [string, string, string][] = [
    ['not anchored at the start', 'ip-[0-9]+$', 'must be anchored, starting with ^ and ending with $, so that it matches a whole name'],
    ['not anchored at the end', '^ip-[0-9]+', 'must be anchored, starting with ^ and ending with $, so that it matches a whole name'],
    ['an escaped dollar is not an anchor', '^ip\\$', 'must be anchored, starting with ^ and ending with $, so that it matches a whole name'],
    ['too long', `^${'a'.repeat(maxRegexLength - 1)}$`, `is ${maxRegexLength + 1} characters long; at most ${maxRegexLength} are allowed`],
    ['invalid', '^(a$', 'is not a valid regular expression: /^(a$/u: Unterminated group'],
    ['invalid with the u flag only', '^a\\-b$', 'is not a valid regular expression: /^a\\-b$/u: Invalid escape'],
    ['a repeated repetition', '^(a+)+$', nesting('repeats')],
    ['a repeated choice', '^(a|aa)*$', nesting('holds alternatives (|)')],
    ['a repeated label list', '^([a-z0-9-]+\\.)*example\\.com$', nesting('repeats')],
    ['a counted repetition of a repetition', '^(a*){2,9}$', nesting('repeats')],
    ['a repetition two groups deep', '^((a+)b)+$', nesting('repeats')],
    ['a back-reference', '^(a)\\1$', 'uses a back-reference, which can take exponential time; csr-signer refuses it'],
    ['a named back-reference', '^(?<x>a)\\k<x>$', 'uses a back-reference, which can take exponential time; csr-signer refuses it'],
    ['a lookahead', '^(?=a)a$', 'uses a lookahead or lookbehind, which csr-signer refuses (it can hide a costly search)'],
    ['a lookbehind', '^a(?<!b)$', 'uses a lookahead or lookbehind, which csr-signer refuses (it can hide a costly search)'],
    ['a top-level alternative', '^a$|^b$', 'has | outside a group, so ^ and $ each anchor one alternative only: group the alternatives, as in ^(a|b)\\.example\\.com$'],
  ];
  for (const [name, source, problem] of cases) t.equal(dnsRegexProblem(source), problem, name);
  t.end();
});
