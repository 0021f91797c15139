// Command helm-template renders a chart's templates as `helm template` does, with Go's
// text/template and the Sprig function library, for the tests in test/chart/.
//
// It follows Helm 3's engine (helm/helm pkg/engine/engine.go and funcs.go): every file of
// templates/ is parsed into one template set with missingkey=zero, files whose name starts
// with "_" are not rendered, "<no value>" is removed from the output, the function map is
// sprig.TxtFuncMap() without env and expandenv plus Helm's toYaml, fromYaml, fromYamlArray,
// toJson, fromJson, fromJsonArray, include, tpl, required and lookup (which, as in
// `helm template`, finds nothing), and a template error is reported as Helm words it
// ("execution error at (<file>:<line>:<col>): <message>"). The values come merged (Helm's
// coalescing is done by the caller) and are decoded from JSON, as Helm's sigs.k8s.io/yaml
// does, so numbers are float64 as they are in Helm.
//
// Input (standard input, JSON): {"chart": {...Chart.yaml}, "files": {"path": "text"} (the
// chart's files outside templates/, as .Files), "templates": {"name": "text"},
// "values": {...}, "release": {...}, "apiVersions": [...], "kubeVersion": "v1.33.0"}.
// Output (standard output, JSON): {"name": "rendered text", ...}; on a template error the
// message alone on standard error and exit status 1.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"sigs.k8s.io/yaml"
)

// Chart is the part of helm's chart.Metadata the templates can read as .Chart.
type Chart struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	AppVersion  string `json:"appVersion"`
	Description string `json:"description"`
	Type        string `json:"type"`
	KubeVersion string `json:"kubeVersion"`
	Home        string `json:"home"`
	APIVersion  string `json:"apiVersion"`
}

// KubeVersion is helm's chartutil.KubeVersion.
type KubeVersion struct {
	Version string
	Major   string
	Minor   string
}

func (k KubeVersion) String() string     { return k.Version }
func (k KubeVersion) GitVersion() string { return k.Version }

// VersionSet is helm's chartutil.VersionSet.
type VersionSet []string

// Has is true when the set holds apiVersion (group/version, or group/version/Kind).
func (v VersionSet) Has(apiVersion string) bool {
	for _, x := range v {
		if x == apiVersion {
			return true
		}
	}
	return false
}

// Capabilities is helm's chartutil.Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
}

// Files is helm's .Files: the chart's files outside templates/, by path.
type Files map[string]string

// Get is the file's text, or "" when there is no such file.
func (f Files) Get(name string) string { return f[name] }

// GetBytes is the file's bytes.
func (f Files) GetBytes(name string) []byte { return []byte(f[name]) }

// Lines is the file's lines (helm's Files.Lines).
func (f Files) Lines(name string) []string {
	if f[name] == "" {
		return []string{}
	}
	return strings.Split(f[name], "\n")
}

type input struct {
	Chart       Chart                  `json:"chart"`
	Files       Files                  `json:"files"`
	Templates   map[string]string      `json:"templates"`
	Values      map[string]interface{} `json:"values"`
	Release     map[string]interface{} `json:"release"`
	APIVersions []string               `json:"apiVersions"`
	KubeVersion string                 `json:"kubeVersion"`
}

const (
	warnStart = "HELM_ERR_START"
	warnEnd   = "HELM_ERR_END"
)

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func required(warn string, val interface{}) (interface{}, error) {
	if val == nil {
		return val, errors.New(warnStart + warn + warnEnd)
	}
	if s, ok := val.(string); ok && s == "" {
		return val, errors.New(warnStart + warn + warnEnd)
	}
	return val, nil
}

func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	for k, v := range (template.FuncMap{
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"required":      required,
		// `helm template` has no cluster: lookup finds nothing.
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		// Late-bound below, as in Helm.
		"include": func(string, interface{}) string { return "not implemented" },
		"tpl":     func(string, interface{}) interface{} { return "not implemented" },
	}) {
		f[k] = v
	}
	return f
}

const recursionMax = 1000

func includeFun(t *template.Template, included map[string]int) func(string, interface{}) (string, error) {
	return func(name string, data interface{}) (string, error) {
		var buf strings.Builder
		if included[name] > recursionMax {
			return "", fmt.Errorf("rendering template has a nested reference name: %s", name)
		}
		included[name]++
		err := t.ExecuteTemplate(&buf, name, data)
		included[name]--
		return buf.String(), err
	}
}

func tplFun(parent *template.Template, included map[string]int) func(string, interface{}) (string, error) {
	return func(text string, vals interface{}) (string, error) {
		t, err := parent.Clone()
		if err != nil {
			return "", fmt.Errorf("cannot clone template: %w", err)
		}
		t.Option("missingkey=zero")
		t.Funcs(template.FuncMap{"include": includeFun(t, included), "tpl": tplFun(t, included)})
		t, err = t.New(parent.Name()).Parse(text)
		if err != nil {
			return "", fmt.Errorf("cannot parse template %q: %w", text, err)
		}
		var buf strings.Builder
		if err := t.Execute(&buf, vals); err != nil {
			return "", fmt.Errorf("error during tpl function execution for %q: %w", text, err)
		}
		return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
	}
}

// cleanup words a template error as Helm's cleanupExecError does.
func cleanup(file string, err error) error {
	var exec template.ExecError
	if !errors.As(err, &exec) {
		return err
	}
	tokens := strings.SplitN(err.Error(), ": ", 3)
	if len(tokens) != 3 {
		return fmt.Errorf("execution error at (%s): %s", file, err)
	}
	location, msg := tokens[1], tokens[2]
	// Only the root cause: what `fail` or `required` said, not the call chain before it.
	if i := strings.Index(msg, warnStart); i >= 0 {
		if j := strings.Index(msg, warnEnd); j > i {
			msg = msg[i+len(warnStart) : j]
		}
	} else if i := strings.LastIndex(msg, "error calling "); i >= 0 {
		if j := strings.Index(msg[i:], ": "); j >= 0 {
			msg = msg[i+j+2:]
		}
	}
	return fmt.Errorf("execution error at (%s): %s", location, msg)
}

func render(in input) (map[string]string, error) {
	names := make([]string, 0, len(in.Templates))
	for name := range in.Templates {
		names = append(names, name)
	}
	sort.Strings(names)
	t := template.New("gotpl").Option("missingkey=zero")
	included := map[string]int{}
	t.Funcs(funcMap())
	t.Funcs(template.FuncMap{"include": includeFun(t, included), "tpl": tplFun(t, included)})
	base := path.Join(in.Chart.Name, "templates")
	for _, name := range names {
		full := path.Join(base, name)
		if _, err := t.New(full).Parse(in.Templates[name]); err != nil {
			return nil, fmt.Errorf("parse error in %q: %w", full, err)
		}
	}
	major, minor := "", ""
	if parts := strings.SplitN(strings.TrimPrefix(in.KubeVersion, "v"), ".", 3); len(parts) >= 2 {
		major, minor = parts[0], parts[1]
	}
	caps := Capabilities{KubeVersion: KubeVersion{Version: in.KubeVersion, Major: major, Minor: minor}, APIVersions: in.APIVersions}
	out := map[string]string{}
	for _, name := range names {
		if strings.HasPrefix(name, "_") {
			continue
		}
		full := path.Join(base, name)
		data := map[string]interface{}{
			"Values":       in.Values,
			"Release":      in.Release,
			"Chart":        in.Chart,
			"Capabilities": caps,
			"Files":        in.Files,
			"Template":     map[string]interface{}{"Name": full, "BasePath": base},
		}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, full, data); err != nil {
			return nil, cleanup(full, err)
		}
		out[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
	}
	return out, nil
}

func main() {
	raw, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var in input
	if err := json.Unmarshal(raw, &in); err != nil {
		fmt.Fprintln(os.Stderr, "bad input:", err)
		os.Exit(2)
	}
	out, err := render(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
