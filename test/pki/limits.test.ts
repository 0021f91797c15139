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
