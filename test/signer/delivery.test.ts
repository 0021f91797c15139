/**
 * deliveryOf: whether a certificate we wrote is the CSR's, read from the CSR alone.
 */
import t from 'tap';
import { deliveryOf, type Delivery } from '../../src/signer/delivery.js';
import type { Csr } from '../../src/signer/types.js';

const ours = Buffer.from('-----BEGIN CERTIFICATE-----\nours\n-----END CERTIFICATE-----\n');
const b64 = (bytes: Uint8Array | string): string => Buffer.from(bytes).toString('base64');

function csr(status: Csr['status'], uid = 'uid-1'): Csr {
  return { metadata: { name: 'x', uid }, spec: { request: '', signerName: 'example.com/s', usages: [], username: 'u' }, ...(status ? { status } : {}) };
}

const failed = { type: 'Failed', status: 'True', reason: 'R', message: 'm', lastUpdateTime: '2026-01-01T00:00:00Z' };

const cases: { name: string; csr: Csr | undefined; want: Delivery }[] = [
  { name: 'a CSR carrying exactly our certificate has it delivered', csr: csr({ certificate: b64(ours) }), want: 'delivered' },
  { name: 'a CSR carrying our certificate and a later Failed condition still has it delivered', csr: csr({ certificate: b64(ours), conditions: [failed] }), want: 'delivered' },
  { name: 'a CSR carrying another certificate will never have ours', csr: csr({ certificate: b64('other') }), want: 'other-certificate' },
  { name: 'a certificate differing in one trailing byte is another certificate', csr: csr({ certificate: b64(Buffer.concat([ours, Buffer.from('\n')])) }), want: 'other-certificate' },
  { name: 'a Failed CSR without a certificate will never have ours', csr: csr({ conditions: [failed] }), want: 'failed' },
  { name: 'a CSR with neither is not decided yet', csr: csr({}), want: 'pending' },
  { name: 'a CSR without status is not decided yet', csr: csr(undefined), want: 'pending' },
  { name: 'a CSR gone will never have it', csr: undefined, want: 'deleted' },
  { name: 'a new CSR under the same name is not the one we signed for', csr: csr({ certificate: b64(ours) }, 'uid-2'), want: 'recreated' },
];

for (const c of cases) {
  void t.test(c.name, (t) => {
    t.equal(deliveryOf(ours, 'uid-1', c.csr), c.want);
    t.end();
  });
}
