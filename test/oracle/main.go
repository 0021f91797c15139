// Command oracle answers questions about certificates with Go's crypto/x509, the
// library every Kubernetes component parses certificates with. It reads JSON
// lines on stdin and writes one JSON line per input, in order, on stdout.
//
//	oracle parse     {"id", "cert", "issuer"?, "roots"?, "at"?} -> parse result
//	oracle kcm-sign  {"id", "csr", "signerName", "usages", ...}  -> what the in-tree signer does
//
// Standard library only; built by test/helpers/go-oracle.ts. See README.md.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

func main() {
	if len(os.Args) != 2 {
		fail("usage: oracle parse|kcm-sign < inputs.jsonl")
	}
	var handle func(json.RawMessage) (interface{}, error)
	switch os.Args[1] {
	case "parse":
		handle = func(raw json.RawMessage) (interface{}, error) {
			var in parseInput
			if err := decodeStrict(raw, &in); err != nil {
				return nil, err
			}
			return parseOne(in)
		}
	case "kcm-sign":
		handle = func(raw json.RawMessage) (interface{}, error) {
			var in signInput
			if err := decodeStrict(raw, &in); err != nil {
				return nil, err
			}
			return kcmSign(in)
		}
	default:
		fail(fmt.Sprintf("unknown mode %q: want parse or kcm-sign", os.Args[1]))
	}

	dec := json.NewDecoder(bufio.NewReaderSize(os.Stdin, 1<<20))
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for n := 1; ; n++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			fail(fmt.Sprintf("input %d: not JSON: %v", n, err))
		}
		result, err := handle(raw)
		if err != nil {
			fail(fmt.Sprintf("input %d: %v", n, err))
		}
		if err := enc.Encode(result); err != nil {
			fail(fmt.Sprintf("input %d: writing output: %v", n, err))
		}
	}
	if err := out.Flush(); err != nil {
		fail(fmt.Sprintf("writing output: %v", err))
	}
}

// decodeStrict rejects unknown fields: a misspelt input field is a caller bug,
// not something to ignore silently.
func decodeStrict(raw json.RawMessage, v interface{}) error {
	dec := json.NewDecoder(bytesReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad input: %v", err)
	}
	return nil
}

func fail(message string) {
	fmt.Fprintln(os.Stderr, "oracle: "+message)
	os.Exit(2)
}
