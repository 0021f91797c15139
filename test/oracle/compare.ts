/**
 * Field-by-field comparison of two certificates as Go's crypto/x509 reads them:
 * ours and the one the in-tree signer (the oracle) issues for the same request.
 * Each difference has a key; docs/replacing-kcm.md lists the keys that are
 * differences on purpose, and any other key fails the differential test.
 */
import * as asn1js from 'asn1js';
import type { GoFields, GoName } from '../helpers/go-oracle.js';

export interface Difference {
  readonly key: string;
  readonly detail: string;
}

const Ext = { keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', basicConstraints: '2.5.29.19', ski: '2.5.29.14', aki: '2.5.29.35', san: '2.5.29.17' } as const;

/** The attribute types Go's pkix.Name models (and re-encodes); it drops every other. */
const modelledTypes = new Set(['2.5.4.6', '2.5.4.8', '2.5.4.7', '2.5.4.9', '2.5.4.17', '2.5.4.10', '2.5.4.11', '2.5.4.3', '2.5.4.5']);
/** The pkix.Name fields that hold one value: FillFromRDNSequence keeps the last CN and the last serialNumber. */
const singleValued = new Set(['2.5.4.3', '2.5.4.5']);

const json = (v: unknown): string => JSON.stringify(v);
const same = (a: unknown, b: unknown): boolean => json(a) === json(b);

type Extension = GoFields['extensions'][number];
const extensionOf = (f: GoFields, id: string): Extension | undefined => f.extensions.find((e) => e.id === id);

/** The modelled fields of a pkix.Name: what every Kubernetes component reads from a subject. */
const modelled = (n: GoName): Omit<GoName, 'names'> => ({
  country: n.country, organization: n.organization, organizationalUnit: n.organizationalUnit, locality: n.locality, province: n.province,
  streetAddress: n.streetAddress, postalCode: n.postalCode, serialNumber: n.serialNumber, commonName: n.commonName,
});

/** The (type, value) pairs Go keeps when it re-encodes a subject: modelled types, only the last CN and serialNumber. */
function keptByGo(names: GoName['names']): string[] {
  const kept = names.filter((n, i) => modelledTypes.has(n.type) && (!singleValued.has(n.type) || !names.slice(i + 1).some((m) => m.type === n.type)));
  return kept.map((n) => `${n.type}=${n.value}`).sort();
}

/** Each list of a pkix.Name's fields sorted: the values regardless of their order. */
const unordered = (n: GoName): unknown =>
  Object.entries(modelled(n)).map(([k, v]) => [k, Array.isArray(v) ? [...v].sort() : v]);

function compareSubject(ours: GoFields, theirs: GoFields, out: Difference[]): void {
  if (same(unordered(ours.subject), unordered(theirs.subject)) && !same(modelled(ours.subject), modelled(theirs.subject))) {
    out.push({ key: 'subject-value-order', detail: `Go reads ours as ${json(modelled(ours.subject))}, the in-tree one as ${json(modelled(theirs.subject))}` });
  } else if (!same(modelled(ours.subject), modelled(theirs.subject))) {
    out.push({ key: 'subject', detail: `Go reads ours as ${json(modelled(ours.subject))}, the in-tree one as ${json(modelled(theirs.subject))}` });
    return;
  }
  const kept = keptByGo(ours.subject.names);
  const theirNames = theirs.subject.names.map((n) => `${n.type}=${n.value}`).sort();
  // Go writes an empty CN or serialNumber not at all.
  const nonEmpty = kept.filter((k) => !/^2\.5\.4\.(3|5)=$/.test(k));
  if (!same(nonEmpty, theirNames)) out.push({ key: 'subject', detail: `attributes ${json(nonEmpty)} against ${json(theirNames)}` });
  if (ours.subject.names.length > kept.length) {
    const dropped = ours.subject.names.filter((n) => !modelledTypes.has(n.type) || singleValued.has(n.type)).map((n) => n.type);
    out.push({ key: 'subject-attributes-kept', detail: `ours keeps attributes Go drops (types ${json(dropped)})` });
  }
  if (ours.rawSubject !== theirs.rawSubject) out.push({ key: 'subject-encoding', detail: `subject bytes ${ours.rawSubject} against ${theirs.rawSubject}` });
}

/** GeneralNames as [tag, hex of the content] pairs. */
function generalNames(base64: string): [number, string][] {
  const bytes = Buffer.from(base64, 'base64');
  const parsed = asn1js.fromBER(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const seq = parsed.result as asn1js.Sequence;
  return seq.valueBlock.value.map((n) => [n.idBlock.tagNumber, Buffer.from(n.valueBeforeDecodeView).subarray(2).toString('hex')]);
}

const mappedPrefix = '00000000000000000000ffff';
/** An empty Name, SEQUENCE {}, in base64. */
const emptyName = 'MAA=';

function compareSubjectAltNames(ours: GoFields, theirs: GoFields, out: Difference[]): void {
  const lists = (f: GoFields): unknown => [f.dnsNames, f.emailAddresses, f.ipAddresses, f.uris];
  if (!same(lists(ours), lists(theirs))) {
    out.push({ key: 'san', detail: `Go reads ours as ${json(lists(ours))}, the in-tree one as ${json(lists(theirs))}` });
    return;
  }
  const a = extensionOf(ours, Ext.san);
  const b = extensionOf(theirs, Ext.san);
  if (a === undefined || b === undefined) {
    if (a !== b) out.push({ key: 'san', detail: `subjectAltName extension ${a ? 'only in ours' : 'only in the in-tree one'}` });
    return;
  }
  if (a.critical !== b.critical) {
    // Go writes the SAN critical when the subject is empty (RFC 5280 4.2.1.6); its subject can be empty where ours is not.
    const goEmptiedSubject = b.critical && theirs.rawSubject === emptyName && ours.rawSubject !== emptyName;
    out.push(goEmptiedSubject
      ? { key: 'san-criticality', detail: 'the in-tree signer drops every subject attribute, so its SAN is critical; ours keeps them and its SAN is not' }
      : { key: 'san', detail: `subjectAltName critical ${String(a.critical)} against ${String(b.critical)}` });
  }
  if (a.value === b.value) return;
  const x = generalNames(a.value);
  const y = generalNames(b.value);
  if (x.length !== y.length) {
    out.push({ key: 'san', detail: `subjectAltName bytes ${a.value} against ${b.value}` });
    return;
  }
  // Go reads both lists alike (checked above); say how the bytes of each differing name differ.
  const keys = new Set<string>();
  x.forEach(([tag, hex], i) => {
    const [theirTag, theirHex] = y[i] as [number, string];
    if (tag === theirTag && hex === theirHex) return;
    if (tag === 7 && theirTag === 7 && hex === mappedPrefix + theirHex) keys.add('san-ipv4-mapped-ipv6');
    else if (tag === 6 && theirTag === 6) keys.add('san-uri-encoding');
    else keys.add('san');
  });
  for (const key of keys) {
    out.push({
      key,
      detail: key === 'san-ipv4-mapped-ipv6' ? 'ours keeps the 16 bytes of an IPv4-mapped IPv6 address; Go writes its 4-byte IPv4 form'
        : key === 'san-uri-encoding' ? `ours keeps the requested URI text, Go writes url.URL.String(): ${a.value} against ${b.value}`
          : `subjectAltName bytes ${a.value} against ${b.value}`,
    });
  }
}

/** One extension's presence, criticality and bytes, plus what Go parsed from it. */
function compareExtension(key: string, id: string, ours: GoFields, theirs: GoFields, parsed: (f: GoFields) => unknown, out: Difference[]): void {
  const a = extensionOf(ours, id);
  const b = extensionOf(theirs, id);
  if (!same(parsed(ours), parsed(theirs)) || !same(a, b)) {
    out.push({ key, detail: `ours ${json({ parsed: parsed(ours), extension: a })}, the in-tree one ${json({ parsed: parsed(theirs), extension: b })}` });
  }
}

/** Every difference between our certificate and the in-tree signer's, as Go reads both. */
export function compareCertificates(ours: GoFields, theirs: GoFields): Difference[] {
  const out: Difference[] = [];
  const field = (key: string, pick: (f: GoFields) => unknown): void => {
    if (!same(pick(ours), pick(theirs))) out.push({ key, detail: `ours ${json(pick(ours))}, the in-tree one ${json(pick(theirs))}` });
  };
  field('version', (f) => f.version);
  if (ours.serialHex.startsWith('-') || ours.serialHex.length > 32 || ours.serialHex === '0') out.push({ key: 'serial', detail: `serial ${ours.serialHex}` });
  field('issuer', (f) => [f.rawIssuer, f.issuer]);
  compareSubject(ours, theirs, out);
  field('validity', (f) => [f.notBefore, f.notAfter]);
  field('signature-algorithm', (f) => f.signatureAlgorithm);
  field('public-key', (f) => [f.publicKeyAlgorithm, f.rawSubjectPublicKeyInfo]);
  compareExtension('key-usage', Ext.keyUsage, ours, theirs, (f) => f.keyUsage, out);
  compareExtension('ext-key-usage', Ext.extKeyUsage, ours, theirs, (f) => [f.extKeyUsage, f.unknownExtKeyUsage], out);
  compareExtension('basic-constraints', Ext.basicConstraints, ours, theirs, (f) => [f.basicConstraintsValid, f.isCA, f.maxPathLen, f.maxPathLenZero], out);
  compareExtension('authority-key-id', Ext.aki, ours, theirs, (f) => f.authorityKeyId, out);
  compareSubjectAltNames(ours, theirs, out);
  const oursSki = extensionOf(ours, Ext.ski);
  const skiAdded = oursSki !== undefined && extensionOf(theirs, Ext.ski) === undefined && theirs.subjectKeyId === '';
  if (skiAdded) {
    if (oursSki.critical || ours.subjectKeyId.length !== 40) out.push({ key: 'subject-key-id', detail: `ours ${json(oursSki)}` });
    else out.push({ key: 'ski-added', detail: `ours has subjectKeyIdentifier ${ours.subjectKeyId}` });
  } else {
    compareExtension('subject-key-id', Ext.ski, ours, theirs, (f) => f.subjectKeyId, out);
  }
  // The extension list: ids and criticality in order (the SAN's criticality is judged above).
  const order = (f: GoFields, dropSki: boolean): string[] =>
    f.extensions.filter((e) => !(dropSki && e.id === Ext.ski)).map((e) => `${e.id}${e.critical && e.id !== Ext.san ? '!' : ''}`);
  if (!same(order(ours, skiAdded), order(theirs, false))) out.push({ key: 'extensions', detail: `ours ${json(order(ours, false))}, the in-tree one ${json(order(theirs, false))}` });
  return out;
}
