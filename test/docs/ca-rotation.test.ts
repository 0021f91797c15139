/**
 * docs/ca-rotation.md: the Secrets its three phases make (kubectl create secret tls
 * --dry-run=client, offline) load with csr-signer's own CA loader, and the CA that
 * signs is the one each phase says.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { loadCertificateAuthority } from '../../src/pki/index.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { needTool, run, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'kubectl') || !needTool(t, 'openssl')) process.exit(0);

const root = join(import.meta.dirname, '..', '..');
const doc = readFileSync(join(root, 'docs', 'ca-rotation.md'), 'utf8');
const dir = tempDir('rotation-');
const old = makeOpensslCa(dir, 'old', 'p256');
const fresh = makeOpensslCa(dir, 'new', 'p256');
writeFileSync(join(dir, 'old-ca.pem'), old.certPem);
writeFileSync(join(dir, 'old-ca-key.pem'), old.keyPem);
writeFileSync(join(dir, 'new-ca.pem'), fresh.certPem);
writeFileSync(join(dir, 'new-ca-key.pem'), fresh.keyPem);

/** The runbook's shell blocks, in order, with the cluster-changing `| kubectl apply -f -` cut off. */
const blocks = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => (m[1] ?? '')
  .replace(/\\\n\s*/g, ' ')
  .replace(/\s*\|\s*kubectl apply -f -\s*# cluster-only/g, '')
  .replace(/#[^\n]*$/gm, ''));

void t.test('the runbook has a command for each phase', (t) => {
  t.equal(blocks.length, 3);
  t.end();
});

const phases: [string, RegExp, number][] = [
  ['prepare: the old CA signs, the new one is trusted', /CN=old test CA/, 1],
  ['switch: the new CA signs, the old one is still trusted', /CN=new test CA/, 1],
  ['retire: only the new CA', /CN=new test CA/, 0],
];

phases.forEach(([name, signer, extra], i) => {
  void t.test(name, async (t) => {
    const r = run('bash', ['-euo', 'pipefail', '-c', blocks[i] ?? 'false'], { cwd: dir, env: { ...process.env, HOME: dir } });
    t.equal(r.code, 0, r.stderr);
    const secret = parse(r.stdout) as { data: Record<string, string> };
    const ca = await loadCertificateAuthority({
      certificate: { name: 'tls.crt', bytes: Buffer.from(secret.data['tls.crt'] ?? '', 'base64') },
      key: { name: 'tls.key', bytes: Buffer.from(secret.data['tls.key'] ?? '', 'base64') },
    }, new Date());
    t.match(ca.certificate.subject, signer);
    t.equal(ca.extraTrust.length, extra);
  });
});
