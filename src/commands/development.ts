/**
 * `csr-signer dev` and `csr-signer devapi` are development tools: their code is in
 * devapi/ at the top of the repository, built into dist-dev/ beside dist/. The
 * product never imports it (a lint rule); this is the one place that loads it, at
 * run time, by path. The image ships dist/ only, so there the commands say they
 * are not installed.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { csrError } from '../errors.js';

/** dist-dev/ sits beside dist/ (and beside src/, for tests that run the sources). */
const entry = new URL('../../dist-dev/devapi/commands/index.js', import.meta.url);

interface DevelopmentCommands {
  runDevelopmentCommand(command: 'dev' | 'devapi', argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number>;
}

export async function runDevelopmentCommand(
  command: 'dev' | 'devapi', argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream,
): Promise<number> {
  let commands: DevelopmentCommands;
  try {
    commands = await import(entry.href) as DevelopmentCommands;
  } catch (e) {
    // Only the entry itself missing means "not installed"; a module missing inside a present build is a broken build.
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || existsSync(fileURLToPath(entry))) throw e;
    throw csrError('DevelopmentCommandMissing', command);
  }
  return await commands.runDevelopmentCommand(command, argv, out, err);
}
