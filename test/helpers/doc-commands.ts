/**
 * The commands a Markdown doc tells its reader to run, as a shell would read them.
 *
 * A fenced ```sh, ```bash, ```shell or ```console block: every line is a command,
 * except blank lines and `#` comments (which the docs use for shown output); a
 * backslash continues it onto the next line; a heredoc (`<<EOF`) takes its body along.
 * When a block has `$ ` prompts (always in ```console), only the prompted lines are
 * commands and the rest is output. An unlabelled block counts when its first line is
 * a prompt or starts with a program the docs use, and is not a synopsis (`FILE`,
 * `[options]`, `<x>`). `a && b` is two commands on one line.
 *
 * `./csr-signer` is the command from a clone (the script at the repository's root).
 *
 * Inline `code` in prose counts when it starts with such a program and either has an
 * option (`-x`, `--x`) or is an npm/npx/node run; spans naming a command
 * (`csr-signer run`, `kubectl get`) or sketching one with placeholders do not.
 *
 * `# cluster-only` anywhere on a command's own lines (not its heredoc body) marks it.
 */

export interface DocCommand {
  readonly file: string;
  /** 1-based line of the command's first line. */
  readonly line: number;
  /** The command, prompt removed; continuation lines and a heredoc body kept as written. */
  readonly text: string;
  readonly clusterOnly: boolean;
  readonly from: 'block' | 'inline';
  /** Which fenced block (0, 1, …) the command is in; -1 for inline code. */
  readonly block: number;
  /** The nearest heading above the command. */
  readonly section: string;
}

export const PROGRAMS = ['csr-signer', './csr-signer', 'kube-controller-manager', 'kubectl', 'helm', 'docker', 'kind', 'openssl', 'cfssl', 'cfssljson',
  'npm', 'npx', 'node', 'apt-get', 'curl', 'promtool', 'cat', 'base64', 'umask'] as const;

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'console', 'zsh']);
const startsWithProgram = (s: string): boolean => PROGRAMS.some((p) => s === p || s.startsWith(`${p} `)) || /^[A-Z_]+=\S*\s/.test(s);
const PLACEHOLDER = /(^|\s)[A-Z][A-Z_]{2,}(\s|,|$)|\[[^\]]*\]|<[^>]*>|…|\|/;
const CLUSTER_ONLY = /(^|\s)#\s*cluster-only\b/;

/** The command on one line, for messages: continuations joined, a heredoc body left out. */
export const oneLine = (text: string): string => joinContinuations(text).replace(/\s+/g, ' ').trim();

function joinContinuations(text: string): string {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const l of lines) {
    out.push(l);
    if (!l.trimEnd().endsWith('\\')) break;
  }
  return out.join('\n').replace(/\\\n\s*/g, ' ');
}

/** Splits on `&&` outside quotes and `$( )`. */
export function splitAnd(text: string): string[] {
  const parts: string[] = [];
  let quote: '"' | "'" | undefined;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '&' && text[i + 1] === '&' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 2;
      i++;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

function blockCommands(file: string, body: readonly string[], firstLine: number, lang: string, section: string, block: number): DocCommand[] {
  const prompted = lang === 'console' || body.some((l) => /^\s*\$ /.test(l));
  if (lang === '') {
    const first = body.find((l) => l.trim() !== '')?.trim() ?? '';
    const command = first.startsWith('$ ') || (startsWithProgram(first) && !PLACEHOLDER.test(first.replace(/\s+#.*$/, '')));
    if (!command) return [];
  }
  const commands: DocCommand[] = [];
  for (let i = 0; i < body.length; i++) {
    let line = body[i] ?? '';
    if (prompted) {
      if (!/^\s*\$ /.test(line)) continue;
      line = line.replace(/^\s*\$ /, '');
    }
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const start = i;
    const own = [line];
    while ((body[i] ?? '').trimEnd().endsWith('\\') && i + 1 < body.length) {
      i++;
      own.push((body[i] ?? '').replace(prompted ? /^\s*> ?/ : /^$/, ''));
    }
    const heredoc = /<<-?\s*(['"]?)(\w+)\1/.exec(own.join('\n'));
    const bodyLines: string[] = [];
    if (heredoc) {
      const end = heredoc[2] ?? '';
      while (i + 1 < body.length) {
        i++;
        bodyLines.push(body[i] ?? '');
        if ((body[i] ?? '').trim() === end) break;
      }
    }
    const clusterOnly = own.some((l) => CLUSTER_ONLY.test(l));
    const text = [...own, ...bodyLines].join('\n');
    const parts = heredoc ? [text] : splitAnd(text);
    for (const part of parts) commands.push({ file, line: firstLine + start, text: part, clusterOnly, from: 'block', block, section });
  }
  return commands;
}

function inlineCommands(file: string, line: string, n: number, section: string): DocCommand[] {
  const commands: DocCommand[] = [];
  for (const m of line.matchAll(/(`+)([^`]+?)\1/g)) {
    const span = (m[2] ?? '').trim();
    if (!startsWithProgram(span) || !span.includes(' ') || PLACEHOLDER.test(span)) continue;
    const program = span.split(' ')[0] ?? '';
    if (!/(^|\s)--?[a-z]/.test(span) && !['npm', 'npx', 'node'].includes(program)) continue;
    for (const part of splitAnd(span)) commands.push({ file, line: n, text: part, clusterOnly: CLUSTER_ONLY.test(span), from: 'inline', block: -1, section });
  }
  return commands;
}

/** Every command in `markdown`, in document order. */
export function extractCommands(file: string, markdown: string): DocCommand[] {
  const lines = markdown.split('\n');
  const commands: DocCommand[] = [];
  let section = '';
  let block = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (fence) {
      const marker = fence[1] ?? '```';
      const lang = (fence[2] ?? '').toLowerCase();
      const body: string[] = [];
      let j = i + 1;
      for (; j < lines.length && !(lines[j] ?? '').trim().startsWith(marker); j++) body.push(lines[j] ?? '');
      if (SHELL_LANGS.has(lang) || lang === '') commands.push(...blockCommands(file, body, i + 2, lang, section, block++));
      i = j;
      continue;
    }
    const heading = /^#{1,6}\s+(.*)$/.exec(line);
    if (heading) section = (heading[1] ?? '').trim();
    else commands.push(...inlineCommands(file, line, i + 1, section));
  }
  return commands;
}

/** The same command with continuations joined and whitespace collapsed, for comparing. */
export const normalized = (text: string): string => text.replace(/\\\n\s*/g, ' ').replace(/\s+/g, ' ').trim();

/** How a command is covered: run by a test, run by CI's own script, a benchmark, or restated from a covered one. */
export type Coverage = 'cluster-only' | 'exercised' | 'ci' | 'bench-only' | 'restates';

export interface Rule {
  readonly doc: string;
  readonly match: RegExp;
  readonly section?: RegExp;
  /**
   * run, server: test/docs/commands.test.ts runs it; elsewhere: a test file of its own
   * runs it as written (`by` names it); ci: .ci/run; bench-only: a benchmark.
   */
  readonly how: 'run' | 'server' | 'elsewhere' | 'ci' | 'bench-only';
  /** For `elsewhere`: the test file (from the repository's root) that runs it. */
  readonly by?: string;
}

export const ruleFor = <R extends Rule>(rules: readonly R[], c: DocCommand): R | undefined =>
  rules.find((r) => (r.doc === '*' || r.doc === c.file) && r.match.test(normalized(c.text)) && (r.section === undefined || r.section.test(c.section)));

/**
 * Each command's coverage, or undefined: marked, matched by a rule, or (inline code)
 * part of a fenced command of any doc, which it takes the coverage of.
 */
export function coverage(commands: readonly DocCommand[], rules: readonly Rule[]): Map<DocCommand, Coverage | undefined> {
  const result = new Map<DocCommand, Coverage | undefined>();
  const of = (c: DocCommand): Coverage | undefined => {
    if (c.clusterOnly) return 'cluster-only';
    const rule = ruleFor(rules, c);
    if (rule) return rule.how === 'run' || rule.how === 'server' || rule.how === 'elsewhere' ? 'exercised' : rule.how;
    return undefined;
  };
  for (const c of commands.filter((c) => c.from === 'block')) result.set(c, of(c));
  for (const c of commands.filter((c) => c.from === 'inline')) {
    const own = of(c);
    const span = ` ${normalized(c.text)} `;
    const restated = own === undefined && commands.some((b) => b.from === 'block' && result.get(b) !== undefined && ` ${normalized(b.text)} `.includes(span));
    result.set(c, own ?? (restated ? 'restates' : undefined));
  }
  return result;
}

/** One line per command with no coverage: `file:line: command`. */
export const uncovered = (covered: Map<DocCommand, Coverage | undefined>): string[] =>
  [...covered].filter(([, how]) => how === undefined).map(([c]) => `${c.file}:${c.line}: ${oneLine(c.text)}`);

