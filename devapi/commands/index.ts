/**
 * The development commands, `csr-signer dev` and `csr-signer devapi`. They live
 * apart from the product (devapi/ is built into dist-dev/, which the image does
 * not contain); the product's CLI loads this module on demand and hands over.
 * Errors are reported here, with this build's own error classes.
 */
import { reportCommandError } from '../../src/commands/exit.js';

export async function runDevelopmentCommand(
  command: 'dev' | 'devapi', argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream,
): Promise<number> {
  const help = argv.includes('--help') || argv.includes('-h');
  try {
    if (command === 'dev') {
      const { devUsage, runDev } = await import('./dev.js');
      if (help) {
        out.write(devUsage);
        return 0;
      }
      return await runDev(argv, out);
    }
    const { devapiUsage, runDevapi } = await import('./devapi.js');
    if (help) {
      out.write(devapiUsage);
      return 0;
    }
    return await runDevapi(argv, out, err);
  } catch (e) {
    return reportCommandError(e, err);
  }
}
