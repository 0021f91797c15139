/** The Go-template subset the chart tests render with: Go's semantics where the chart relies on them. */
import t from 'tap';
import { TemplateError, TemplateSet } from './go-template.js';

const render = (source: string, data: unknown = {}): string => {
  const set = new TemplateSet();
  set.add('t', source);
  return set.render('t', data);
};

void t.test('renders as text/template does', (t) => {
  const cases: [string, string, unknown, string][] = [
    ['trim markers eat whitespace and newlines on their side', 'a\n  {{- "b" -}}\n  c', {}, 'abc'],
    ['if / else if / else', '{{ if .a }}A{{ else if .b }}B{{ else }}C{{ end }}', { b: 1 }, 'B'],
    ['empty maps, lists, strings and 0 are false', '{{ if .m }}x{{ end }}{{ if .l }}x{{ end }}{{ if .s }}x{{ end }}{{ if .n }}x{{ end }}', { m: {}, l: [], s: '', n: 0 }, ''],
    ['range with index and value', '{{ range $i, $v := .l }}{{ $i }}={{ $v }};{{ end }}', { l: ['a', 'b'] }, '0=a;1=b;'],
    ['range sets dot; $ is the root', '{{ range .l }}{{ . }}{{ $.x }}{{ end }}', { l: [1, 2], x: '!' }, '1!2!'],
    ['with rebinds dot, and else', '{{ with .a }}{{ .b }}{{ else }}none{{ end }}{{ with .z }}x{{ else }}none{{ end }}', { a: { b: 'B' } }, 'Bnone'],
    ['pipelines pass the value last', '{{ "abc-" | trimSuffix "-" | quote }}', {}, '"abc"'],
    ['default keeps a non-empty value', '{{ default "d" .a }} {{ default "d" .b }}', { a: 'x', b: '' }, 'x d'],
    ['toYaml with nindent', 'k:{{ toYaml .m | nindent 2 }}', { m: { a: 1, b: [true] } }, 'k:\n  a: 1\n  b:\n    - true'],
    ['include of a define, with dict and index', '{{ define "n" }}{{ index .root.l .i }}{{ end }}{{ include "n" (dict "root" . "i" 1) }}', { l: ['a', 'b'] }, 'b'],
    ['nil prints as nothing', '[{{ .missing }}]', {}, '[]'],
    ['methods are called with their arguments', '{{ if (.C.Has "x/v1") }}yes{{ end }}', { C: { Has: (v: unknown) => v === 'x/v1' } }, 'yes'],
    ['hasKey is true for a key with an empty value, false for nil', '{{ hasKey .m "a" }} {{ hasKey .m "b" }} {{ hasKey .none "a" }}', { m: { a: {} } }, 'true false false'],
    ['trim removes surrounding whitespace', '[{{ "\\n- a\\n" | trim }}]', {}, '[- a]'],
    ['comparisons and int', '{{ if and (gt (int .n) 1) (le 2 3) }}ok{{ end }}', { n: '2' }, 'ok'],
  ];
  for (const [name, source, data, want] of cases) t.equal(render(source, data), want, name);
  t.end();
});

void t.test('refuses what it does not implement, as errors', (t) => {
  t.throws(() => render('{{ upper "a" }}'), /function "upper" is not implemented/, 'an unknown function');
  t.throws(() => render('{{ .a.b }}', {}), { constructor: TemplateError, message: /nil pointer evaluating .a.b/ }, 'a field of nil, as Helm');
  t.throws(() => render('{{ .m }}', { m: { a: 1 } }), /use toYaml/, 'printing a map');
  t.throws(() => render('{{ fail "no" }}'), { message: 'no' });
  t.throws(() => render('{{ hasKey .l "a" }}', { l: [] }), { constructor: TemplateError, message: /expected map/ }, 'hasKey of a list, as Sprig');
  t.throws(() => render('{{ if .a }}x'), /missing \{\{ end \}\}/);
  t.end();
});
