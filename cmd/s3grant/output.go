package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/isahit/s3grant/internal/rules"
)

// Output formats. --output (-o) is the format in every command that has one, as in aws-cli and
// kubectl; destinations have flags of their own (--file, --dir).
const (
	formatText = "text"
	formatJSON = "json"
	formatYAML = "yaml"
)

// outputFlag is the --output flag of one command: the formats it accepts, the first the default.
type outputFlag struct {
	value   string
	formats []string
}

func (o *outputFlag) register(fs *pflag.FlagSet, formats ...string) {
	o.formats = formats
	fs.StringVarP(&o.value, "output", "o", formats[0], "output `FORMAT`: "+strings.Join(formats, " or "))
}

// format returns the chosen format, lower-cased, or bad input naming --output.
func (o *outputFlag) format() (string, error) {
	f := strings.ToLower(o.value)
	if !slices.Contains(o.formats, f) {
		return "", rules.Invalid("--output", o.value, fmt.Sprintf("%q is not an output format: use %s", o.value, strings.Join(o.formats, " or ")))
	}
	return f, nil
}

// writeJSON prints v as one indented JSON document, for --output json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
