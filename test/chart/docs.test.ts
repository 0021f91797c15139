/**
 * The install guide's values and commands: the example values file is accepted by the
 * schema and renders; the request it makes is made by the command shown.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse } from 'yaml';
import { needTool, run, tempDir } from '../helpers/tools.js';
import { repoRoot } from '../docker/dockerfile.js';
import { signerTrustRules, type PolicyRule } from '../../devapi/auth/signer-role.js';
import { chartDir, defaultValues, find, mergeValues, renderChart, type Values } from './render.js';

const install = readFileSync(join(repoRoot, 'docs/install.md'), 'utf8');

void t.test("docs/install.md's values file is valid and renders", (t) => {
  const block = /```yaml\n([\s\S]*?)```/.exec(install)?.[1] ?? '';
  const values = parse(block) as Values;
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strictRequired: false, strictTypes: false }).compile(schema);
  t.ok(validate(mergeValues(defaultValues(), values)), JSON.stringify(validate.errors));
  const { manifests } = renderChart({ values });
  t.match(find(manifests, 'Deployment'), { spec: { template: { spec: { containers: [{ image: 'registry.example.com/csr-signer:0.1.0' }] } } } });
  t.end();
});

void t.test('the trust values of docs/install.md and the chart README are valid, render, and grant what the prose says', (t) => {
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strictRequired: false, strictTypes: false }).compile(schema);
  for (const doc of ['docs/install.md', 'charts/csr-signer/README.md']) {
    const blocks = [...readFileSync(join(repoRoot, doc), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] ?? '') as Values).filter((v) => JSON.stringify(v).includes('"trust"'));
    t.equal(blocks.length, 1, `${doc}: one values file with trust`);
    for (const values of blocks) {
      t.ok(validate(mergeValues(defaultValues(), values)), `${doc}: ${JSON.stringify(validate.errors)}`);
      const rules = find(renderChart({ values }).manifests, 'ClusterRole').rules as PolicyRule[];
      const targets = { configMapNames: ['serving-ca'], clusterTrustBundleNames: ['example.com:serving:csr-signer'], attestSignerNames: ['example.com/serving'] };
      t.same(JSON.parse(JSON.stringify(rules.slice(-signerTrustRules(targets).length))), signerTrustRules(targets), `${doc}: the trust rules`);
    }
  }
  t.end();
});

void t.test("docs/install.md's openssl request command makes a request for demo.default.svc", (t) => {
  if (!needTool(t, 'openssl')) return t.end();
  const command = install.split('\n').findIndex((l) => l.startsWith('openssl req -new -newkey'));
  const lines = install.split('\n');
  const text = `${lines[command] ?? ''}\n${lines[command + 1] ?? ''}`.replace(/\\\n/, '');
  const dir = tempDir('csr-signer-install-');
  const made = run('bash', ['-euo', 'pipefail', '-c', text], { cwd: dir });
  t.equal(made.code, 0, made.stderr);
  t.ok(existsSync(join(dir, 'demo-key.pem')));
  t.match(run('openssl', ['req', '-in', join(dir, 'demo.csr'), '-noout', '-text', '-verify']).stdout, /DNS:demo\.default\.svc/);
  t.end();
});

void t.test('every shell line of the packaging docs that changes a cluster is marked cluster-only', (t) => {
  for (const doc of ['docs/install.md', 'docs/replacing-kcm.md', 'charts/csr-signer/README.md', 'keys.example/README.md']) {
    const text = readFileSync(join(repoRoot, doc), 'utf8');
    const blocks = [...text.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    const unmarked = blocks.flatMap((b) => b.split('\n')).filter((l) => /^(helm|docker|kubectl (apply|create namespace|certificate|get|-n)|kind )/.test(l) && !l.includes('# cluster-only'));
    t.same(unmarked, [], doc);
  }
  t.end();
});
