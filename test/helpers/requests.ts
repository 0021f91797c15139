/**
 * Well-formed PKCS#10 requests for tests, made by encoders independent of ours:
 *
 *   buildRequest(spec)                 in-process with pkijs, signed with node:crypto; a spec with
 *                                      modifiers (`{ ...defaults, dns: [...] }`), keys cached per type
 *   opensslRequest(dir, name, options) by the openssl binary with a fresh key in `dir` (PEM), as a
 *                                      user following the docs would make one
 *   toPem(label, der)
 *
 * Requests no library would write (invalid structures, lying lengths, odd encodings
 * signed for real) come from helpers/der-build.ts; CSR objects around a request from
 * helpers/csr.ts.
 */
import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { commonName, dnsName as dnsNameSan, extension, extensionRequest, OID, pem, rawRequest, seq } from './der-build.js';
import { run } from './tools.js';

export type TestKeyType = 'p256' | 'p384' | 'p521' | 'rsa2048' | 'rsa1024' | 'rsa3072' | 'rsa4096' | 'ed25519';

export interface TestKeyPair {
  readonly type: TestKeyType;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

const keyCache = new Map<TestKeyType, TestKeyPair>();

/** A key pair of `type`; cached per process because RSA generation is slow. */
export function testKey(type: TestKeyType): TestKeyPair {
  let pair = keyCache.get(type);
  if (!pair) {
    const generated =
      type === 'ed25519' ? generateKeyPairSync('ed25519')
        : type.startsWith('rsa') ? generateKeyPairSync('rsa', { modulusLength: Number(type.slice(3)) })
          : generateKeyPairSync('ec', { namedCurve: { p256: 'P-256', p384: 'P-384', p521: 'P-521' }[type as 'p256'] });
    pair = { type, ...generated };
    keyCache.set(type, pair);
  }
  return pair;
}

/** ASN.1 string types a subject attribute value can be written in. */
export type NameStringType = 'utf8' | 'printable' | 'ia5' | 'teletex' | 'bmp' | 'universal' | 'numeric';

/** One AttributeTypeAndValue: a dotted OID, its text, and the string type (UTF8String unless given). */
export interface NameAttributeSpec {
  readonly type: string;
  readonly value: string;
  readonly as?: NameStringType;
}

/** A subjectAltName of any kind, for requests that list kinds in an order of their own. */
export type AltNameSpec =
  | { readonly dns: string } | { readonly email: string } | { readonly ip: string } | { readonly uri: string };

export interface RequestSpec {
  readonly key?: TestKeyType;
  /** Sign with this key pair instead of the cached key of `key` (e.g. a CA's own key). */
  readonly keyPair?: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
  /**
   * The subject as RDNs, each a list of attributes (more than one: a multi-valued RDN),
   * in this order. When given, commonName and organizations are ignored.
   */
  readonly subject?: readonly (readonly NameAttributeSpec[])[];
  /** subjectAltNames in this order, after those of dns, emails, ips and uris. */
  readonly altNames?: readonly AltNameSpec[];
  readonly commonName?: string;
  readonly organizations?: readonly string[];
  readonly dns?: readonly string[];
  readonly ips?: readonly string[];
  readonly emails?: readonly string[];
  readonly uris?: readonly string[];
  /** Extra requested extensions (OID, DER value). */
  readonly extensions?: readonly { readonly oid: string; readonly critical?: boolean; readonly value: ArrayBuffer }[];
  /** Sign with RSASSA-PSS (RSA keys only). */
  readonly pss?: boolean;
  /** Write the RSA key's AlgorithmIdentifier without its NULL parameters (which RFC 3279 requires and Go insists on). */
  readonly rsaKeyWithoutNull?: boolean;
}

const ab = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** IPv4 dotted text, or IPv6 text (`::` and a dotted IPv4 tail allowed: `::ffff:192.0.2.1`). */
export function ipBytes(ip: string): ArrayBuffer {
  if (!ip.includes(':')) return ab(Uint8Array.from(ip.split('.').map(Number)));
  const dotted = /:(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number];
    ip = `${ip.slice(0, dotted.index)}:${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const n = parseInt(g, 16); out[2 * i] = n >> 8; out[2 * i + 1] = n & 0xff; });
  return ab(out);
}

/** The TestKeyType of a public key (RSA by modulus size). */
function keyTypeOf(key: KeyObject): TestKeyType {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ed25519') return 'ed25519';
  if (key.asymmetricKeyType === 'rsa') return `rsa${details?.modulusLength ?? 2048}` as TestKeyType;
  return ({ 'prime256v1': 'p256', 'secp384r1': 'p384', 'secp521r1': 'p521' } as Record<string, TestKeyType>)[details?.namedCurve ?? ''] ?? 'p256';
}

function signatureAlgorithm(type: TestKeyType, pss: boolean): { oid: string; hash: string | null; params?: asn1js.AsnType } {
  if (type === 'ed25519') return { oid: '1.3.101.112', hash: null };
  if (type.startsWith('rsa')) {
    if (!pss) return { oid: '1.2.840.113549.1.1.11', hash: 'sha256', params: new asn1js.Null() };
    const sha256 = new pkijs.AlgorithmIdentifier({ algorithmId: '2.16.840.1.101.3.4.2.1', algorithmParams: new asn1js.Null() });
    const params = new pkijs.RSASSAPSSParams({
      hashAlgorithm: sha256,
      maskGenAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.8', algorithmParams: sha256.toSchema() }),
      saltLength: 32,
    });
    return { oid: '1.2.840.113549.1.1.10', hash: 'sha256', params: params.toSchema() };
  }
  const byCurve = { p256: ['1.2.840.10045.4.3.2', 'sha256'], p384: ['1.2.840.10045.4.3.3', 'sha384'], p521: ['1.2.840.10045.4.3.4', 'sha512'] } as const;
  const [oid, hash] = byCurve[type as keyof typeof byCurve];
  return { oid, hash };
}

/** A DER request built by pkijs and signed by node:crypto. */
const stringTypes: Record<NameStringType, (value: string) => asn1js.BaseBlock> = {
  utf8: (value) => new asn1js.Utf8String({ value }),
  printable: (value) => new asn1js.PrintableString({ value }),
  ia5: (value) => new asn1js.IA5String({ value }),
  teletex: (value) => new asn1js.TeletexString({ value }),
  bmp: (value) => new asn1js.BmpString({ value }),
  universal: (value) => new asn1js.UniversalString({ value }),
  numeric: (value) => new asn1js.NumericString({ value }),
};

const attribute = (a: NameAttributeSpec): asn1js.Sequence =>
  new asn1js.Sequence({ value: [new asn1js.ObjectIdentifier({ value: a.type }), stringTypes[a.as ?? 'utf8'](a.value)] });

/** A SET OF attributes in DER order (X.690 11.6: by their encodings), as a multi-valued RDN must be. */
function rdnSet(attributes: readonly NameAttributeSpec[]): asn1js.Set {
  const encoded = attributes.map((a) => new Uint8Array(attribute(a).toBER(false)));
  encoded.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  return new asn1js.Set({ value: encoded.map((e) => asn1js.fromBER(ab(e)).result) });
}

const altName = (n: AltNameSpec): pkijs.GeneralName =>
  'dns' in n ? new pkijs.GeneralName({ type: 2, value: n.dns })
    : 'email' in n ? new pkijs.GeneralName({ type: 1, value: n.email })
      : 'uri' in n ? new pkijs.GeneralName({ type: 6, value: n.uri })
        : new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(n.ip) }) });

/** A DER request built by pkijs and signed by node:crypto. */
export function buildRequest(spec: RequestSpec = {}): Uint8Array<ArrayBuffer> {
  const pair = spec.keyPair === undefined ? testKey(spec.key ?? 'p256') : { type: keyTypeOf(spec.keyPair.publicKey), ...spec.keyPair };
  const csr = new pkijs.CertificationRequest();
  // One attribute per RDN, as openssl and Go write subjects (pkijs alone would put them all in one SET).
  const rdn = (type: string, value: string): asn1js.Set => rdnSet([{ type, value }]);
  const rdns = spec.subject !== undefined ? spec.subject.map(rdnSet) : [
    ...(spec.organizations ?? []).map((o) => rdn('2.5.4.10', o)),
    ...(spec.commonName === undefined ? [] : [rdn('2.5.4.3', spec.commonName)]),
  ];
  csr.subject.valueBeforeDecode = new asn1js.Sequence({ value: rdns }).toBER(false);
  csr.subjectPublicKeyInfo = pkijs.PublicKeyInfo.fromBER(new Uint8Array(pair.publicKey.export({ type: 'spki', format: 'der' })));
  if (spec.rsaKeyWithoutNull) csr.subjectPublicKeyInfo.algorithm = new pkijs.AlgorithmIdentifier({ algorithmId: '1.2.840.113549.1.1.1' });
  const names: pkijs.GeneralName[] = [
    ...(spec.dns ?? []).map((value) => new pkijs.GeneralName({ type: 2, value })),
    ...(spec.emails ?? []).map((value) => new pkijs.GeneralName({ type: 1, value })),
    ...(spec.ips ?? []).map((ip) => new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: ipBytes(ip) }) })),
    ...(spec.uris ?? []).map((value) => new pkijs.GeneralName({ type: 6, value })),
    ...(spec.altNames ?? []).map(altName),
  ];
  const extensions: pkijs.Extension[] = [];
  if (names.length > 0) {
    extensions.push(new pkijs.Extension({
      extnID: '2.5.29.17', critical: false,
      extnValue: new pkijs.GeneralNames({ names }).toSchema().toBER(false),
    }));
  }
  for (const e of spec.extensions ?? []) extensions.push(new pkijs.Extension({ extnID: e.oid, critical: e.critical ?? false, extnValue: e.value }));
  // PKCS#10 requires the attributes field even when empty; Go refuses a request without it.
  csr.attributes = extensions.length > 0
    ? [new pkijs.Attribute({ type: '1.2.840.113549.1.9.14', values: [new pkijs.Extensions({ extensions }).toSchema()] })]
    : [];
  const algorithm = signatureAlgorithm(pair.type, spec.pss ?? false);
  csr.signatureAlgorithm = new pkijs.AlgorithmIdentifier({ algorithmId: algorithm.oid, ...(algorithm.params ? { algorithmParams: algorithm.params } : {}) });
  // encodeTBS is protected in the typings but is how pkijs itself builds the signed bytes.
  const tbs = new Uint8Array((csr as unknown as { encodeTBS(): asn1js.Sequence }).encodeTBS().toBER(false));
  csr.tbsView = tbs;
  const signature = spec.pss
    ? sign(algorithm.hash, tbs, { key: pair.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 })
    : sign(algorithm.hash, tbs, pair.privateKey);
  csr.signatureValue = new asn1js.BitString({ valueHex: ab(signature) });
  return new Uint8Array(csr.toSchema().toBER(false));
}

export const toPem = (label: string, der: Uint8Array): string =>
  `-----BEGIN ${label}-----\n${(Buffer.from(der).toString('base64').match(/.{1,64}/g) ?? []).join('\n')}\n-----END ${label}-----\n`;

/** basicConstraints value with cA = TRUE. */
export const caTrueBasicConstraints = (): ArrayBuffer => new pkijs.BasicConstraints({ cA: true }).toSchema().toBER(false);

export interface RequestOptions {
  readonly cn?: string;
  readonly o?: readonly string[];
  /** subjectAltName entries in openssl syntax: DNS:x, IP:y, email:z, URI:u. */
  readonly sans?: readonly string[];
  readonly extensions?: readonly string[];
  readonly key?: 'p256' | 'rsa2048';
}

/** A PEM request made by openssl, with a fresh key in `dir`. */
export function opensslRequest(dir: string, name: string, options: RequestOptions = {}): string {
  const subject = `/${[...(options.o ?? []).map((o) => `O=${o}`), ...(options.cn === undefined ? [] : [`CN=${options.cn}`])].join('/')}`;
  const keyArgs = options.key === 'rsa2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  const ext = [...(options.sans?.length ? [`subjectAltName=${options.sans.join(',')}`] : []), ...(options.extensions ?? [])];
  const r = run('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', join(dir, `${name}.key`), '-subj', subject === '/' ? '/' : subject,
    ...ext.flatMap((e) => ['-addext', e])]);
  if (r.code !== 0) throw new Error(`openssl req for ${name}: ${r.stderr}`);
  return r.stdout;
}

/**
 * A PEM request for `dnsName` (CN and one DNS name) with a new P-256 key, ECDSA-SHA256:
 * written by helpers/der-build.ts in microseconds, for suites that need thousands
 * (openssl is too slow, pkijs with a cached key would repeat keys). As bench/signer.js.
 */
export function p256Request(dnsName: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const der = rawRequest({
    privateKey,
    subject: commonName(dnsName),
    attributes: extensionRequest(extension(OID.subjectAltName, seq(dnsNameSan(dnsName)))),
  });
  return pem('CERTIFICATE REQUEST', der);
}
