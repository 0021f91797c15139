/**
 * The install guide's values and commands: the example values file is accepted by the
 * schema and renders; the request it makes is made by the command shown. The approver's
 * examples (docs/approver.md, docs/security.md) are in the shape the chart takes, and
 * their RBAC objects are valid.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import t from 'tap';
import { parse, parseAllDocuments } from 'yaml';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
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

const yamlBlocks = (doc: string): unknown[] =>
  [...readFileSync(join(repoRoot, doc), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)].flatMap((m) => parseAllDocuments(m[1] ?? '').map((d) => d.toJS() as unknown));

void t.test("docs/security.md's values for a separate approver are valid and render two identities", (t) => {
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strictRequired: false, strictTypes: false }).compile(schema);
  const blocks = yamlBlocks('docs/security.md') as Values[];
  t.equal(blocks.length, 1, 'one values file');
  const values = blocks[0] ?? {};
  t.ok(validate(mergeValues(defaultValues(), values)), JSON.stringify(validate.errors));
  const { manifests } = renderChart({ values });
  const pods = manifests.filter((m) => m.kind === 'Deployment').map((m) => (m.spec as { template: { spec: { serviceAccountName: string } } }).template.spec.serviceAccountName);
  t.same(pods, ['csr-approver', 'csr-signer'], 'the approver as csr-approver, the signer as itself');
  t.end();
});

void t.test("docs/approver.md's approver entries are in the shape the chart's schema takes, and its RBAC objects are valid", (t) => {
  const schema = JSON.parse(readFileSync(join(chartDir, 'values.schema.json'), 'utf8')) as object;
  const validate = new Ajv({ allErrors: true, strictRequired: false, strictTypes: false }).compile(schema);
  const blocks = yamlBlocks('docs/approver.md') as Record<string, unknown>[];
  const approvers = blocks.filter((b) => 'approver' in b).map((b) => b.approver as Values);
  t.ok(approvers.length >= 5, `${String(approvers.length)} approver examples`);
  for (const approver of approvers) {
    const values = mergeValues(defaultValues(), { approver: { ...approver, enabled: true } });
    t.ok(validate(values), `${JSON.stringify(approver)}: ${JSON.stringify(validate.errors)}`);
  }
  const rbac = blocks.filter((b) => String(b.apiVersion).startsWith('rbac.authorization.k8s.io/')) as { kind: string; roleRef?: { name: string }; rules?: { resourceNames?: string[] }[] }[];
  const models: Record<string, new (data: never) => { validate(): void }> = { ClusterRole, ClusterRoleBinding, RoleBinding };
  t.same(rbac.map((o) => o.kind), ['ClusterRoleBinding', 'ClusterRoleBinding', 'ClusterRole', 'RoleBinding']);
  for (const o of rbac) {
    const Model = models[o.kind];
    t.doesNotThrow(() => Model && new Model(o as never).validate(), `${o.kind} is valid`);
  }
  const review = approvers.flatMap((a) => (a.signers as { subjectAccessReview?: { name: string; verb: string } }[])).find((e) => e.subjectAccessReview)?.subjectAccessReview;
  t.same(rbac.find((o) => o.kind === 'ClusterRole')?.rules?.[0], { apiGroups: ['certificates.k8s.io'], resources: ['signers'], resourceNames: [review?.name], verbs: [review?.verb] }, 'the ClusterRole grants what the SubjectAccessReview asks');
  t.end();
});
