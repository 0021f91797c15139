// Bench fixtures: CA keys and certificates, and pools of CSRs, made with openssl
// (and cfssl for the cfssl CA) into a fresh temporary directory.
import { Buffer } from 'node:buffer';
import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { children, readTlv } from '../dist/pki/der.js';

/** The key types measured: openssl -newkey arguments and the digests Go would use. */
export const keyTypes = [
  { name: 'P-256', newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'], digest: 'sha256' },
  { name: 'P-384', newkey: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-384'], digest: 'sha384' },
  { name: 'RSA-2048', newkey: ['-newkey', 'rsa:2048'], digest: 'sha256' },
  { name: 'Ed25519', newkey: ['-newkey', 'ed25519'], digest: null },
];

/** What every request asks for: a kubelet-serving-like subject and SANs. */
export const requestSubject = '/O=system:nodes/CN=system:node:bench-node-1';
export const requestSans = 'DNS:bench-node-1,DNS:bench-node-1.cluster.local,IP:10.0.0.1';
export const usages = ['digital signature', 'key encipherment', 'server auth'];

const reqConfig = `[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash
`;

/** The extensions openssl x509 -req adds: the same set the core writes. */
export const opensslExtfile = `[v3]
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
basicConstraints = critical, CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = ${requestSans}
`;

const run = (cmd, args, options = {}) => execFileSync(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...options });

export function pemToDer(pem) {
  return Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** The pieces of a PKCS#10 request the crypto floor needs: signed bytes, signature, public key. */
export function splitRequest(pem) {
  const der = pemToDer(pem);
  const [info, , signature] = children(der, readTlv(der, 0));
  const [, , spki] = children(der, info);
  return {
    pem,
    info: der.subarray(info.start, info.end),
    signature: der.subarray(signature.contentStart + 1, signature.end),
    publicKey: createPublicKey({ key: der.subarray(spki.start, spki.end), format: 'der', type: 'spki' }),
  };
}

/** The length of the TBSCertificate inside a DER certificate. */
export function tbsLength(certDer) {
  const [tbs] = children(certDer, readTlv(certDer, 0));
  return tbs.end - tbs.start;
}

/**
 * Makes, in a new temporary directory, one CA per key type and `poolSize` CSRs
 * (each with its own key) per key type, plus a cfssl-generated P-256 CA.
 */
export function makeFixtures(poolSize) {
  const dir = mkdtempSync(join(tmpdir(), 'csr-signer-bench-'));
  const config = join(dir, 'req.cnf');
  writeFileSync(config, reqConfig);
  writeFileSync(join(dir, 'ext.cnf'), opensslExtfile);
  const types = keyTypes.map((type) => {
    const id = type.name.toLowerCase();
    const caCert = join(dir, `ca-${id}.pem`);
    const caKey = join(dir, `ca-${id}-key.pem`);
    const digest = type.digest ? [`-${type.digest}`] : [];
    run('openssl', ['req', '-config', config, '-x509', ...type.newkey, '-nodes', '-keyout', caKey, '-out', caCert,
      '-days', '3650', '-subj', `/CN=csr-signer bench CA ${type.name}`, '-extensions', 'v3_ca', ...digest]);
    const requests = [];
    for (let i = 0; i < poolSize; i++) {
      const file = join(dir, `req-${id}-${i}.pem`);
      run('openssl', ['req', '-config', config, '-new', ...type.newkey, '-nodes', '-keyout', join(dir, `req-${id}-${i}-key.pem`),
        '-out', file, '-subj', requestSubject, '-addext', `subjectAltName=${requestSans}`, ...digest]);
      requests.push(splitRequest(readFileSync(file, 'latin1')));
    }
    return { ...type, caCert, caKey, requests, requestFiles: requests.map((_, i) => join(dir, `req-${id}-${i}.pem`)) };
  });
  return { dir, types, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A P-256 CA made by `cfssl gencert -initca` (undefined when cfssl is not installed). */
export function makeCfsslCa(dir) {
  try {
    run('cfssl', ['version']);
    run('cfssljson', ['-h'], { stdio: 'ignore' });
  } catch (e) {
    if (e.code === 'ENOENT') return undefined;
  }
  const csr = JSON.stringify({ CN: 'csr-signer bench cfssl CA', key: { algo: 'ecdsa', size: 256 } });
  const json = run('cfssl', ['gencert', '-initca', '-'], { input: csr });
  run('cfssljson', ['-bare', join(dir, 'cfssl-ca')], { input: json });
  const configFile = join(dir, 'cfssl-config.json');
  writeFileSync(configFile, JSON.stringify({ signing: { default: { usages, expiry: '8760h' } } }));
  return { cert: join(dir, 'cfssl-ca.pem'), key: join(dir, 'cfssl-ca-key.pem'), config: configFile };
}
