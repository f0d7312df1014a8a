package profile

import (
	"strings"
	"testing"
)

// The embedded profile holds the values of DESIGN.md's table; the seed's other account ID
// (090680223052, from its JSON example) must not come back.
func TestDefaultIsIsahitLab(t *testing.T) {
	v := Default()
	if v.Name != "isahit Lab" || v.AccountID != "999888496268" || v.AccessPointName != "isahit-lab-access-point" {
		t.Errorf("default profile: %+v", v)
	}
	if strings.Join(v.CORS.Origins, " ") != "https://lab.isahit.com https://work.isahit.com" {
		t.Errorf("origins: %v", v.CORS.Origins)
	}
	if strings.Join(v.CORS.Methods, " ") != "GET" || strings.Join(v.CORS.Headers, " ") != "*" {
		t.Errorf("methods %v headers %v", v.CORS.Methods, v.CORS.Headers)
	}
	if v.Example.Region != "eu-west-3" {
		t.Errorf("example region: %s", v.Example.Region)
	}
	if strings.Contains(string(defaultYAML), "090680223052\"") {
		t.Error("the profile trusts the seed's JSON-example account")
	}
}

func TestParseKeepsAccountIDDigits(t *testing.T) {
	y := strings.Replace(string(defaultYAML), `account_id: "999888496268"`, "account_id: 012345678901", 1)
	v, err := Parse([]byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if v.AccountID != "012345678901" {
		t.Errorf("account ID %q lost its leading zero", v.AccountID)
	}
}

func TestParseRefusesEmptyFile(t *testing.T) {
	if _, err := Parse(nil); err == nil {
		t.Error("an empty vendor file was accepted")
	}
}
