/**
 * What the documentation names exists in the code: every doc is in the README's
 * Layout, every error code and metric named in a doc is in its catalogue, and the
 * Lease defaults operations.md states are the code's.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { leaseNamespaceOutsidePod } from '../../src/config/leader-election.js';
import { loadRunConfig } from '../../src/config/index.js';
import { catalogue } from '../../src/errors.js';
import { newIdentity } from '../../src/runtime.js';
import { metricsCatalogue } from '../../src/telemetry/metrics.js';

const root = join(import.meta.dirname, '..', '..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');
const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort();
/** Every Markdown file a reader is sent to: README, docs/, the chart's and keys.example's READMEs. */
const markdown = ['README.md', ...docs.map((d) => `docs/${d}`), 'charts/csr-signer/README.md', 'keys.example/README.md'];

void t.test('the README\'s Layout names every doc in docs/', (t) => {
  const layout = /## Layout\n\n```\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
  const docsEntry = layout.slice(layout.indexOf('\ndocs/'));
  t.ok(docs.length >= 10, `docs found: ${docs.join(', ')}`);
  for (const doc of docs) t.match(docsEntry, new RegExp(`(^|[\\s,])${doc.replace('.', '\\.')}([\\s,]|$)`), `${doc} is in the Layout`);
  t.end();
});

void t.test('every error code a doc names is in the error catalogue', (t) => {
  const codes = new Set<string>(Object.values(catalogue).map((e) => e.code));
  for (const file of markdown) {
    for (const code of new Set(read(file).match(/CSR_SIGNER_ERR_[A-Z0-9_]+/g) ?? [])) t.ok(codes.has(code), `${file}: ${code}`);
  }
  t.end();
});

void t.test('every csr-signer metric a doc names is in the metrics catalogue', (t) => {
  const names = new Set(metricsCatalogue.map((m) => m.name));
  for (const file of markdown) {
    for (const found of new Set(read(file).match(/csr_signer_[a-z_]+/g) ?? [])) {
      const name = found.replace(/_(bucket|sum|count)$/, '');
      // An OpenMetrics counter family is named without _total (metrics.md says so).
      t.ok(names.has(name) || names.has(`${found}_total`), `${file}: ${found}`);
    }
  }
  t.end();
});

void t.test('operations.md states the code\'s Lease defaults: its namespace outside a pod and the holder identity\'s form', (t) => {
  const ops = read('docs/operations.md');
  const section = ops.split('## Leader election\n')[1]?.split('\n## ')[0] ?? '';
  const namespace = /outside a pod, or in a static pod without a\s+service account, `([a-z0-9-]+)`/.exec(section)?.[1];
  t.equal(namespace, leaseNamespaceOutsidePod, 'the namespace where no pod says');
  const config = loadRunConfig(['--cluster-signing-cert-file', 'c', '--cluster-signing-key-file', 'k'], {}, () => { throw Object.assign(new Error('ENOENT'), { code: 'ENOENT' }); });
  t.equal(config.leaderElection.resourceNamespace, leaseNamespaceOutsidePod, 'and the loader uses it');
  const name = /default `([a-z0-9-]+)`,\s+in `--leader-elect-resource-namespace`/.exec(section)?.[1];
  t.equal(name, config.leaderElection.resourceName, 'the Lease name');
  const form = /shows the holder \(`([A-Z_]+)`/.exec(section)?.[1] ?? '';
  t.equal(form, 'HOSTNAME_UUID', 'the form documented');
  const pattern = new RegExp(`^${form.replace('HOSTNAME', 'node-1').replace('UUID', '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}')}$`);
  t.match(newIdentity('node-1'), pattern, 'is the form the code makes');
  t.not(newIdentity('node-1'), newIdentity('node-1'), 'a new one at each start');
  t.end();
});
