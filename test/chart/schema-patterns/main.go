// Command schema-patterns compiles every "pattern" of a JSON schema with Go's regexp
// package, as Helm does when it loads a chart's values.schema.json (Helm validates values
// with a Go JSON-schema library, which compiles each pattern with regexp.Compile: RE2
// syntax, so no lookahead or backreference).
//
// Input (standard input, JSON): ["pattern", ...]. Output (standard output, JSON):
// [{"pattern": "...", "error": "..."}] for every pattern Go cannot compile ([] when all compile).
package main

import (
	"encoding/json"
	"os"
	"regexp"
)

type failure struct {
	Pattern string `json:"pattern"`
	Error   string `json:"error"`
}

func main() {
	var patterns []string
	if err := json.NewDecoder(os.Stdin).Decode(&patterns); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(2)
	}
	failures := []failure{}
	for _, p := range patterns {
		if _, err := regexp.Compile(p); err != nil {
			failures = append(failures, failure{Pattern: p, Error: err.Error()})
		}
	}
	if err := json.NewEncoder(os.Stdout).Encode(failures); err != nil {
		os.Exit(2)
	}
}
