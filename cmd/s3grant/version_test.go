package main

import (
	"encoding/json"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/isahit/s3grant/stacks"
)

func TestVersionOf(t *testing.T) {
	rev := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}
	tests := []struct {
		bi   debug.BuildInfo
		want string
	}{
		{debug.BuildInfo{Main: debug.Module{Version: "v1.4.0"}, Settings: rev}, "v1.4.0"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev}, "0123456789ab+dirty"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: rev[:1]}, "0123456789ab"},
		{debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)"},
	}
	for _, tt := range tests {
		if got := versionOf(&tt.bi); got != tt.want {
			t.Errorf("versionOf(%+v) = %q, want %q", tt.bi.Main, got, tt.want)
		}
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, errOut := runCLI(t, "", "version")
	if code != 0 || !strings.Contains(out, "template "+stacks.TemplateVersion+"\n") || !strings.Contains(out, "vendor isahit Lab (embedded)") {
		t.Errorf("version: exit %d, %q %q", code, out, errOut)
	}
	path := writeVendor(t, "name: Acme Vision", "name: Acme Vision")
	code, out, _ = runCLI(t, "", "version", "--vendor", path, "-o", "JSON")
	var info versionInfo
	if err := json.Unmarshal([]byte(out), &info); code != 0 || err != nil || info.Vendor != "Acme Vision" ||
		info.VendorProfile != path || info.TemplateVersion != stacks.TemplateVersion || info.Version == "" {
		t.Errorf("version --output json: exit %d, %+v (%v)", code, info, err)
	}
	code, out, _ = runCLI(t, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "s3grant ") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	code, out, errOut = runCLI(t, "", "version", "--output", "yaml")
	wantBadInput(t, code, out, errOut, "--output")
}
