/**
 * The in-tree signers never issue what the in-tree signer would not. It re-encodes the
 * subject through Go's pkix.Name, and a TeletexString whose bytes are not UTF-8 in one of
 * the nine attribute types Go models cannot be written: CreateCertificate fails and the
 * in-tree signer retries forever. A kubernetes.io signer refuses it, permanently; a
 * custom signer, which copies the subject Go reads, issues it.
 */
import { parseRequest } from '../../src/pki/index.js';
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { decide } from '../../src/signer/decide.js';
import type { Decision } from '../../src/signer/types.js';
import { Tag } from '../../src/pki/der.js';
import { approved, csrBuilder, signerConfig, withRawRequest, withSigner, withUsages } from '../helpers/csr.js';
import { rawName, rawRequest, text, type RawAttribute } from '../helpers/der-build.js';
import { toPem } from '../helpers/requests.js';

const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
const legacy = 'kubernetes.io/legacy-unknown';
const kubelet = 'kubernetes.io/kube-apiserver-client-kubelet';
const custom = 'example.com/anything';
const teletex = (oid: string, value: string): RawAttribute => [oid, Tag.teletexString, text(value)];
const utf8 = (oid: string, value: string): RawAttribute => [oid, Tag.utf8String, Buffer.from(value, 'utf8')];

async function decideFor(signerName: string, usages: string[], ...subject: RawAttribute[]): Promise<string> {
  const request = Buffer.from(toPem('CERTIFICATE REQUEST', rawRequest({ privateKey: key, subject: rawName(...subject) }))).toString('base64');
  const d: Decision = await decide(csrBuilder(withSigner(signerName), withRawRequest(request), withUsages(...usages), approved()), signerConfig(signerName), parseRequest);
  return d.kind === 'skip' ? `ignored (${d.reason})` : d.kind === 'fail' ? `Failed ${d.reason}: ${d.message}` : 'issued';
}

const refusal = /^Failed InvalidSubject: the request's subject is invalid: attribute CN \(2\.5\.4\.3\) is a TeletexString whose bytes "system:node:caf\\xe9" are not UTF-8; the in-tree signer re-encodes the subject as UTF8String and cannot write them/;
const clientUsages = ['digital signature', 'client auth'];
const nodeO = utf8('2.5.4.10', 'system:nodes');

const vectors: readonly { name: string; signer: string; subject: RawAttribute[]; expected: string | RegExp }[] = [
  { name: 'a kubelet client CN in a TeletexString with a Latin-1 byte is refused', signer: kubelet,
    subject: [nodeO, teletex('2.5.4.3', 'system:node:caf\xe9')], expected: refusal },
  { name: 'so is an O, under the legacy signer that checks nothing else', signer: legacy,
    subject: [teletex('2.5.4.10', 'caf\xe9')], expected: /^Failed InvalidSubject: .*attribute O \(2\.5\.4\.10\) is a TeletexString whose bytes "caf\\xe9"/ },
  { name: 'and a serialNumber', signer: legacy, subject: [teletex('2.5.4.5', '\xff')], expected: /^Failed InvalidSubject: .*attribute SERIALNUMBER/ },
  { name: 'the in-tree rules come first: a kubelet client without system:nodes fails for that', signer: kubelet,
    subject: [teletex('2.5.4.3', 'system:node:caf\xe9')], expected: 'Failed SignerValidationFailure: subject organization is not system:nodes' },
  { name: 'a TeletexString whose bytes are UTF-8 is issued', signer: kubelet, subject: [nodeO, teletex('2.5.4.3', 'system:node:caf\xc3\xa9')], expected: 'issued' },
  { name: 'an ASCII TeletexString is issued', signer: kubelet, subject: [nodeO, teletex('2.5.4.3', 'system:node:a')], expected: 'issued' },
  { name: 'an earlier CN, which Go drops keeping the last, is issued', signer: legacy,
    subject: [teletex('2.5.4.3', 'caf\xe9'), utf8('2.5.4.3', 'last')], expected: 'issued' },
  { name: 'an earlier serialNumber, which Go also drops keeping the last, is issued', signer: legacy,
    subject: [teletex('2.5.4.5', '\xff'), utf8('2.5.4.5', '42')], expected: 'issued' },
  { name: 'an attribute type Go does not model (UID), which it drops, is issued', signer: legacy,
    subject: [teletex('0.9.2342.19200300.100.1.1', 'caf\xe9')], expected: 'issued' },
  { name: 'a custom signer, which copies the subject Go reads, issues it', signer: custom,
    subject: [teletex('2.5.4.3', 'system:node:caf\xe9')], expected: 'issued' },
];

void t.test('a subject the in-tree signer cannot re-encode is refused by the kubernetes.io signers only', async (t) => {
  for (const v of vectors) {
    const usages = v.signer === custom ? ['digital signature'] : clientUsages;
    const got = await decideFor(v.signer, usages, ...v.subject);
    if (typeof v.expected === 'string') t.equal(got, v.expected, v.name);
    else t.match(got, v.expected, v.name);
  }
});
