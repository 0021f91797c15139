/**
 * Lints probe text against the import fences of eslint.config.js, as the text of an
 * existing file so that file's rules apply. One ESLint for every probe, on the project's
 * own configuration less type information (typescript-eslint's disableTypeChecked, the
 * same block eslint.config.js applies to its .js files): the fences (no-restricted-imports,
 * -syntax, -globals) read the import specifiers and the syntax tree and need no types,
 * while a type-aware parse rebuilds the TypeScript program around each probe, about a
 * second a probe. `npm run lint` still lints the whole project with types.
 */
import { join } from 'node:path';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

export const root = join(import.meta.dirname, '..', '..');

/** The fence rules, under ESLint's name or typescript-eslint's. */
export const fenceRule = /(^|\/)no-restricted-(imports|syntax|globals)$/;
const fenceRuleNames = ['no-restricted-imports', 'no-restricted-syntax', 'no-restricted-globals', '@typescript-eslint/no-restricted-imports'];

/**
 * `fences: false` turns the fence rules off and leaves everything else as it is: a probe
 * that is still refused then would be refused by something other than its fence.
 */
export function fenceLinter(options: { fences?: boolean } = {}): ESLint {
  const overrides: Linter.Config[] = [tseslint.configs.disableTypeChecked];
  if (options.fences === false) overrides.push({ rules: Object.fromEntries(fenceRuleNames.map((name) => [name, 'off'])) });
  return new ESLint({ cwd: root, overrideConfig: overrides });
}

export interface ProbeResult {
  /** A fence rule refused the probe's first line. */
  readonly fenced: boolean;
  /** Every message, of every rule, for every line. */
  readonly messages: readonly Linter.LintMessage[];
}

/** Lints `text` (followed by `export {};`) as the file `file` (relative to the project root). */
export async function probe(eslint: ESLint, file: string, text: string): Promise<ProbeResult> {
  const [result] = await eslint.lintText(`${text}\nexport {};\n`, { filePath: join(root, file) });
  const messages = result?.messages ?? [];
  return { fenced: messages.some((m) => m.line === 1 && fenceRule.test(m.ruleId ?? '')), messages };
}

/** The fence rules' settings that apply to `file` (relative to the project root). */
export async function fenceSettings(eslint: ESLint, file: string): Promise<Record<string, unknown>> {
  const config = (await eslint.calculateConfigForFile(join(root, file))) as { rules?: Record<string, unknown> };
  return Object.fromEntries(Object.entries(config.rules ?? {}).filter(([name]) => fenceRule.test(name)));
}
