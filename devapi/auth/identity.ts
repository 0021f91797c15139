/**
 * devapi's transport identity and its users: a CA and a loopback serving
 * certificate (made once per state directory, kept across restarts), bearer
 * tokens for a few fixed identities, and the kubeconfigs that use them.
 */
import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { stringify } from 'yaml';
import { encodePem } from '../../src/pki/index.js';

export interface User {
  readonly name: string;
  readonly uid?: string;
  readonly groups: readonly string[];
}

export interface Identity {
  readonly token: string;
  readonly user: User;
}

export const SIGNER_SERVICE_ACCOUNT = { namespace: 'csr-signer', name: 'csr-signer' };

/** The identities devapi knows, by kubeconfig name. */
export const identityUsers: Readonly<Record<string, User>> = {
  admin: { name: 'admin', groups: ['system:masters'] },
  signer: {
    name: `system:serviceaccount:${SIGNER_SERVICE_ACCOUNT.namespace}:${SIGNER_SERVICE_ACCOUNT.name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${SIGNER_SERVICE_ACCOUNT.namespace}`],
  },
  approver: { name: 'approver', groups: [] },
  requester: { name: 'requester', groups: [] },
};

export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

const subtle = webcrypto.subtle;
const ecParams = { name: 'ECDSA', namedCurve: 'P-256' } as const;

function name(cn: string): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({ typesAndValues: [new pkijs.AttributeTypeAndValue({ type: '2.5.4.3', value: new asn1js.Utf8String({ value: cn }) })] });
}

async function certificate(options: {
  subject: string; issuer: string; publicKey: webcrypto.CryptoKey; signingKey: webcrypto.CryptoKey; ca: boolean; issuerKeyId?: ArrayBuffer;
}): Promise<{ der: ArrayBuffer; keyId: ArrayBuffer }> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.issuer = name(options.issuer);
  cert.subject = name(options.subject);
  cert.notBefore.value = new Date(Date.now() - 3_600_000);
  cert.notAfter.value = new Date(Date.now() + 10 * 365 * 86_400_000);
  await cert.subjectPublicKeyInfo.importKey(options.publicKey);
  const keyId = createHash('sha1').update(cert.subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView).digest();
  const keyUsage = options.ca ? Uint8Array.of(0x06) : Uint8Array.of(0x80);
  const extensions = [
    new pkijs.Extension({ extnID: '2.5.29.19', critical: true, extnValue: new pkijs.BasicConstraints({ cA: options.ca }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: '2.5.29.15', critical: true, extnValue: new asn1js.BitString({ valueHex: keyUsage, unusedBits: options.ca ? 1 : 7 }).toBER(false) }),
    new pkijs.Extension({ extnID: '2.5.29.14', extnValue: new asn1js.OctetString({ valueHex: keyId }).toBER(false) }),
  ];
  if (!options.ca) {
    extensions.push(
      new pkijs.Extension({ extnID: '2.5.29.37', extnValue: new pkijs.ExtKeyUsage({ keyPurposes: ['1.3.6.1.5.5.7.3.1'] }).toSchema().toBER(false) }),
      new pkijs.Extension({ extnID: '2.5.29.35', extnValue: new pkijs.AuthorityKeyIdentifier({ keyIdentifier: new asn1js.OctetString({ valueHex: options.issuerKeyId ?? new ArrayBuffer(0) }) }).toSchema().toBER(false) }),
      new pkijs.Extension({
        extnID: '2.5.29.17',
        extnValue: new pkijs.GeneralNames({ names: [
          new pkijs.GeneralName({ type: 2, value: 'localhost' }),
          new pkijs.GeneralName({ type: 7, value: new asn1js.OctetString({ valueHex: Uint8Array.of(127, 0, 0, 1) }) }),
        ] }).toSchema().toBER(false),
      }),
    );
  }
  cert.extensions = extensions;
  await cert.sign(options.signingKey, 'SHA-256');
  return { der: cert.toSchema(true).toBER(false), keyId: keyId.buffer.slice(keyId.byteOffset, keyId.byteOffset + keyId.byteLength) };
}

/**
 * Reads an identity file as text. The commands pass the product's bounded reader
 * (src/files.ts), so a file past its size limit fails at once with the usual message.
 */
export type ReadIdentityText = (file: string, kind: 'devapiIdentity') => string;

/** Reads the serving material from `dir`, making it on first use. */
export async function servingMaterial(dir: string, readText: ReadIdentityText): Promise<TlsMaterial> {
  const files = { caPem: join(dir, 'ca.pem'), certPem: join(dir, 'server.pem'), keyPem: join(dir, 'server-key.pem') };
  if (Object.values(files).every((f) => existsSync(f))) {
    chmodSync(files.keyPem, 0o600);
    return { caPem: readText(files.caPem, 'devapiIdentity'), certPem: readText(files.certPem, 'devapiIdentity'), keyPem: readText(files.keyPem, 'devapiIdentity') };
  }
  const ca = await subtle.generateKey(ecParams, true, ['sign', 'verify']);
  const server = await subtle.generateKey(ecParams, true, ['sign', 'verify']);
  const caCert = await certificate({ subject: 'devapi CA', issuer: 'devapi CA', publicKey: ca.publicKey, signingKey: ca.privateKey, ca: true });
  const serverCert = await certificate({ subject: 'devapi', issuer: 'devapi CA', publicKey: server.publicKey, signingKey: ca.privateKey, ca: false, issuerKeyId: caCert.keyId });
  const material: TlsMaterial = {
    caPem: encodePem('CERTIFICATE', new Uint8Array(caCert.der)),
    certPem: encodePem('CERTIFICATE', new Uint8Array(serverCert.der)),
    keyPem: encodePem('PRIVATE KEY', new Uint8Array(await subtle.exportKey('pkcs8', server.privateKey))),
  };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(files.caPem, material.caPem);
  writeFileSync(files.certPem, material.certPem);
  writeFileSync(files.keyPem, material.keyPem, { mode: 0o600 });
  // writeFileSync's mode applies only to a new file; a key left 0644 by an earlier run is narrowed too.
  chmodSync(files.keyPem, 0o600);
  return material;
}

/** One token per identity, kept in `dir/tokens.json` so kubeconfigs stay valid across restarts. */
export function identities(dir: string, readText: ReadIdentityText): Record<string, Identity> {
  const file = join(dir, 'tokens.json');
  let tokens: Record<string, string> = {};
  if (existsSync(file)) {
    chmodSync(file, 0o600);
    tokens = JSON.parse(readText(file, 'devapiIdentity')) as Record<string, string>;
  }
  let changed = false;
  const out: Record<string, Identity> = {};
  for (const [id, user] of Object.entries(identityUsers)) {
    if (!tokens[id]) {
      tokens[id] = randomBytes(24).toString('base64url');
      changed = true;
    }
    out[id] = { token: tokens[id], user };
  }
  if (changed) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    writeFileSync(file, JSON.stringify(tokens, null, 2), { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return out;
}

/** How a kubeconfig user proves who it is: a bearer token, or a client certificate and its key (PEM). */
export type KubeconfigUser = { readonly token: string } | { readonly clientCertificatePem: string; readonly clientKeyPem: string };

/** A kubeconfig for user `id` against `server`, trusting devapi's CA. */
export function kubeconfigFor(server: string, caPem: string, id: string, user: KubeconfigUser): string {
  const credentials = 'token' in user
    ? { token: user.token }
    : { 'client-certificate-data': Buffer.from(user.clientCertificatePem).toString('base64'), 'client-key-data': Buffer.from(user.clientKeyPem).toString('base64') };
  return stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': `devapi-${id}`,
    clusters: [{ name: 'devapi', cluster: { server, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: id, user: credentials }],
    contexts: [{ name: `devapi-${id}`, context: { cluster: 'devapi', user: id } }],
  });
}

/** A kubeconfig for one identity against `server`, trusting devapi's CA. */
export const kubeconfig = (server: string, caPem: string, id: string, identity: Identity): string => kubeconfigFor(server, caPem, id, { token: identity.token });
