package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/stacks"
)

// Every parameter the customer sets has its flag in the table, registered on the commands
// that build the integration; the two the vendor profile sets have none, nor CorsRepairToken
// (deploy --repair-cors makes it). NextExternalId, which rotate sets, has verify's flag only,
// so that a deploy never changes it from a flag.
func TestFieldFlagsCoverTheParameters(t *testing.T) {
	a := &app{}
	cmd := newTemplateCmd(a)
	noFlag := map[string]bool{"TrustedAccountId": true, "AllowedOrigins": true, "CorsRepairToken": true}
	registeredBy := map[string]*cobra.Command{"NextExternalId": newVerifyCmd(a)}
	for _, p := range stacks.Params {
		flag, ok := fieldFlags[p.Name]
		switch {
		case noFlag[p.Name] && ok:
			t.Errorf("%s has no flag of its own, yet maps to %s", p.Name, flag)
		case noFlag[p.Name]:
		case !ok:
			t.Errorf("parameter %s has no flag in fieldFlags", p.Name)
		case registeredBy[p.Name] != nil:
			if registeredBy[p.Name].Flags().Lookup(strings.TrimPrefix(flag, "--")) == nil {
				t.Errorf("parameter %s maps to %s, which %s does not register", p.Name, flag, registeredBy[p.Name].Name())
			}
		case cmd.Flags().Lookup(strings.TrimPrefix(flag, "--")) == nil:
			t.Errorf("parameter %s maps to %s, which template does not register", p.Name, flag)
		}
	}
}

func TestFlagFor(t *testing.T) {
	for field, want := range map[string]string{
		"BucketName":          "--bucket",
		stacks.FieldRegion:    "--region",
		"param_ExternalId":    "--external-id (param_ExternalId)",
		"param_Unknown":       "param_Unknown",
		"cors.origins[0]":     "cors.origins[0]",
		"TrustedAccountId":    "TrustedAccountId",
		"--vendor a.yaml: id": "--vendor a.yaml: id",
	} {
		if got := flagFor(field); got != want {
			t.Errorf("flagFor(%q) = %q, want %q", field, got, want)
		}
	}
}
