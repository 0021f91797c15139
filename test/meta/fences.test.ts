/**
 * The lint rules that fence the parts (eslint.config.js; docs/architecture.md and
 * devapi/README.md draw them): the product's layers, pki/ pure, the decisions free
 * of I/O, the product apart from devapi/, devapi/ in layers. Each refuses what it
 * should and allows what it should. The probes are linted as the text of existing
 * files, so each file's rules apply, without type information (test/helpers/fences.ts).
 */
import { ESLint } from 'eslint';
import t from 'tap';
import tseslint from 'typescript-eslint';
import { fenceLinter, fenceSettings, probe, root } from '../helpers/fences.js';

const cases: [name: string, file: string, line: string, refused: boolean][] = [
  ['devapi/ may not read the product\'s files module', 'devapi/storage/store.ts', "import { readBoundedText } from '../../src/files.js';", true],
  ['devapi/ may not reach into pki/ past its entry', 'devapi/go/asn1.ts', "import { oid } from '../../src/pki/go/asn1.js';", true],
  ['devapi/ may not import the error catalogue', 'devapi/api/errors.ts', "import { csrError } from '../../src/errors.js';", true],
  ['devapi/ may not import a build', 'devapi/server/server.ts', "import { x } from '../../dist/pki/index.js';", true],
  ['storage/ may not import server/', 'devapi/storage/store.ts', "import { DevApi } from '../server/server.js';", true],
  ['go/ may not import storage/', 'devapi/go/asn1.ts', "import { Store } from '../storage/store.js';", true],
  ['api/ may not import resources/', 'devapi/api/errors.ts', "import { strategies } from '../resources/strategies.js';", true],
  ['resources/ may not import commands/', 'devapi/resources/csr.ts', "import { runDev } from '../commands/dev.js';", true],
  ['devapi/ may use pki\'s public entry', 'devapi/go/asn1.ts', "import { oid } from '../../src/pki/index.js';", false],
  ['devapi/ may use the signer\'s RBAC rules', 'devapi/auth/signer-role.ts', "import { signerRules } from '../../src/kube/rbac.js';", false],
  ['the RBAC rules devapi/ imports import nothing: not kube/', 'src/kube/rbac.ts', "import { resource } from './resource.js';", true],
  ['the RBAC rules devapi/ imports import nothing: not the error catalogue', 'src/kube/rbac.ts', "import { csrError } from '../errors.js';", true],
  ['the RBAC rules devapi/ imports import nothing: no files', 'src/kube/rbac.ts', "import { readFileSync } from 'node:fs';", true],
  ['the RBAC rules devapi/ imports import nothing: no re-export', 'src/kube/rbac.ts', "export { resource } from './resource.js';", true],
  ['the RBAC rules devapi/ imports load nothing at run time', 'src/kube/rbac.ts', "const m = await import('./resource.js');", true],
  ['the RBAC rules devapi/ imports may use types', 'src/kube/rbac.ts', "import type { Csr } from './objects.js';", false],
  ['devapi/ may not use the rest of kube/', 'devapi/auth/signer-role.ts', "import { resource } from '../../src/kube/resource.js';", true],
  ['storage/ may import api/', 'devapi/storage/store.ts', "import { ApiError } from '../api/errors.js';", false],
  ['server/ may import resources/', 'devapi/server/server.ts', "import { strategies } from '../resources/strategies.js';", false],
  ['commands/ composes product and devapi', 'devapi/commands/dev.ts', "import { readBoundedText } from '../../src/files.js';", false],
  // The product.
  ['the product may not import devapi/', 'src/runtime.ts', "import { DevApi } from '../devapi/server/server.js';", true],
  ['pki/ may not import the Kubernetes client', 'src/pki/ca.ts', "import { kubeHttp } from '../kube/http.js';", true],
  ['pki/ may not read files', 'src/pki/ca.ts', "import { readFileSync } from 'node:fs';", true],
  ['http/ never imports pki/', 'src/http/app.ts', "import { parseRequest } from '../pki/index.js';", true],
  ['http/ may read the snapshot\'s types', 'src/http/app.ts', "import type { Snapshot } from '../telemetry/snapshot.js';", false],
  ['the decisions do no I/O: no files', 'src/signer/decide.ts', "import { readFileSync } from 'node:fs';", true],
  ['the decisions do no I/O: no Kubernetes client', 'src/signer/decide.ts', "import { kubeHttp } from '../kube/http.js';", true],
  ['the decisions do no I/O: no logger', 'src/signer/decide.ts', "import { pino } from 'pino';", true],
  ['the decisions may use Kubernetes object shapes as types', 'src/signer/decide.ts', "import type { Csr } from '../kube/objects.js';", false],
  ['the decisions may use the PKI core', 'src/signer/decide.ts', "import { parseRequest } from '../pki/index.js';", false],
  ['the Kubernetes client knows nothing of signing', 'src/kube/resource.ts', "import { decide } from '../signer/decide.js';", true],
  ['the generic loop knows no kind', 'src/controller/controller.ts', "import { decide } from '../signer/decide.js';", true],
  ['the generic loop does not issue', 'src/controller/controller.ts', "import { issueCertificate } from '../pki/index.js';", true],
  ['the generic loop runs on the Kubernetes client', 'src/controller/controller.ts', "import { ListWatch } from '../kube/list-watch.js';", false],
  ['leadership does not sign', 'src/leader/lease-lock.ts', "import { Reconciler } from '../reconcile/csr-signing.js';", true],
  ['configuration does not reach the cluster', 'src/config/load.ts', "import { kubeHttp } from '../kube/http.js';", true],
  // Ways around the rules that read the specifier, and the modules under their other names.
  ['a dynamic import may not leave its folder', 'src/http/app.ts', "const pki = await import('../pki/index.js');", true],
  ['a dynamic import takes a literal path', 'src/http/app.ts', "const m = await import(`../${'pki'}/index.js`);", true],
  ['a dynamic import of devapi/ from the product', 'src/runtime.ts', "const d = await import('../devapi/server/server.js');", true],
  ['a dynamic import out of devapi/ into the product', 'devapi/storage/store.ts', "const f = await import('../../src/files.js');", true],
  ['the decisions load nothing at run time', 'src/signer/decide.ts', "const fs = await import('node:fs');", true],
  ['a lazy import of a module in its own folder', 'src/cli.ts', "const m = await import('./commands/run.js');", false],
  ['a relative import not in normal form (./../)', 'src/http/app.ts', "import { parseRequest } from './../pki/index.js';", true],
  ['a relative import not in normal form (a/../b)', 'src/http/app.ts', "import { parseRequest } from '../http/../pki/index.js';", true],
  ['not in normal form, in devapi/', 'devapi/storage/store.ts', "import { DevApi } from './../server/server.js';", true],
  ['the decisions: no fs under its bare name', 'src/signer/decide.ts', "import { readFileSync } from 'fs';", true],
  ['the decisions: no fetch', 'src/signer/decide.ts', "const r = await fetch('https://example.com');", true],
  ['pki/: no https under its bare name', 'src/pki/ca.ts', "import { request } from 'https';", true],
  ['pki/: no tls', 'src/pki/ca.ts', "import { connect } from 'node:tls';", true],
  ['pki/: no logger', 'src/pki/ca.ts', "import { pino } from 'pino';", true],
  ['pki/go/ may not reach src/ past errors.ts', 'src/pki/go/name.ts', "import { x } from '../../files.js';", true],
  ['pki/go/ may use the error catalogue', 'src/pki/go/name.ts', "import { csrError } from '../../errors.js';", false],
  ['pki/ may use the error catalogue', 'src/pki/ca.ts', "import { csrError } from '../errors.js';", false],
  ['a leaf module imports only the error catalogue', 'src/errors.ts', "import { readBoundedText } from './files.js';", true],
  ['a leaf module may not reach devapi/', 'src/numbers.ts', "import { DevApi } from '../devapi/server/server.js';", true],
  ['a leaf module may use the error catalogue', 'src/numbers.ts', "import { csrError } from './errors.js';", false],
  // pkcs11js, the optional native binding, is loaded only under src/hsm/.
  ['hsm/ may load pkcs11js', 'src/hsm/index.ts', "import { PKCS11 } from 'pkcs11js';", false],
  ['hsm/ may load pkcs11js at run time', 'src/hsm/index.ts', "const p = await import('pkcs11js');", false],
  ['hsm/ may require pkcs11js', 'src/hsm/index.ts', "const p: unknown = require('pkcs11js');", false],
  ['config/ may not load pkcs11js', 'src/config/load.ts', "import { PKCS11 } from 'pkcs11js';", true],
  ['trust/ may not load pkcs11js', 'src/trust/ca-store.ts', "import * as pkcs11 from 'pkcs11js';", true],
  ['trust/ may not re-export pkcs11js', 'src/trust/ca-store.ts', "export { PKCS11 } from 'pkcs11js';", true],
  ['pki/ may not load pkcs11js', 'src/pki/ca.ts', "import { PKCS11 } from 'pkcs11js';", true],
  ['a leaf module may not load pkcs11js', 'src/numbers.ts', "import { PKCS11 } from 'pkcs11js';", true],
  ['the CLI may not load pkcs11js at run time', 'src/cli.ts', "const p = await import('pkcs11js');", true],
  ['the CLI may not require pkcs11js', 'src/runtime.ts', "const p: unknown = require('pkcs11js');", true],
  ['a subpath of pkcs11js neither', 'src/commands/run.ts', "import * as p from 'pkcs11js/index.js';", true],
  ['devapi/ may not load pkcs11js', 'devapi/storage/store.ts', "import { PKCS11 } from 'pkcs11js';", true],
  ['devapi/commands/ may not load pkcs11js', 'devapi/commands/dev.ts', "import { PKCS11 } from 'pkcs11js';", true],
];

void t.test('the import rules of the product and devapi/', async (t) => {
  const eslint = fenceLinter();
  for (const [name, file, line, refused] of cases) {
    const { fenced, messages } = await probe(eslint, file, line);
    t.equal(fenced, refused, `${name}: ${line}`);
    // A probe that does not parse is refused by nothing, and an allowed one would pass for that.
    t.notOk(messages.some((m) => m.fatal), `${name}: the probe parses`);
  }
});

void t.test('each refused probe is refused by its fence: with the fence rules off, it is not', async (t) => {
  const eslint = fenceLinter({ fences: false });
  // Not fences: the probes declare names they do not use, and typescript-eslint's
  // recommended rules refuse any require() besides the fence on require('pkcs11js').
  const notFences = new Set(['@typescript-eslint/no-unused-vars', '@typescript-eslint/no-require-imports']);
  for (const [name, file, line] of cases.filter(([, , , refused]) => refused)) {
    const { fenced, messages } = await probe(eslint, file, line);
    const errors = messages.filter((m) => m.line === 1 && m.severity === 2 && !notFences.has(m.ruleId ?? ''));
    t.same({ fenced, errors: errors.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`) }, { fenced: false, errors: [] }, `${name}: ${line}`);
  }
});

void t.test('the probes see the fences npm run lint applies, and those need no type information', async (t) => {
  const probes = fenceLinter();
  const project = new ESLint({ cwd: root });
  const rules = new Set<string>();
  const tsRules = (tseslint.plugin as { rules?: Record<string, { meta?: { docs?: { requiresTypeChecking?: boolean } } } | undefined> }).rules ?? {};
  for (const file of new Set(cases.map(([, file]) => file))) {
    const settings = await fenceSettings(probes, file);
    t.same(settings, await fenceSettings(project, file), `${file}: the same fence rules, with the same options`);
    Object.keys(settings).forEach((rule) => rules.add(rule));
  }
  for (const rule of rules) {
    // ESLint's own rules never see types; typescript-eslint marks the rules that need them.
    const meta = rule.startsWith('@typescript-eslint/') ? tsRules[rule.slice('@typescript-eslint/'.length)]?.meta : { docs: {} };
    t.ok(meta, `${rule} exists`);
    t.not(meta?.docs?.requiresTypeChecking, true, `${rule} needs no type information`);
  }
});
