/**
 * The documented differences from the in-tree signer, read from
 * docs/replacing-kcm.md: the differential test accepts a difference only when
 * a row of these tables names it, and fails on a row nothing in the corpus shows.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const docPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'replacing-kcm.md');

/** Headings of the two tables; tests and links depend on them, so they stay as they are. */
export const certificateDifferencesHeading = "## What differs from the in-tree signer's certificates";
export const refusalsHeading = '## Requests csr-signer refuses that the in-tree signer signs';

export interface DocumentedRow {
  /** The first column, without backticks: a stable key such as `ski-added`. */
  readonly key: string;
  /** The other cells, as written. */
  readonly cells: readonly string[];
}

/** The rows of the first Markdown table under `heading` (up to the next heading). */
export function tableUnder(markdown: string, heading: string): DocumentedRow[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  if (start < 0) throw new Error(`${docPath} has no heading "${heading}"`);
  const rows: DocumentedRow[] = [];
  let inTable = false;
  for (const line of lines.slice(start + 1)) {
    if (/^#{1,6} /.test(line)) break;
    if (!line.startsWith('|')) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split('|').map((c) => c.trim());
    const [first = '', ...rest] = cells;
    if (/^-+$/.test(first.replace(/:/g, '')) || first === 'Key') continue;
    rows.push({ key: first.replace(/`/g, ''), cells: rest });
  }
  if (rows.length === 0) throw new Error(`${docPath}: no table rows under "${heading}"`);
  return rows;
}

export interface Documented {
  /** Certificate difference keys (compare.ts) that are on purpose. */
  readonly certificateDifferences: ReadonlyMap<string, DocumentedRow>;
  /** Refusals on purpose, by key; `code` is the second column (`CSR_SIGNER_ERR_…`). */
  readonly refusals: ReadonlyMap<string, DocumentedRow & { readonly code: string }>;
}

/** Reads both tables; the refusal table's second column is the error code (`CSR_SIGNER_ERR_…`). */
export function readDocumented(markdown = readFileSync(docPath, 'utf8')): Documented {
  const certificateDifferences = new Map(tableUnder(markdown, certificateDifferencesHeading).map((r) => [r.key, r]));
  const refusals = new Map<string, DocumentedRow & { readonly code: string }>();
  for (const row of tableUnder(markdown, refusalsHeading)) {
    const code = (row.cells[0] ?? '').replace(/`/g, '');
    if (!/^CSR_SIGNER_ERR_[A-Z0-9_]+$/.test(code)) throw new Error(`${docPath}: refusal row ${row.key} has no error code in its second column`);
    refusals.set(row.key, { ...row, code });
  }
  return { certificateDifferences, refusals };
}
