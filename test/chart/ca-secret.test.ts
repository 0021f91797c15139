/**
 * keys.example/README.md's "Make a real CA": its openssl and cfssl recipes, then its
 * Secret commands, run as written (lines marked `# cluster-only` left out); the CA
 * loads with csr-signer's own loader and the Secret has what the chart mounts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { loadCertificateAuthority } from '../../src/pki/index.js';
import { needTool, run, tempDir } from '../helpers/tools.js';
import { repoRoot } from '../docker/dockerfile.js';

const readme = readFileSync(join(repoRoot, 'keys.example/README.md'), 'utf8');

/** The ```sh block under the heading `### title`. */
function block(title: string): string {
  const section = readme.split(`### ${title}\n`)[1]?.split(/\n### |\n## /)[0] ?? '';
  const code = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (code === undefined) throw new Error(`no sh block under "### ${title}"`);
  return code.split('\n').filter((line) => !line.includes('# cluster-only')).join('\n');
}

for (const [recipe, tools] of [['With openssl', ['openssl']], ['With cfssl', ['cfssl', 'cfssljson']]] as const) {
  void t.test(`the README's CA recipe "${recipe}", then its Secret`, async (t) => {
    if (!tools.every((tool) => needTool(t, tool)) || !needTool(t, 'kubectl')) return;
    const dir = tempDir('csr-signer-real-ca-');
    const made = run('bash', ['-euo', 'pipefail', '-c', block(recipe)], { cwd: dir });
    t.equal(made.code, 0, made.stderr);
    const cert = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const key = readFileSync(join(dir, 'ca-key.pem'), 'utf8');
    const ca = await loadCertificateAuthority({ certificate: { name: 'ca.pem', bytes: Buffer.from(cert) }, key: { name: 'ca-key.pem', bytes: Buffer.from(key) } }, new Date());
    t.same(ca.keyKind, { type: 'ec', curve: 'P-256' });
    const text = run('openssl', ['x509', '-in', join(dir, 'ca.pem'), '-noout', '-text']).stdout;
    t.match(text, /CA:TRUE, pathlen:0/);
    t.match(text, /Certificate Sign, CRL Sign/);

    const secret = run('bash', ['-euo', 'pipefail', '-c', block('Put it in a Secret')], { cwd: dir, env: { ...process.env, KUBECONFIG: '/nonexistent' } });
    t.equal(secret.code, 0, secret.stderr);
    const manifest = parse(readFileSync(join(dir, 'csr-signer-ca.yaml'), 'utf8')) as { kind: string; type: string; metadata: { name: string; namespace: string }; data: Record<string, string> };
    t.match(manifest, { kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'csr-signer-ca', namespace: 'csr-signer' } });
    t.equal(Buffer.from(manifest.data['tls.crt'] ?? '', 'base64').toString(), cert);
    t.equal(Buffer.from(manifest.data['tls.key'] ?? '', 'base64').toString(), key);
  });
}
