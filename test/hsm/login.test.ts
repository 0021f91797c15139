/**
 * The login step (src/hsm/token.ts openLoggedInSession) with a module that answers what a
 * test cannot make SoftHSM2 answer on demand: which C_Login failures refuse the PIN
 * (Pkcs11LoginFailed, never tried again with that PIN) and which say the token did not
 * answer (Pkcs11Unreachable, transient), and CKR_USER_ALREADY_LOGGED_IN with the PIN the
 * process logged in with or with another one. The same against SoftHSM2:
 * test/hsm/errors.test.ts and test/trust/ca-store-softhsm.test.ts.
 */
import t from 'tap';
import { isCsrSignerError } from '../../src/errors.js';
import type { Pkcs11Library } from '../../src/hsm/binding.js';
import { openLoggedInSession } from '../../src/hsm/token.js';
import { parsePkcs11Uri } from '../../src/hsm/uri.js';

const uri = parsePkcs11Uri('pkcs11:token=ca;object=cakey');
const slot = Buffer.alloc(8);

/** A module whose C_Login answers with `answer` (an Error as pkcs11js throws, or nothing for CKR_OK); counts the sessions left open. */
function moduleAnswering(answers: (string | undefined)[]): { library: Pkcs11Library; open: () => number } {
  let open = 0;
  const library = {
    C_GetTokenInfo: () => ({ label: 'ca', serialNumber: '42', manufacturerID: 'test', model: 'fake', flags: 0x400 }),
    C_OpenSession: () => {
      open++;
      return Buffer.alloc(8);
    },
    C_CloseSession: () => {
      open--;
    },
    C_Login: () => {
      const answer = answers.shift();
      if (answer !== undefined) throw new Error(answer);
    },
  } as unknown as Pkcs11Library;
  return { library, open: () => open };
}

const outcome = (library: Pkcs11Library, pin: string): string => {
  try {
    openLoggedInSession(library, slot, uri, pin);
    return 'logged in';
  } catch (error) {
    return isCsrSignerError(error) ? `${error.kind}: ${error.message}` : String(error);
  }
};

void t.test('a PIN refused is Pkcs11LoginFailed; the device, the session or the module failing is Pkcs11Unreachable', (t) => {
  for (const code of ['CKR_PIN_INCORRECT', 'CKR_PIN_LOCKED', 'CKR_PIN_EXPIRED', 'CKR_PIN_LEN_RANGE', 'CKR_PIN_INVALID']) {
    const { library, open } = moduleAnswering([code]);
    t.match(outcome(library, '1234'), new RegExp(`^Pkcs11LoginFailed: pkcs11:token=ca;object=cakey: cannot log in to the token: .*${code}`), code);
    t.equal(open(), 0, `${code}: the session is closed`);
  }
  for (const code of ['CKR_DEVICE_ERROR', 'CKR_GENERAL_ERROR', 'CKR_TOKEN_NOT_PRESENT', 'CKR_DEVICE_REMOVED', 'CKR_SESSION_HANDLE_INVALID', 'CKR_DEVICE_MEMORY']) {
    const { library, open } = moduleAnswering([code]);
    t.match(outcome(library, '1234'), new RegExp(`^Pkcs11Unreachable: pkcs11:token=ca;object=cakey: the token does not answer \\(C_Login failed with ${code}\\)`), code);
    t.equal(open(), 0, `${code}: the session is closed`);
  }
  t.end();
});

void t.test('already logged in: fine with the PIN the process logged in with, refused with another, which the token did not check', (t) => {
  const { library, open } = moduleAnswering([undefined, 'CKR_USER_ALREADY_LOGGED_IN', 'CKR_USER_ALREADY_LOGGED_IN', 'CKR_USER_ALREADY_LOGGED_IN']);
  t.equal(outcome(library, 'right-pin'), 'logged in');
  t.equal(outcome(library, 'right-pin'), 'logged in', 'a second session with the same PIN');
  const refused = outcome(library, 'other-pin');
  t.match(refused, /^Pkcs11LoginFailed: .*already logged in with another PIN in this process \(CKR_USER_ALREADY_LOGGED_IN\).*restart the signer/);
  t.notMatch(refused, /other-pin|right-pin/, 'no PIN in the sentence');
  t.equal(outcome(library, 'right-pin'), 'logged in', 'the PIN it logged in with still opens sessions');
  t.equal(open(), 3, 'the refused session is closed');
  t.end();
});

void t.test('already logged in by someone else in the process (no login of ours seen): taken as before', (t) => {
  const { library } = moduleAnswering(['CKR_USER_ALREADY_LOGGED_IN']);
  t.equal(outcome(library, 'any'), 'logged in');
  t.end();
});
