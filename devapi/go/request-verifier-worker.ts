/**
 * The thread behind request-verifier.ts: parses CSR requests and checks their signatures
 * (the costly part of a create: the key import with OpenSSL's point checks, then the
 * verification), so devapi's event loop keeps serving meanwhile. Loaded only as a worker.
 */
import { parentPort } from 'node:worker_threads';
import { requestVerdict, type VerifyReply, type VerifyRequest } from './request-verifier.js';

parentPort?.on('message', (batch: VerifyRequest[]) => {
  parentPort?.postMessage(batch.map(({ id, encoded }): VerifyReply => ({ id, verdict: requestVerdict(encoded) })));
});
