/**
 * docs/hsm.md's SoftHSM2 walk-through, run as written: every command of its ```sh blocks
 * that is not `# cluster-only`, in document order, in one shell in a temporary directory
 * (its first block exports SOFTHSM2_CONF for the rest). Then what it made is checked
 * with other tools than those that made it: the token's private keys are sensitive and
 * were never extractable (their value is refused through pkcs11js, C_GetAttributeValue
 * of CKA_VALUE), the self-signed CA certificate certtool made is CA:TRUE for openssl and
 * holds the token key's public key, the issuing CA under the stand-in root verifies and
 * holds the second token key's, and the PIN file is the owner's only.
 * test/docs/exercises.ts points test/docs/commands.test.ts here for these commands.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import t from 'tap';
import { parse } from 'yaml';
import { loadRunConfig } from '../../src/config/index.js';
import { extractCommands, normalized, oneLine } from '../helpers/doc-commands.js';
import { root } from '../helpers/devapi.js';
import { softhsmModule } from '../helpers/softhsm.js';
import { needTool, run, tempDir } from '../helpers/tools.js';

const doc = 'docs/hsm.md';
const markdown = readFileSync(join(root, doc), 'utf8');
const commands = extractCommands(doc, markdown).filter((c) => c.from === 'block' && !c.clusterOnly);
const keyUri = 'pkcs11:token=csr-signer-ca;object=ca-key;id=%01;type=private';

/** The subset of pkcs11js this test calls. */
interface Pkcs11 {
  load(path: string): void;
  C_Initialize(): void;
  C_Finalize(): void;
  C_GetSlotList(present: boolean): Buffer[];
  C_GetTokenInfo(slot: Buffer): { label: string };
  C_OpenSession(slot: Buffer, flags: number): Buffer;
  C_Login(session: Buffer, user: number, pin: string): void;
  C_FindObjectsInit(session: Buffer, template: { type: number; value?: number | Buffer | boolean }[]): void;
  C_FindObjects(session: Buffer, max: number): Buffer[];
  C_FindObjectsFinal(session: Buffer): void;
  C_GetAttributeValue(session: Buffer, object: Buffer, template: { type: number }[]): { type: number; value?: Buffer }[];
  C_CloseSession(session: Buffer): void;
}
type Binding = { PKCS11: new () => Pkcs11 } & Record<string, number>;

/** The point of an EC public key as PKCS#11 holds it (CKA_EC_POINT: a DER OCTET STRING of 04‖x‖y). */
function ecPoint(certificate: string): Buffer {
  const jwk = new X509Certificate(certificate).publicKey.export({ format: 'jwk' });
  const point = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x ?? '', 'base64url'), Buffer.from(jwk.y ?? '', 'base64url')]);
  return Buffer.concat([Buffer.from([0x04, point.length]), point]);
}

void t.test("docs/hsm.md's SoftHSM2 walk-through runs as written", (t) => {
  if (!['softhsm2-util', 'pkcs11-tool', 'certtool', 'openssl'].every((tool) => needTool(t, tool))) return t.end();
  const dir = tempDir('csr-signer-hsm-doc-');
  t.ok(commands.length >= 15, `the walk-through's commands (${commands.length})`);
  t.ok(commands.every((c) => c.text.includes(softhsmModule) || !c.text.includes('--module')), 'Debian\'s SoftHSM2 module path');

  // One shell, so the walk-through's export carries; a marker before each command splits the output.
  const script = ['set -euo pipefail', ...commands.flatMap((c, i) => [`printf '\\n@@doc-command %d@@\\n' ${i}`, c.text])].join('\n');
  const env = { ...process.env };
  delete env.SOFTHSM2_CONF;
  delete env.GNUTLS_PIN;
  const ran = run('bash', ['-c', `${script}\n`], { cwd: dir, env, timeoutMs: 120_000 });
  const parts = ran.stdout.split(/\n?@@doc-command (\d+)@@\n/);
  const last = Number(parts.at(-2) ?? -1);
  t.equal(ran.code, 0, `${doc}:${commands[last]?.line ?? '?'}: ${oneLine(commands[last]?.text ?? '')}\n${ran.stderr}`);
  if (ran.code !== 0) return t.end();
  const output = (match: RegExp): string => {
    const i = commands.findIndex((c) => match.test(normalized(c.text)));
    return parts[2 * i + 2] ?? '';
  };

  // The keys: made on the token, sensitive, never extractable (pkcs11-tool says so, and the token refuses their value).
  t.match(output(/--list-objects --type privkey/), /label:\s+ca-key[\s\S]*Access:\s+sensitive, always sensitive, never extractable, local/);
  const conf = join(dir, 'softhsm', 'softhsm2.conf');
  process.env.SOFTHSM2_CONF = conf;
  const binding = createRequire(import.meta.url)('pkcs11js') as Binding;
  const p11 = new binding.PKCS11();
  p11.load(softhsmModule);
  p11.C_Initialize();
  const points = new Map<string, Buffer>();
  try {
    const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === 'csr-signer-ca');
    if (slot === undefined) throw new Error('the walk-through made no token csr-signer-ca');
    const session = p11.C_OpenSession(slot, (binding.CKF_SERIAL_SESSION ?? 0) | (binding.CKF_RW_SESSION ?? 0));
    p11.C_Login(session, binding.CKU_USER ?? 1, '1234');
    const find = (cls: number, id: string): Buffer => {
      p11.C_FindObjectsInit(session, [{ type: binding.CKA_CLASS ?? 0, value: cls }, { type: binding.CKA_ID ?? 0x102, value: Buffer.from(id, 'hex') }]);
      const [object, ...more] = p11.C_FindObjects(session, 2);
      p11.C_FindObjectsFinal(session);
      if (object === undefined || more.length > 0) throw new Error(`not exactly one object of class ${cls} with id ${id}`);
      return object;
    };
    for (const id of ['01', '02']) {
      const key = find(binding.CKO_PRIVATE_KEY ?? 3, id);
      const flags = p11.C_GetAttributeValue(session, key, [binding.CKA_SENSITIVE, binding.CKA_EXTRACTABLE, binding.CKA_NEVER_EXTRACTABLE, binding.CKA_ALWAYS_SENSITIVE].map((type) => ({ type: type ?? 0 })));
      t.same(flags.map((a) => a.value?.[0]), [1, 0, 1, 1], `key ${id}: sensitive, not extractable, never extractable, always sensitive`);
      t.throws(() => p11.C_GetAttributeValue(session, key, [{ type: binding.CKA_VALUE ?? 0x11 }]), /CKR_ATTRIBUTE_SENSITIVE/, `key ${id}: the token refuses its value`);
      const publicKey = find(binding.CKO_PUBLIC_KEY ?? 2, id);
      const [point] = p11.C_GetAttributeValue(session, publicKey, [{ type: binding.CKA_EC_POINT ?? 0x181 }]);
      points.set(id, point?.value ?? Buffer.alloc(0));
    }
    p11.C_CloseSession(session);
  } finally {
    p11.C_Finalize();
    delete process.env.SOFTHSM2_CONF;
  }

  // The self-signed CA: certtool signed it on the token; openssl reads a CA for the token key.
  const caText = output(/^openssl x509 -in ca\.pem -noout -text$/);
  t.match(caText, /CA:TRUE, pathlen:0/);
  t.match(caText, /Certificate Sign, CRL Sign/);
  const ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  t.same(ecPoint(ca), points.get('01'), "ca.pem holds the token key's public key");
  t.equal(run('openssl', ['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'ca.pem')]).code, 0, 'its self-signature verifies: the token key signed it');

  // The issuing CA under the stand-in root: verifies, and is for the second token key.
  t.match(output(/^openssl verify -CAfile root\.pem issuing\.pem$/), /issuing\.pem: OK/);
  const issuing = readFileSync(join(dir, 'issuing.pem'), 'utf8');
  t.same(ecPoint(issuing), points.get('02'), "issuing.pem holds the second token key's public key");
  t.match(run('openssl', ['x509', '-in', join(dir, 'issuing.pem'), '-noout', '-text']).stdout, /CA:TRUE, pathlen:0/);
  t.equal(run('openssl', ['req', '-in', join(dir, 'issuing.csr'), '-noout', '-verify']).code, 0, 'the request certtool made on the token verifies');

  // The PIN file: the PIN's line, the owner's only.
  t.equal(readFileSync(join(dir, 'pin'), 'utf8'), '1234\n');
  t.equal(statSync(join(dir, 'pin')).mode & 0o777, 0o600);
  t.end();
});

void t.test("docs/hsm.md's signer configuration names what the walk-through made", (t) => {
  const file = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => parse(m[1] ?? '') as { kind?: string; signers?: { ca: Record<string, unknown> }[] }).find((v) => v.kind === 'SignerConfiguration');
  t.same(file?.signers?.[0]?.ca, { certFile: 'ca.pem', key: keyUri, pkcs11: { module: softhsmModule, pinFile: 'pin', sessions: 4 } });
  const flags = extractCommands(doc, markdown).find((c) => c.text.includes('--pkcs11-module'));
  t.match(normalized(flags?.text ?? ''), new RegExp(`--cluster-signing-cert-file ca\\.pem --cluster-signing-key-file "${keyUri.replace(/[.;%]/g, '\\$&')}" --pkcs11-module ${softhsmModule} --pkcs11-pin-file pin`));
  t.notMatch(markdown, /--pkcs11-pin[ =]/, 'no PIN flag is shown: there is none');
  t.end();
});

void t.test("csr-signer run loads docs/hsm.md's signer configuration and its flag form", (t) => {
  const dir = '/srv/hsm-walkthrough';
  const yaml = [...markdown.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1] ?? '').find((text) => text.includes('kind: SignerConfiguration')) ?? '';
  const readFile = (path: string): string => {
    if (path === `${dir}/signers.yaml`) return yaml;
    throw Object.assign(new Error(`ENOENT ${path}`), { code: 'ENOENT' });
  };
  const fromFile = loadRunConfig(['--config', `${dir}/signers.yaml`], {}, readFile);
  t.same(fromFile.signers[0]?.ca, { certFile: `${dir}/ca.pem`, keyUri, pkcs11: { module: softhsmModule, pinFile: `${dir}/pin`, sessions: 4 } }, 'the file: paths relative to its directory');
  const flags = extractCommands(doc, markdown).find((c) => c.text.includes('--pkcs11-module'));
  const argv = (normalized(flags?.text ?? '').replace(/\s+#.*$/, '').match(/"[^"]*"|\S+/g) ?? []).slice(2).map((a) => a.replace(/^"|"$/g, ''));
  const fromFlags = loadRunConfig(argv, {}, readFile);
  t.ok(fromFlags.signers.length > 0);
  for (const signer of fromFlags.signers) t.same(signer.ca, { certFile: 'ca.pem', keyUri, pkcs11: { module: softhsmModule, pinFile: 'pin' } }, `${signer.name}: the flag form`);
  t.end();
});
