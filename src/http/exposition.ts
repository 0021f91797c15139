/**
 * The two text formats /metrics serves: Prometheus text 0.0.4 by default, and
 * OpenMetrics 1.0.0 when the scraper's Accept header prefers it.
 *
 * prom-client 15 renders OpenMetrics by switching the whole Registry's content
 * type, and while doing so renames each counter in place (`foo_total` → `foo`,
 * prometheus/client_js#829): one OpenMetrics scrape would make every later
 * Prometheus scrape lose its `_total` suffixes, and a switch shared between
 * concurrent scrapes would race. So the shared Registry always stays in Prometheus
 * mode, and an OpenMetrics scrape renders a throw-away Registry whose entries
 * delegate to ours (Object.create): the rename lands on the throw-away entry.
 */
import { Registry, type Metric, type OpenMetricsContentType } from 'prom-client';

export type ExpositionFormat = 'prometheus' | 'openmetrics';

export const contentTypes: Readonly<Record<ExpositionFormat, string>> = {
  prometheus: Registry.PROMETHEUS_CONTENT_TYPE,
  openmetrics: Registry.OPENMETRICS_CONTENT_TYPE,
};

interface MediaRange {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
  readonly q: number;
}

function parseAccept(header: string): MediaRange[] {
  return header.split(',').map((part) => {
    const [type = '', ...rest] = part.split(';').map((s) => s.trim());
    const params = new Map<string, string>();
    for (const p of rest) {
      const eq = p.indexOf('=');
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, ''));
    }
    const q = Number(params.get('q') ?? '1');
    return { type: type.toLowerCase(), params, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 };
  });
}

/** The highest q the ranges give a media type, or -1 when none matches it. */
function quality(ranges: readonly MediaRange[], matches: (r: MediaRange) => boolean): number {
  return ranges.filter(matches).reduce((best, r) => Math.max(best, r.q), -1);
}

/**
 * Which format to answer an Accept header with: OpenMetrics when an
 * `application/openmetrics-text` range (version 1.0.0 or unversioned) is acceptable
 * and ranked at least as high as Prometheus text; Prometheus text otherwise.
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (accept === undefined || accept === '') return 'prometheus';
  const ranges = parseAccept(accept);
  const openMetrics = quality(ranges, (r) => {
    const version = r.params.get('version');
    return r.type === 'application/openmetrics-text' && (version === undefined || version === '1.0.0');
  });
  if (openMetrics <= 0) return 'prometheus';
  const exact = quality(ranges, (r) => r.type === 'text/plain');
  const text = exact >= 0 ? exact : quality(ranges, (r) => r.type === 'text/*' || r.type === '*/*');
  return openMetrics >= text ? 'openmetrics' : 'prometheus';
}

/** The registry's metrics in `format`; `registry` itself is never modified. */
export async function renderMetrics(registry: Registry, format: ExpositionFormat): Promise<string> {
  if (format === 'prometheus') return registry.metrics();
  const view = new Registry<OpenMetricsContentType>();
  view.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  for (const metric of registry.getMetricsAsArray()) {
    // getMetricsAsArray() is typed as plain objects, but its entries are the Metric instances registered.
    view.registerMetric(Object.create(metric) as Metric);
  }
  return view.metrics();
}
