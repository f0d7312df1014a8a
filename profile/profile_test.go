package profile

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/isahit/s3grant/internal/rules"
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

// withValue is the embedded profile with one key set (a dotted path; nil deletes the key),
// re-encoded as YAML: each adversarial case differs from a valid profile in one place only.
func withValue(t *testing.T, path string, value any) []byte {
	t.Helper()
	var doc map[string]any
	if err := yaml.Unmarshal(defaultYAML, &doc); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	m := doc
	for _, k := range keys[:len(keys)-1] {
		m = m[k].(map[string]any)
	}
	if value == nil {
		delete(m, keys[len(keys)-1])
	} else {
		m[keys[len(keys)-1]] = value
	}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func manyOrigins(n int) []string {
	var o []string
	for i := range n {
		o = append(o, fmt.Sprintf("https://app%d.example.com", i))
	}
	return o
}

func manyTags(n int) map[string]string {
	tags := map[string]string{}
	for i := range n {
		tags[fmt.Sprintf("tag%02d", i)] = "v"
	}
	return tags
}

// Every hostile or broken profile of issue 16, and the limits around them, is refused with an
// *rules.InvalidError naming the key at fault and saying the rule.
func TestParseRefusesBadProfiles(t *testing.T) {
	valid := string(defaultYAML)
	cases := []struct {
		name      string
		yaml      []byte
		field     string // the key the error must name ("" for file-level errors)
		reasonHas string
	}{
		{"Fn::Sub variable in the name", withValue(t, "name", "Acme ${Evil}"), "name", "Fn::Sub"},
		{"300-character name", withValue(t, "name", strings.Repeat("A", 300)), "name", "at most 64"},
		{"name one over the limit", withValue(t, "name", strings.Repeat("é", MaxNameLength+1)), "name", "at most 64"},
		{"newline in the name", withValue(t, "name", "Acme\nLab"), "name", "U+000A"},
		{"escaped NUL in the name", []byte(strings.Replace(valid, "name: isahit Lab", `name: "isahit\0Lab"`, 1)), "name", "U+0000"},
		{"tab in the name", withValue(t, "name", "Acme\tLab"), "name", "U+0009"},
		{"non-Latin-1 name IAM refuses", withValue(t, "name", "アクメ Lab"), "name", "Latin-1"},
		{"name with surrounding spaces", withValue(t, "name", " Acme "), "name", "spaces"},
		{"blank name", withValue(t, "name", "  "), "name", "required"},
		{"300 origins", withValue(t, "cors.origins", manyOrigins(300)), "cors.origins", "4096"},
		{"origin with port 99999", withValue(t, "cors.origins", []string{"https://lab.isahit.com:99999"}), "cors.origins[0]", "1 to 65535"},
		{"origin with port 0", withValue(t, "cors.origins", []string{"https://lab.isahit.com", "https://x.isahit.com:0"}), "cors.origins[1]", "1 to 65535"},
		{"origin with a path", withValue(t, "cors.origins", []string{"https://lab.isahit.com/app"}), "cors.origins[0]", "no path"},
		{"http origin", withValue(t, "cors.origins", []string{"http://lab.isahit.com"}), "cors.origins[0]", "https://"},
		{"origin label over 63", withValue(t, "cors.origins", []string{"https://" + strings.Repeat("a", 64) + ".example.com"}), "cors.origins[0]", "63"},
		{"duplicate origin", withValue(t, "cors.origins", []string{"https://lab.isahit.com", "https://lab.isahit.com"}), "cors.origins[1]", "twice"},
		{"max_age_seconds 10000000000", withValue(t, "cors.max_age_seconds", 10000000000), "cors.max_age_seconds", "2147483647"},
		{"max_age_seconds one over int32", withValue(t, "cors.max_age_seconds", int64(math.MaxInt32)+1), "cors.max_age_seconds", "32-bit"},
		{"negative max_age_seconds", withValue(t, "cors.max_age_seconds", -1), "cors.max_age_seconds", "out of range"},
		{"60 tags", withValue(t, "tags", manyTags(60)), "tags", "at most 50"},
		{"51 tags", withValue(t, "tags", manyTags(51)), "tags", "at most 50"},
		{"aws: tag key", withValue(t, "tags", map[string]string{"aws:owner": "x"}), "tags", "reserved"},
		{"tag key over 128", withValue(t, "tags", map[string]string{strings.Repeat("k", 129): "x"}), "tags", "1-128"},
		{"tag value over 256", withValue(t, "tags", map[string]string{"k": strings.Repeat("v", 257)}), "tags.k", "256"},
		{"tag value with a control character", withValue(t, "tags", map[string]string{"k": "a\u0007b"}), "tags.k", "not valid"},
		{"raw NUL in the file", []byte(strings.Replace(valid, "isahit Lab", "isahit\x00Lab", 1)), "", "U+0000"},
		{"raw escape character in a comment", []byte("# \x1b[31m\n" + valid), "", "line 1"},
		{"invalid UTF-8", []byte(strings.Replace(valid, "isahit Lab", "isahit \xff Lab", 1)), "", "UTF-8"},
		{"second YAML document", []byte(valid + "---\nname: Evil\n"), "", "exactly one YAML document"},
		{"second document after an opening ---", []byte("---\n" + valid + "---\n{}\n"), "", "exactly one YAML document"},
		{"expose header with a comma", withValue(t, "cors.expose_headers", []string{"ETag,x"}), "cors.expose_headers[0]", "commas"},
		{"header with a space", withValue(t, "cors.headers", []string{"*", "x y"}), "cors.headers[1]", "spaces"},
		{"header with two wildcards", withValue(t, "cors.headers", []string{"x-*-*"}), "cors.headers[0]", "one wildcard"},
		{"headers too long together", withValue(t, "cors.headers", strings.Fields(strings.Repeat(strings.Repeat("h", 200)+" ", 6))), "cors.headers", "1024"},
		{"write method", withValue(t, "cors.methods", []string{"GET", "PUT"}), "cors.methods[1]", "read-only"},
		{"unknown key", []byte(valid + "evil: true\n"), "", `unknown key "evil"`},
		{"no origins", withValue(t, "cors.origins", nil), "cors.origins", "required"},
		{"bad vendor id", withValue(t, "id", "Acme Lab"), "id", "vendor id"},
		{"bad account", withValue(t, "account_id", "12345"), "account_id", "12 digits"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.yaml)
			var inv *rules.InvalidError
			if !errors.As(err, &inv) {
				t.Fatalf("accepted or not an InvalidError: %v", err)
			}
			if inv.Field != c.field {
				t.Errorf("error names %q, want %q: %v", inv.Field, c.field, err)
			}
			if !strings.Contains(inv.Reason, c.reasonHas) {
				t.Errorf("reason %q does not say %q", inv.Reason, c.reasonHas)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error is not one line: %q", err)
			}
		})
	}
}

// The limits themselves are accepted: refusing valid profiles is a bug too.
func TestParseAcceptsProfilesAtTheLimits(t *testing.T) {
	origins := manyOrigins(170)
	for len(strings.Join(origins, ",")) > MaxOriginsLength {
		origins = origins[:len(origins)-1]
	}
	cases := map[string][]byte{
		"name of 64 Latin-1 characters": withValue(t, "name", strings.Repeat("é", MaxNameLength)),
		"punctuation in the name":       withValue(t, "name", `Acme: Lab #1 <b>"&'`),
		"origins up to 4096 characters": withValue(t, "cors.origins", origins),
		"port 65535":                    withValue(t, "cors.origins", []string{"https://lab.isahit.com:65535"}),
		"max_age_seconds int32 max":     withValue(t, "cors.max_age_seconds", math.MaxInt32),
		"50 tags":                       withValue(t, "tags", manyTags(50)),
		"opening ---":                   []byte("---\n" + string(defaultYAML)),
		"expose headers":                withValue(t, "cors.expose_headers", []string{"ETag", "x-amz-version-id"}),
	}
	for name, y := range cases {
		t.Run(name, func(t *testing.T) {
			if _, err := Parse(y); err != nil {
				t.Error(err)
			}
		})
	}
}
