/**
 * What the image would contain, assembled the way the Dockerfile's runtime stage does
 * it (its COPY and `npm ci` lines, read from the Dockerfile), in a temporary directory:
 * the production entrypoint starts from there, with no dev dependency present.
 * `dist/` is the repository's build (`npm run build`, the build stage's command; npm test
 * builds before tap runs).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { makeSoftToken } from '../helpers/softhsm.js';
import { needTool, run, tempDir } from '../helpers/tools.js';
import { repoRoot, stages } from './dockerfile.js';

const runtime = stages().find((s) => s.name === 'runtime');
const app = tempDir('csr-signer-image-');

t.ok(existsSync(join(repoRoot, 'dist/cli.js')), 'dist/ is built (npm run build)');

void t.test('assemble /app as the runtime stage does', (t) => {
  for (const step of runtime?.instructions ?? []) {
    if (step.keyword === 'COPY') {
      const [target = '', ...sources] = step.args.split(/\s+/).reverse();
      for (const source of sources.reverse()) {
        // COPY --from=build /src/dist/ is the build stage's `npm run build` output: the repository's dist/.
        const from = step.from === 'build' ? join(repoRoot, source.replace(/^\/src\//, '')) : join(repoRoot, source);
        const to = target.endsWith('/') && !source.endsWith('/') ? join(app, target, source) : join(app, target);
        cpSync(from, to, { recursive: true });
      }
    } else if (step.keyword === 'RUN') {
      for (const command of step.args.split('&&').map((c) => c.trim())) {
        if (!command.startsWith('npm ci')) continue; // `npm cache clean` and the bin link are image-only
        // --prefer-offline: the same packages from the local cache when it has them.
        execFileSync('sh', ['-c', `${command} --prefer-offline --loglevel=error`], { cwd: app, stdio: 'pipe', timeout: 120_000 });
      }
    }
  }
  t.ok(existsSync(join(app, 'node_modules/@kubernetes/client-node')), 'production dependencies are installed');
  // The lockfile marks packages that only dev dependencies need ("dev": true): none may be installed.
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  const devOnly = Object.entries(lock.packages).filter(([path, p]) => p.dev === true && existsSync(join(app, path))).map(([path]) => path);
  t.same(devOnly, [], 'no dev-only package is installed');
  t.notOk(existsSync(join(app, 'node_modules/typescript')) || existsSync(join(app, 'node_modules/tap')), 'neither typescript nor tap');
  t.notOk(existsSync(join(app, 'keys.example')), 'no example keys');
  t.notOk(existsSync(join(app, 'src')), 'no sources');
  t.notOk(existsSync(join(app, 'dist-dev')) || existsSync(join(app, 'devapi')), 'no development API server (devapi/ builds into dist-dev/)');
  const devapiFiles = readdirSync(join(app, 'dist'), { recursive: true, encoding: 'utf8' }).filter((f) => /devapi|signer-role/.test(f) && !f.endsWith('development.js') && !f.endsWith('development.js.map'));
  t.same(devapiFiles, [], 'dist/ holds no devapi module');
  t.end();
});

void t.test("the PKCS#11 binding's native addon is in the assembled /app, and drives a real module", (t) => {
  // The runtime stage's npm ci skips install scripts (no compiler there): the addon is the build stage's.
  t.ok(existsSync(join(app, 'node_modules/pkcs11js/build/Release/pkcs11.node')), 'node_modules/pkcs11js/build/Release/pkcs11.node');
  if (!needTool(t, 'softhsm2-util')) return;
  const token = makeSoftToken({ label: 'image-check' });
  const script = [
    "const { PKCS11 } = require('pkcs11js');",
    'const p = new PKCS11();',
    `p.load(${JSON.stringify(token.module)});`,
    'p.C_Initialize();',
    'const [slot] = p.C_GetSlotList(true);',
    'console.log(p.C_GetTokenInfo(slot).label.trim());',
    'p.C_Finalize();',
  ].join(' ');
  // From /app, as dist/ resolves it there; NODE_PATH unset, so the repository's copy is not found instead.
  const loaded = run(process.execPath, ['-e', script], { cwd: app, env: { PATH: process.env.PATH ?? '', SOFTHSM2_CONF: token.env.SOFTHSM2_CONF ?? '' } });
  t.same({ code: loaded.code, out: loaded.stdout, err: loaded.stderr }, { code: 0, out: 'image-check\n', err: '' }, "the token's label, read through the addon");
  t.end();
});

void t.test('the entrypoint runs from the assembled /app', (t) => {
  const cli = join(app, 'dist/cli.js');
  t.ok((statSync(cli).mode & 0o111) !== 0, 'dist/cli.js is executable (the /usr/local/bin/csr-signer link points to it)');
  const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };
  t.equal(pkg.bin['csr-signer'], 'dist/cli.js');
  const run = (args: string[]): { code: number | null; out: string } => {
    // Through the shebang, as ENTRYPOINT ["csr-signer"] runs it.
    const r = spawnSync(cli, args, { cwd: '/', encoding: 'utf8', env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' }, timeout: 30_000 });
    return { code: r.status, out: r.stdout + r.stderr };
  };
  t.same(run(['--version']), { code: 0, out: `${pkg.version}\n` });
  const help = run(['run', '--help']);
  t.equal(help.code, 0);
  t.match(help.out, /--leader-elect-resource-namespace/);
  t.match(help.out, /--config/);
  const bad = run(['run', '--config', '/nonexistent.yaml']);
  t.equal(bad.code, 2, 'a configuration error exits 2 without a stack trace');
  t.match(bad.out, /CSR_SIGNER_ERR_INVALID_ARGUMENT/);
  for (const command of ['dev', 'devapi']) {
    const missing = run([command, '--help']);
    t.equal(missing.code, 1, `${command}: not in the image, exit 1`);
    t.equal(missing.out, `csr-signer: "csr-signer ${command}" is a development command and is not installed here (the image ships the signer only); run it from a clone of the csr-signer repository: "npm ci", then "./csr-signer ${command}" [CSR_SIGNER_ERR_DEVELOPMENT_COMMAND_MISSING]\n`, 'one sentence, no stack');
  }
  t.end();
});
