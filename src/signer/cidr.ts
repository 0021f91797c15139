/**
 * CIDR ranges for IP SAN policy, compared on address bytes. IPv4 and IPv6 are
 * separate families: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is not inside
 * an IPv4 range, so such a SAN needs an IPv6 range of its own.
 */
import { parseIp } from '../pki/index.js';

export interface Cidr {
  /** The network address, 4 or 16 bytes, host bits zeroed. */
  readonly network: Uint8Array;
  readonly prefix: number;
}

/** Parses `10.0.0.0/8`, `fd00::/8` or a bare address (a /32 or /128); undefined when it is not one. */
export function parseCidr(text: string): Cidr | undefined {
  const slash = text.indexOf('/');
  const address = parseIp(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return undefined;
  const bits = address.length * 8;
  const prefixText = slash < 0 ? String(bits) : text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > bits) return undefined;
  return { network: masked(address, prefix), prefix };
}

function masked(address: Uint8Array, prefix: number): Uint8Array {
  const out = Uint8Array.from(address);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = (out[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

/** Whether the address bytes lie inside the range (same family only). */
export function cidrContains(cidr: Cidr, address: Uint8Array): boolean {
  if (address.length !== cidr.network.length) return false;
  const candidate = masked(address, cidr.prefix);
  return candidate.every((b, i) => b === cidr.network[i]);
}

/** Whether the textual address lies inside any of the textual ranges; unparsable text matches nothing. */
export function ipInRanges(ip: string, ranges: readonly string[]): boolean {
  const address = parseIp(ip);
  if (address === undefined) return false;
  return ranges.some((r) => {
    const cidr = parseCidr(r);
    return cidr !== undefined && cidrContains(cidr, address);
  });
}
