/**
 * PKCS#11 URIs (RFC 7512): which module, token and object a CA key is, written as
 * `pkcs11:token=ca;object=cakey;id=%01?module-path=/usr/lib/softhsm/libsofthsm2.so`.
 *
 * Pure. Parsing is strict where leniency would pick the wrong key: an attribute the
 * RFC does not define (other than a vendor `x-` one) is refused rather than ignored,
 * each attribute appears once, percent-encoding is checked, and `pin-value` (a PIN
 * written into configuration or a command line) is refused with the field to use.
 * Errors are plain Errors whose message is one sentence; the caller names the field.
 */

/** Which token: every attribute given must match the token's CK_TOKEN_INFO (blank-padded fields compared trimmed). */
export interface Pkcs11TokenMatch {
  /** `token`: CK_TOKEN_INFO.label. */
  readonly label?: string;
  /** `serial`: CK_TOKEN_INFO.serialNumber. */
  readonly serial?: string;
  /** `manufacturer`: CK_TOKEN_INFO.manufacturerID. */
  readonly manufacturer?: string;
  /** `model`: CK_TOKEN_INFO.model. */
  readonly model?: string;
  /** `slot-id` (RFC 7512 section 2.3): the slot's CK_SLOT_ID, a decimal number. */
  readonly slotId?: number;
}

export type Pkcs11ObjectType = 'private' | 'public' | 'cert' | 'secret-key' | 'data';

export interface Pkcs11Uri {
  readonly token: Pkcs11TokenMatch;
  /** `object`: CKA_LABEL. */
  readonly objectLabel?: string;
  /** `id`: CKA_ID, raw bytes (percent-encoded in the URI). */
  readonly id?: Uint8Array;
  /** `type`: the object class, when given. */
  readonly type?: Pkcs11ObjectType;
  /** `module-path` (query): the PKCS#11 module's file. */
  readonly modulePath?: string;
  /** `module-name` (query): a module name without path or suffix, as p11-kit resolves it. */
  readonly moduleName?: string;
  /** `pin-source` (query): a file holding the PIN (a `file:` URI or a path). */
  readonly pinSource?: string;
  /** The URI as written, for messages: it never holds a PIN (pin-value is refused). */
  readonly text: string;
}

const pathAttributes = new Set([
  'token', 'manufacturer', 'serial', 'model', 'library-manufacturer', 'library-description', 'library-version',
  'object', 'type', 'id', 'slot-manufacturer', 'slot-description', 'slot-id',
]);
const queryAttributes = new Set(['pin-source', 'pin-value', 'module-name', 'module-path']);
/** Attributes the RFC defines that name the library or slot by description: accepted by the grammar, not used to match. */
const unsupported = new Set(['library-manufacturer', 'library-description', 'library-version', 'slot-manufacturer', 'slot-description']);
const objectTypes: readonly string[] = ['private', 'public', 'cert', 'secret-key', 'data'];

/** True for text that is meant as a PKCS#11 URI (scheme names are case-insensitive). */
export const isPkcs11Uri = (text: string): boolean => /^pkcs11:/i.test(text.trim());

/** RFC 3986 percent-decoding to bytes; throws on a malformed escape. */
function percentDecode(value: string, attribute: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25) {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error(`the value of ${attribute} has a malformed percent-escape at "${value.slice(i, i + 3)}"`);
      out.push(parseInt(hex, 16));
      i += 2;
    } else if (c < 0x21 || c > 0x7e) {
      throw new Error(`the value of ${attribute} holds a character that must be percent-encoded (${c < 0x21 || c === 0x7f ? `code ${c}` : JSON.stringify(value[i])})`);
    } else {
      out.push(c);
    }
  }
  return Uint8Array.from(out);
}

function utf8(bytes: Uint8Array, attribute: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Error(`the value of ${attribute} is not UTF-8 once percent-decoded`);
  }
}

/** Parses a PKCS#11 URI; throws an Error whose message says what is wrong. */
export function parsePkcs11Uri(input: string): Pkcs11Uri {
  const text = input.trim();
  if (!isPkcs11Uri(text)) throw new Error('a PKCS#11 URI starts with "pkcs11:"');
  if (text.length > 4096) throw new Error(`the PKCS#11 URI is ${text.length} characters, more than 4096`);
  const rest = text.slice('pkcs11:'.length);
  const queryAt = rest.indexOf('?');
  const path = queryAt < 0 ? rest : rest.slice(0, queryAt);
  const query = queryAt < 0 ? '' : rest.slice(queryAt + 1);
  const values = new Map<string, string>();
  const read = (part: string, separator: string, known: Set<string>, where: string): void => {
    if (part === '') return;
    for (const pair of part.split(separator)) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new Error(`"${pair}" in the ${where} is not name=value`);
      const name = pair.slice(0, eq);
      if (!known.has(name) && !name.startsWith('x-')) {
        const other = where === 'path' ? queryAttributes : pathAttributes;
        if (other.has(name)) throw new Error(`${name} belongs in the URI's ${where === 'path' ? 'query (after "?")' : 'path (before "?")'}`);
        throw new Error(`${name} is not a PKCS#11 URI attribute (RFC 7512 defines ${[...known].join(', ')})`);
      }
      if (values.has(name)) throw new Error(`${name} appears twice`);
      values.set(name, pair.slice(eq + 1));
    }
  };
  read(path, ';', pathAttributes, 'path');
  read(query, '&', queryAttributes, 'query');
  if (values.has('pin-value')) {
    throw new Error('pin-value puts the PIN into the configuration or the command line, where it is seen and logged; give the PIN in a file (pinFile, or pin-source) or an environment variable (pinEnv) instead');
  }
  for (const name of unsupported) {
    if (values.has(name)) throw new Error(`${name} is not supported for choosing the key; name the token by token, serial, manufacturer, model or slot-id`);
  }
  const text8 = (name: string): string | undefined => {
    const raw = values.get(name);
    return raw === undefined ? undefined : utf8(percentDecode(raw, name), name);
  };
  const type = text8('type');
  if (type !== undefined && !objectTypes.includes(type)) throw new Error(`type ${JSON.stringify(type)} is not one of ${objectTypes.join(', ')}`);
  const slotText = text8('slot-id');
  if (slotText !== undefined && !/^[0-9]{1,10}$/.test(slotText)) throw new Error(`slot-id ${JSON.stringify(slotText)} is not a decimal number`);
  const idRaw = values.get('id');
  const id = idRaw === undefined ? undefined : percentDecode(idRaw, 'id');
  if (id !== undefined && id.length === 0) throw new Error('id is empty');
  const token: Pkcs11TokenMatch = {
    ...optional('label', text8('token')),
    ...optional('serial', text8('serial')),
    ...optional('manufacturer', text8('manufacturer')),
    ...optional('model', text8('model')),
    ...(slotText === undefined ? {} : { slotId: Number(slotText) }),
  };
  return {
    token,
    ...optional('objectLabel', text8('object')),
    ...(id === undefined ? {} : { id }),
    ...(type === undefined ? {} : { type: type as Pkcs11ObjectType }),
    ...optional('modulePath', text8('module-path')),
    ...optional('moduleName', text8('module-name')),
    ...optional('pinSource', text8('pin-source')),
    text,
  };
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}

/** The URI as it names an object, for logs and messages: token and object attributes, no query. */
export function describePkcs11Uri(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.token.label !== undefined) parts.push(`token=${uri.token.label}`);
  if (uri.token.serial !== undefined) parts.push(`serial=${uri.token.serial}`);
  if (uri.token.slotId !== undefined) parts.push(`slot-id=${uri.token.slotId}`);
  if (uri.objectLabel !== undefined) parts.push(`object=${uri.objectLabel}`);
  if (uri.id !== undefined) parts.push(`id=${Array.from(uri.id, (b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`);
  if (uri.type !== undefined) parts.push(`type=${uri.type}`);
  return `pkcs11:${parts.join(';')}`;
}
