/**
 * The demo's signer (keys.example/demo-config.yaml, which `csr-signer dev` runs): it
 * loads as the signer loads it, its policy lets a ServiceAccount have its own namespace's
 * Service names and nothing else — the demo once issued DNS:evil.example.org to whoever
 * an approver let by — and its approver approves by that policy.
 */
import { join } from 'node:path';
import t from 'tap';
import { loadRunConfig } from '../../src/config/index.js';
import { readBoundedText } from '../../src/files.js';
import { parseRequestDer } from '../../src/pki/index.js';
import { checkPolicy } from '../../src/signer/policy.js';
import type { Csr } from '../../src/signer/types.js';
import { buildRequest, type RequestSpec } from '../helpers/requests.js';

const keys = join(import.meta.dirname, '..', '..', 'keys.example');
const config = loadRunConfig(['--config', join(keys, 'demo-config.yaml')], {}, readBoundedText);
const [signer] = config.signers;
const spec: Csr['spec'] = { request: '', signerName: 'example.com/serving', username: 'admin', groups: ['system:masters'] };
const decide = (request: RequestSpec, requester: Csr['spec'] = spec): string | undefined => {
  if (signer?.policy === undefined) throw new Error('the demo signer has no policy');
  return checkPolicy(signer.policy, parseRequestDer(buildRequest(request)), requester, signer.name);
};
const shopWeb: Csr['spec'] = {
  request: '', signerName: 'example.com/serving', username: 'system:serviceaccount:shop:web',
  groups: ['system:serviceaccounts', 'system:serviceaccounts:shop', 'system:authenticated'],
};

void t.test('the demo config is one custom signer with the example CA and a bounded policy, and a pod certificate signer', (t) => {
  t.same(config.signers.map((s) => s.name), ['example.com/serving', 'example.com/pods']);
  const pods = config.signers[1];
  t.equal(pods?.ca?.certFile, join(keys, 'ca.pem'), 'the pod signer: the same CA');
  t.equal(pods?.certificateSigningRequests, false, 'the pod signer serves no CSRs');
  t.match(pods?.podCertificates?.namespaces, { names: ['shop'] }, 'and pods of namespace shop only');
  t.equal(signer?.ca?.certFile, join(keys, 'ca.pem'), 'the example CA, relative to the file');
  t.notOk(signer?.policy?.unrestricted, 'not unrestricted');
  t.ok(signer?.policy?.dnsNames && signer.policy.ipRanges, 'both DNS names and IP addresses bounded');
  t.end();
});

void t.test('the flow the demo prints passes its policy; other names and addresses do not', (t) => {
  t.equal(decide({ commonName: 'web.shop.svc', dns: ['web.shop.svc'] }, shopWeb), undefined, 'web.shop.svc for shop/web');
  t.equal(decide({ commonName: 'web.shop.svc', dns: ['web.shop.svc', 'web.shop.svc.cluster.local'] }, shopWeb), undefined, 'and its cluster.local name');
  t.equal(decide({ dns: ['evil.example.org'] }, shopWeb),
    'subjectAltName DNS "evil.example.org" is not allowed by signer example.com/serving (allowed: *.{namespace}.svc, *.{namespace}.svc.cluster.local)',
    'a name outside the policy is refused, and named');
  t.match(decide({ commonName: 'web.bank.svc', dns: ['web.bank.svc'] }, shopWeb), /^subjectAltName DNS "web.bank.svc" is not allowed by signer example.com\/serving/, 'another namespace\'s name');
  t.match(decide({ dns: ['web.shop.svc'], ips: ['10.0.0.1'] }, shopWeb), /^subjectAltName IP "10.0.0.1" is not allowed by signer example.com\/serving \(allowed: none\)/, 'no IP address');
  t.match(decide({ commonName: 'evil.example.org', dns: ['web.shop.svc'] }, shopWeb), /commonName/, 'a CN that is none of its DNS names');
  t.match(decide({ commonName: 'web.shop.svc', dns: ['web.shop.svc'] }), /"web.shop.svc" is not allowed/, 'a requester that is no ServiceAccount gets no namespace\'s names');
  t.end();
});

void t.test('the approver is on for the demo signer, by its policy', (t) => {
  t.same(config.approver?.signers.map((s) => [s.signerName, s.profile]), [['example.com/serving', 'policy']]);
  t.equal(config.approver?.mode, 'enforce');
  t.end();
});
