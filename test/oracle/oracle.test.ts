/**
 * The Go oracle's parse mode, checked against openssl — an implementation that
 * shares no code with Go — so that later tests can trust what it reports.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { goOracle, goParse, runOracle, type GoFields } from '../helpers/go-oracle.js';
import { makeOpensslCa } from '../helpers/ca.js';
import { needTool, opensslText, run, tempDir } from '../helpers/tools.js';

if (!needTool(t, 'openssl')) process.exit(0);

const dir = tempDir();
const must = (command: string, args: string[], input?: string): string => {
  const r = run(command, args, input === undefined ? {} : { input });
  if (r.code !== 0) throw new Error(`${command} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const derOf = (pemPath: string): Buffer => Buffer.from(readFileSync(pemPath, 'utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
const ok = (fields: GoFields | undefined): GoFields => {
  if (!fields) throw new Error('Go refused a certificate it should parse');
  return fields;
};

// A CA, and a leaf with every field the tests compare. string_mask = default makes
// openssl write the subject as PrintableString where it can.
const ca = makeOpensslCa(dir, 'oracle', 'p256');
const otherCa = makeOpensslCa(dir, 'other', 'p256');
must('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-384', '-out', join(dir, 'leaf.key')]);
writeFileSync(join(dir, 'req.cnf'), [
  '[req]', 'distinguished_name = dn', 'string_mask = default', 'prompt = no', '[dn]',
  'C = GB', 'ST = Somerset', 'L = Bath', 'O = first org', '1.O = second org', 'OU = platform', 'CN = oracle-printable', '',
].join('\n'));
writeFileSync(join(dir, 'ext.cnf'), [
  'basicConstraints = critical,CA:FALSE',
  'keyUsage = critical,digitalSignature,keyEncipherment,keyAgreement',
  'extendedKeyUsage = clientAuth,serverAuth,codeSigning',
  'subjectAltName = DNS:a.example,IP:10.1.2.3,IP:2001:db8::1,email:ops@example.com,URI:spiffe://cluster.local/ns/x',
  'subjectKeyIdentifier = hash', 'authorityKeyIdentifier = keyid', '',
].join('\n'));
must('openssl', ['req', '-new', '-key', join(dir, 'leaf.key'), '-config', join(dir, 'req.cnf'), '-out', join(dir, 'leaf.csr')]);
must('openssl', ['x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', ca.certPath, '-CAkey', ca.keyPath, '-set_serial', '0x00c0ffee1234567890abcdef',
  '-days', '5', '-extfile', join(dir, 'ext.cnf'), '-out', join(dir, 'leaf.pem')]);
const leafPem = readFileSync(join(dir, 'leaf.pem'), 'utf8');
const leaf = derOf(join(dir, 'leaf.pem'));
const caDer = derOf(ca.certPath);
const text = opensslText(leafPem);

/** The indented value lines after `label` in `openssl x509 -text`. */
const after = (label: string): string => {
  const m = new RegExp(`${label}:[^\\n]*\\n\\s*([^\\n]+)`).exec(text);
  if (!m?.[1]) throw new Error(`openssl printed no ${label}`);
  return m[1].trim();
};
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** openssl's "Dec  7 01:26:05 2026 GMT" as RFC 3339. */
const opensslDate = (label: string): string => {
  const m = new RegExp(`${label}\\s*: (\\w{3}) +(\\d+) (\\d\\d:\\d\\d:\\d\\d) (\\d{4}) GMT`).exec(text);
  if (!m) throw new Error(`openssl printed no ${label}`);
  const [, mon = '', day = '', time = '', year = ''] = m;
  return `${year}-${String(months.indexOf(mon) + 1).padStart(2, '0')}-${day.padStart(2, '0')}T${time}Z`;
};
const hexOf = (colons: string): string => colons.replace(/^keyid:/, '').replace(/:/g, '').toLowerCase();
const ipOf = (ip: string): string => (ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip);

const keyUsageBits: Record<string, number> = {
  'Digital Signature': 1, 'Non Repudiation': 2, 'Key Encipherment': 4, 'Data Encipherment': 8, 'Key Agreement': 16,
  'Certificate Sign': 32, 'CRL Sign': 64, 'Encipher Only': 128, 'Decipher Only': 256,
};
const extKeyUsages: Record<string, number> = {
  'Any Extended Key Usage': 0, 'TLS Web Server Authentication': 1, 'TLS Web Client Authentication': 2, 'Code Signing': 3,
  'E-mail Protection': 4, 'Time Stamping': 8, 'OCSP Signing': 9,
};
const extensionNames: Record<string, string> = {
  'X509v3 Basic Constraints': '2.5.29.19', 'X509v3 Key Usage': '2.5.29.15', 'X509v3 Extended Key Usage': '2.5.29.37',
  'X509v3 Subject Alternative Name': '2.5.29.17', 'X509v3 Subject Key Identifier': '2.5.29.14', 'X509v3 Authority Key Identifier': '2.5.29.35',
};
const attributeOids: Record<string, string> = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3' };

void t.test('parses a certificate made by openssl and reports what openssl x509 -text shows', async (t) => {
  const [parsed] = await goParse([{ id: 'leaf', cert: leaf, issuer: caDer }]);
  t.equal(parsed?.ok, true, 'Go parses it');
  if (!parsed?.ok) return;
  const f = ok(parsed.fields);
  t.equal(parsed.signature, 'ok', 'the CA signed it');
  t.equal(parsed.verify, 'ok', 'it verifies against the CA');
  t.equal(f.version, Number(/Version: (\d+)/.exec(text)?.[1]), 'version');
  t.equal(f.serialHex, hexOf(after('Serial Number')), 'serial');
  t.equal(f.notBefore, opensslDate('Not Before'), 'notBefore');
  t.equal(f.notAfter, opensslDate('Not After'), 'notAfter');
  const subject = (/Subject: ([^\n]+)/.exec(text)?.[1] ?? '').split(',').reverse().map((rdn) => rdn.split('='));
  t.same(f.subject.names, subject.map(([type = '', value]) => ({ type: attributeOids[type], value })), 'subject attributes in certificate order');
  t.same([f.subject.country, f.subject.province, f.subject.locality, f.subject.organization, f.subject.organizationalUnit, f.subject.commonName],
    [['GB'], ['Somerset'], ['Bath'], ['first org', 'second org'], ['platform'], 'oracle-printable'], 'subject by attribute');
  t.equal(f.issuer.commonName, 'oracle test CA', 'issuer');
  t.equal(f.keyUsage, after('X509v3 Key Usage').split(', ').reduce((bits, name) => bits | (keyUsageBits[name] ?? 1 << 15), 0), 'keyUsage bits');
  t.equal(f.keyUsage, 1 | 4 | 16, 'keyAgreement is bit 4 (16), not dataEncipherment');
  t.same(f.extKeyUsage, after('X509v3 Extended Key Usage').split(', ').map((name) => extKeyUsages[name]), 'extKeyUsage in certificate order');
  t.same([f.basicConstraintsValid, f.isCA, f.maxPathLen, f.maxPathLenZero], [true, after('X509v3 Basic Constraints') === 'CA:TRUE', -1, false], 'basicConstraints');
  const sans = after('X509v3 Subject Alternative Name').split(', ').map((s) => s.split(/:(.*)/s));
  const san = (kind: string): string[] => sans.filter(([k]) => k === kind).map(([, v = '']) => v);
  t.same(f.dnsNames, san('DNS'), 'DNS names');
  t.same(f.ipAddresses, san('IP Address').map(ipOf), 'IP addresses, IPv6 in RFC 5952 form');
  t.same(f.ipAddresses, ['10.1.2.3', '2001:db8::1']);
  t.same(f.emailAddresses, san('email'), 'email addresses');
  t.same(f.uris, san('URI'), 'URIs');
  t.equal(f.subjectKeyId, hexOf(after('X509v3 Subject Key Identifier')), 'subject key id');
  t.equal(f.authorityKeyId, hexOf(after('X509v3 Authority Key Identifier')), 'authority key id');
  t.equal(f.signatureAlgorithm, { 'ecdsa-with-SHA256': 'ECDSA-SHA256' }[/Signature Algorithm: (\S+)/.exec(text)?.[1] ?? ''], 'signature algorithm');
  t.equal(f.publicKeyAlgorithm, { 'id-ecPublicKey': 'ECDSA' }[/Public Key Algorithm: (\S+)/.exec(text)?.[1] ?? ''], 'public key algorithm');
  const spki = Buffer.from(must('openssl', ['x509', '-noout', '-pubkey'], leafPem).replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  t.equal(f.rawSubjectPublicKeyInfo, spki.toString('base64'), 'subject public key info bytes');
  const opensslExtensions = [...text.matchAll(/^ +(X509v3 [A-Z][A-Za-z ]+?):( critical)? *$/gm)]
    .map((m) => ({ id: extensionNames[m[1] ?? ''] ?? m[1], critical: m[2] !== undefined }));
  t.same(f.extensions.map((e) => ({ id: e.id, critical: e.critical })), opensslExtensions, 'extensions, their order and criticality');
});

void t.test('reports CheckSignatureFrom and Verify failures, and verifies at the time asked', async (t) => {
  const [wrongIssuer, expired] = await goParse([
    { id: 'wrong issuer', cert: leaf, issuer: derOf(otherCa.certPath) },
    { id: 'after NotAfter', cert: leaf, issuer: caDer, at: new Date(Date.parse(opensslDate('Not After')) + 1000) },
  ]);
  t.match(wrongIssuer, { id: 'wrong issuer', ok: true, signature: /^x509: /, verify: /^x509: / });
  t.match(expired, { id: 'after NotAfter', ok: true, signature: 'ok', verify: /^x509: certificate has expired or is not yet valid/ });
});

void t.test('refuses bytes Go cannot parse with Go\'s error', async (t) => {
  // openssl wrote the CN as a PrintableString; '_' is not in that alphabet (X.680).
  const printable = Buffer.from('oracle-printable');
  const at = leaf.indexOf(printable);
  t.ok(at > 0 && leaf.indexOf(printable, at + 1) < 0, 'the CN occurs once');
  const underscore = Buffer.from(leaf);
  underscore.write('oracle_printable', at, 'latin1');
  t.match(run('openssl', ['asn1parse', '-inform', 'DER'], { input: leaf }).stdout, /PRINTABLESTRING +:oracle-printable/, 'openssl wrote a PrintableString');
  const cases = [
    { id: 'a subject PrintableString with an underscore', cert: underscore, error: /^x509: .*PrintableString/ },
    { id: 'truncated DER', cert: leaf.subarray(0, leaf.length - 20), error: /^x509: malformed certificate/ },
    { id: 'trailing bytes after the certificate', cert: Buffer.concat([leaf, Buffer.from([0])]), error: /^x509: trailing data/ },
    { id: 'empty input', cert: new Uint8Array(0), error: /^x509: malformed certificate/ },
  ];
  const results = await goParse(cases.map(({ id, cert }) => ({ id, cert })));
  for (const [i, c] of cases.entries()) t.match(results[i], { id: c.id, ok: false, error: c.error }, c.id);
  const opensslReads = run('openssl', ['x509', '-inform', 'DER', '-noout', '-subject'], { input: underscore });
  t.equal(opensslReads.code, 0, 'openssl reads the PrintableString Go refuses: Go is the stricter oracle');
});

void t.test('runs once per call and fails loudly on a caller\'s mistake', async (t) => {
  const binary = await goOracle();
  t.ok(existsSync(binary), 'the binary is built');
  t.equal(await goOracle(), binary, 'and reused');
  t.same(await runOracle('parse', []), [], 'no inputs, no outputs');
  await t.rejects(runOracle('parse', [{ id: 'x', cert: '%%%' }]), /cert is not base64/);
  await t.rejects(runOracle('parse', [{ id: 'x', cert: '', extra: 1 }]), /unknown field "extra"/);
  await t.rejects(runOracle('parse', [{ id: 'x', cert: '' }], { maxOutputBytes: 10 }), /more than 10 bytes/);
});
