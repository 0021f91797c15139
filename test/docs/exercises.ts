/**
 * How test/docs/commands.test.ts exercises each doc command that is not cluster-only:
 * a rule per command (matched on its text, continuations joined), where it runs, what
 * it needs beforehand, and what its output or files must show.
 */
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Test } from 'tap';
import { parse } from 'yaml';
import type { Rule } from '../helpers/doc-commands.js';
import { root, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { certificateOf, createAndApprove, servingSpecs, waitSettled } from '../helpers/e2e.js';
import { needTool, opensslText, run } from '../helpers/tools.js';

export interface Ctx {
  readonly work: string;
  env: NodeJS.ProcessEnv;
  api?: DevapiProcess;
}

export interface Exercise extends Rule {
  /** Where it runs: 'root' (the repository, as the doc says), else a directory under the doc's work directory. */
  readonly dir?: string;
  readonly rewrite?: (text: string, ctx: Ctx) => string;
  /** For a server: the output that says it is up, and the signal that stops it. */
  readonly ready?: RegExp;
  readonly stop?: NodeJS.Signals;
  /** What a server prints once it has stopped cleanly, when its status is not its own (npm's). */
  readonly stopped?: RegExp;
  readonly reason?: string;
  readonly check?: (t: Test, out: Ran, ctx: Ctx) => unknown;
}

export interface Ran {
  readonly stdout: string;
  readonly dir: string;
  /** A server's output so far. */
  readonly output?: () => string;
}

const file = (ctx: Ctx, ...p: string[]): string => readFileSync(join(ctx.work, ...p), 'utf8');
const certificates = (pem: string): string[] => pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n/g) ?? [];
const privateFile = (path: string): boolean => (statSync(path).mode & 0o077) === 0;
const ciScript = readFileSync(join(root, '.ci', 'run'), 'utf8');
/** .ci/run runs `command` (a line of its own, not a comment). */
const ciRuns = (command: string): boolean => ciScript.split('\n').some((l) => l.trim() === command || l.trim().startsWith(`${command} `));
const secret = (yaml: string): { kind: string; type: string; metadata: { name: string; namespace: string }; data: Record<string, string> } =>
  parse(yaml) as never;

/** The demo's CA (keys.example/) under the names docs/install.md uses. */
const seedInstall = (ctx: Ctx): void => {
  copyFileSync(join(root, 'keys.example', 'ca.pem'), join(ctx.work, 'ca.pem'));
  copyFileSync(join(root, 'keys.example', 'ca-key.pem'), join(ctx.work, 'ca-key.pem'));
};
const OLD_CA = join(root, 'keys.example', 'ca.pem');
const NEW_CA = join(root, 'test', 'fixtures', 'ca', 'ca-ec.pem');

export const setups: Record<string, (ctx: Ctx) => Promise<void> | void> = {
  'README.md': async (ctx) => {
    ctx.api = await startDevapi();
    writeFileSync(join(ctx.work, 'signers.yaml'), `apiVersion: csr-signer.io/v1alpha1
kind: SignerConfiguration
signers:
  - name: example.com/serving
    ca: { certFile: ${join(root, 'keys.example', 'ca.pem')}, keyFile: ${join(root, 'keys.example', 'ca-key.pem')} }
    policy: { dnsNames: ["*.example.com"], ipRanges: [] }
`);
    // POD_NAMESPACE as the chart sets it: the signer's Lease and rotation record live there.
    ctx.env = { ...ctx.env, KUBECONFIG: ctx.api.kubeconfig('signer'), POD_NAMESPACE: 'csr-signer' };
  },
  'docs/install.md': seedInstall,
  'docs/ca-rotation.md': (ctx) => {
    copyFileSync(OLD_CA, join(ctx.work, 'old-ca.pem'));
    copyFileSync(NEW_CA, join(ctx.work, 'new-ca.pem'));
  },
};

/** Moves `demo.pem`, which "Try it" writes in the repository, into the work directory. */
const demoPemInWork = (text: string, ctx: Ctx): string => text.replace(/(?<![\w./-])demo\.pem\b/g, join(ctx.work, 'demo.pem'));

export const EXERCISES: readonly Exercise[] = [
  // docs/hsm.md's SoftHSM2 walk-through: test/docs/hsm.test.ts runs every command of it in
  // order in one shell (it exports SOFTHSM2_CONF in its first block) and checks the token,
  // the key and the certificates they make.
  {
    doc: 'docs/hsm.md', match: /^((mkdir|printf|softhsm2-util|pkcs11-tool|cat > \w+\.tmpl|GNUTLS_PIN=1234 certtool|certtool|openssl|umask) |export SOFTHSM2_CONF=)/,
    how: 'elsewhere', by: 'test/docs/hsm.test.ts',
  },
  // CI's own steps: .ci/run runs them, and CI is green only when they pass.
  { doc: '*', match: /^npm ci$/, how: 'ci', check: (t) => t.ok(ciRuns('npm ci'), '.ci/run runs npm ci') },
  { doc: '*', match: /^npm test$/, how: 'ci', check: (t) => t.ok(ciRuns('npm test'), '.ci/run runs npm test') },
  {
    doc: 'README.md', match: /^apt-get install -y /, how: 'ci',
    check: (t, out) => {
      const packages = out.stdout.split(' ').slice(3);
      for (const p of packages) t.ok(ciScript.includes(`missing+=(${p})`), `.ci/run installs ${p} when missing`);
      // And the other way: every package .ci/run installs is one the README tells a user to install.
      for (const [, p] of ciScript.matchAll(/missing\+=\(([^)\s]+)\)/g)) t.ok(packages.includes(p ?? ''), `the README names ${p ?? ''}, which .ci/run installs`);
      // Each tool the README names comes from a package it names (where dpkg knows the tool).
      if (!needTool(t, 'openssl') || !needTool(t, 'cfssl')) return;
      for (const tool of ['openssl', 'cfssl']) {
        const owner = run('sh', ['-c', `dpkg -S "$(readlink -f "$(command -v ${tool})")" 2>/dev/null | cut -d: -f1`]).stdout.trim();
        if (owner !== '' || process.env.CI) t.ok(packages.includes(owner), `${tool} comes from ${owner || '(no package)'}, one of ${packages.join(', ')}`);
      }
    },
  },
  {
    doc: 'README.md', match: /^npm start$/, how: 'server', dir: 'root', ready: /Ctrl-C stops both/, stop: 'SIGINT', stopped: /csr-signer dev: stopped/,
    check: (t, out) => t.match(out.stdout, /export KUBECONFIG=\S+admin\.kubeconfig[\s\S]*shop-web\.kubeconfig create -f -[\s\S]*kubectl wait --for=condition=Approved csr\/web\.shop/),
  },
  {
    doc: 'README.md', match: /^\.\/csr-signer run --config signers\.yaml$/, how: 'server',
    // The default 127.0.0.1:8080 would collide with parallel tests; devapi has no Lease namespace of its own.
    rewrite: (text) => `${text} --http-address 127.0.0.1:0 --leader-elect=false`,
    ready: /"msg":"watching"/,
    check: async (t, out, ctx) => {
      const api = ctx.api;
      if (!api) return t.fail('no devapi');
      const specs = servingSpecs(ctx.work, 'readme', 1);
      createAndApprove(api, specs);
      const csrs = await waitSettled(api, specs.map((s) => s.name), 10_000).catch((e: unknown) => { throw new Error(`${String(e)}\n${out.output?.() ?? ''}`); });
      t.match(certificateOf(csrs.get('readme-0')) ?? '', /BEGIN CERTIFICATE/, 'the signer from signers.yaml issued');
    },
  },
  {
    doc: 'docs/configuration.md', match: /^\.\/csr-signer run --help$/, how: 'run',
    check: (t, out) => t.match(out.stdout, /--config FILE[\s\S]*--http-address HOST:PORT/),
  },
  {
    doc: 'docs/devapi.md', match: /^\.\/csr-signer devapi --state-dir \/tmp\/devapi --port 0$/, how: 'server',
    rewrite: (text, ctx) => text.replaceAll('/tmp/devapi', join(ctx.work, 'devapi')), ready: /devapi ready at https:\/\/127\.0\.0\.1:\d+/,
    check: (t, out, ctx) => t.ok(out.stdout.includes(`(kubeconfigs in ${join(ctx.work, 'devapi')})`), out.stdout),
  },
  {
    doc: 'docs/devapi.md', match: /^KUBECONFIG=\/tmp\/devapi\/admin\.kubeconfig kubectl get csr$/, how: 'run',
    rewrite: (text, ctx) => text.replaceAll('/tmp/devapi', join(ctx.work, 'devapi')),
    check: (t, out) => t.equal(out.stdout, '', 'no CSRs yet (kubectl says so on stderr)'),
  },
  {
    doc: 'docs/install.md', match: /^kubectl create secret tls csr-signer-ca --namespace csr-signer/, how: 'run',
    check: (t, _out, ctx) => t.match(secret(file(ctx, 'csr-signer-ca.yaml')), { kind: 'Secret', type: 'kubernetes.io/tls', metadata: { namespace: 'csr-signer' } }),
  },
  {
    doc: 'docs/install.md', match: /^openssl req -new -newkey ec /, how: 'run',
    check: (t, _out, ctx) => t.match(run('openssl', ['req', '-in', join(ctx.work, 'demo.csr'), '-noout', '-text', '-verify']).stdout, /DNS:demo\.default\.svc/),
  },
  {
    doc: 'docs/ca-rotation.md', match: /^cat old-ca\.pem new-ca\.pem > bundle\.pem$/, how: 'run',
    check: (t, _out, ctx) => t.same(certificates(file(ctx, 'bundle.pem')), [...certificates(readFileSync(OLD_CA, 'utf8')), ...certificates(readFileSync(NEW_CA, 'utf8'))]),
  },
  {
    doc: 'docs/ca-rotation.md', match: /^cat new-ca\.pem old-ca\.pem > bundle-new-first\.pem\b/, how: 'run',
    check: (t, _out, ctx) => t.same(certificates(file(ctx, 'bundle-new-first.pem'))[0], certificates(readFileSync(NEW_CA, 'utf8'))[0]),
  },
  // keys.example/README.md "Try it", from the repository root as it says.
  {
    doc: 'keys.example/README.md', section: /^Try it$/, match: /^\.\/csr-signer sign .*keys\.example\/example\.csr$/, how: 'run', dir: 'root',
    check: (t, out) => t.match(opensslText(out.stdout), /DNS:demo\.example\.com/),
  },
  { doc: 'keys.example/README.md', section: /^Try it$/, match: /^\.\/csr-signer sign .* > demo\.pem$/, how: 'run', dir: 'root', rewrite: demoPemInWork },
  {
    doc: 'keys.example/README.md', section: /^Try it$/, match: /^openssl verify -x509_strict -CAfile keys\.example\/ca\.pem demo\.pem$/, how: 'run', dir: 'root', rewrite: demoPemInWork,
    check: (t, out) => t.match(out.stdout, /demo\.pem: OK/),
  },
  {
    doc: 'keys.example/README.md', section: /^Try it$/, match: /^openssl x509 -in demo\.pem -noout -text$/, how: 'run', dir: 'root', rewrite: demoPemInWork,
    check: (t, out) => t.match(out.stdout, /Issuer: CN ?= ?csr-signer example CA/),
  },
  // How keys.example/ was made, in a directory of its own.
  {
    doc: 'keys.example/README.md', section: /^How they were made$/, match: /^openssl req -new -config \/dev\/null -key example-key\.pem/, how: 'run', dir: 'example',
    check: (t, _out, ctx) => t.match(run('openssl', ['req', '-in', join(ctx.work, 'example', 'example.csr'), '-noout', '-text', '-verify']).stdout, /DNS:demo\.example\.com/),
  },
  { doc: 'keys.example/README.md', section: /^How they were made$/, match: /^openssl (genpkey|req -x509) /, how: 'run', dir: 'example' },
  // Make a real CA: each recipe in its own directory, then the Secret from the cfssl one.
  { doc: 'keys.example/README.md', section: /^With openssl$/, match: /^(umask 077|openssl genpkey .*-out ca-key\.pem)$/, how: 'run', dir: 'openssl' },
  {
    doc: 'keys.example/README.md', section: /^With openssl$/, match: /^openssl req -x509 -new -config \/dev\/null -key ca-key\.pem/, how: 'run', dir: 'openssl',
    check: (t, _out, ctx) => {
      t.ok(privateFile(join(ctx.work, 'openssl', 'ca-key.pem')), 'umask 077 made the key private');
      t.match(run('openssl', ['x509', '-in', join(ctx.work, 'openssl', 'ca.pem'), '-noout', '-text']).stdout, /CA:TRUE, pathlen:0/);
    },
  },
  { doc: 'keys.example/README.md', section: /^With cfssl$/, match: /^(umask 077|cat > ca-csr\.json <<'JSON')/, how: 'run', dir: 'cfssl' },
  {
    doc: 'keys.example/README.md', section: /^With cfssl$/, match: /^cfssl gencert -initca ca-csr\.json \| cfssljson -bare ca$/, how: 'run', dir: 'cfssl',
    check: (t, _out, ctx) => {
      t.ok(privateFile(join(ctx.work, 'cfssl', 'ca-key.pem')), 'umask 077 made the key private');
      t.match(run('openssl', ['x509', '-in', join(ctx.work, 'cfssl', 'ca.pem'), '-noout', '-text']).stdout, /CA:TRUE, pathlen:0/);
    },
  },
  { doc: 'keys.example/README.md', section: /^With cfssl$/, match: /^rm ca\.csr$/, how: 'run', dir: 'cfssl', check: (t, _out, ctx) => t.notOk(existsSync(join(ctx.work, 'cfssl', 'ca.csr'))) },
  {
    doc: 'keys.example/README.md', section: /^Put it in a Secret$/, match: /^kubectl create secret tls csr-signer-ca .*--dry-run=client -o yaml > csr-signer-ca\.yaml$/, how: 'run', dir: 'cfssl',
    check: (t, _out, ctx) => t.equal(Buffer.from(secret(file(ctx, 'cfssl', 'csr-signer-ca.yaml')).data['tls.crt'] ?? '', 'base64').toString(), file(ctx, 'cfssl', 'ca.pem')),
  },
  // bench/README.md records benchmark runs: minutes each, measuring the machine; CI never runs them.
  {
    doc: 'bench/README.md', match: /^(\w+=\S+ )*node bench\/[\w-]+\.js\b/, how: 'bench-only', reason: 'a benchmark script',
    check: (t, out) => t.ok(existsSync(join(root, /bench\/[\w-]+\.js/.exec(out.stdout)?.[0] ?? 'missing')), `${out.stdout} exists`),
  },
  {
    doc: 'bench/README.md', match: /^npm run \w+$/, how: 'bench-only', reason: 'runs the benchmarks',
    check: (t, out) => t.ok((JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts[out.stdout.split(' ')[2] ?? ''], `${out.stdout} is a script`),
  },
  { doc: 'README.md', match: /^npm run bench$/, how: 'bench-only', reason: 'the benchmarks take minutes', check: (t) => t.ok(existsSync(join(root, 'bench', 'run.js'))) },
  { doc: 'bench/README.md', match: /./, how: 'bench-only', reason: 'how a benchmark run was set up or checked (a lint, the signer flags the harness uses, node -e)' },
];

