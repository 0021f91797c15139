/**
 * What goes wrong at start, against a real SoftHSM2 token: each failure is one sentence
 * with its error code, naming what was asked and what the token holds, and none holds
 * the PIN. The provider itself never shows the PIN either (inspect, JSON, toString).
 */
import { inspect } from 'node:util';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import t, { type Test } from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import { loadBinding } from '../../src/hsm/binding.js';
import { openPkcs11Key, parsePkcs11Uri, readPkcs11Certificates, type Pkcs11KeyOptions } from '../../src/hsm/index.js';
import type { KeyProviderOperation } from '../../src/pki/index.js';
import { generateTokenKey, makeSoftToken, makeTokenCa, softhsmTools } from '../helpers/softhsm.js';
import { must } from '../helpers/ca.js';
import { needTool, run, writeTemp } from '../helpers/tools.js';

for (const tool of [...softhsmTools, 'openssl']) if (!needTool(t, tool)) process.exit(0);

const pin = 'Pin-4711-never-shown';
const wrongPin = 'Wrong-0815-never-shown';
const token = makeSoftToken({ pin });
process.env.SOFTHSM2_CONF = token.env.SOFTHSM2_CONF;
const ca = makeTokenCa(token, generateTokenKey(token, 'p256', 'cakey', '01'), 'errors');
generateTokenKey(token, 'p256', 'twin', '02');
generateTokenKey(token, 'p384', 'twin', '03');
generateTokenKey(token, 'p256', 'k1', '04');
// A curve no CA may have: secp256k1, made on the token as the others.
must(run('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--login', '--pin', pin,
  '--keypairgen', '--key-type', 'EC:secp256k1', '--label', 'k1curve', '--id', '05'], { env: token.env }), 'pkcs11-tool --keypairgen secp256k1');
// The CA certificate as an object on the token, for readPkcs11Certificates.
must(run('openssl', ['x509', '-outform', 'DER', '-in', ca.certPath, '-out', join(token.dir, 'ca.der')]), 'openssl x509 -outform DER');
must(run('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--login', '--pin', pin,
  '--write-object', join(token.dir, 'ca.der'), '--type', 'cert', '--label', 'cacert', '--id', '01'], { env: token.env }), 'pkcs11-tool --write-object');

const options = (uri: string, more: Partial<Pkcs11KeyOptions> = {}): Pkcs11KeyOptions =>
  ({ uri: parsePkcs11Uri(uri), module: token.module, pin, ...more });

/** The error thrown, checked for one sentence and no PIN in any form it can be shown in. */
async function failure(t: Test, promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  t.ok(isCsrSignerError(error), 'a CsrSignerError');
  if (!isCsrSignerError(error)) return { code: '', message: String(error) };
  for (const shown of [error.message, String(error.stack), inspect(error, { depth: 10 }), JSON.stringify(error), inspect(error.cause, { depth: 10 })]) {
    t.notOk(shown.includes(pin) || shown.includes(wrongPin), 'no PIN in the error');
  }
  t.notMatch(error.message, /\n/, 'one line');
  return { code: error.code, message: error.message };
}

void t.test('the key opens; the provider never shows the PIN', async (t) => {
  const key = await openPkcs11Key(options(ca.key.uri));
  t.teardown(() => key.provider.close());
  for (const shown of [inspect(key, { depth: 10, showHidden: true }), inspect(key.provider, { depth: 10, showHidden: true }), JSON.stringify(key), String(key.provider)]) {
    t.notOk(shown.includes(pin), 'no PIN');
  }
  t.equal(String(key.provider), '[csr-signer: PKCS#11 key pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private, on the token]');
  t.equal(key.provider.description, 'PKCS#11 key pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private');
});

void t.test('a wrong PIN: Pkcs11LoginFailed naming CKR_PIN_INCORRECT, tried once', async (t) => {
  const ops: KeyProviderOperation[] = [];
  const { code, message } = await failure(t, openPkcs11Key(options(ca.key.uri, { pin: wrongPin, onError: (op) => ops.push(op) })));
  t.equal(code, 'CSR_SIGNER_ERR_PKCS11_LOGIN');
  t.equal(message, 'pkcs11:token=csr-signer-ca;object=cakey;id=%01;type=private: cannot log in to the token: the PIN is incorrect (CKR_PIN_INCORRECT); csr-signer does not try again, as the token may lock after repeated failures');
  t.same(ops, ['login'], 'one login, counted once');
  // The right PIN still works: one failure did not lock the token.
  const key = await openPkcs11Key(options(ca.key.uri));
  await key.provider.close();
});

void t.test('no matching private key: the token\'s keys are listed', async (t) => {
  const { code, message } = await failure(t, openPkcs11Key(options('pkcs11:token=csr-signer-ca;object=missing;type=private')));
  t.equal(code, 'CSR_SIGNER_ERR_PKCS11_KEY_NOT_FOUND');
  t.match(message, /^pkcs11:token=csr-signer-ca;object=missing;type=private: no private key matches object=missing on token "csr-signer-ca"; the token holds 5 private keys: /);
  for (const listed of ['object=cakey id=01', 'object=twin id=02', 'object=twin id=03', 'object=k1 id=04', 'object=k1curve id=05']) t.match(message, listed);
  const byId = await failure(t, openPkcs11Key(options('pkcs11:token=csr-signer-ca;object=cakey;id=%09')));
  t.match(byId.message, /no private key matches object=cakey id=09 on token "csr-signer-ca"/);
});

void t.test('two matching private keys: refused, not one picked', async (t) => {
  const { code, message } = await failure(t, openPkcs11Key(options('pkcs11:token=csr-signer-ca;object=twin')));
  t.equal(code, 'CSR_SIGNER_ERR_PKCS11_KEY_NOT_FOUND');
  t.match(message, /^pkcs11:token=csr-signer-ca;object=twin: 2 private keys match object=twin on token "csr-signer-ca"; give object= and id= so that exactly one does \(the token holds 5 private keys: .*\)$/);
  const key = await openPkcs11Key(options('pkcs11:token=csr-signer-ca;object=twin;id=%03'));
  t.same(key.keyKind, { type: 'ec', curve: 'P-384' }, 'with the id: exactly one');
  await key.provider.close();
});

void t.test('an unknown token: the module\'s tokens are listed', async (t) => {
  const { code, message } = await failure(t, openPkcs11Key(options('pkcs11:token=nope;object=cakey')));
  t.equal(code, 'CSR_SIGNER_ERR_PKCS11_TOKEN_NOT_FOUND');
  t.match(message, /^pkcs11:token=nope;object=cakey: no token matches: the module's tokens are "csr-signer-ca" \(serial "[0-9a-f]+", slot \d+\)$/);
  const serial = await failure(t, openPkcs11Key(options('pkcs11:token=csr-signer-ca;serial=0000;object=cakey')));
  t.match(serial.message, /no token matches/, 'every attribute must match: a wrong serial');
  const model = await failure(t, openPkcs11Key(options('pkcs11:token=csr-signer-ca;model=nope;object=cakey')));
  t.match(model.message, /no token matches/, 'a wrong model');
  const key = await openPkcs11Key(options('pkcs11:token=csr-signer-ca;manufacturer=SoftHSM%20project;model=SoftHSM%20v2;object=cakey'));
  await key.provider.close();
  t.pass('manufacturer and model that match');
});

void t.test('the module: missing, relative, not a module; the binding missing', async (t) => {
  const missing = await failure(t, openPkcs11Key(options(ca.key.uri, { module: '/usr/lib/nothing/libnope.so' })));
  t.equal(missing.code, 'CSR_SIGNER_ERR_PKCS11_MODULE');
  t.equal(missing.message, 'the PKCS#11 module /usr/lib/nothing/libnope.so cannot be loaded: no such file');
  const relative = await failure(t, openPkcs11Key(options(ca.key.uri, { module: 'libsofthsm2.so' })));
  t.equal(relative.message, 'the PKCS#11 module libsofthsm2.so cannot be loaded: the path is not absolute');
  const notModule = writeTemp(token.dir, 'not-a-module.so', 'not an ELF file');
  const bad = await failure(t, openPkcs11Key(options(ca.key.uri, { module: notModule })));
  t.match(bad.message, new RegExp(`^the PKCS#11 module ${notModule} cannot be loaded: it is not a PKCS#11 module \\(.+\\)$`));
  const otherPath = await failure(t, openPkcs11Key(options(`${ca.key.uri}?module-path=/usr/lib/other.so`)));
  t.equal(otherPath.message, `the PKCS#11 module ${token.module} cannot be loaded: the URI's module-path names /usr/lib/other.so, a different file`);
  const binding = await failure(t, Promise.resolve().then(() => loadBinding('pkcs11js-not-installed')));
  t.equal(binding.code, 'CSR_SIGNER_ERR_PKCS11_BINDING');
  t.match(binding.message, /^the CA key is on a PKCS#11 token, but the PKCS#11 binding \(the npm package pkcs11js\) cannot be loaded: Cannot find module 'pkcs11js-not-installed'.*; the csr-signer image includes it/);
});

void t.test('a key no CA may have: CaUnsupportedKey', async (t) => {
  const { code, message } = await failure(t, openPkcs11Key(options('pkcs11:token=csr-signer-ca;object=k1curve;id=%05')));
  t.equal(code, 'CSR_SIGNER_ERR_CA_UNSUPPORTED_KEY');
  t.equal(message, 'pkcs11:token=csr-signer-ca;object=k1curve;id=%05: EC (curve 06052b8104000a) CA keys are not supported; use RSA 2048–8192 bits, ECDSA P-256, P-384 or P-521, or Ed25519');
});

void t.test('certificates on the token', async (t) => {
  const found = await readPkcs11Certificates(options('pkcs11:token=csr-signer-ca;object=cacert;type=cert'));
  t.equal(found.length, 1);
  t.same(Buffer.from(found[0] ?? []), new X509Certificate(ca.certPem).raw, 'the CA certificate, DER');
  const none = await failure(t, readPkcs11Certificates(options('pkcs11:token=csr-signer-ca;object=nocert')));
  t.equal(none.code, 'CSR_SIGNER_ERR_PKCS11_CERTIFICATE_NOT_FOUND');
  t.equal(none.message, 'pkcs11:token=csr-signer-ca;object=nocert: no certificate matches object=nocert; the token holds 1 certificate: object=cacert id=01');
  const wrongType = await failure(t, readPkcs11Certificates(options('pkcs11:token=csr-signer-ca;object=cacert;type=private')));
  t.equal(wrongType.message, 'pkcs11:token=csr-signer-ca;object=cacert;type=private: the URI names type=private objects, not type=cert');
  const wrongPinCert = await failure(t, readPkcs11Certificates(options('pkcs11:token=csr-signer-ca;object=cacert', { pin: wrongPin })));
  t.equal(wrongPinCert.code, 'CSR_SIGNER_ERR_PKCS11_LOGIN');
});
