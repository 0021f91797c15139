/**
 * PodCertificateRequests with the real kubectl against a devapi that says it is Kubernetes 1.37: the
 * dispatcher runs kubectl 1.32 (outside the skew policy, with its warning), which has no compiled-in
 * PodCertificateRequest type and finds the resource through discovery, prints it with the server's
 * Table and describes it from the object.
 */
import { generateKeyPairSync } from 'node:crypto';
import t from 'tap';
import { podCertificateVersionsFlag } from '../../devapi/commands/devapi.js';
import { rawRequest, seq } from '../helpers/der-build.js';
import { DevapiClient, kubectl, startDevapi, type DevapiProcess } from '../helpers/devapi.js';
import { needTool } from '../helpers/tools.js';

if (!needTool(t, 'kubectl')) process.exit(0);

let api: DevapiProcess;
t.before(async () => {
  api = await startDevapi({ args: ['--kubernetes-minor', '37'] });
});
t.teardown(() => api.stop());

void t.test('kubectl get podcertificaterequests -A and describe work against 1.37', async (t) => {
  const client = new DevapiClient(api.url, api.stateDir);
  t.equal((await client.call('POST', '/api/v1/namespaces', { metadata: { name: 'shop' } })).status, 201);
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const created = await client.call('POST', '/apis/certificates.k8s.io/v1/namespaces/shop/podcertificaterequests', {
    metadata: { name: 'req-web' },
    spec: {
      signerName: 'example.com/pods', podName: 'web', podUID: 'u-1', serviceAccountName: 'web', serviceAccountUID: 'sa-1', nodeName: 'worker-1', nodeUID: 'n-1',
      stubPKCS10Request: rawRequest({ privateKey, subject: seq() }).toString('base64'),
    },
  });
  t.equal(created.status, 201, created.text);

  const version = kubectl(api, 'admin', ['version', '-o', 'json']);
  t.match(JSON.parse(version.stdout), { serverVersion: { minor: '37' } });

  const table = kubectl(api, 'admin', ['get', 'podcertificaterequests', '-A']);
  t.equal(table.code, 0, table.stderr);
  t.match(table.stdout, /NAMESPACE\s+NAME\s+SIGNERNAME\s+PODNAME\s+SERVICEACCOUNTNAME\s+NODENAME\s+CONDITION\s+AGE/);
  t.match(table.stdout, /shop\s+req-web\s+example\.com\/pods\s+web\s+web\s+worker-1\s+Pending\s+\S+/);

  const described = kubectl(api, 'admin', ['describe', 'podcertificaterequest', '-n', 'shop', 'req-web']);
  t.equal(described.code, 0, described.stderr);
  t.match(described.stdout, /Name:\s+req-web/);
  t.match(described.stdout, /Namespace:\s+shop/);
  t.match(described.stdout, /API Version:\s+certificates\.k8s\.io\/v1/);
  t.match(described.stdout, /Signer Name:\s+example\.com\/pods/);

  const asSigner = kubectl(api, 'signer', ['get', 'podcertificaterequests', '-A', '-o', 'name']);
  t.equal(asSigner.code, 0, `the signer identity may list them: ${asSigner.stderr}`);
  t.match(asSigner.stdout, 'podcertificaterequest.certificates.k8s.io/req-web');
});

void t.test('--pod-certificate-versions serves the versions asked for, whatever the minor', async (t) => {
  const only = await startDevapi({ args: ['--kubernetes-minor', '37', '--pod-certificate-versions', 'v1beta1'] });
  t.teardown(() => only.stop());
  const client = new DevapiClient(only.url, only.stateDir);
  t.equal((await client.call('GET', '/apis/certificates.k8s.io/v1/podcertificaterequests')).status, 404, 'no v1');
  t.equal((await client.call('GET', '/apis/certificates.k8s.io/v1beta1/podcertificaterequests')).status, 200, 'v1beta1');
  const table = kubectl(only, 'admin', ['get', 'podcertificaterequests', '-A', '-o', 'name']);
  t.equal(table.code, 0, table.stderr);
});

void t.test('--pod-certificate-versions takes v1,v1beta1, v1, v1beta1 or none', (t) => {
  t.equal(podCertificateVersionsFlag(undefined), undefined, 'not given: the minor decides');
  t.same(podCertificateVersionsFlag('v1beta1,v1'), ['v1', 'v1beta1'], 'in discovery order');
  t.same(podCertificateVersionsFlag('v1'), ['v1']);
  t.same(podCertificateVersionsFlag('none'), []);
  for (const bad of ['v1,v1', 'v1alpha1', '', 'v1,none']) {
    t.throws(() => podCertificateVersionsFlag(bad), {
      kind: 'InvalidArgument', message: `--pod-certificate-versions must be v1,v1beta1, v1, v1beta1 or none, not ${JSON.stringify(bad)}`,
    }, `${JSON.stringify(bad)} is refused`);
  }
  t.end();
});
