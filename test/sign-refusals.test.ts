/**
 * `csr-signer sign` refuses, in one line and with exit code 1, a request whose
 * certificate Go's crypto/x509 could not read and a request for the CA's own key;
 * requests made by openssl, as a user makes them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { generateKeyPairSync } from 'node:crypto';
import { Tag } from '../src/pki/der.js';
import { makeOpensslCa } from './helpers/ca.js';
import { rawName, rawRequest, text } from './helpers/der-build.js';
import { needTool, run, tempDir, writeTemp, type RunResult } from './helpers/tools.js';

const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli.js');
const dir = tempDir();
const sign = (csr: string): RunResult => run(process.execPath, [cli, 'sign', '--ca-cert', ca.certPath, '--ca-key', ca.keyPath, '--csr', csr], { cwd: root });

if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run "npm run build" (npm test does) before the tests');
if (!needTool(t, 'openssl')) process.exit(0);

const ca = makeOpensslCa(dir, 'sign-refusals', 'p256');
function opensslRequest(name: string, keyArgs: string[], subject: string, sans?: string, more: string[] = []): string {
  const csr = join(dir, `${name}.csr`);
  const r = run('openssl', ['req', '-new', ...keyArgs, '-subj', subject, ...(sans ? ['-addext', `subjectAltName=${sans}`] : []), ...more, '-out', csr]);
  if (r.code !== 0) throw new Error(r.stderr);
  return csr;
}
const newKey = (name: string): string[] => ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, `${name}.key`)];

const cases: readonly { name: string; csr: () => string; line: RegExp }[] = [
  { name: "a request for the CA's own key", csr: () => opensslRequest('own', ['-key', ca.keyPath], '/CN=leaf'),
    line: /^csr-signer: the request's public key is the CA's own key \("CN=sign-refusals test CA,O=csr-signer tests"\); a leaf must have a key of its own \[CSR_SIGNER_ERR_REQUEST_KEY_IS_CA_KEY\]$/ },
  { name: 'a URI whose host has an empty label', csr: () => opensslRequest('uri', newKey('uri'), '/CN=leaf', 'URI:https://a..b/x'),
    line: /^csr-signer: the request's subjectAltName is invalid: URI "https:\/\/a\.\.b\/x" is one Go's crypto\/x509 cannot read \(invalid domain\) \[CSR_SIGNER_ERR_INVALID_SUBJECT_ALT_NAME\]$/ },
  // openssl never writes '_' in a PrintableString: this one is assembled byte by byte (DER).
  { name: "a PrintableString holding '_'", csr: () => writeTemp(dir, 'printable.der', rawRequest({
    privateKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, subject: rawName(['2.5.4.3', Tag.printableString, text('node_1')]) })),
  line: /^csr-signer: the request's subject is invalid: attribute CN \(2\.5\.4\.3\) is a PrintableString holding "node_1", .*'_' is not a PrintableString character\) \[CSR_SIGNER_ERR_INVALID_SUBJECT\]$/ },
];

void t.test('sign refuses, in one line with exit code 1', (t) => {
  for (const c of cases) {
    const r = sign(c.csr());
    t.equal(r.code, 1, `${c.name}: exit code 1`);
    t.equal(r.stdout, '', `${c.name}: no certificate`);
    t.equal(r.stderr.trimEnd().split('\n').length, 1, `${c.name}: one line`);
    t.match(r.stderr.trimEnd(), c.line, c.name);
  }
  t.end();
});
