/**
 * The renderer the chart tests use (test/chart/helm/main.go) behaves as Helm's engine:
 * Go's text/template, Sprig, and Helm's own functions and conventions.
 */
import t from 'tap';
import { helmTemplate, TemplateError } from './helm-template.js';

const render = (source: string, values: Record<string, unknown> = {}, apiVersions: string[] = []): string => helmTemplate({
  chart: { name: 'c', version: '1.0.0', appVersion: '2.0.0' },
  files: { 'files/a.yaml': 'k: {{ not a template }}\nl: 2' },
  templates: { '_helpers.tpl': '{{ define "c.name" }}{{ .Chart.Name }}-{{ .Release.Name }}{{ end }}', 'x.yaml': source },
  values,
  release: { Name: 'r', Namespace: 'ns', Service: 'Helm' },
  apiVersions,
  kubeVersion: 'v1.33.0',
}).get('x.yaml') ?? '';

void t.test('renders as helm template does', (t) => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['trim markers eat whitespace and newlines on their side', 'a\n  {{- "b" -}}\n  c', {}, 'abc'],
    ['a missing value prints nothing (missingkey=zero, "<no value>" removed)', '[{{ .Values.missing }}]', {}, '[]'],
    ['include of a define in another file, with the release and chart', '{{ include "c.name" . | upper }}', {}, 'C-R'],
    ['tpl renders a string as a template of the chart', '{{ tpl .Values.t . }}', { t: '{{ .Release.Namespace }}/{{ include "c.name" . }}' }, 'ns/c-r'],
    ['toYaml is sigs.k8s.io/yaml: sorted keys, lists at the key\'s indent', '{{ toYaml .Values.m }}', { m: { b: [1, 'x'], a: true } }, 'a: true\nb:\n- 1\n- x'],
    ['numbers come as float64 and print as Go prints them', '{{ .Values.n }} {{ int .Values.n }} {{ .Values.f }}', { n: 2, f: 1.5 }, '2 2 1.5'],
    ['toJson and fromYaml', '{{ toJson .Values.m }} {{ (fromYaml "a: 1").a }}', { m: { a: [1] } }, '{"a":[1]} 1'],
    ['hasKey and kindIs tell 0 and null apart', '{{ hasKey .Values "z" }} {{ kindIs "invalid" .Values.n }} {{ kindIs "float64" .Values.z }}', { z: 0, n: null }, 'true true true'],
    ['Capabilities.APIVersions.Has and KubeVersion', '{{ .Capabilities.APIVersions.Has "x/v1" }} {{ .Capabilities.APIVersions.Has "y/v1" }} {{ .Capabilities.KubeVersion.Minor }}', {}, 'true false 33'],
    ['lookup finds nothing, as in helm template', '{{ len (lookup "v1" "Secret" "ns" "s") }}', {}, '0'],
    ['Template.Name', '{{ .Template.Name }}', {}, 'c/templates/x.yaml'],
    ['.Files.Get is the file as it is, not rendered; a missing file is empty', '{{ .Files.Get "files/a.yaml" }}|{{ .Files.Get "none" }}|{{ len (.Files.Lines "files/a.yaml") }}', {}, 'k: {{ not a template }}\nl: 2||2'],
  ];
  for (const [name, source, values, want] of cases) t.equal(render(source, values, ['x/v1']), want, name);
  t.end();
});

void t.test('fails as helm fails, with its message', (t) => {
  t.throws(() => render('{{ fail "no way" }}'), { constructor: TemplateError, message: /^execution error at \(c\/templates\/x\.yaml:1:3\): no way$/ }, 'fail');
  t.throws(() => render('{{ required "a is required" .Values.a }}'), { constructor: TemplateError, message: /: a is required$/ }, 'required of a missing value');
  t.throws(() => render('{{ required "a is required" .Values.a }}', { a: '' }), { constructor: TemplateError, message: /: a is required$/ }, 'required of an empty string');
  t.equal(render('{{ required "x" .Values.a }}', { a: 0 }), '0', 'required passes 0');
  t.throws(() => render('{{ env "HOME" }}'), { constructor: TemplateError, message: /function "env" not defined/ }, 'env is not there, as in Helm');
  t.throws(() => render('{{ if .Values.a }}x'), { constructor: TemplateError, message: /unexpected EOF/ }, 'a parse error');
  t.throws(() => render('{{ .Values.a.b.c }}', { a: 'str' }), { constructor: TemplateError, message: /can't evaluate field b/ }, 'a field of a string');
  t.end();
});
