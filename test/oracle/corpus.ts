/**
 * The differential corpus: a few hundred requests, each with the usages, signer,
 * durations, CA and signing time it is issued with. Generated from a fixed seed,
 * so every run (and every machine) sees the same corpus; only the keys and the
 * serial numbers are fresh. Requests are built by helpers/requests.ts (pkijs).
 */
import type { RequestSpec, TestKeyType } from '../helpers/requests.js';
import { seeded } from '../helpers/chaos.js';
import {
  builtinCases, durations, goRefuses, requestedExtensions, requestKeys, sanMixes, subjects, usageSets, usageStrings, weRefuse,
} from './corpus-cases.js';

export type CorpusCa = 'rsa' | 'p256' | 'p384' | 'p521' | 'ed25519';
export const corpusCas: readonly CorpusCa[] = ['rsa', 'p256', 'p384', 'p521', 'ed25519'];

/** When the entry is signed: seconds after the CA's NotBefore (negative: before it), or after its NotAfter. */
export type SigningTime = { readonly afterCaNotBefore: number } | { readonly afterCaNotAfter: number };

export interface CorpusEntry {
  /** A short unique name: what the entry is about. */
  readonly id: string;
  readonly ca: CorpusCa;
  /** The request; `caKey: true` signs it with the CA's own key. */
  readonly request: RequestSpec & { readonly caKey?: boolean };
  readonly usages: readonly string[];
  /** `kubernetes.io/legacy-unknown` (no signer rules: what `csr-signer sign` does) or another built-in signer. */
  readonly signerName: string;
  readonly expirationSeconds?: number;
  /** `--cluster-signing-duration`, in seconds. */
  readonly clusterDurationSeconds: number;
  readonly now: SigningTime;
  /**
   * What must happen whatever the oracle says: 'refused' for requests csr-signer
   * must not sign (Go cannot parse them, or docs/replacing-kcm.md says it refuses them).
   */
  readonly expect?: 'refused';
  /** The row of the refusal table in docs/replacing-kcm.md that covers our refusal, when the in-tree signer signs it. */
  readonly refusal?: string;
}

export const legacyUnknown = 'kubernetes.io/legacy-unknown';
const HOUR = 3600;
const YEAR = 8760 * HOUR;

/** The whole corpus, in a fixed order. */
export function buildCorpus(seed = 0x5eed13): CorpusEntry[] {
  const random = seeded(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const entries: CorpusEntry[] = [];
  // Signed 90 days into the CA's life (the CAs are valid for years).
  const defaults = { signerName: legacyUnknown, clusterDurationSeconds: YEAR, now: { afterCaNotBefore: 90 * 24 * HOUR } } as const;
  const add = (id: string, entry: Omit<CorpusEntry, 'id' | 'signerName' | 'clusterDurationSeconds' | 'now'> & Partial<CorpusEntry>): void => {
    entries.push({ ...defaults, ...entry, id: `${String(entries.length).padStart(3, '0')} ${id}` });
  };
  const serverUsages = ['digital signature', 'key encipherment', 'server auth'];
  const base = (key: TestKeyType): RequestSpec => ({ key, commonName: 'base.example.com', dns: ['base.example.com'] });

  // Every request key under every CA.
  for (const key of requestKeys) for (const ca of corpusCas) add(`${key} key, ${ca} CA`, { ca, request: base(key), usages: serverUsages });
  add('RSASSA-PSS signed request, rsa CA', { ca: 'rsa', request: { ...base('rsa2048'), pss: true }, usages: serverUsages });
  add('RSASSA-PSS signed request, p256 CA', { ca: 'p256', request: { ...base('rsa3072'), pss: true }, usages: serverUsages });

  // Subjects: each twice, with different keys, CAs and SANs.
  for (const { name, subject } of subjects) {
    for (let i = 0; i < 2; i++) {
      const withSan = i === 1 || subject.length === 0;
      add(`subject: ${name}${withSan ? ', with a DNS SAN' : ''}`, {
        ca: pick(corpusCas), request: { key: pick(requestKeys), subject, ...(withSan ? { dns: ['subject.example.com'] } : {}) }, usages: serverUsages,
      });
    }
  }

  // SAN mixes, with and without a subject (an empty subject makes the SAN critical).
  for (const { name, altNames } of sanMixes) {
    add(`SANs: ${name}`, { ca: pick(corpusCas), request: { key: pick(requestKeys), commonName: 'san.example.com', altNames }, usages: serverUsages });
    if (altNames.length > 0 && altNames.length < 50) {
      add(`SANs: ${name}, empty subject`, { ca: pick(corpusCas), request: { key: pick(requestKeys), subject: [], altNames }, usages: serverUsages });
    }
  }

  // Requested extensions.
  for (const { name, extensions, refusal: sanRefusal } of requestedExtensions) {
    const asksForCa = name.startsWith('basicConstraints CA:TRUE');
    const refusal = asksForCa ? 'ca-requested' : sanRefusal;
    add(`requested extension: ${name}`, {
      // A raw subjectAltName replaces the one base() would add.
      ca: pick(corpusCas), request: { ...base(pick(requestKeys)), ...(extensions.some((e) => e.oid === '2.5.29.17') ? { dns: [] } : {}), extensions },
      usages: serverUsages, ...(refusal === undefined ? {} : { expect: 'refused', refusal }),
    });
  }

  // Every usage string alone, then sets, then seeded random combinations.
  for (const usage of usageStrings) add(`usage alone: ${usage}`, { ca: pick(corpusCas), request: base(pick(requestKeys)), usages: [usage] });
  for (const usages of usageSets) {
    const unknown = usages.some((u) => !(usageStrings as readonly string[]).includes(u));
    add(`usages: [${usages.join(', ')}]`, {
      ca: pick(corpusCas), request: base(pick(requestKeys)), usages, ...(unknown ? { expect: 'refused', refusal: 'unrecognized-usage' } : {}),
    });
  }
  for (let i = 0; i < 40; i++) {
    const count = 1 + Math.floor(random() * 6);
    const usages = Array.from({ length: count }, () => pick(usageStrings));
    add(`random usages #${i}: [${usages.join(', ')}]`, { ca: pick(corpusCas), request: base(pick(requestKeys)), usages });
  }

  // Durations, and the CA's NotAfter.
  for (const d of durations) {
    for (const ca of ['p256', pick(corpusCas)] as const) {
      add(`duration: ${d.name}, ${ca} CA`, {
        ca, request: base(pick(requestKeys)), usages: serverUsages, clusterDurationSeconds: d.cluster,
        ...(d.expiration === undefined ? {} : { expirationSeconds: d.expiration }),
      });
    }
  }
  for (const ca of corpusCas) {
    add(`the CA NotAfter caps a year, ${ca} CA`, { ca, request: base('p256'), usages: serverUsages, now: { afterCaNotAfter: -30 * 24 * HOUR } });
    add(`the CA NotAfter caps a short-lived certificate, ${ca} CA`, { ca, request: base('p256'), usages: serverUsages, clusterDurationSeconds: HOUR, now: { afterCaNotAfter: -1800 } });
    add(`the CA expired 2 minutes ago, ${ca} CA`, { ca, request: base('p256'), usages: serverUsages, now: { afterCaNotAfter: 120 } });
    add(`the CA expired a day ago, ${ca} CA`, { ca, request: base('p256'), usages: serverUsages, now: { afterCaNotAfter: 24 * HOUR } });
  }
  add('the CA expires exactly now', { ca: 'p256', request: base('p256'), usages: serverUsages, now: { afterCaNotAfter: 0 } });
  add('the CA is not yet valid', { ca: 'rsa', request: base('p256'), usages: serverUsages, now: { afterCaNotBefore: -3600 }, expect: 'refused', refusal: 'ca-not-yet-valid' });

  // Hostile-but-plausible requests.
  for (const { name, request, refusal } of goRefuses) {
    add(`Go refuses: ${name}`, {
      ca: pick(corpusCas), request: { key: pick(requestKeys), ...request }, usages: serverUsages, expect: 'refused', ...(refusal === undefined ? {} : { refusal }),
    });
  }
  for (const { name, request, refusal } of weRefuse) {
    add(`csr-signer refuses: ${name}`, { ca: pick(corpusCas), request: { key: 'p256', ...request }, usages: serverUsages, expect: 'refused', refusal });
  }

  // The built-in signers' rules.
  for (const c of builtinCases) add(`${c.signerName}: ${c.name}`, { ca: pick(corpusCas), request: { key: pick(requestKeys), ...c.request }, usages: c.usages, signerName: c.signerName, clusterDurationSeconds: 24 * HOUR });

  // Seeded random mixes of everything above.
  for (let i = 0; i < 50; i++) {
    const { subject } = pick(subjects);
    const { altNames } = pick(sanMixes);
    const d = pick(durations);
    const usages = random() < 0.5 ? pick(usageSets) : [pick(usageStrings), pick(usageStrings)];
    add(`random mix #${i}`, {
      ca: pick(corpusCas),
      request: { key: pick(requestKeys), subject, altNames, ...(random() < 0.2 ? { extensions: pick(requestedExtensions.filter((e) => e.extensions.every((x) => x.oid !== '2.5.29.17'))).extensions } : {}) },
      usages, clusterDurationSeconds: d.cluster, ...(d.expiration === undefined ? {} : { expirationSeconds: d.expiration }),
    });
  }
  return entries;
}
