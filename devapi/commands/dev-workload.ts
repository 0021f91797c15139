/**
 * The workload of `csr-signer dev`: the ServiceAccount web of namespace shop, and the
 * Node worker-1 its pod runs on, as client-certificate identities devapi authenticates
 * (their own client CA, made at each start), and the RBAC that lets the ServiceAccount
 * send CertificateSigningRequests (the node's PodCertificateRequests are devapi's node
 * authorization: a node asks for the pods bound to it).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { stringify } from 'yaml';
import { encodePem } from '../../src/pki/index.js';

/** The demo's workload identity: a ServiceAccount of namespace `shop`, by client certificate. */
export const SHOP_SERVICE_ACCOUNT = { namespace: 'shop', name: 'web', kubeconfig: 'shop-web.kubeconfig' } as const;
/** The demo's node: system:node:worker-1 in system:nodes, by client certificate, as a kubelet authenticates. */
export const DEMO_NODE = { name: 'worker-1', kubeconfig: 'node-worker-1.kubeconfig' } as const;

const subtle = webcrypto.subtle;
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const OID = { cn: '2.5.4.3', o: '2.5.4.10', basicConstraints: '2.5.29.19', keyUsage: '2.5.29.15', extKeyUsage: '2.5.29.37', clientAuth: '1.3.6.1.5.5.7.3.2' };

function distinguishedName(cn: string, organizations: readonly string[] = []): pkijs.RelativeDistinguishedNames {
  return new pkijs.RelativeDistinguishedNames({
    typesAndValues: [...organizations.map((o) => [OID.o, o] as const), [OID.cn, cn] as const]
      .map(([type, value]) => new pkijs.AttributeTypeAndValue({ type, value: new asn1js.Utf8String({ value }) })),
  });
}

/** One certificate for the demo's client identities: a CA (keyCertSign) or a client-auth leaf, valid a day back to a year on. */
async function demoCertificate(o: {
  subject: pkijs.RelativeDistinguishedNames; issuer: pkijs.RelativeDistinguishedNames; publicKey: webcrypto.CryptoKey; signingKey: webcrypto.CryptoKey; ca: boolean;
}): Promise<string> {
  const cert = new pkijs.Certificate();
  cert.version = 2;
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x40;
  cert.serialNumber = new asn1js.Integer({ valueHex: serial });
  cert.subject = o.subject;
  cert.issuer = o.issuer;
  cert.notBefore.value = new Date(Date.now() - 86_400_000);
  cert.notAfter.value = new Date(Date.now() + 365 * 86_400_000);
  await cert.subjectPublicKeyInfo.importKey(o.publicKey);
  cert.extensions = [
    new pkijs.Extension({ extnID: OID.basicConstraints, critical: true, extnValue: new pkijs.BasicConstraints({ cA: o.ca }).toSchema().toBER(false) }),
    new pkijs.Extension({ extnID: OID.keyUsage, critical: true, extnValue: new asn1js.BitString({ valueHex: Uint8Array.of(o.ca ? 0x04 : 0x80), unusedBits: o.ca ? 2 : 7 }).toBER(false) }),
    ...(o.ca ? [] : [new pkijs.Extension({ extnID: OID.extKeyUsage, extnValue: new pkijs.ExtKeyUsage({ keyPurposes: [OID.clientAuth] }).toSchema().toBER(false) })]),
  ];
  await cert.sign(o.signingKey, 'SHA-256');
  return encodePem('CERTIFICATE', new Uint8Array(cert.toSchema(true).toBER(false)));
}

export interface ClientIdentity {
  readonly certificatePem: string;
  readonly keyPem: string;
}

/**
 * The demo's client identities: a client CA of its own (devapi trusts it for client
 * certificates, as kube-apiserver's --client-ca-file; it signs nothing else), a
 * certificate for system:serviceaccount:shop:web in the ServiceAccount groups and one
 * for system:node:worker-1 in system:nodes, which devapi's x509 authentication maps to
 * those users and groups. Made anew at each start; the CA's key is never written.
 */
export async function clientIdentities(): Promise<{ clientCaPem: string; serviceAccount: ClientIdentity; node: ClientIdentity }> {
  const { namespace, name } = SHOP_SERVICE_ACCOUNT;
  const ca = await subtle.generateKey(P256, true, ['sign', 'verify']);
  const caName = (): pkijs.RelativeDistinguishedNames => distinguishedName('csr-signer dev client CA');
  const clientCaPem = await demoCertificate({ subject: caName(), issuer: caName(), publicKey: ca.publicKey, signingKey: ca.privateKey, ca: true });
  const leaf = async (subject: pkijs.RelativeDistinguishedNames): Promise<ClientIdentity> => {
    const key = await subtle.generateKey(P256, true, ['sign', 'verify']);
    const certificatePem = await demoCertificate({ subject, issuer: caName(), publicKey: key.publicKey, signingKey: ca.privateKey, ca: false });
    return { certificatePem, keyPem: encodePem('PRIVATE KEY', new Uint8Array(await subtle.exportKey('pkcs8', key.privateKey))) };
  };
  return {
    clientCaPem,
    serviceAccount: await leaf(distinguishedName(`system:serviceaccount:${namespace}:${name}`, ['system:serviceaccounts', `system:serviceaccounts:${namespace}`])),
    node: await leaf(distinguishedName(`system:node:${DEMO_NODE.name}`, ['system:nodes'])),
  };
}

/** What the shop ServiceAccount may do: send CertificateSigningRequests and read them (what a workload's certificate tool needs). */
export const shopPolicyYaml = (): string => [
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'csr-signer-dev-csr-requester' },
    rules: [{ apiGroups: ['certificates.k8s.io'], resources: ['certificatesigningrequests'], verbs: ['create', 'get', 'list', 'watch'] }],
  },
  {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: 'csr-signer-dev-shop-web' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'csr-signer-dev-csr-requester' },
    subjects: [{ kind: 'ServiceAccount', name: SHOP_SERVICE_ACCOUNT.name, namespace: SHOP_SERVICE_ACCOUNT.namespace }],
  },
].map((o) => stringify(o)).join('---\n');
