// Type-aware lint (typescript-eslint) plus the architecture's import boundaries.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const pkiForbidden = {
  paths: [
    { name: 'node:fs', message: 'pki/ is pure: callers read files and pass bytes.' },
    { name: 'fs', message: 'pki/ is pure: callers read files and pass bytes.' },
    { name: 'node:fs/promises', message: 'pki/ is pure: callers read files and pass bytes.' },
    { name: 'node:process', message: 'pki/ is pure: configuration arrives as parameters.' },
    { name: 'process', message: 'pki/ is pure: configuration arrives as parameters.' },
    { name: 'node:http', message: 'pki/ does no I/O.' },
    { name: 'node:https', message: 'pki/ does no I/O.' },
    { name: 'node:http2', message: 'pki/ does no I/O.' },
    { name: 'node:net', message: 'pki/ does no I/O.' },
    { name: 'fastify', message: 'pki/ does no I/O.' },
  ],
  patterns: [
    { group: ['@kubernetes/*'], message: 'pki/ knows nothing of Kubernetes.' },
    { group: ['**/devapi/**'], message: 'pki/ may not depend on the edges.' },
    {
      regex: '(^|/)\\.\\./(signer|kube|controller|reconcile|leader|trust|telemetry|http|config|commands|clock|time|files|numbers|duration|runtime|cli)(/|\\.js$)',
      message: 'pki/ is the core: it may import only errors.ts from the rest of src/.',
    },
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
const productParts = ['pki', 'signer', 'kube', 'controller', 'reconcile', 'leader', 'trust', 'telemetry', 'http', 'config', 'commands',
  'clock', 'time', 'errors', 'files', 'numbers', 'duration', 'runtime', 'cli'];
const productLayers = {
  // The Kubernetes client: knows nothing of signing.
  kube: { may: ['clock', 'time', 'errors', 'files', 'numbers'], types: [] },
  // The generic controller loop: a client and a clock, no kind.
  controller: { may: ['kube', 'clock'], types: [] },
  // The pure decisions: no I/O, no client; Kubernetes object shapes as types only.
  signer: { may: ['pki', 'errors', 'duration', 'time'], types: ['kube'] },
  leader: { may: ['kube', 'clock', 'duration', 'errors'], types: ['config'] },
  trust: { may: ['kube', 'pki', 'controller', 'clock', 'time', 'errors', 'files', 'signer', 'telemetry'], types: [] },
  telemetry: { may: ['signer', 'trust', 'clock'], types: ['config', 'kube', 'pki'] },
  // The sidecar reads a snapshot and a registry; it never touches the PKI.
  http: { may: ['numbers'], types: ['telemetry'] },
  reconcile: { may: ['controller', 'kube', 'pki', 'signer', 'trust', 'telemetry', 'clock', 'time', 'errors'], types: [] },
  config: { may: ['signer', 'pki', 'errors', 'files', 'numbers', 'duration'], types: [] },
};
const partsPattern = (parts) => `^\\.\\./(${parts.join('|')})(/|\\.js$)`;

/** Modules that do I/O: the decisions (signer/) import none of them. */
const ioModules = ['node:fs', 'node:fs/promises', 'node:http', 'node:https', 'node:http2', 'node:net', 'node:child_process', 'node:worker_threads',
  'fastify', 'pino', 'prom-client', '@kubernetes/client-node'];

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
  {
    files: ['src/pki/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', pkiForbidden],
      'no-restricted-globals': ['error', { name: 'process', message: 'pki/ is pure: configuration arrives as parameters.' }],
    },
  },
  {
    // The product never imports the development tools: the image does not contain them.
    // src/commands/development.ts loads them at run time by path, and says so when they are absent.
    files: ['src/**/*.ts'],
    ignores: ['src/pki/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/devapi/**', '**/dist-dev/**'], message: 'The product (src/) may not import devapi/: it is not in the image.' }] }],
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
        { regex: '(^|/)src/(?!pki/index\\.js$)', message: 'devapi/ may import from src/ only src/pki/index.js (devapi/commands/ composes product and devapi).' },
        { group: ['**/dist/**', '**/dist-dev/**'], message: 'devapi/ imports sources, not builds.' },
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
        ...(folder === 'signer' ? { 'no-restricted-globals': ['error', { name: 'process', message: 'signer/ is pure: configuration arrives as parameters.' }] } : {}),
      },
    };
  }),
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
