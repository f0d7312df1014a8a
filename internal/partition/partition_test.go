package partition

import "testing"

func TestOf(t *testing.T) {
	tests := []struct {
		region, id, suffix, console string
		quickCreate                 bool
	}{
		{"eu-west-3", "aws", "amazonaws.com", "console.aws.amazon.com", true},
		{"", "aws", "amazonaws.com", "console.aws.amazon.com", true},
		{"cn-northwest-1", "aws-cn", "amazonaws.com.cn", "console.amazonaws.cn", true},
		{"us-gov-west-1", "aws-us-gov", "amazonaws.com", "console.amazonaws-us-gov.com", true},
		{"us-iso-east-1", "aws-iso", "c2s.ic.gov", "", false},
		{"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov", "", false},
		{"eu-isoe-west-1", "aws-iso-e", "cloud.adc-e.uk", "", false},
		{"us-isof-south-1", "aws-iso-f", "csp.hci.ic.gov", "", false},
		{"eusc-de-east-1", "aws-eusc", "amazonaws.eu", "", false},
	}
	for _, tt := range tests {
		p := Of(tt.region)
		if p.ID != tt.id || p.DNSSuffix != tt.suffix || p.ConsoleDomain != tt.console || p.QuickCreate != tt.quickCreate {
			t.Errorf("Of(%q) = %+v, want %s %s %q %v", tt.region, p, tt.id, tt.suffix, tt.console, tt.quickCreate)
		}
		// Exactly the partitions without links say why, and only those with a console have links.
		if (p.NoQuickCreate == "") != p.QuickCreate || (p.QuickCreate && p.ConsoleDomain == "") {
			t.Errorf("Of(%q): QuickCreate %v with NoQuickCreate %q, console %q", tt.region, p.QuickCreate, p.NoQuickCreate, p.ConsoleDomain)
		}
	}
}

func TestByDNSSuffix(t *testing.T) {
	for suffix, want := range map[string]string{"amazonaws.com": "aws", "amazonaws.com.cn": "aws-cn", "c2s.ic.gov": "aws-iso", "amazonaws.eu": "aws-eusc"} {
		if p, ok := ByDNSSuffix(suffix); !ok || p.ID != want {
			t.Errorf("ByDNSSuffix(%q) = %+v, %v; want %s", suffix, p, ok, want)
		}
	}
	if _, ok := ByDNSSuffix("example.com"); ok {
		t.Error("ByDNSSuffix(example.com) found a partition")
	}
}
