/** The project's own rules: the error catalogue matches its documentation, and pki/ stays pure. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { catalogue, csrError, CsrSignerError, type ErrorName } from '../src/errors.js';
import { fenceLinter, probe, root } from './helpers/fences.js';

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

void t.test('the linter forbids pki/ from importing files, process, HTTP or Kubernetes', async (t) => {
  const forbidden = [
    "import { readFileSync } from 'node:fs';", "import http from 'node:http';", "import k8s from '@kubernetes/client-node';",
    "import { x } from '../controller/queue.js';", "import fastify from 'fastify';", 'export const env = process.env;',
  ];
  // One ESLint for both probes, without type information, which the fences do not use
  // (test/meta/fences.test.ts checks that they see the same rules as npm run lint).
  const eslint = fenceLinter();
  const { messages } = await probe(eslint, 'src/pki/oids.ts', forbidden.join('\n'));
  t.ok(messages.some((m) => m.severity === 2), 'lint fails');
  forbidden.forEach((line, i) => {
    t.ok(messages.some((m) => m.line === i + 1 && /^no-restricted-(imports|globals)$/.test(m.ruleId ?? '')), `the boundary rule refuses: ${line}`);
  });
  const [allowed] = await eslint.lintText("import { readFileSync } from 'node:fs';\nexport const f = readFileSync;\n", { filePath: join(root, 'src', 'commands', 'sign.ts') });
  t.same(allowed?.messages.map((m) => `${m.line}: ${m.ruleId ?? 'parse'}: ${m.message}`), [], 'outside pki/ the same import is fine');
});
