/** The project's own rules: the error catalogue matches its documentation, and pki/ stays pure. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { catalogue, csrError, CsrSignerError, type ErrorName } from '../src/errors.js';
import { run } from './helpers/tools.js';

// Two type-aware eslint runs over the whole project: minutes on a loaded 2-core machine.
t.setTimeout(600_000);

const root = join(import.meta.dirname, '..');

void t.test('docs/errors.md lists every catalogue entry with its code, reason and permanence, and nothing else', (t) => {
  const doc = readFileSync(join(root, 'docs', 'errors.md'), 'utf8');
  const rows = [...doc.matchAll(/^\| `(CSR_SIGNER_ERR_[A-Z0-9_]+)` \| `(\w+)` \| (yes|no) \|/gm)]
    .map(([, code, reason, permanent]) => ({ code, reason, permanent: permanent === 'yes' }));
  const entries = Object.values(catalogue).map(({ code, reason, permanent }) => ({ code, reason, permanent }));
  const byCode = (a: { code: string | undefined }, b: { code: string | undefined }): number => (a.code ?? '').localeCompare(b.code ?? '');
  t.same(rows.sort(byCode), entries.sort(byCode));
  t.equal(new Set(entries.map((e) => e.code)).size, entries.length, 'codes are unique');
  t.end();
});

void t.test('every catalogue entry builds a typed error with a one-line message', (t) => {
  const sample: Record<string, unknown[]> = {};
  for (const [kind, entry] of Object.entries(catalogue) as [ErrorName, (typeof catalogue)[ErrorName]][]) {
    const args = Array.from({ length: entry.message.length }, (_v, i) => (kind === 'UnrecognizedUsage' ? ['x'] : `arg${i}`));
    sample[kind] = args;
    const error = (csrError as (k: ErrorName, ...a: unknown[]) => CsrSignerError)(kind, ...args);
    t.ok(error instanceof Error && error instanceof CsrSignerError, `${kind} is a CsrSignerError`);
    t.equal(error.code, entry.code);
    t.match(error.reason, /^[A-Z][A-Za-z]+$/, `${kind}: the reason is CamelCase`);
    t.notMatch(error.message, /\n/, `${kind}: the message is one line`);
    t.notMatch(error.message, /undefined/, `${kind}: the message uses its arguments`);
  }
  t.end();
});

void t.test('the linter forbids pki/ from importing files, process, HTTP or Kubernetes', (t) => {
  const eslint = join(root, 'node_modules', '.bin', 'eslint');
  const forbidden = [
    "import { readFileSync } from 'node:fs';", "import http from 'node:http';", "import k8s from '@kubernetes/client-node';",
    "import { x } from '../controller/queue.js';", "import fastify from 'fastify';", 'export const env = process.env;',
  ];
  // One run for all probes: each eslint start loads the TypeScript project (seconds).
  // Type-aware lint of the whole project: slow on a busy 2-core machine, so generous bounds.
  const r = run(eslint, ['--stdin', '--stdin-filename', 'src/pki/oids.ts', '--format', 'json'], { input: `${forbidden.join('\n')}\nexport {};\n`, cwd: root, timeoutMs: 240_000 });
  t.equal(r.code, 1, 'lint fails');
  const messages = (JSON.parse(r.stdout) as { messages: { line: number; ruleId: string | null }[] }[])[0]?.messages ?? [];
  forbidden.forEach((line, i) => {
    t.ok(messages.some((m) => m.line === i + 1 && /^no-restricted-(imports|globals)$/.test(m.ruleId ?? '')), `the boundary rule refuses: ${line}`);
  });
  const allowed = run(eslint, ['--stdin', '--stdin-filename', 'src/commands/sign.ts', '--rule', '{"@typescript-eslint/no-unused-vars":"off"}'], { input: "import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", cwd: root, timeoutMs: 240_000 });
  t.equal(allowed.code, 0, `outside pki/ the same import is fine: ${allowed.stdout}`);
  t.end();
});
