/** The smallest CSR object the loop's tests need (no request inside). */
import type { Csr } from '../../src/signer/types.js';

export const bareCsr = (name: string, signerName = 'example.com/serving'): Csr => ({
  metadata: { name },
  spec: { request: '', signerName, usages: ['server auth'] },
});

/** Polls until `check` holds (or fails the wait after `ms`). */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
