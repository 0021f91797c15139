/**
 * The demo's signer (keys.example/demo-config.yaml, which `csr-signer dev` runs): it
 * loads as the signer loads it, and its policy lets the tutorial's names through and
 * nothing else — the demo once issued DNS:evil.example.org to whoever an approver let by.
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
const decide = (request: RequestSpec): string | undefined => {
  if (signer?.policy === undefined) throw new Error('the demo signer has no policy');
  return checkPolicy(signer.policy, parseRequestDer(buildRequest(request)), spec, signer.name);
};

void t.test('the demo config is one custom signer with the example CA and a bounded policy', (t) => {
  t.same(config.signers.map((s) => s.name), ['example.com/serving']);
  t.equal(signer?.ca?.certFile, join(keys, 'ca.pem'), 'the example CA, relative to the file');
  t.notOk(signer?.policy?.unrestricted, 'not unrestricted');
  t.ok(signer?.policy?.dnsNames && signer.policy.ipRanges, 'both DNS names and IP addresses bounded');
  t.end();
});

void t.test('the tutorial the demo prints passes its policy; other names do not', (t) => {
  const tutorial = {
    commonName: 'my-pod.my-namespace.pod.cluster.local',
    dns: ['my-svc.my-namespace.svc.cluster.local', 'my-pod.my-namespace.pod.cluster.local'], ips: ['192.0.2.24', '10.0.34.2'],
  };
  t.equal(decide(tutorial), undefined, 'the cfssl request of the tutorial');
  t.equal(decide({ commonName: 'my-svc.my-namespace.svc', dns: ['my-svc.my-namespace.svc'] }), undefined, 'the openssl request of the tutorial');
  t.equal(decide({ dns: ['evil.example.org'] }),
    'subjectAltName DNS "evil.example.org" is not allowed by signer example.com/serving (allowed: *.my-namespace.svc, *.my-namespace.svc.cluster.local, *.my-namespace.pod.cluster.local)',
    'a name outside the policy is refused, and named');
  t.match(decide({ dns: ['my-svc.other-namespace.svc'] }), /^subjectAltName DNS "my-svc.other-namespace.svc" is not allowed/, 'another namespace');
  t.match(decide({ dns: ['my-svc.my-namespace.svc'], ips: ['10.0.0.1'] }), /^subjectAltName IP "10.0.0.1" is not allowed by signer example.com\/serving \(allowed: 192.0.2.24\/32, 10.0.34.2\/32\)/, 'an address outside the policy');
  t.match(decide({ commonName: 'evil.example.org', dns: ['my-svc.my-namespace.svc'] }), /commonName/, 'a CN that is none of its DNS names');
  t.end();
});
