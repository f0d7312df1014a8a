package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// Every command with --output takes its format names in any case. The commands are found in
// the command tree, so a new one is covered too. An unknown format must be refused naming
// --output (which shows the format is checked before anything else), and an upper-case known
// one must not be.
func TestOutputFormatsAreCaseInsensitive(t *testing.T) {
	var paths [][]string
	formats := map[string][]string{} // command path -> its formats, from the flag's help
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if f := c.LocalFlags().Lookup("output"); f != nil {
			paths = append(paths, path)
			_, list, _ := strings.Cut(f.Usage, ": ")
			formats[strings.Join(path, " ")] = strings.Split(list, " or ")
		}
		for _, sub := range c.Commands() {
			walk(sub, append(append([]string{}, path...), sub.Name()))
		}
	}
	walk(newRootCmd(&app{}), nil)
	if len(paths) < 8 {
		t.Fatalf("found --output on %v only", paths)
	}
	for _, path := range paths {
		if fs := formats[strings.Join(path, " ")]; len(fs) < 2 {
			t.Fatalf("%v: formats %q read from the flag's help", path, fs)
		}
		code, out, errOut := runCLI(t, "", append(path, "--output", "XML")...)
		wantBadInput(t, code, out, errOut, "--output")
		for _, f := range formats[strings.Join(path, " ")] {
			f = strings.ToUpper(f)
			code, _, errOut := runCLI(t, "", append(path, "--output", f)...)
			if strings.Contains(errOut, "--output") {
				t.Errorf("%s --output %s: exit %d, %s", strings.Join(path, " "), f, code, errOut)
			}
		}
	}
}

func TestTemplateFormatNamesInAnyCase(t *testing.T) {
	for _, args := range [][]string{{"--output", "YAML"}, {"-o", "Yaml"}, {"--format", "YAML"}, {"--output", "JSON"}, {"--format", "JSON"}} {
		code, out, errOut := runCLI(t, "", append([]string{"template"}, args...)...)
		if code != 0 {
			t.Fatalf("template %v: exit %d: %s", args, code, errOut)
		}
		isJSON := json.Valid([]byte(out))
		if wantJSON := strings.EqualFold(args[1], "json"); isJSON != wantJSON || !strings.Contains(out, "AWSTemplateFormatVersion") {
			t.Errorf("template %v: JSON %v, want %v: %.60q", args, isJSON, wantJSON, out)
		}
	}
}
