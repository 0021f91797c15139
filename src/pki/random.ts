/**
 * Random bytes for serial numbers, the one randomness a certificate needs (signRequest and
 * issueForKey take it as their `random`). node:crypto's CSPRNG is asked for a block at a time
 * instead of once per serial: each call into it costs about 5 µs of CPU on Node 24 (a crypto
 * job object per call), a slice of the block about 0.1 µs, and a P-256 certificate costs about
 * 330 µs in all. Every byte is handed out once, and each caller gets its own copy. A serial is
 * public, so the block waiting in memory holds nothing secret.
 */
import { randomFillSync } from 'node:crypto';

const defaultBlockBytes = 4096;

/** A source of random bytes drawn `blockBytes` at a time; a request for more than a block is filled on its own. */
export function randomSource(blockBytes: number = defaultBlockBytes): (size: number) => Uint8Array {
  if (!Number.isSafeInteger(blockBytes) || blockBytes < 1 || blockBytes > 65_536) {
    throw new RangeError(`a random block holds 1 to 65,536 bytes, not ${blockBytes}`);
  }
  const block = new Uint8Array(blockBytes);
  let used = blockBytes;
  return (size: number): Uint8Array => {
    // A size that is not a whole number of bytes would move the cursor backwards (bytes handed out twice) or to NaN.
    if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`random bytes are asked for by a whole, non-negative count, not ${size}`);
    if (size > blockBytes) return randomFillSync(new Uint8Array(size));
    if (used + size > blockBytes) {
      randomFillSync(block);
      used = 0;
    }
    const bytes = block.slice(used, used + size);
    used += size;
    return bytes;
  };
}
