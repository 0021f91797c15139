/**
 * Start the sidecar on `--http-address`: `host:port`, `[ipv6]:port`, or `:port`
 * for every address. The config has validated the text; this splits it.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { parseInteger } from '../numbers.js';

export interface ListenAddress {
  /** An IPv4 or IPv6 address (no brackets) or a host name; '' for every address. */
  readonly host: string;
  readonly port: number;
}

/** Splits `host:port`; throws on a text the config should not have let through. */
export function parseAddress(address: string): ListenAddress {
  const colon = address.lastIndexOf(':');
  const portText = address.slice(colon + 1);
  let host = address.slice(0, Math.max(colon, 0));
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) throw new Error(`listen address ${JSON.stringify(address)}: put an IPv6 address in brackets`);
  const parsed = parseInteger(portText, { min: 0, max: 65535 });
  if (colon < 0 || !('value' in parsed)) {
    throw new Error(`listen address ${JSON.stringify(address)}: expected HOST:PORT with a port from 0 to 65535`);
  }
  return { host, port: parsed.value };
}

/** `host:port` of a bound socket, IPv6 in brackets. */
export function formatAddress(info: AddressInfo): string {
  return info.family === 'IPv6' || info.address.includes(':') ? `[${info.address}]:${info.port}` : `${info.address}:${info.port}`;
}

const hasCode = (error: unknown, code: string): boolean =>
  typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;

/**
 * Listens on `address` and returns the address bound (the real port when 0 was
 * asked for). `:port` binds `::`, which also accepts IPv4, or `0.0.0.0` on a host
 * without IPv6.
 */
export async function listen(app: FastifyInstance, address: string): Promise<string> {
  const { host, port } = parseAddress(address);
  if (host !== '') {
    await app.listen({ host, port });
  } else {
    try {
      await app.listen({ host: '::', port });
    } catch (error) {
      if (!hasCode(error, 'EAFNOSUPPORT') && !hasCode(error, 'EADDRNOTAVAIL')) throw error;
      await app.listen({ host: '0.0.0.0', port });
    }
  }
  const bound = app.server.address();
  if (bound === null || typeof bound === 'string') throw new Error('the HTTP server is not bound to a TCP address');
  return formatAddress(bound);
}
