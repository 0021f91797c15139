/**
 * Identity templates of pod certificates: text with placeholders in braces, e.g.
 * `spiffe://{trustDomain}/ns/{namespace}/sa/{serviceAccountName}`. Parsed once when the
 * configuration loads (an unknown placeholder or a stray brace is refused there), rendered
 * per request from the PodCertificateRequest's spec only.
 */

export const templatePlaceholders = ['namespace', 'serviceAccountName', 'podName', 'podUID', 'nodeName', 'trustDomain'] as const;
export type TemplatePlaceholder = (typeof templatePlaceholders)[number];
export type TemplateValues = Readonly<Record<TemplatePlaceholder, string>>;

/** Literal text and placeholders, in order. */
export type IdentityTemplate = readonly (string | { readonly placeholder: TemplatePlaceholder })[];

const isPlaceholder = (name: string): name is TemplatePlaceholder => (templatePlaceholders as readonly string[]).includes(name);

/** Parses a template, or returns one sentence saying what is wrong with it. */
export function parseIdentityTemplate(text: string): IdentityTemplate | { readonly problem: string } {
  const parts: (string | { placeholder: TemplatePlaceholder })[] = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{', at);
    const close = text.indexOf('}', at);
    if (close >= 0 && (open < 0 || close < open)) return { problem: `a "}" at position ${close + 1} closes no placeholder` };
    if (open < 0) {
      parts.push(text.slice(at));
      break;
    }
    if (open > at) parts.push(text.slice(at, open));
    const end = text.indexOf('}', open + 1);
    if (end < 0) return { problem: `the "{" at position ${open + 1} is never closed` };
    const name = text.slice(open + 1, end);
    if (!isPlaceholder(name)) {
      return { problem: `{${name}} is not a placeholder; use ${templatePlaceholders.map((p) => `{${p}}`).join(', ')}` };
    }
    parts.push({ placeholder: name });
    at = end + 1;
  }
  return parts;
}

/** The template with each placeholder replaced by its value. */
export const renderIdentityTemplate = (template: IdentityTemplate, values: TemplateValues): string =>
  template.map((part) => (typeof part === 'string' ? part : values[part.placeholder])).join('');

/** Parses a template already validated by the configuration; throws on one that is not. */
export function identityTemplate(text: string): IdentityTemplate {
  const parsed = parseIdentityTemplate(text);
  if ('problem' in parsed) throw new Error(`identity template ${JSON.stringify(text)}: ${parsed.problem}`);
  return parsed;
}
