/**
 * `helm template` for tests: merges values like Helm, renders every template of
 * charts/csr-signer with Go's text/template and Sprig (test/chart/helm-template.ts),
 * and parses the manifests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { helmTemplate } from './helm-template.js';

export { TemplateError } from './helm-template.js';

export const chartDir = new URL('../../charts/csr-signer/', import.meta.url).pathname;
export const templatesDir = join(chartDir, 'templates');

export type Values = Record<string, unknown>;
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

export const readYaml = (path: string): unknown => parse(readFileSync(path, 'utf8'));
export const defaultValues = (): Values => readYaml(join(chartDir, 'values.yaml')) as Values;
export const templateFiles = (): string[] => readdirSync(templatesDir).filter((f) => !f.startsWith('_')).sort();

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Helm's coalescing: maps merge key by key, anything else replaces, null deletes. */
export function mergeValues(base: Values, override: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(override)) {
    if (value === null) delete out[key];
    else if (isMap(value) && isMap(out[key])) out[key] = mergeValues(out[key], value);
    else out[key] = value;
  }
  return out;
}

export interface RenderOptions {
  readonly values?: Values;
  readonly apiVersions?: readonly string[];
  readonly releaseName?: string;
  readonly namespace?: string;
  /** .Capabilities.KubeVersion (default v1.33.0). */
  readonly kubeVersion?: string;
}

export interface Rendered {
  /** Text of each template file, as Helm would write it. */
  readonly files: ReadonlyMap<string, string>;
  /** Every non-empty YAML document of the .yaml templates. */
  readonly manifests: Manifest[];
  readonly values: Values;
}

/** The chart's files outside templates/, as Helm's .Files holds them (the chart has no .helmignore). */
function chartFiles(): Record<string, string> {
  const entries = readdirSync(chartDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(chartDir, join(e.parentPath, e.name)))
    .filter((path) => !path.startsWith('templates/'));
  return Object.fromEntries(entries.sort().map((path) => [path, readFileSync(join(chartDir, path), 'utf8')]));
}

/** Renders the chart as `helm template RELEASE charts/csr-signer -n NAMESPACE -f values` would. */
export function renderChart(options: RenderOptions = {}): Rendered {
  const chart = readYaml(join(chartDir, 'Chart.yaml')) as { name: string; version: string; appVersion: string };
  const values = mergeValues(defaultValues(), options.values ?? {});
  // The API versions every cluster the chart supports serves; `helm template` assumes these too.
  const apiVersions = ['v1', 'apps/v1', 'policy/v1', 'rbac.authorization.k8s.io/v1', 'networking.k8s.io/v1', ...(options.apiVersions ?? [])];
  const templates = Object.fromEntries(readdirSync(templatesDir).sort().map((f) => [f, readFileSync(join(templatesDir, f), 'utf8')]));
  const rendered = helmTemplate({
    chart,
    files: chartFiles(),
    templates,
    values,
    release: { Name: options.releaseName ?? 'csr-signer', Namespace: options.namespace ?? 'csr-signer', Service: 'Helm', IsInstall: true, IsUpgrade: false, Revision: 1 },
    apiVersions,
    kubeVersion: options.kubeVersion ?? 'v1.33.0',
  });
  const files = new Map<string, string>();
  const manifests: Manifest[] = [];
  for (const file of templateFiles()) {
    const text = rendered.get(file) ?? '';
    files.set(file, text);
    if (!file.endsWith('.yaml')) continue;
    // YAML 1.1, as the API server's decoder reads it (0440 is octal there, `yes` a boolean).
    for (const doc of parseAllDocuments(text, { version: '1.1' })) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}\n${text}`);
      const obj = doc.toJS() as Manifest | null;
      if (obj !== null) manifests.push(obj);
    }
  }
  return { files, manifests, values };
}

/** The one manifest of `kind` (and `name` when given); throws when there is not exactly one. */
export function find(manifests: readonly Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${found.length}`);
  return found[0] as Manifest;
}
