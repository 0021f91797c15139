/**
 * The subset of net/url's url.Parse a URI subjectAltName goes through in crypto/x509
 * (parseSANExtension), with its error texts: the PKI core refuses a URI Go would not read,
 * and devapi's subjectAltName check (devapi/go/san.ts) reports it as Go does.
 */
import { goQuote } from './encoding.js';

/** domainToReverseLabels' verdict. */
function validDomain(host: string): boolean {
  const labels = host.split('.');
  return labels.every((l) => l.length > 0 && [...l].every((c) => c.charCodeAt(0) >= 33 && c.charCodeAt(0) <= 126));
}

const isHex = (c: string | undefined): boolean => c !== undefined && /^[0-9a-fA-F]$/.test(c);
const hostSafe = /^[a-zA-Z0-9\-_.~!$&'()*+,;=:[\]<>"]$/;

/** net/url unescape's refusals: a bad %-escape; in a host also ASCII escapes and characters a host may not hold. */
function unescapeError(text: string, host: boolean): string | undefined {
  for (let i = 0; i < text.length;) {
    const c = text[i] as string;
    if (c === '%') {
      if (i + 2 >= text.length || !isHex(text[i + 1]) || !isHex(text[i + 2])) return `invalid URL escape ${goQuote(text.slice(i, i + 3))}`;
      if (host && parseInt(text[i + 1] as string, 16) < 8 && text.slice(i, i + 3) !== '%25') return `invalid URL escape ${goQuote(text.slice(i, i + 3))}`;
      i += 3;
      continue;
    }
    if (host && c.charCodeAt(0) < 0x80 && !hostSafe.test(c)) return `invalid character ${goQuote(c)} in host name`;
    i++;
  }
  return undefined;
}

/** url.Parse for the URIs Go reads from a SAN: its error text, or the host it found. */
function parseUrl(raw: string): { error: string } | { host: string } {
  const hash = raw.indexOf('#');
  const u = hash < 0 ? raw : raw.slice(0, hash);
  const fail = (e: string, whole = u): { error: string } => ({ error: `parse ${goQuote(whole)}: ${e}` });
  // Parse checks the fragment's escapes once the rest has parsed, whatever its form (opaque too).
  const withFragment = (parsed: { host: string }): { error: string } | { host: string } => {
    const fragmentError = hash >= 0 ? unescapeError(raw.slice(hash + 1), false) : undefined;
    return fragmentError ? fail(fragmentError, raw) : parsed;
  };
  if ([...u].some((c) => c < ' ' || c === '\x7f')) return fail('net/url: invalid control character in URL');
  let scheme = '';
  let rest = u;
  const schemeMatch = /^([a-zA-Z][a-zA-Z0-9+.-]*):/.exec(u);
  if (u.startsWith(':')) return fail('missing protocol scheme');
  if (schemeMatch) { scheme = schemeMatch[1] ?? ''; rest = u.slice(scheme.length + 1); }
  const q = rest.endsWith('?') && rest.split('?').length === 2 ? rest.length - 1 : rest.indexOf('?');
  if (q >= 0) rest = rest.slice(0, q);
  let host = '';
  if (!rest.startsWith('/')) {
    if (scheme !== '') return withFragment({ host });
    if ((rest.split('/')[0] ?? '').includes(':')) return fail('first path segment in URL cannot contain colon');
  }
  if (rest.startsWith('//') && (scheme !== '' || !rest.startsWith('///'))) {
    const slash = rest.indexOf('/', 2);
    const authority = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    const at = authority.lastIndexOf('@');
    host = authority.slice(at + 1);
    const bracket = host.startsWith('[') ? host.lastIndexOf(']') : -1;
    if (host.startsWith('[') && bracket < 0) return fail("missing ']' in host");
    const colon = host.startsWith('[') ? bracket + 1 : host.lastIndexOf(':');
    const port = colon >= 0 && colon < host.length ? host.slice(colon) : '';
    if (port !== '' && !/^:[0-9]*$/.test(port)) return fail(`invalid port ${goQuote(port)} after host`);
    const hostError = unescapeError(host, true);
    if (hostError) return fail(hostError);
    if (at >= 0 && !/^[a-zA-Z0-9\-._:~!$&'()*+,;=%@]*$/.test(authority.slice(0, at))) return fail('net/url: invalid userinfo');
    if (at >= 0) {
      const userError = unescapeError(authority.slice(0, at), false);
      if (userError) return fail(userError);
    }
  }
  const pathError = unescapeError(rest, false);
  if (pathError) return fail(pathError);
  return withFragment({ host: host.replace(/%([0-9a-fA-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))) });
}

/**
 * What parseSANExtension says of an ASCII uniformResourceIdentifier: url.Parse's error
 * ("parse \"…\": invalid URL escape \"%zz\""), "invalid domain" for a host with an
 * empty label or a character outside '!'…'~' (domainToReverseLabels), or undefined
 * when Go reads it.
 */
export function uriProblem(uri: string): string | undefined {
  const parsed = parseUrl(uri);
  if ('error' in parsed) return parsed.error;
  return parsed.host && !validDomain(parsed.host) ? 'invalid domain' : undefined;
}
