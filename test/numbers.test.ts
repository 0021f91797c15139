/**
 * Every integer flag and config count takes decimal digits only: one table of bad
 * forms, tried on each of them. Number() took "" (as 0), "0x258" and "1e3".
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { runDev } from '../devapi/commands/dev.js';
import { runDevapi } from '../devapi/commands/devapi.js';
import { runSign } from '../src/commands/sign.js';
import { loadRunConfig, readConfigFile } from '../src/config/index.js';
import { parseAddress } from '../src/http/listen.js';
import { parseWholeNumber } from '../src/numbers.js';
import { tempDir } from './helpers/tools.js';

const root = join(import.meta.dirname, '..');
const keys = join(root, 'keys.example');
const dir = tempDir('numbers-');
const sink = (): Writable => new Writable({ write: (_c, _e, done) => done() });

/** Not whole numbers in decimal digits, each for its own reason. */
const badForms = ['', '0x258', '1e3', '+5', '-1', ' 5', '5 ', '١٢', '9007199254740993', '012', '1.0', '0o17', '5_000', 'Infinity'];

const generic = ['--cluster-signing-cert-file', join(keys, 'ca.pem'), '--cluster-signing-key-file', join(keys, 'ca-key.pem')];
const runFlag = (flag: string, value: string): (() => unknown) => () => loadRunConfig([...generic, `--${flag}=${value}`], {}, () => { throw new Error('no file'); });

/** Each integer flag: how to give it a value, and the flag its error must name. */
const flags: { readonly flag: string; readonly command: string; readonly give: (value: string) => () => unknown }[] = [
  ...['workers', 'retry-burst', 'request-max-bytes', 'request-max-sans', 'request-max-name-length'].map((flag) => ({ flag, command: 'run', give: (v: string) => runFlag(flag, v) })),
  { flag: 'http-address', command: 'run', give: (v) => runFlag('http-address', `127.0.0.1:${v}`) },
  { flag: 'expiration-seconds', command: 'sign', give: (v) => () => runSign(['--ca-cert', 'x', '--ca-key', 'x', '--csr', 'x', `--expiration-seconds=${v}`], sink()) },
  { flag: 'port', command: 'devapi', give: (v) => () => runDevapi(['--state-dir', join(dir, 'devapi'), `--port=${v}`], sink(), sink()) },
  { flag: 'kubernetes-minor', command: 'devapi', give: (v) => () => runDevapi(['--state-dir', join(dir, 'devapi'), `--kubernetes-minor=${v}`], sink(), sink()) },
  { flag: 'port', command: 'dev', give: (v) => () => runDev([`--port=${v}`], sink()) },
];

void t.test('every integer flag refuses each form that is not plain decimal digits, naming the flag', async (t) => {
  for (const { flag, command, give } of flags) {
    for (const value of badForms) {
      const name = `${command} --${flag}=${JSON.stringify(value)}`;
      try {
        await give(value)();
        t.fail(`${name} is accepted`);
      } catch (e) {
        t.match(e, { kind: 'InvalidArgument', code: 'CSR_SIGNER_ERR_INVALID_ARGUMENT', message: new RegExp(`^--${flag} must be `) }, `${name} is refused (exit 2) naming the flag`);
      }
    }
  }
});

void t.test('the flags still take plain decimal digits within their range', async (t) => {
  t.equal(loadRunConfig([...generic, '--workers=12', '--http-address=127.0.0.1:0'], {}, () => '').workers, 12);
  t.throws(() => runFlag('workers', '0')(), { message: '--workers must be a whole number of at least 1, not "0": it is less than 1' }, 'zero workers');
  await t.rejects(async () => runDevapi(['--state-dir', dir, '--kubernetes-minor=38'], sink(), sink()), { message: '--kubernetes-minor must be a whole number from 27 to 37, not "38": it is more than 37' });
  await t.rejects(async () => runSign([`--expiration-seconds=2147483648`], sink()), { message: /^--expiration-seconds must be a whole number of seconds from 1 to 2147483647, not "2147483648"/ }, 'an int32, as spec.expirationSeconds');
  t.same(parseAddress('[::1]:8080'), { host: '::1', port: 8080 });
  t.throws(() => parseAddress('127.0.0.1:0x50'), /expected HOST:PORT/);
});

void t.test('the one decision: digits 0-9, no leading zero, at most 2^53-1', (t) => {
  const cases: [string, { value: number } | { problem: RegExp }][] = [
    ['0', { value: 0 }], ['7', { value: 7 }], ['9007199254740991', { value: 9007199254740991 }],
    ['', { problem: /empty/ }], ['0x258', { problem: /only the decimal digits/ }], ['١٢', { problem: /only the decimal digits/ }],
    ['012', { problem: /leading zero/ }], ['9007199254740992', { problem: /larger than 9007199254740991/ }],
  ];
  for (const [text, expected] of cases) t.match(parseWholeNumber(text), expected, JSON.stringify(text));
  t.end();
});

/** YAML spellings of a count; each parses to something other than a count written in digits. */
const badYaml = ['""', '0x258', '1e3', '+5', '-1', '" 5"', '"5 "', '١٢', '9007199254740993', '012', '1.0', '0o17', '.inf', '"5"', '0', 'null', 'true'];

void t.test('a config count refuses a YAML float, hex, octal, exponent or string, naming the field', (t) => {
  const yaml = (value: string): string => `apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
- name: example.com/a
  ca: {certFile: ca.pem, keyFile: ca-key.pem}
  policy:
    unrestricted: true
    maxSubjectAltNames: ${value}
`;
  for (const value of badYaml) {
    t.throws(() => readConfigFile('c.yaml', yaml(value)), {
      kind: 'InvalidConfig',
      message: new RegExp(`^c\\.yaml: signer "example\\.com/a": signers\\[0\\]\\.policy\\.maxSubjectAltNames: must be a whole number of at least 1, not `),
    }, `maxSubjectAltNames: ${value}`);
  }
  t.match(readConfigFile('c.yaml', yaml('25'))[0]?.policy, { maxSubjectAltNames: 25 }, 'plain digits are taken');
  t.throws(() => readConfigFile('c.yaml', yaml('0x19')), { message: /not the number 0x19: only the decimal digits/ }, 'the number is shown as written');
  t.end();
});

void t.test('through the real CLI a bad number is a usage error: exit 2, one line', (t) => {
  const cli = join(root, 'dist', 'cli.js');
  const config = join(dir, 'bad.yaml');
  writeFileSync(config, `apiVersion: csr-signer.io/v1alpha1\nkind: SignerConfiguration\nsigners:\n- name: example.com/a\n  ca: {certFile: ${join(keys, 'ca.pem')}, keyFile: ${join(keys, 'ca-key.pem')}}\n  policy: {maxSubjectAltNames: 1e3}\n`);
  const cases: [string[], RegExp][] = [
    [['sign', '--ca-cert', join(keys, 'ca.pem'), '--ca-key', join(keys, 'ca-key.pem'), '--csr', join(keys, 'example.csr'), '--expiration-seconds='], /--expiration-seconds must be a whole number of seconds/],
    [['sign', '--ca-cert', join(keys, 'ca.pem'), '--ca-key', join(keys, 'ca-key.pem'), '--csr', join(keys, 'example.csr'), '--expiration-seconds', '0x258'], /--expiration-seconds must be/],
    [['devapi', '--state-dir', join(dir, 'cli-devapi'), '--port', '1e3'], /--port must be a whole number from 0 to 65535/],
    [['run', '--config', config], /signers\[0\]\.policy\.maxSubjectAltNames: must be a whole number of at least 1, not the number 1e3/],
  ];
  for (const [args, message] of cases) {
    const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`);
    t.match(r.stderr, message, `${args.join(' ')}: names the flag or field`);
    t.equal(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.end();
});
