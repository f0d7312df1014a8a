package main

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
)

// A guide built with --template-url should link the immutable key publish gives the template it
// describes: latest.json or another key gets a warning (the guide is still built, exit 0).
func TestDocsBuildWarnsOnATemplateURLThatIsNotTheDescribedOne(t *testing.T) {
	body, err := stacks.JSON(stacks.New(profile.Default()))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	base := "https://isahit-templates.s3.eu-west-3.amazonaws.com/s3grant/"
	exact := base + stacks.TemplateVersion + "/" + hex.EncodeToString(sum[:8]) + ".json"
	for _, tc := range []struct {
		url, warning string
	}{
		{exact, ""},
		{base + "latest.json", "changes with every publish"},
		{base + "v1/0123456789abcdef.json", "not the key s3grant publish gives"},
	} {
		code, _, errOut := runCLI(t, "", "docs", "build", "--dir", filepath.Join(t.TempDir(), "g"), "--template-url", tc.url)
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.url, code, errOut)
		}
		if tc.warning == "" && errOut != "" || tc.warning != "" && (!strings.HasPrefix(errOut, "warning: --template-url: ") || !strings.Contains(errOut, tc.warning)) {
			t.Errorf("%s: stderr %q, want a warning with %q", tc.url, errOut, tc.warning)
		}
	}
}
