package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/isahit/s3grant/stacks"
)

// versionInfo is what s3grant version prints: which build runs, which template shape it
// makes, and which vendor profile it uses.
type versionInfo struct {
	// Version is the module version (v1.2.3 from go install), or the VCS revision with
	// "+dirty" for a build from a modified checkout, or "(devel)".
	Version         string `json:"version"`
	TemplateVersion string `json:"templateVersion"`
	Vendor          string `json:"vendor"`
	// VendorProfile is the --vendor file, or "embedded".
	VendorProfile string `json:"vendorProfile"`
}

// buildVersion reads the build's version from the module build info.
func buildVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var revision, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if revision == "" {
		return "(devel)"
	}
	if len(revision) > 12 {
		revision = revision[:12]
	}
	if modified == "true" {
		revision += "+dirty"
	}
	return revision
}

// versionInfo returns what s3grant version prints for this app's vendor profile.
func (a *app) versionInfo() (versionInfo, error) {
	vendor, err := a.vendor()
	info := versionInfo{Version: buildVersion(), TemplateVersion: stacks.TemplateVersion, Vendor: vendor.Name,
		VendorProfile: "embedded"}
	if a.vendorFile != "" {
		info.VendorProfile = a.vendorFile
	}
	return info, err
}

func newVersionCmd(a *app) *cobra.Command {
	var output outputFlag
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the build version, the template version and the vendor profile in use",
		Long: "version prints the version of this s3grant build (its module version, or the source revision it was " +
			"built from), the version of the CloudFormation template it makes, and the vendor profile in use: the " +
			"embedded one or the --vendor file.",
		Example: "  s3grant version\n  s3grant version --vendor acme.yaml --output json",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			format, err := output.format()
			if err != nil {
				return err
			}
			info, err := a.versionInfo()
			if err != nil {
				return err
			}
			if format == formatJSON {
				return writeJSON(a.stdout, info)
			}
			fmt.Fprintf(a.stdout, "s3grant %s\ntemplate %s\nvendor %s (%s)\n", info.Version, info.TemplateVersion, info.Vendor, info.VendorProfile)
			return nil
		},
	}
	output.register(cmd.Flags(), formatText, formatJSON)
	return cmd
}
