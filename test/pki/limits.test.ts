/** The per-name length limit bounds what one request can make the signer match and copy. */
import t from 'tap';
import { CsrSignerError } from '../../src/errors.js';
import { parseRequestDer } from '../../src/pki/index.js';
import { buildRequest } from '../helpers/requests.js';

const label = (n: number): string => 'a'.repeat(n);
const limits = { maxBytes: 65_536, maxSubjectAltNames: 100, maxNameLength: 300 };

const cases: [string, Parameters<typeof buildRequest>[0], string | undefined][] = [
  ['a DNS name of 253 characters is accepted', { dns: [`${label(63)}.${label(63)}.${label(63)}.${label(61)}`] }, undefined],
  ['a DNS name of 254 characters is refused whatever the limit', { dns: [`${label(63)}.${label(63)}.${label(63)}.${label(62)}`] }, 'InvalidSubjectAltName'],
  ['an email address over the limit is refused', { emails: [`${label(300)}@example.com`] }, 'InvalidSubjectAltName'],
  ['a URI at the limit is accepted', { uris: [`https://e.com/${label(300 - 14)}`] }, undefined],
  ['a URI over the limit is refused', { uris: [`https://e.com/${label(301 - 14)}`] }, 'InvalidSubjectAltName'],
  ['a subject value over the limit is refused', { commonName: label(301) }, 'InvalidSubject'],
];

for (const [name, spec, kind] of cases) {
  void t.test(name, (t) => {
    const der = buildRequest(spec);
    if (kind === undefined) {
      t.ok(parseRequestDer(der, limits));
    } else {
      let error: unknown;
      try {
        parseRequestDer(der, limits);
      } catch (e) {
        error = e;
      }
      t.ok(error instanceof CsrSignerError, 'a typed error');
      t.match(error, { kind, message: /longer than the limit/ });
    }
    t.end();
  });
}

void t.test('the default limit is 1024 characters', (t) => {
  t.throws(() => parseRequestDer(buildRequest({ uris: [`https://e.com/${label(1100)}`] })), /longer than the limit of 1024/);
  t.ok(parseRequestDer(buildRequest({ uris: [`https://e.com/${label(1000)}`] })));
  t.end();
});

// RFC 1035 section 2.3.4 and RFC 5280 section 4.2.1.6: a DNS label has at most 63 characters.
const labelCases: [string, string[], RegExp | undefined][] = [
  ['a DNS name whose labels have 63 characters is accepted', [`${label(63)}.${label(63)}.example.com`], undefined],
  ['a wildcard, a one-character label and a trailing dot are accepted', ['*.a.example.com.'], undefined],
  ['a first label of 64 characters is refused, naming it', [`${label(64)}.example.com`],
    new RegExp(`^the request's DNS name "${label(64)}\\.example\\.com" has a label of 64 characters, more than the 63 a DNS label may have: "${label(64)}"$`)],
  ['a middle label of 64 characters is refused', [`www.${label(63)}b.example.com`], new RegExp(`label of 64 characters.*: "${label(63)}b"$`)],
  ['a last label of 64 characters is refused', [`example.${label(64)}`], new RegExp(`: "${label(64)}"$`)],
  ['a name that is one 64-character label is refused', [label(64)], new RegExp(`: "${label(64)}"$`)],
  ['of two long labels the first is named', [`${label(64)}.${'b'.repeat(70)}.example.com`], new RegExp(`label of 64 characters.*: "${label(64)}"$`)],
  ['a long label in the second DNS name is refused', ['good.example.com', `${label(100)}.example.com`], new RegExp(`label of 100 characters.*: "${label(100)}"$`)],
];

for (const [name, dns, message] of labelCases) {
  void t.test(name, (t) => {
    const der = buildRequest({ dns });
    if (message === undefined) {
      t.same(parseRequestDer(der, limits).subjectAltNames.dnsNames, dns);
    } else {
      t.throws(() => parseRequestDer(der, limits), { name: 'CsrSignerError', kind: 'DnsLabelTooLong', code: 'CSR_SIGNER_ERR_DNS_LABEL_TOO_LONG', reason: 'InvalidSubjectAltName', permanent: true, message });
    }
    t.end();
  });
}

void t.test('a DNS name over 253 characters with a long label is refused for its length, so the message stays short', (t) => {
  t.throws(() => parseRequestDer(buildRequest({ dns: [`${label(300)}.example.com`] }), { ...limits, maxNameLength: 1024 }),
    { kind: 'InvalidSubjectAltName', message: /DNS name of 312 characters is longer than the limit of 253/ });
  t.end();
});

void t.test('a control byte after a long label is refused as the control byte it is', (t) => {
  t.throws(() => parseRequestDer(buildRequest({ dns: [`${label(64)}.exa\x07mple.com`] }), limits),
    { kind: 'InvalidSubjectAltName', message: /byte 0x07/ });
  t.end();
});

void t.test('email and URI names are not measured as DNS labels', (t) => {
  t.ok(parseRequestDer(buildRequest({ emails: [`${label(64)}@example.com`], uris: [`https://e.com/${label(64)}`] }), limits));
  t.end();
});
