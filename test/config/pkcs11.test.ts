/**
 * A CA on a PKCS#11 token in the configuration: `ca.key`, `ca.cert` and `ca.pkcs11` in the
 * config file, a `pkcs11:` key-file flag with --pkcs11-module and the PIN flags. Each
 * mistake is one sentence naming the field or flag.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { stringify } from 'yaml';
import { tempDir } from '../helpers/tools.js';
import { failure, load } from './fixtures/load.js';

const file = '/etc/csr-signer/signers.yaml';
const head = 'apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\n';
const module = '/usr/lib/softhsm/libsofthsm2.so';
const keyUri = 'pkcs11:token=ca;object=cakey;id=%01;type=private';
const certUri = 'pkcs11:token=ca;object=cacert;type=cert';
const pkcs11 = { module, pinFile: 'pkcs11/pin' };
const withCa = (ca: Record<string, unknown>): string => head + stringify({ signers: [{ name: 'example.com/a', ca, policy: { unrestricted: true } }] });
const named = (path: string, detail: string): string => `${file}: signer "example.com/a": ${path}: ${detail}`;
const caOf = (text: string): unknown => load(['--config', file], { [file]: text }).signers[0]?.ca;

void t.test('a key on a token is read from the config file, with the PIN file relative to it', (t) => {
  t.same(caOf(withCa({ certFile: 'ca.pem', key: keyUri, pkcs11: { ...pkcs11, sessions: 8 } })), {
    certFile: '/etc/csr-signer/ca.pem', keyUri, pkcs11: { module, pinFile: '/etc/csr-signer/pkcs11/pin', sessions: 8 },
  }, 'key, certFile, pkcs11 with sessions');
  t.same(caOf(withCa({ cert: certUri, key: keyUri, pkcs11: { module, pinEnv: 'CSR_SIGNER_PKCS11_PIN' }, trustFile: 'trust.pem' })), {
    certUri, keyUri, trustFile: '/etc/csr-signer/trust.pem', pkcs11: { module, pinEnv: 'CSR_SIGNER_PKCS11_PIN' },
  }, 'the certificate on the token too; the PIN from the environment');
  t.same(caOf(withCa({ certFile: 'ca.pem', key: `pkcs11:token=ca;object=cakey?module-path=${module}&pin-source=file:///run/pin`, pkcs11: {} })), {
    certFile: '/etc/csr-signer/ca.pem', keyUri: `pkcs11:token=ca;object=cakey?module-path=${module}&pin-source=file:///run/pin`,
    pkcs11: { module, pinFile: '/run/pin' },
  }, 'module-path and pin-source of the URI stand for module and pinFile');
  t.same(caOf(withCa({ certFile: 'ca.pem', keyFile: 'ca-key', pkcs11 })), {
    certFile: '/etc/csr-signer/ca.pem', keyFile: '/etc/csr-signer/ca-key', pkcs11: { module, pinFile: '/etc/csr-signer/pkcs11/pin' },
  }, 'pkcs11 beside a plain keyFile, which may come to hold a URI');
  t.end();
});

void t.test('each mistake about a CA on a token names the field', (t) => {
  const cases: [string, Record<string, unknown>, string][] = [
    ['both key and keyFile', { certFile: 'c', keyFile: 'k', key: keyUri, pkcs11 },
      named('signers[0].ca.key', 'and keyFile are both given; give one: key a PKCS#11 URI, keyFile a file')],
    ['both cert and certFile', { certFile: 'c', cert: certUri, key: keyUri, pkcs11 },
      named('signers[0].ca.cert', 'and certFile are both given; give one: cert a PKCS#11 URI, certFile a file')],
    ['neither cert nor certFile', { key: keyUri, pkcs11 }, named('signers[0].ca.certFile', 'is required')],
    ['a key that is not a URI', { certFile: 'c', key: '/etc/ca.key', pkcs11 },
      named('signers[0].ca.key', 'is not a usable PKCS#11 URI: a PKCS#11 URI starts with "pkcs11:"')],
    ['a key URI with a PIN in it', { certFile: 'c', key: `${keyUri}?pin-value=1234`, pkcs11 },
      named('signers[0].ca.key', 'is not a usable PKCS#11 URI: pin-value puts the PIN into the configuration or the command line, where it is seen and logged; give the PIN in a file (pinFile, or pin-source) or an environment variable (pinEnv) instead')],
    ['a key URI naming a certificate', { certFile: 'c', key: 'pkcs11:token=ca;object=cakey;type=cert', pkcs11 },
      named('signers[0].ca.key', 'names an object of type=cert; the CA key is type=private (or leave type out)')],
    ['a certificate URI naming a private key', { cert: 'pkcs11:token=ca;object=c;type=private', key: keyUri, pkcs11 },
      named('signers[0].ca.cert', 'names an object of type=private; the CA certificate is type=cert (or leave type out)')],
    ['a key URI without pkcs11', { certFile: 'c', key: keyUri },
      named('signers[0].ca.pkcs11', 'is required: signers[0].ca.key is a PKCS#11 URI, so the module and the PIN must be given as pkcs11: {module, pinFile or pinEnv}')],
    ['a certificate URI without pkcs11', { cert: certUri, keyFile: 'k' },
      named('signers[0].ca.pkcs11', 'is required: signers[0].ca.cert is a PKCS#11 URI, so the module and the PIN must be given as pkcs11: {module, pinFile or pinEnv}')],
    ['both pinFile and pinEnv', { certFile: 'c', key: keyUri, pkcs11: { ...pkcs11, pinEnv: 'PIN' } },
      named('signers[0].ca.pkcs11.pinEnv', 'and signers[0].ca.pkcs11.pinFile are both given; the PIN comes from exactly one of them')],
    ['no PIN at all', { certFile: 'c', key: keyUri, pkcs11: { module } },
      named('signers[0].ca.pkcs11.pinFile', 'is required: the token\'s user PIN, as a file whose first line is the PIN (signers[0].ca.pkcs11.pinFile) or an environment variable (signers[0].ca.pkcs11.pinEnv); never on a command line or in this configuration')],
    ['a pinFile and the URI\'s pin-source', { certFile: 'c', key: `${keyUri}?pin-source=/run/pin`, pkcs11 },
      named('signers[0].ca.pkcs11.pinFile', 'is given and the URI has pin-source=/run/pin; the PIN comes from exactly one of them')],
    ['a pinEnv that is no variable name', { certFile: 'c', key: keyUri, pkcs11: { module, pinEnv: '1PIN' } },
      named('signers[0].ca.pkcs11.pinEnv', '"1PIN" is not an environment variable name (letters, digits and _, not starting with a digit)')],
    ['passphraseFile with key', { certFile: 'c', key: keyUri, passphraseFile: 'p', pkcs11 },
      named('signers[0].ca.passphraseFile', 'is for an encrypted key file, and the key is on a PKCS#11 token (key): remove passphraseFile')],
    ['a relative module', { certFile: 'c', key: keyUri, pkcs11: { ...pkcs11, module: 'libsofthsm2.so' } },
      named('signers[0].ca.pkcs11.module', '"libsofthsm2.so" is not an absolute path; a PKCS#11 module is loaded from the file named, never searched for')],
    ['no module and no module-path', { certFile: 'c', key: keyUri, pkcs11: { pinFile: 'p' } },
      named('signers[0].ca.pkcs11.module', 'is required: the PKCS#11 module (a shared library, absolute path) that reaches the token, unless the URI has module-path')],
    ['pkcs11 beside a plain keyFile without a module', { certFile: 'c', keyFile: 'k', pkcs11: { pinFile: 'p' } },
      named('signers[0].ca.pkcs11.module', 'is required: the PKCS#11 module (a shared library, absolute path) that reaches the token, unless the URI has module-path')],
    ['a module-path naming another module', { certFile: 'c', key: `${keyUri}?module-path=/opt/hsm/lib.so`, pkcs11 },
      named('signers[0].ca.key', `has module-path=/opt/hsm/lib.so, but signers[0].ca.pkcs11.module is ${module}; they must name the same file (or leave one out)`)],
    ['a module-name only', { certFile: 'c', key: `${keyUri}?module-name=softhsm2`, pkcs11: { pinFile: 'p' } },
      named('signers[0].ca.key', 'names its module by module-name (softhsm2), which csr-signer does not resolve; give the module\'s file (module-path, or the module setting)')],
    ['sessions of 0', { certFile: 'c', key: keyUri, pkcs11: { ...pkcs11, sessions: 0 } },
      named('signers[0].ca.pkcs11.sessions', 'must be a whole number of at least 1, not number 0')],
    ['sessions over 64', { certFile: 'c', key: keyUri, pkcs11: { ...pkcs11, sessions: 65 } }, named('signers[0].ca.pkcs11.sessions', '65 is more than 64')],
    ['an unknown pkcs11 field', { certFile: 'c', key: keyUri, pkcs11: { ...pkcs11, pin: '1234' } },
      named('signers[0].ca.pkcs11.pin', 'unknown field; the fields of signers[0].ca.pkcs11 are module, pinFile, pinEnv, sessions')],
  ];
  for (const [name, ca, message] of cases) {
    const error = failure(['--config', file], { [file]: withCa(ca) });
    t.equal(error.kind, 'InvalidConfig', `${name}: the kind`);
    t.equal(error.message, message, name);
  }
  t.end();
});

const cert = ['--cluster-signing-cert-file', 'ca.pem'];

void t.test('a pkcs11: key-file flag is a key on a token, with the module and PIN flags', (t) => {
  const signers = load([...cert, '--cluster-signing-key-file', keyUri, '--pkcs11-module', module, '--pkcs11-pin-file', '/run/pin']).signers;
  t.equal(signers.length, 4, 'the four built-in signers');
  t.same(signers[0]?.ca, { certFile: 'ca.pem', keyUri, pkcs11: { module, pinFile: '/run/pin' } });
  const perSigner = load([
    '--cluster-signing-kubelet-serving-cert-file', 'ks.pem', '--cluster-signing-kubelet-serving-key-file', keyUri,
    '--cluster-signing-legacy-unknown-cert-file', 'lu.pem', '--cluster-signing-legacy-unknown-key-file', 'lu-key.pem',
    '--pkcs11-module', module, '--pkcs11-pin-env', 'PIN',
  ]).signers;
  t.same(perSigner.map((s) => s.ca), [
    { certFile: 'ks.pem', keyUri, pkcs11: { module, pinEnv: 'PIN' } },
    { certFile: 'lu.pem', keyFile: 'lu-key.pem', pkcs11: { module, pinEnv: 'PIN' } },
  ], 'per-signer flags: a URI for one, a key file for the other');
  const keyFileOnly = load([...cert, '--cluster-signing-key-file', 'ca-key.pem', '--ca-key-passphrase-file', 'pass', '--pkcs11-module', module, '--pkcs11-pin-file', '/run/pin']).signers;
  t.same(keyFileOnly[0]?.ca, { certFile: 'ca.pem', keyFile: 'ca-key.pem', passphraseFile: 'pass', pkcs11: { module, pinFile: '/run/pin' } },
    'the module and PIN flags beside a plain key file, which a rotation to a token key may make hold a URI (as ca.pkcs11 beside keyFile)');
  t.same(load([...cert, '--cluster-signing-key-file', 'ca-key.pem']).signers[0]?.ca, { certFile: 'ca.pem', keyFile: 'ca-key.pem' }, 'without them: no pkcs11');
  t.end();
});

void t.test('each mistake about a key on a token on the command line names the flag', (t) => {
  const noSigner = 'no signer to run: pass --cluster-signing-cert-file and --cluster-signing-key-file (the kubernetes.io/* signers, or with --signer-name NAME a signer of your own), per-signer --cluster-signing-*-{cert,key}-file pairs, or --config FILE';
  const key = ['--cluster-signing-key-file', keyUri];
  const cases: [string, string[], string][] = [
    ['a URI key without the module and PIN flags', [...cert, ...key],
      '--pkcs11-module is required: the PKCS#11 module (a shared library, absolute path) that reaches the token, unless the URI has module-path'],
    ['a URI key without a PIN flag', [...cert, ...key, '--pkcs11-module', module],
      '--pkcs11-pin-file is required: the token\'s user PIN, as a file whose first line is the PIN (--pkcs11-pin-file) or an environment variable (--pkcs11-pin-env); never on a command line or in this configuration'],
    ['both PIN flags', [...cert, ...key, '--pkcs11-module', module, '--pkcs11-pin-file', 'p', '--pkcs11-pin-env', 'PIN'],
      '--pkcs11-pin-env and --pkcs11-pin-file are both given; the PIN comes from exactly one of them'],
    ['the module flag without a key flag', ['--pkcs11-module', module, '--pkcs11-pin-env', 'PIN'],
      noSigner],
    ['a PIN flag without a key flag', ['--pkcs11-pin-env', 'PIN'],
      noSigner],
    ['a PIN flag beside a plain key file, without the module', [...cert, '--cluster-signing-key-file', 'ca-key.pem', '--pkcs11-pin-env', 'PIN'],
      '--pkcs11-module is required: the PKCS#11 module (a shared library, absolute path) that reaches the token, unless the URI has module-path'],
    ['the module beside a plain key file, without a PIN flag', [...cert, '--cluster-signing-key-file', 'ca-key.pem', '--pkcs11-module', module],
      '--pkcs11-pin-file is required: the token\'s user PIN, as a file whose first line is the PIN (--pkcs11-pin-file) or an environment variable (--pkcs11-pin-env); never on a command line or in this configuration'],
    ['a URI that does not parse', [...cert, '--cluster-signing-key-file', 'pkcs11:token=ca;colour=blue', '--pkcs11-module', module, '--pkcs11-pin-env', 'PIN'],
      '--cluster-signing-key-file is not a usable PKCS#11 URI: colour is not a PKCS#11 URI attribute (RFC 7512 defines token, manufacturer, serial, model, library-manufacturer, library-description, library-version, object, type, id, slot-manufacturer, slot-description, slot-id)'],
    ['a passphrase for a key on a token', [...cert, ...key, '--pkcs11-module', module, '--pkcs11-pin-env', 'PIN', '--ca-key-passphrase-file', 'p'],
      '--ca-key-passphrase-file unlocks an encrypted key file, and --cluster-signing-key-file is on a PKCS#11 token: drop it'],
    ['a relative module', [...cert, ...key, '--pkcs11-module', 'lib.so', '--pkcs11-pin-env', 'PIN'],
      '--pkcs11-module "lib.so" is not an absolute path; a PKCS#11 module is loaded from the file named, never searched for'],
    ['--config with a PKCS#11 flag', ['--config', file, '--pkcs11-module', module],
      '--config cannot be combined with --pkcs11-module: the config file defines every signer, with its own CA files'],
    ['--signing=false with a PKCS#11 flag', ['--signing=false', '--approve', '--pkcs11-pin-env', 'PIN'],
      '--pkcs11-pin-env reaches a CA key on a PKCS#11 token, and with --signing=false no CA is loaded: drop it'],
  ];
  for (const [name, argv, message] of cases) {
    const error = failure(argv);
    t.equal(error.kind, 'InvalidArgument', `${name}: the kind`);
    t.equal(error.message, message, name);
  }
  t.end();
});

void t.test('the ca: example of docs/configuration.md is valid', (t) => {
  const doc = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'configuration.md'), 'utf8');
  const section = doc.split('### CA keys on a PKCS#11 token\n')[1]?.split('\n### ')[0] ?? '';
  const example = /```yaml\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  t.match(example, /^ca:\n/, 'found');
  const text = `${head}signers:\n  - name: example.com/a\n    policy: { unrestricted: true }\n${example.replace(/^/gm, '    ').replace(/ +$/, '')}`;
  t.same(caOf(text), { certFile: '/etc/csr-signer/ca.pem', keyUri, pkcs11: { module, pinFile: '/etc/csr-signer/pkcs11/pin', sessions: 5 } });
  t.end();
});

void t.test('pin-source: a plain path is relative to the config file, a file: URI absolute on this host, decoded once', (t) => {
  const withSource = (source: string): unknown => caOf(withCa({ certFile: 'ca.pem', key: `${keyUri}?pin-source=${source}`, pkcs11: { module } }));
  t.same(withSource('pkcs11/pin'), { certFile: '/etc/csr-signer/ca.pem', keyUri: `${keyUri}?pin-source=pkcs11/pin`, pkcs11: { module, pinFile: '/etc/csr-signer/pkcs11/pin' } }, 'a plain path');
  t.match(withSource('file:/run/pin'), { pkcs11: { pinFile: '/run/pin' } }, 'file:/path');
  t.match(withSource('file://localhost/run/pin'), { pkcs11: { pinFile: '/run/pin' } }, 'file://localhost/path');
  t.match(withSource('file:///run/a%2520b'), { pkcs11: { pinFile: '/run/a%20b' } }, 'percent-decoded once, by the URI');
  const refused = (source: string): string =>
    named('signers[0].ca.key', `has pin-source=${source}, which is not a PIN file csr-signer can read: a file: URI names an absolute path on this host (file:///run/pin); a plain path is resolved as the PIN file setting is`);
  for (const source of ['file://otherhost/pin', 'file:pin']) {
    const error = failure(['--config', file], { [file]: withCa({ certFile: 'ca.pem', key: `${keyUri}?pin-source=${source}`, pkcs11: { module } }) });
    t.equal(error.message, refused(source), `${source}: one sentence naming the field`);
  }
  const flag = failure([...cert, '--cluster-signing-key-file', `${keyUri}?pin-source=file://otherhost/pin`, '--pkcs11-module', module]);
  t.equal(flag.message, '--cluster-signing-key-file has pin-source=file://otherhost/pin, which is not a PIN file csr-signer can read: a file: URI names an absolute path on this host (file:///run/pin); a plain path is resolved as the PIN file setting is');
  t.end();
});

void t.test('csr-signer run with an unusable pin-source: one line naming the field, exit 2, no stack', (t) => {
  const cli = join(import.meta.dirname, '..', '..', 'dist', 'cli.js');
  const where = tempDir('pin-source-cli-');
  const config = join(where, 'signers.yaml');
  for (const source of ['file://otherhost/pin', 'file:///a%252Fb', 'file:pin']) {
    writeFileSync(config, withCa({ certFile: 'ca.pem', key: `${keyUri}?pin-source=${source}`, pkcs11: { module } }));
    for (const argv of [['run', '--config', config], ['run', '--cluster-signing-cert-file', 'ca.pem', '--cluster-signing-key-file', `${keyUri}?pin-source=${source}`, '--pkcs11-module', module]]) {
      const r = spawnSync(process.execPath, [cli, ...argv], { encoding: 'utf8', timeout: 30_000 });
      const form = `${source}, ${argv[1] ?? ''}`;
      t.equal(r.status, 2, `${form}: exit 2`);
      t.equal(r.stdout, '', `${form}: nothing on stdout`);
      t.notMatch(r.stderr, /\n\s+at |node:internal|TypeError/, `${form}: no stack`);
      // file:///a%252Fb is the file /a%2Fb (the URI decodes once): usable, and missing here.
      t.match(r.stderr, source === 'file:///a%252Fb' ? /^csr-signer: .*cannot read the PKCS#11 PIN file \/a%2Fb: ENOENT/ : /^csr-signer: .*(signers\[0\]\.ca\.key|--cluster-signing-key-file)[: ].*pin-source=/, `${form}: the field named`);
    }
  }
  t.end();
});
