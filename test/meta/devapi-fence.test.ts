/**
 * The lint rules that keep devapi/ apart from the product and in layers (eslint.config.js,
 * devapi/README.md) refuse what they should and allow what they should. The probes are
 * linted as the text of existing files, so the type-aware project takes them as its own.
 */
import { join } from 'node:path';
import { ESLint } from 'eslint';
import t from 'tap';

// One type-aware ESLint for all probes: loading the TypeScript project is slow on a busy machine.
t.setTimeout(600_000);

const root = join(import.meta.dirname, '..', '..');

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
  ['storage/ may import api/', 'devapi/storage/store.ts', "import { ApiError } from '../api/errors.js';", false],
  ['server/ may import resources/', 'devapi/server/server.ts', "import { strategies } from '../resources/strategies.js';", false],
  ['commands/ composes product and devapi', 'devapi/commands/dev.ts', "import { readBoundedText } from '../../src/files.js';", false],
];

void t.test('devapi/\'s import rules', async (t) => {
  const eslint = new ESLint({ cwd: root });
  for (const [name, file, line, refused] of cases) {
    const [result] = await eslint.lintText(`${line}\nexport {};\n`, { filePath: join(root, file) });
    const fired = (result?.messages ?? []).some((m) => m.line === 1 && m.ruleId === 'no-restricted-imports');
    t.equal(fired, refused, `${name}: ${line}`);
  }
});
