/**
 * PKCS#11 URIs: the examples of RFC 7512 section 3, each parsed or refused, and the
 * refusals that keep a PIN out of configuration and a wrong key from being chosen.
 */
import t from 'tap';
import { describePkcs11Uri, isPkcs11Uri, parsePkcs11Uri, type Pkcs11Uri } from '../../src/hsm/index.js';

const plain = (uri: Pkcs11Uri): object => ({ ...uri, ...(uri.id === undefined ? {} : { id: Buffer.from(uri.id).toString('hex') }) });

void t.test('RFC 7512 section 3 examples that name objects or tokens', (t) => {
  const cases: [string, object][] = [
    ['pkcs11:', { token: {} }],
    ['pkcs11:object=my-pubkey;type=public', { token: {}, objectLabel: 'my-pubkey', type: 'public' }],
    ['pkcs11:object=my-key;type=private?pin-source=file:/etc/token', { token: {}, objectLabel: 'my-key', type: 'private', pinSource: 'file:/etc/token' }],
    ['pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=?pin-source=file:/etc/token_pin',
      { token: { label: 'The Software PKCS#11 Softtoken', manufacturer: 'Snake Oil, Inc.', model: '1.0', serial: '' }, objectLabel: 'my-certificate', type: 'cert', id: '69953e5cf4bdec91', pinSource: 'file:/etc/token_pin' }],
    ['pkcs11:object=my-sign-key;type=private?module-name=mypkcs11', { token: {}, objectLabel: 'my-sign-key', type: 'private', moduleName: 'mypkcs11' }],
    ['pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1', { token: {}, objectLabel: 'my-sign-key', type: 'private', modulePath: '/mnt/libmypkcs11.so.1' }],
    ['pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;object=my-certificate;type=cert', { token: { label: 'A name with a substring %;' }, objectLabel: 'my-certificate', type: 'cert' }],
    ['pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;object=my-certificate;type=cert', { token: { label: 'Name with a small A with acute: á' }, objectLabel: 'my-certificate', type: 'cert' }],
  ];
  for (const [text, expected] of cases) t.same(plain(parsePkcs11Uri(text)), { ...expected, text }, text);
  t.end();
});

void t.test('RFC 7512 section 3 examples csr-signer refuses, each with one sentence', (t) => {
  const cases: [string, RegExp][] = [
    // A PIN in the URI would sit in configuration and on command lines.
    ['pkcs11:token=Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin', /^pin-value puts the PIN into the configuration .* instead$/],
    // Slots and libraries by description: not used to choose a key.
    ['pkcs11:slot-description=Sun%20Metaslot', /^slot-description is not supported for choosing the key; name the token by token, serial, manufacturer, model or slot-id$/],
    ['pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;library-description=Soft%20Token%20Library;library-version=1.23', /^library-(manufacturer|description|version) is not supported/],
    ['pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;id=%01%02%03%Ba%dd%Ef%08;object=my-certificate;type=cert', /^library-version is not supported/],
    // Vendor attributes are accepted only with the x- prefix; an unknown name is refused rather than ignored.
    ['pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a?pin-source=file:/etc/token_pin&vendor-bbb=value-b', /^vendor-aaa is not a PKCS#11 URI attribute \(RFC 7512 defines token, /],
  ];
  for (const [text, expected] of cases) t.throws(() => parsePkcs11Uri(text), expected, text);
  t.end();
});

void t.test('refusals that keep the wrong key from being chosen', (t) => {
  const cases: [string, RegExp][] = [
    ['file:/etc/key.pem', /^a PKCS#11 URI starts with "pkcs11:"$/],
    ['pkcs11:object=a;object=b', /^object appears twice$/],
    ['pkcs11:id=%0', /^the value of id has a malformed percent-escape at "%0"$/],
    ['pkcs11:id=%zz', /malformed percent-escape/],
    ['pkcs11:id=', /^id is empty$/],
    ['pkcs11:object=a b', /must be percent-encoded/],
    ['pkcs11:object=%FF', /^the value of object is not UTF-8 once percent-decoded$/],
    ['pkcs11:type=secret', /^type "secret" is not one of private, public, cert, secret-key, data$/],
    ['pkcs11:slot-id=one', /^slot-id "one" is not a decimal number$/],
    ['pkcs11:module-path=/lib/x.so', /^module-path belongs in the URI's query/],
    ['pkcs11:object=k?token=ca', /^token belongs in the URI's path/],
    ['pkcs11:objekt=k', /^objekt is not a PKCS#11 URI attribute/],
    ['pkcs11:object', /^"object" in the path is not name=value$/],
    [`pkcs11:object=${'a'.repeat(5000)}`, /more than 4096/],
  ];
  for (const [text, expected] of cases) t.throws(() => parsePkcs11Uri(text), expected, text.slice(0, 60));
  t.end();
});

void t.test('token match, slot-id, vendor x- attributes, description', (t) => {
  const uri = parsePkcs11Uri(' PKCS11:token=ca;serial=0123;slot-id=42;object=cakey;id=%01%ab;type=private;x-vendor=1?module-path=/usr/lib/softhsm/libsofthsm2.so ');
  t.same(uri.token, { label: 'ca', serial: '0123', slotId: 42 });
  t.same(Array.from(uri.id ?? []), [1, 0xab]);
  t.equal(uri.modulePath, '/usr/lib/softhsm/libsofthsm2.so');
  t.equal(describePkcs11Uri(uri), 'pkcs11:token=ca;serial=0123;slot-id=42;object=cakey;id=%01%ab;type=private', 'the object named, no query');
  t.ok(isPkcs11Uri('  pkcs11:token=x'));
  t.ok(isPkcs11Uri('PKCS11:token=x'), 'the scheme is case-insensitive');
  t.notOk(isPkcs11Uri('/etc/key.pem'));
  t.end();
});
