package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/isahit/s3grant/internal/rules"
)

// checkOutput checks the --output flag of the commands that print text or JSON.
func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return rules.Invalid("--output", output, fmt.Sprintf("%q is not an output format: use text or json", output))
	}
	return nil
}

// writeJSON prints v as one indented JSON document, for --output json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
