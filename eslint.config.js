// Type-aware lint (typescript-eslint) plus the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node's modules that do I/O, under both names (`node:fs` and `fs`), and the packages that do. */
const nodeIo = ['fs', 'fs/promises', 'http', 'https', 'http2', 'net', 'tls', 'dns', 'dns/promises', 'dgram', 'child_process', 'cluster', 'process', 'tty', 'readline'];
const ioModules = [...nodeIo.flatMap((m) => [m, `node:${m}`]), 'fastify', 'pino', 'prom-client', '@kubernetes/client-node', 'undici'];

/**
 * pkcs11js, the PKCS#11 binding, is a native addon and an optional dependency (a user
 * without an HSM needs no compiler): only src/hsm/ loads it, at run time, so the rest of
 * the product and devapi/ work where it is not built. Static imports are refused by
 * no-restricted-imports (this pattern, in every such rule below: a later rule replaces an
 * earlier one's options for the same file), import('pkcs11js') and require('pkcs11js')
 * by no-restricted-syntax.
 */
const pkcs11Fence = { group: ['pkcs11js', 'pkcs11js/**'], message: 'Only src/hsm/ may load pkcs11js, the optional native PKCS#11 binding (docs/hsm.md).' };
const pkcs11Literal = '/^pkcs11js(\\/|$)/';
const pkcs11Syntax = [
  { selector: `ImportExpression[source.value=${pkcs11Literal}]`, message: pkcs11Fence.message },
  { selector: `CallExpression[arguments.0.value=${pkcs11Literal}]`, message: pkcs11Fence.message },
];

const pkiForbidden = {
  paths: ioModules.map((name) => ({ name, message: 'pki/ is pure: callers read files and pass bytes; configuration arrives as parameters; no network.' })),
  patterns: [
    { group: ['@kubernetes/*'], message: 'pki/ knows nothing of Kubernetes.' },
    { group: ['**/devapi/**'], message: 'pki/ may not depend on the edges.' },
    { group: ['**/dist/**', '**/dist-dev/**'], message: 'pki/ imports sources, not builds.' },
    pkcs11Fence,
  ],
};

/** devapi/'s folders (not commands/), each with the folders it may import: a stack, no cycles. */
const devapiLayers = {
  go: [],
  api: [],
  storage: ['api'],
  auth: ['api'],
  resources: ['api', 'go', 'storage', 'auth'],
  server: ['api', 'go', 'storage', 'auth', 'resources'],
};

/**
 * The product's parts (folders and top-level modules of src/) and, per folder, what
 * it may import from the rest of src/: `may` in full, `types` for type declarations
 * only. Anything else is a lint error. docs/architecture.md draws the same arrows.
 * pki/ has its own, stricter rule above (pure: no files, process, network, Kubernetes).
 */
const productParts = ['pki', 'hsm', 'signer', 'kube', 'controller', 'reconcile', 'leader', 'trust', 'telemetry', 'http', 'config', 'commands',
  'clock', 'time', 'errors', 'files', 'numbers', 'duration', 'runtime', 'cli'];
const productLayers = {
  // The Kubernetes client: knows nothing of signing.
  kube: { may: ['clock', 'time', 'errors', 'files', 'numbers'], types: [] },
  // The generic controller loop: a client and a clock, no kind.
  controller: { may: ['kube', 'clock'], types: [] },
  // The pure decisions: no I/O, no client; Kubernetes object shapes as types only.
  signer: { may: ['pki', 'errors', 'duration', 'time'], types: ['kube'] },
  leader: { may: ['kube', 'clock', 'duration', 'errors'], types: ['config'] },
  // CA keys on PKCS#11 tokens: the native binding, behind the key-provider seam.
  hsm: { may: ['pki', 'clock', 'errors'], types: [] },
  trust: { may: ['kube', 'pki', 'hsm', 'controller', 'clock', 'time', 'errors', 'files', 'signer', 'telemetry'], types: [] },
  telemetry: { may: ['signer', 'trust', 'clock'], types: ['config', 'kube', 'pki'] },
  // The sidecar reads a snapshot and a registry; it never touches the PKI.
  http: { may: ['numbers'], types: ['telemetry'] },
  reconcile: { may: ['controller', 'kube', 'pki', 'signer', 'trust', 'telemetry', 'clock', 'time', 'errors'], types: [] },
  config: { may: ['signer', 'pki', 'hsm', 'errors', 'files', 'numbers', 'duration'], types: [] },
};
const partsPattern = (parts) => `^(\\.\\./)+(${parts.join('|')})(/|\\.js$)`;


export default tseslint.config(
  { ignores: ['dist/', 'dist-dev/', 'node_modules/', 'coverage/', '.tap/', 'test/fixtures/', 'keys.example/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'bench/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // pki/ may leave its folder only for errors.ts: src/pki/X.ts by '../errors.js', src/pki/go/X.ts by '../../errors.js'.
  ...[['src/pki/*.ts', '^\\.\\./(?!errors\\.js$)'], ['src/pki/go/**/*.ts', '^\\.\\./\\.\\./(?!errors\\.js$)']].map(([files, outside]) => ({
    files: [files],
    rules: {
      'no-restricted-imports': ['error', { ...pkiForbidden, patterns: [...pkiForbidden.patterns, { regex: outside, message: 'pki/ is the core: it may import only errors.ts from the rest of src/.' }] }],
      'no-restricted-globals': ['error',
        { name: 'process', message: 'pki/ is pure: configuration arrives as parameters.' },
        { name: 'fetch', message: 'pki/ does no I/O.' }],
    },
  })),
  // The leaves every part may use import nothing of the product but the error catalogue.
  {
    files: ['src/errors.ts', 'src/clock.ts', 'src/time.ts', 'src/files.ts', 'src/numbers.ts', 'src/duration.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^\\.\\./|^\\./(?!errors\\.js$)', message: 'A leaf module of src/ may import only ./errors.js.' }, pkcs11Fence] }],
    },
  },
  // Relative imports are written in normal form ('../x', never './../x' or 'a/../b'), so the rules above,
  // which read the specifier, see where it really points. A dynamic import() may only load a module of its
  // own folder by a literal path (lazy loading), except the one that loads the development tools.
  ...[
    { files: ['src/**/*.ts', 'devapi/**/*.ts'], ignores: ['src/commands/development.ts', 'src/pki/**/*.ts', 'src/signer/**/*.ts', 'src/kube/rbac.ts', 'src/hsm/**/*.ts'], dynamic: 'own-folder' },
    { files: ['src/hsm/**/*.ts'], dynamic: 'own-folder', pkcs11: true },
    { files: ['src/commands/development.ts'], dynamic: 'any' },
    { files: ['src/pki/**/*.ts', 'src/signer/**/*.ts', 'src/kube/rbac.ts'], dynamic: 'none' },
  ].map(({ files, ignores, dynamic, pkcs11 = false }) => {
    const notNormal = '/^\\.\\/\\.\\.\\/|\\/\\.\\/|[^.\\/]\\/\\.\\.\\//';
    const message = 'Write a relative import in normal form (../x, not ./../x or a/../b): the import rules read the path as written.';
    return {
      files, ...(ignores ? { ignores } : {}),
      rules: {
        'no-restricted-syntax': ['error',
          ...['ImportDeclaration', 'ExportNamedDeclaration', 'ExportAllDeclaration', 'ImportExpression'].map((node) => ({ selector: `${node}[source.value=${notNormal}]`, message })),
          ...(dynamic === 'own-folder' ? [
            { selector: 'ImportExpression[source.value=/^\\.\\.\\//]', message: 'A dynamic import() may not leave its folder: the import rules would not see it (a static import would).' },
            { selector: "ImportExpression:not([source.type='Literal'])", message: 'A dynamic import() takes a literal path, so the import rules can read it.' },
          ] : []),
          ...(dynamic === 'none' ? [{ selector: 'ImportExpression', message: 'pki/, signer/ and kube/rbac.ts load nothing at run time.' }] : []),
          ...(pkcs11 ? [] : pkcs11Syntax),
        ],
      },
    };
  }),
  {
    // The product never imports the development tools: the image does not contain them.
    // src/commands/development.ts loads them at run time by path, and says so when they are absent.
    files: ['src/**/*.ts'],
    // pki/ and the leaves have stricter rules of their own, which already keep devapi/ out.
    ignores: ['src/pki/**/*.ts', 'src/errors.ts', 'src/clock.ts', 'src/time.ts', 'src/files.ts', 'src/numbers.ts', 'src/duration.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/devapi/**', '**/dist-dev/**'], message: 'The product (src/) may not import devapi/: it is not in the image.' }, pkcs11Fence] }],
    },
  },
  {
    // src/hsm/ is where pkcs11js is loaded: the same rule without the fence.
    files: ['src/hsm/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/devapi/**', '**/dist-dev/**'], message: 'The product (src/) may not import devapi/: it is not in the image.' }] }],
    },
  },
  {
    // devapi/commands/ and devapi/'s top-level modules have no layer rule: the fence alone.
    files: ['devapi/commands/**/*.ts', 'devapi/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [pkcs11Fence] }],
    },
  },
  // devapi/ reaches the product only through pki's public entry: it is a development tool,
  // and the product is free to rearrange everything else. devapi/commands/ composes the two
  // (the `dev` command runs the signer against devapi) and may import src/ freely.
  // Inside devapi/, each folder is a layer that imports only the layers below it (devapi/README.md).
  ...Object.entries(devapiLayers).map(([folder, below]) => ({
    files: [`devapi/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        // A regex, not a glob group: a gitignore-style negation cannot re-include a file whose folder is excluded.
        { regex: '(^|/)src/(?!pki/index\\.js$|kube/rbac\\.js$)', message: 'devapi/ may import from src/ only src/pki/index.js and the signer\'s RBAC rules, src/kube/rbac.js (devapi/commands/ composes product and devapi).' },
        { group: ['**/dist/**', '**/dist-dev/**'], message: 'devapi/ imports sources, not builds.' },
        pkcs11Fence,
        {
          regex: `^\\.\\./(${Object.keys(devapiLayers).filter((f) => f !== folder && !below.includes(f)).concat('commands').join('|')})/`,
          message: `devapi/${folder}/ may import only ${[...below.map((b) => `devapi/${b}/`), 'src/pki/index.js'].join(', ')} (devapi/README.md).`,
        },
      ] }],
    },
  })),
  ...Object.entries(productLayers).map(([folder, { may, types }]) => {
    const never = productParts.filter((p) => p !== folder && !may.includes(p) && !types.includes(p));
    const allowed = [...may, ...types.map((t) => `${t} (types only)`)].join(', ') || 'nothing else in src/';
    return {
      files: [`src/${folder}/**/*.ts`],
      rules: {
        '@typescript-eslint/no-restricted-imports': ['error', {
          paths: folder === 'signer' ? ioModules.map((name) => ({ name, message: 'signer/ holds the pure decisions: no I/O.' })) : [],
          patterns: [
            { regex: partsPattern(never), message: `src/${folder}/ may import ${allowed} (docs/architecture.md).` },
            ...(types.length > 0 ? [{ regex: partsPattern(types), allowTypeImports: true, message: `src/${folder}/ may import only types from ${types.join(', ')} (docs/architecture.md).` }] : []),
          ],
        }],
        ...(folder === 'signer' ? { 'no-restricted-globals': ['error',
          { name: 'process', message: 'signer/ is pure: configuration arrives as parameters.' },
          { name: 'fetch', message: 'signer/ holds the pure decisions: no I/O.' }] } : {}),
      },
    };
  }),
  // devapi/ imports src/kube/rbac.ts past its fence (the signer's RBAC rules, so devapi grants
  // exactly those): that is safe only while the module is pure data. It imports nothing but
  // types, and this rule, placed after kube/'s, replaces kube/'s for it and keeps it so.
  {
    files: ['src/kube/rbac.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [
        { regex: '.', allowTypeImports: true, message: 'src/kube/rbac.ts is pure data that devapi/ imports past its fence: it may import types only.' },
      ] }],
    },
  },
  {
    files: ['**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/explicit-module-boundary-types': 'off' },
    languageOptions: {
      globals: Object.fromEntries(['console', 'process', 'Buffer', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance', 'URL'].map((g) => [g, 'readonly'])),
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/explicit-module-boundary-types': 'off',
    },
  },
);
