/**
 * Regular expressions for DNS names, matched in time linear in the name: an
 * operator's expression (kubelet-serving `extraDnsRegexes`) runs on names that a
 * requester chose, and JavaScript's backtracking engine can take exponential time on
 * some expressions (`(a+)+$` against "aaaa…!"). So the expression is compiled to a
 * Thompson NFA here and simulated state set by state set (as RE2 and Go's regexp do):
 * at most (states × name length) steps, whatever either is.
 *
 * The dialect, for the configuration reference:
 *   extraDnsRegexes use a subset of the syntax JavaScript and Go share: literal characters,
 *   escaped punctuation such as `\.`, `.`, `\d`, `\w`, character classes (`[a-z0-9-]`,
 *   `[^.]`), groups `( )` and `(?: )`, alternation `|`, and the quantifiers `*`, `+`, `?`,
 *   `{n}`, `{n,}`, `{n,m}` with counts up to 1000; `^` only first and `$` only last. The
 *   whole name must match (anchored or not) and case is ignored. `{node}` stands for the
 *   requesting node's name, matched literally. Anything else — backreferences,
 *   lookaround, other escapes, flags, anchors elsewhere, an expression of more than
 *   10,000 automaton states — is refused when the configuration is loaded.
 *
 * `dnsRegexProblem` is what the configuration checks with; it compiles with the longest
 * node name there can be, so an expression it accepts compiles for every node.
 */

/** The placeholder for the requesting node's name. */
export const nodePlaceholder = '{node}';
/** The longest node name (a DNS-1123 subdomain): the most states `{node}` can add. */
const longestNode = 'n'.repeat(253);

/** A node name as a literal of this dialect: `.` and `-` escaped (so it also stays literal inside a class). */
const escapeLiteral = (text: string): string => text.replace(/[.-]/g, (c) => `\\${c}`);

/** `pattern` with every unescaped `{node}` replaced by `node`, matched literally. */
function substituteNode(pattern: string, node: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === '\\') {
      out += pattern.slice(i, i + 2);
      i++;
    } else if (pattern.startsWith(nodePlaceholder, i)) {
      out += escapeLiteral(node);
      i += nodePlaceholder.length - 1;
    } else out += pattern[i] as string;
  }
  return out;
}

type Test = (c: string) => boolean;
type RegexNode =
  | { readonly kind: 'char'; readonly test: Test }
  | { readonly kind: 'seq'; readonly items: readonly RegexNode[] }
  | { readonly kind: 'alt'; readonly options: readonly RegexNode[] }
  | { readonly kind: 'repeat'; readonly item: RegexNode; readonly min: number; readonly max: number | undefined };

/** Most NFA states an expression may compile to (counted repetitions copy their item). */
const maxStates = 10_000;
const maxCount = 1000;

class Parser {
  private at = 0;
  constructor(private readonly text: string) {}

  parse(): RegexNode {
    if (this.text.startsWith('^')) this.at = 1;
    const node = this.alternation();
    if (this.at !== this.text.length) throw new Error(`unexpected ${JSON.stringify(this.text[this.at])} at offset ${this.at}`);
    return node;
  }

  private peek(): string | undefined { return this.text[this.at]; }

  /** At the end of the expression; a `$` is allowed only there, last, and is read here. */
  private atEnd(): boolean {
    if (this.at === this.text.length - 1 && this.text[this.at] === '$') this.at++;
    return this.at === this.text.length;
  }

  private alternation(): RegexNode {
    const options = [this.sequence()];
    while (this.peek() === '|') {
      this.at++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0] as RegexNode : { kind: 'alt', options };
  }

  private sequence(): RegexNode {
    const items: RegexNode[] = [];
    while (!this.atEnd() && this.peek() !== '|' && this.peek() !== ')') items.push(this.quantified(this.atom()));
    return { kind: 'seq', items };
  }

  private quantified(item: RegexNode): RegexNode {
    for (;;) {
      const c = this.peek();
      let min: number;
      let max: number | undefined;
      if (c === '*') [min, max] = [0, undefined];
      else if (c === '+') [min, max] = [1, undefined];
      else if (c === '?') [min, max] = [0, 1];
      else if (c === '{') {
        const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.text.slice(this.at));
        if (!m) throw new Error(`a { at offset ${this.at} that is not a count {n}, {n,} or {n,m}`);
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3]);
        if (min > maxCount || (max !== undefined && (max > maxCount || max < min))) throw new Error(`the count ${m[0]} is out of order or above ${maxCount}`);
        this.at += m[0].length - 1;
      } else return item;
      this.at++;
      if (this.peek() === '?') this.at++; // lazy: the same set of matches
      item = { kind: 'repeat', item, min, max };
    }
  }

  private atom(): RegexNode {
    const c = this.text[this.at++] as string;
    switch (c) {
      case '(': {
        if (this.peek() === '?') {
          if (this.text[this.at + 1] !== ':') throw new Error(`a group kind (?${this.text[this.at + 1] ?? ''} at offset ${this.at - 1} that is not supported`);
          this.at += 2;
        }
        const inner = this.alternation();
        if (this.text[this.at++] !== ')') throw new Error('a group that is not closed');
        return inner;
      }
      case '.': return { kind: 'char', test: () => true };
      case '[': return { kind: 'char', test: this.charClass() };
      case '\\': return { kind: 'char', test: this.escape(false) };
      case '*': case '+': case '?': case '{': throw new Error(`a quantifier ${c} with nothing to repeat at offset ${this.at - 1}`);
      case ')': case '^': case '$': case ']': case '}': throw new Error(`${c} at offset ${this.at - 1} is not supported there`);
      default: return { kind: 'char', test: literal(c) };
    }
  }

  private escape(inClass: boolean): Test {
    const c = this.text[this.at++];
    if (c === undefined) throw new Error('a \\ at the end');
    if (c === 'd') return (x) => x >= '0' && x <= '9';
    if (c === 'w') return (x) => /^[A-Za-z0-9_]$/.test(x);
    if (/^[A-Za-z0-9]$/.test(c)) throw new Error(`the escape \\${c} is not supported`);
    if (inClass && c === '-') return literal('-');
    return literal(c);
  }

  private charClass(): Test {
    const negated = this.peek() === '^';
    if (negated) this.at++;
    const tests: Test[] = [];
    let first = true;
    for (;;) {
      const c = this.text[this.at++];
      if (c === undefined) throw new Error('a [ that is not closed');
      if (c === ']' && !first) break;
      first = false;
      const low = c === '\\' ? this.escapeChar() : c;
      if (typeof low !== 'string') { tests.push(low); continue; }
      if (this.peek() === '-' && this.text[this.at + 1] !== undefined && this.text[this.at + 1] !== ']') {
        this.at++;
        const hiRaw = this.text[this.at++] as string;
        const high = hiRaw === '\\' ? this.escapeChar() : hiRaw;
        if (typeof high !== 'string' || high < low) throw new Error(`the range ${low}-${typeof high === 'string' ? high : '\\…'} is out of order`);
        tests.push((x) => x >= low && x <= high);
      } else tests.push(literal(low));
    }
    // Case is folded before a negation, as JavaScript's `i` flag does: [^a] does not match A.
    const any = caseless((x) => tests.some((t) => t(x)));
    return negated ? (x) => !any(x) : any;
  }

  /** An escape inside a class: a single character (string) or a class (`\d`, `\w`). */
  private escapeChar(): string | Test {
    const c = this.text[this.at];
    if (c === 'd' || c === 'w') return this.escape(true);
    if (c === undefined || /^[A-Za-z0-9]$/.test(c)) throw new Error(`the escape \\${c ?? ''} is not supported`);
    this.at++;
    return c;
  }
}

const literal = (c: string): Test => caseless((x) => x === c);
/** The test, ignoring case. */
const caseless = (test: Test): Test => (x) => test(x) || test(x.toLowerCase()) || test(x.toUpperCase());

/** NFA states: a character step to `out`, a split to two states, or the match. */
export type State = { kind: 'char'; test: Test; out: number } | { kind: 'split'; out: number[] } | { kind: 'match' };

/** Compiles `node` ahead of `next`; returns its entry state. */
function compile(node: RegexNode, next: number, states: State[]): number {
  const add = (s: State): number => {
    if (states.length >= maxStates) throw new Error(`the expression needs more than ${maxStates} states`);
    states.push(s);
    return states.length - 1;
  };
  switch (node.kind) {
    case 'char': return add({ kind: 'char', test: node.test, out: next });
    case 'seq': return node.items.reduceRight((out, item) => compile(item, out, states), next);
    case 'alt': return add({ kind: 'split', out: node.options.map((o) => compile(o, next, states)) });
    case 'repeat': {
      let entry = next;
      if (node.max === undefined) {
        const loop = add({ kind: 'split', out: [] });
        const body = compile(node.item, loop, states);
        (states[loop] as { out: number[] }).out.push(body, next);
        entry = loop;
      } else {
        for (let i = node.min; i < node.max; i++) entry = add({ kind: 'split', out: [compile(node.item, entry, states), next] });
      }
      for (let i = 0; i < node.min; i++) entry = compile(node.item, entry, states);
      return entry;
    }
  }
}

export interface DnsRegex {
  readonly states: readonly State[];
  readonly start: number;
}

/**
 * Compiles the expression for the node named `node` (a DNS-1123 subdomain, which
 * `{node}` stands for; without it `{node}` is compiled as the longest name there can be);
 * throws an Error whose message says what is not supported.
 */
export function compileDnsRegex(pattern: string, node: string = longestNode): DnsRegex {
  const states: State[] = [{ kind: 'match' }];
  const start = compile(new Parser(substituteNode(pattern, node)).parse(), 0, states);
  return { states, start };
}

/**
 * Why the expression cannot be used (one sentence), or undefined when it can. An
 * expression it accepts compiles for every node name: checked with the longest.
 */
export function dnsRegexProblem(pattern: string): string | undefined {
  try {
    compileDnsRegex(pattern, longestNode);
    return undefined;
  } catch (e) {
    return `DNS name expression ${JSON.stringify(pattern)} cannot be used: ${(e as Error).message}`;
  }
}

/** Whether the whole `name` matches, ignoring case; linear in the name. */
export function matchesDnsRegex(re: DnsRegex, name: string): boolean {
  let current = closure(re, [re.start]);
  for (const ch of name) {
    const next: number[] = [];
    for (const i of current) {
      const s = re.states[i] as State;
      if (s.kind === 'char' && s.test(ch)) next.push(s.out);
    }
    if (next.length === 0) return false;
    current = closure(re, next);
  }
  return current.some((i) => re.states[i]?.kind === 'match');
}

/** The states reachable from `from` without reading a character (each at most once). */
function closure(re: DnsRegex, from: readonly number[]): number[] {
  const seen = new Set<number>();
  const out: number[] = [];
  const stack = [...from];
  while (stack.length > 0) {
    const i = stack.pop() as number;
    if (seen.has(i)) continue;
    seen.add(i);
    const s = re.states[i] as State;
    if (s.kind === 'split') stack.push(...s.out);
    else out.push(i);
  }
  return out;
}
