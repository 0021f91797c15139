/**
 * The subset of Go's text/template (plus the Sprig/Helm functions) that the chart uses,
 * so the chart can be rendered in tests without a helm binary. It is strict on purpose:
 * an unknown function, a field of a missing value or printing a map throws, so a
 * template that uses something not implemented here fails the tests instead of
 * rendering something different from Helm.
 *
 * Supported: text, {{- and -}} trimming, comments, pipelines with `|`, parentheses,
 * variables ($, $x := …, $i, $v := in range), if / else if / else, range (+ else),
 * with (+ else), define, and the functions in `functions` below.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

type Value = unknown;
type Node =
  | { kind: 'text'; text: string }
  | { kind: 'action'; pipe: Pipeline }
  | { kind: 'if' | 'with'; pipe: Pipeline; body: Node[]; otherwise: Node[] }
  | { kind: 'range'; pipe: Pipeline; body: Node[]; otherwise: Node[] };
interface Pipeline { decl: string[]; commands: Operand[][] }
type Operand =
  | { kind: 'literal'; value: Value }
  | { kind: 'field'; base: string; path: string[] } // base: 'dot' (.) or a variable ($, $name)
  | { kind: 'ident'; name: string }
  | { kind: 'pipe'; pipe: Pipeline };

/** Splits the source into text and action strings, applying the trim markers. */
function lex(source: string): { text?: string; action?: string }[] {
  const out: { text?: string; action?: string }[] = [];
  let rest = source;
  let trimNext = false;
  for (;;) {
    const open = rest.indexOf('{{');
    let text = open < 0 ? rest : rest.slice(0, open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open < 0) {
      out.push({ text });
      return out;
    }
    const close = rest.indexOf('}}', open);
    if (close < 0) throw new Error('unclosed action');
    let inner = rest.slice(open + 2, close);
    if (/^-\s/.test(inner)) {
      text = text.replace(/\s+$/, '');
      inner = inner.slice(1);
    }
    trimNext = /\s-$/.test(inner);
    if (trimNext) inner = inner.slice(0, -1);
    out.push({ text }, { action: inner.trim() });
    rest = rest.slice(close + 2);
  }
}

const tokenRe = /\s*(?:("(?:[^"\\]|\\.)*")|(`[^`]*`)|(\$[A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)|(\.(?:[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)?)|(-?\d+)|(:=|=|\||\(|\)|,)|([A-Za-z_][A-Za-z0-9_]*))/y;

function tokenize(action: string): string[] {
  const tokens: string[] = [];
  tokenRe.lastIndex = 0;
  while (tokenRe.lastIndex < action.length) {
    if (/^\s*$/.test(action.slice(tokenRe.lastIndex))) break;
    const m = tokenRe.exec(action);
    if (!m) throw new Error(`cannot read action {{ ${action} }} at ${tokenRe.lastIndex}`);
    tokens.push(m.slice(1).find((g) => g !== undefined) as string);
  }
  return tokens;
}

function parsePipeline(tokens: string[]): Pipeline {
  const decl: string[] = [];
  const assign = tokens.findIndex((t) => t === ':=' || t === '=');
  if (assign > 0 && tokens.slice(0, assign).every((t) => t.startsWith('$') || t === ',')) {
    decl.push(...tokens.slice(0, assign).filter((t) => t !== ','));
    tokens = tokens.slice(assign + 1);
  }
  let pos = 0;
  const pipeline = (): Pipeline => {
    const commands: Operand[][] = [[]];
    while (pos < tokens.length && tokens[pos] !== ')') {
      const t = tokens[pos++] as string;
      if (t === '|') commands.push([]);
      else if (t === '(') {
        const inner = pipeline();
        if (tokens[pos++] !== ')') throw new Error('missing )');
        (commands.at(-1) as Operand[]).push({ kind: 'pipe', pipe: inner });
      } else (commands.at(-1) as Operand[]).push(operand(t));
    }
    return { decl: [], commands };
  };
  const result = pipeline();
  if (pos !== tokens.length) throw new Error(`unexpected ${tokens[pos]}`);
  return { decl, commands: result.commands };
}

function operand(t: string): Operand {
  if (t.startsWith('"')) return { kind: 'literal', value: JSON.parse(t) };
  if (t.startsWith('`')) return { kind: 'literal', value: t.slice(1, -1) };
  if (/^-?\d+$/.test(t)) return { kind: 'literal', value: Number(t) };
  if (t === 'true' || t === 'false') return { kind: 'literal', value: t === 'true' };
  if (t === 'nil') return { kind: 'literal', value: undefined };
  if (t.startsWith('.')) return { kind: 'field', base: 'dot', path: t === '.' ? [] : t.slice(1).split('.') };
  if (t.startsWith('$')) {
    const [base, ...path] = t.split('.');
    return { kind: 'field', base: base as string, path };
  }
  return { kind: 'ident', name: t };
}

/** Parses a template file; `define` blocks go to `defines`. */
export function parseTemplate(source: string, defines: Map<string, Node[]>): Node[] {
  const items = lex(source);
  let i = 0;
  const block = (ends: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < items.length) {
      const item = items[i++] as { text?: string; action?: string };
      if (item.text !== undefined) {
        if (item.text !== '') nodes.push({ kind: 'text', text: item.text });
        continue;
      }
      const action = item.action as string;
      if (action.startsWith('/*')) continue;
      const word = /^[a-z]+/.exec(action)?.[0] ?? '';
      if (ends.includes(word)) return { nodes, end: action };
      if (word === 'if' || word === 'with' || word === 'range') nodes.push(control(word, action.slice(word.length)));
      else if (word === 'define') {
        const name = JSON.parse(action.slice(6).trim()) as string;
        defines.set(name, block(['end']).nodes);
      } else nodes.push({ kind: 'action', pipe: parsePipeline(tokenize(action)) });
    }
    if (ends.length > 0) throw new Error(`missing {{ end }} (expected ${ends.join('/')})`);
    return { nodes, end: '' };
  };
  const control = (kind: 'if' | 'with' | 'range', rest: string): Node => {
    const pipe = parsePipeline(tokenize(rest));
    const body = block(['else', 'end']);
    let otherwise: Node[] = [];
    if (body.end.startsWith('else')) {
      const elseRest = body.end.slice(4).trim();
      if (elseRest.startsWith('if ')) otherwise = [control('if', elseRest.slice(2))];
      else otherwise = block(['end']).nodes;
    }
    return { kind, pipe, body: body.nodes, otherwise };
  };
  return block([]).nodes;
}

/** Go template truth: false, 0, nil, "" and empty collections are false. */
export function truthy(v: Value): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function print(v: Value): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new Error(`printing a ${Array.isArray(v) ? 'list' : 'map'}: use toYaml`);
}

const str = (v: Value): string => (v === undefined || v === null ? '' : print(v));
const indent = (n: number, s: string): string => s.split('\n').map((l) => ' '.repeat(n) + l).join('\n');
const toInt = (v: Value): number => (typeof v === 'number' ? Math.trunc(v) : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v === true ? 1 : 0);
function kindOf(v: Value): string {
  if (v === undefined || v === null) return 'invalid';
  if (Array.isArray(v)) return 'slice';
  if (typeof v === 'object') return 'map';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  return typeof v === 'boolean' ? 'bool' : 'string';
}

export class TemplateError extends Error {}

type Fn = (...args: Value[]) => Value;

/** A chart's templates: named templates from every file, then `render(file, data)`. */
export class TemplateSet {
  readonly defines = new Map<string, Node[]>();
  private readonly files = new Map<string, Node[]>();

  add(name: string, source: string): void {
    this.files.set(name, parseTemplate(source, this.defines));
  }

  render(name: string, data: Value): string {
    const nodes = this.files.get(name);
    if (!nodes) throw new Error(`no template ${name}`);
    return this.exec(nodes, data, new Map([['$', data]]));
  }

  private readonly functions: Record<string, Fn> = {
    include: (name, data) => {
      const nodes = this.defines.get(str(name));
      if (!nodes) throw new Error(`include: no template "${str(name)}"`);
      return this.exec(nodes, data, new Map([['$', data]]));
    },
    default: (fallback, given) => (truthy(given) ? given : fallback),
    required: (message, v) => {
      if (v === undefined || v === null || v === '') throw new TemplateError(str(message));
      return v;
    },
    fail: (message) => {
      throw new TemplateError(str(message));
    },
    trunc: (n, s) => str(s).slice(0, toInt(n)),
    trimSuffix: (suffix, s) => (str(s).endsWith(str(suffix)) && str(suffix) !== '' ? str(s).slice(0, -str(suffix).length) : str(s)),
    contains: (sub, s) => str(s).includes(str(sub)),
    trim: (s) => str(s).trim(),
    hasKey: (m, key) => {
      if (m === undefined || m === null) return false;
      if (typeof m !== 'object' || Array.isArray(m)) throw new TemplateError(`hasKey: wrong type for value; expected map[string]interface {}; got ${kindOf(m)}`);
      return Object.hasOwn(m, str(key));
    },
    replace: (from, to, s) => str(s).split(str(from)).join(str(to)),
    printf: (format, ...args) => {
      let k = 0;
      return str(format).replace(/%[sdv%]/g, (spec) => (spec === '%%' ? '%' : spec === '%d' ? String(toInt(args[k++])) : str(args[k++])));
    },
    quote: (...args) => args.map((a) => JSON.stringify(str(a))).join(' '),
    toYaml: (v) => (v === undefined || v === null ? 'null' : stringify(v, { lineWidth: 0 }).replace(/\n$/, '')),
    nindent: (n, s) => `\n${indent(toInt(n), str(s))}`,
    indent: (n, s) => indent(toInt(n), str(s)),
    sha256sum: (s) => createHash('sha256').update(str(s)).digest('hex'),
    b64enc: (s) => Buffer.from(str(s)).toString('base64'),
    dict: (...kv) => Object.fromEntries(Array.from({ length: kv.length / 2 }, (_, j) => [str(kv[2 * j]), kv[2 * j + 1]])),
    index: (collection, ...keys) => keys.reduce((c: Value, k) => (c as Record<string, Value>)[k as string], collection),
    int: (v) => toInt(v),
    kindIs: (kind, v) => kindOf(v) === kind,
    eq: (a, ...bs) => bs.some((b) => a === b),
    ne: (a, b) => a !== b,
    lt: (a, b) => (a as number) < (b as number),
    le: (a, b) => (a as number) <= (b as number),
    gt: (a, b) => (a as number) > (b as number),
    ge: (a, b) => (a as number) >= (b as number),
    not: (v) => !truthy(v),
    and: (...vs) => vs.find((v) => !truthy(v)) ?? vs.at(-1),
    or: (...vs) => vs.find((v) => truthy(v)) ?? vs.at(-1),
  };

  private exec(nodes: readonly Node[], dot: Value, vars: Map<string, Value>): string {
    let out = '';
    for (const node of nodes) {
      if (node.kind === 'text') out += node.text;
      else if (node.kind === 'action') {
        const v = this.pipeline(node.pipe, dot, vars);
        if (node.pipe.decl.length === 0) out += print(v);
      } else if (node.kind === 'if' || node.kind === 'with') {
        const scope = new Map(vars);
        const v = this.pipeline(node.pipe, dot, scope);
        if (truthy(v)) out += this.exec(node.body, node.kind === 'with' ? v : dot, scope);
        else out += this.exec(node.otherwise, dot, new Map(vars));
      } else {
        const scope = new Map(vars);
        const { decl } = node.pipe;
        const v = this.pipeline({ decl: [], commands: node.pipe.commands }, dot, scope);
        const entries: [Value, Value][] = Array.isArray(v)
          ? v.map((x, j) => [j, x])
          : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, Value>)[k]]) : [];
        if (v !== undefined && v !== null && typeof v !== 'object') throw new Error(`range over ${typeof v}`);
        if (entries.length === 0) out += this.exec(node.otherwise, dot, new Map(vars));
        for (const [key, item] of entries) {
          const inner = new Map(scope);
          if (decl.length === 1) inner.set(decl[0] as string, item);
          if (decl.length === 2) {
            inner.set(decl[0] as string, key);
            inner.set(decl[1] as string, item);
          }
          out += this.exec(node.body, item, inner);
        }
      }
    }
    return out;
  }

  private pipeline(pipe: Pipeline, dot: Value, vars: Map<string, Value>): Value {
    let value: Value;
    let first = true;
    for (const command of pipe.commands) {
      value = this.command(command, dot, vars, first ? [] : [value]);
      first = false;
    }
    for (const name of pipe.decl) vars.set(name, value);
    return value;
  }

  private command(command: readonly Operand[], dot: Value, vars: Map<string, Value>, piped: Value[]): Value {
    const [head, ...rest] = command;
    if (!head) throw new Error('empty command');
    const args = (): Value[] => [...rest.map((o) => this.operand(o, dot, vars)), ...piped];
    if (head.kind === 'ident') {
      const fn = this.functions[head.name];
      if (!fn) throw new Error(`function "${head.name}" is not implemented in test/chart/go-template.ts`);
      return fn(...args());
    }
    const v = this.operand(head, dot, vars);
    if (typeof v === 'function') return (v as Fn)(...args());
    if (rest.length > 0 || piped.length > 0) throw new Error('arguments given to a value that is not a function');
    return v;
  }

  private operand(o: Operand, dot: Value, vars: Map<string, Value>): Value {
    if (o.kind === 'literal') return o.value;
    if (o.kind === 'pipe') return this.pipeline(o.pipe, dot, vars);
    if (o.kind === 'ident') throw new Error(`function "${o.name}" used as a value`);
    if (o.base !== 'dot' && !vars.has(o.base)) throw new Error(`undefined variable ${o.base}`);
    let v = o.base === 'dot' ? dot : vars.get(o.base);
    for (const [n, key] of o.path.entries()) {
      if (v === undefined || v === null) throw new TemplateError(`nil pointer evaluating .${o.path.slice(0, n + 1).join('.')}`);
      if (typeof v !== 'object') throw new TemplateError(`can't evaluate field ${key} in ${typeof v}`);
      v = (v as Record<string, Value>)[key];
    }
    return v;
  }
}
