package verify

import (
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
)

func TestPreflightFollowsS3(t *testing.T) {
	lab := "https://lab.isahit.com"
	rules := []stacks.CORSRule{
		{ID: "put-only", AllowedOrigins: []string{lab}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"*"}},
		{ID: "named-headers", AllowedOrigins: []string{"https://*.isahit.com"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"Range", "x-amz-*"}},
		{ID: "any", AllowedOrigins: []string{"https://app.example.com"}, AllowedMethods: []string{"GET", "HEAD"}, AllowedHeaders: []string{"*"}},
	}
	tests := []struct {
		origin, method string
		headers        []string
		want           int
	}{
		{lab, "PUT", nil, 0},
		{lab, "GET", nil, 1},                                    // the * origin wildcard, first rule with GET
		{lab, "GET", []string{"range"}, 1},                      // header names are case-insensitive
		{lab, "GET", []string{"X-Amz-Date", "Range"}, 1},        // wildcard header, every header must match
		{lab, "GET", []string{"authorization"}, -1},             // one header not allowed
		{"https://isahit.com", "GET", nil, -1},                  // *.isahit.com needs a subdomain
		{"http://lab.isahit.com", "GET", nil, -1},               // scheme is part of the origin
		{"https://app.example.com", "HEAD", []string{"x"}, 2},   // later rule answers
		{"https://app.example.com", "DELETE", nil, -1},          // method not listed
		{"https://lab.isahit.com.evil.example", "GET", nil, -1}, // suffix after the wildcard must match
	}
	for _, tt := range tests {
		if got := Preflight(rules, tt.origin, tt.method, tt.headers); got != tt.want {
			t.Errorf("Preflight(%s %s %v) = %d, want %d", tt.method, tt.origin, tt.headers, got, tt.want)
		}
	}
}

func TestCORSProblemSaysWhy(t *testing.T) {
	lab := "https://lab.isahit.com"
	tests := []struct {
		name      string
		rules     []stacks.CORSRule
		anyHeader bool
		want      string
	}{
		{"no configuration", nil, false, "no CORS configuration"},
		{"origin missing", []stacks.CORSRule{{AllowedOrigins: []string{"https://work.isahit.com"}, AllowedMethods: []string{"GET"}}}, false, "no rule allows the origin " + lab},
		{"method missing", []stacks.CORSRule{{AllowedOrigins: []string{lab}, AllowedMethods: []string{"PUT", "POST"}}}, false, "allow only PUT, POST, not GET"},
		{"headers too narrow", []stacks.CORSRule{{AllowedOrigins: []string{lab}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"range"}}}, true, "allows only the headers [range]"},
		{"allowed", []stacks.CORSRule{{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}}}, true, ""},
	}
	for _, tt := range tests {
		got := corsProblem(tt.rules, lab, "GET", nil, tt.anyHeader)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: corsProblem = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestWildcardMatch(t *testing.T) {
	tests := []struct {
		pattern, value string
		want           bool
	}{
		{"s3:Get*", "s3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"*", "", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b/a/b/c", true},
		{"arn:aws:s3:::b/*", "arn:aws:s3:::b", false},
		{"arn:aws:s3:::b?", "arn:aws:s3:::bx", true},
		{"arn:aws:s3:::b?", "arn:aws:s3:::b", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXcYYb", false},
	}
	for _, tt := range tests {
		if got := wildcardMatch(tt.pattern, tt.value); got != tt.want {
			t.Errorf("wildcardMatch(%q, %q) = %v", tt.pattern, tt.value, got)
		}
	}
}

func TestParsePolicyForms(t *testing.T) {
	plain := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true}}}}`
	for _, doc := range []string{plain, url.QueryEscape(plain), strings.ReplaceAll(url.QueryEscape(plain), "+", "%20")} {
		p, err := ParsePolicy(doc)
		if err != nil {
			t.Fatalf("ParsePolicy: %v", err)
		}
		s := p.Statement
		if len(s) != 1 || !s[0].Principal.Any || s[0].Action[0] != "s3:GetObject" || s[0].Condition["Bool"]["aws:SecureTransport"][0] != "true" {
			t.Errorf("parsed %+v", p)
		}
	}
	if _, err := ParsePolicy(`{"Statement":[{"Principal":"arn:aws:iam::1:root"}]}`); err == nil {
		t.Error("a string principal other than * was accepted")
	}
}

func testInput() Input {
	in := Input{Integration: stacks.New(profile.Default()), RoleARN: "arn:aws:iam::111122223333:role/r"}
	in.Region, in.BucketName, in.AccessPointName, in.ExternalID = "eu-west-3", "b", "ap", "ext-id"
	return in
}

func TestExcessGrants(t *testing.T) {
	ap := "arn:aws:s3:eu-west-3:111122223333:accesspoint/ap"
	tests := []struct {
		name   string
		prefix string
		policy string
		want   []string // substrings of the findings, in order; none means least privilege holds
	}{
		{"the seed page's policy", "", `{"Statement":[{"Effect":"Allow","Action":["s3:ListBucket","s3:GetObject"],
			"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*","` + ap + `","` + ap + `/*"]}]}`, nil},
		{"narrower than the template", "", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/images/*"}]}`, nil},
		{"deny statements are fine", "", `{"Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`, nil},
		{"wildcard action", "", `{"Statement":[{"Effect":"Allow","Action":"s3:Get*","Resource":"arn:aws:s3:::b/*"}]}`, []string{"allows s3:Get*"}},
		{"every resource", "", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`, []string{"allows s3:GetObject on *"}},
		{"another bucket", "", `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::other"}]}`, []string{"on arn:aws:s3:::other"}},
		{"not action", "", `{"Statement":[{"Effect":"Allow","NotAction":"iam:*","Resource":"*"}]}`, []string{"every action except iam:*"}},
		{"outside the prefix", "images/", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`, []string{"on arn:aws:s3:::b/*"}},
		{"inside the prefix", "images/", `{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":["arn:aws:s3:::b/images/*","` + ap + `/object/images/*"]}]}`, nil},
		{"kms without a key", "", `{"Statement":[{"Effect":"Allow","Action":"kms:Decrypt","Resource":"*"}]}`, []string{"allows kms:Decrypt"}},
	}
	for _, tt := range tests {
		in := testInput()
		in.ObjectPrefix = tt.prefix
		exp, err := in.expect("")
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePolicy(tt.policy)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := excessGrants(p, exp)
		if len(got) != len(tt.want) {
			t.Errorf("%s: findings %q, want %d matching %q", tt.name, got, len(tt.want), tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(got[i], w) {
				t.Errorf("%s: finding %q does not say %q", tt.name, got[i], w)
			}
		}
	}
}

func TestPermissionProbesHonourThePrefixCondition(t *testing.T) {
	in := testInput()
	in.ObjectPrefix = "images/"
	exp, err := in.expect("")
	if err != nil {
		t.Fatal(err)
	}
	// The template's own policy must allow every probe made from it, and a policy without
	// the prefix condition's value must not.
	for _, req := range exp.probes("s3") {
		if d := Evaluate([]Policy{exp.policy}, req); d != Allowed {
			t.Errorf("template policy: %s on %s = %s", req.Action, req.Resource, d)
		}
		if req.Action == "s3:ListBucket" {
			req.Context = map[string]string{"s3:prefix": "private/"}
			if d := Evaluate([]Policy{exp.policy}, req); d == Allowed {
				t.Errorf("ListBucket with prefix private/ allowed by a policy limited to images/")
			}
		}
	}
}

func TestTrustProblems(t *testing.T) {
	cond := `"Condition":{"StringEquals":{"sts:ExternalId":"ext-id"}}`
	tests := []struct {
		name, doc, want string
	}{
		{"bare account ID", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole",` + cond + `}]}`, ""},
		{"a vendor role", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::999888496268:role/lab"]},"Action":["sts:AssumeRole","sts:TagSession"],` + cond + `}]}`, ""},
		{"service principal", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole",` + cond + `},{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`, "the Service principal ec2.amazonaws.com"},
		{"any principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole",` + cond + `}]}`, `trusts any principal ("*")`},
		{"StringLike", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole","Condition":{"StringLike":{"sts:ExternalId":"ext-*"}}}]}`, "with StringLike, not StringEquals"},
		{"several IDs", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":["ext-id","old-id"]}}}]}`, "requires the external ID ext-id, old-id"},
		{"no statement at all", `{"Statement":[]}`, "no statement lets isahit Lab's account 999888496268 call sts:AssumeRole"},
	}
	for _, tt := range tests {
		p, err := ParsePolicy(tt.doc)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := strings.Join(trustProblems(testInput(), p), "; ")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestKeyPolicyProblem(t *testing.T) {
	in := testInput()
	key := "arn:aws:kms:eu-west-3:111122223333:key/k"
	exp, err := in.expect(key)
	if err != nil {
		t.Fatal(err)
	}
	probe := exp.probes("kms")[0]
	tests := []struct {
		name, doc, want string
	}{
		{"default key policy", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"}]}`, ""},
		{"role named", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"kms:ViaService":"s3.eu-west-3.amazonaws.com"}}}]}`, ""},
		{"other principal only", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/admin"},"Action":"kms:*","Resource":"*"}]}`, "does not allow"},
		{"explicit deny", `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"kms:*","Resource":"*"},{"Effect":"Deny","Principal":"*","Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalArn":"arn:aws:iam::111122223333:role/r"}}}]}`, "denies"},
	}
	for _, tt := range tests {
		p, err := ParsePolicy(tt.doc)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := keyPolicyProblem(in, p, probe)
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestJudgeStack(t *testing.T) {
	outputs := map[string]string{"RoleArn": "r", "ExternalId": "e", "AccessPointArn": "a", "AccessPointAlias": "al", "BucketName": "b"}
	in := testInput()
	in.StackName = "s"
	tests := []struct {
		status  string
		outputs map[string]string
		pass    bool
		fix     string
	}{
		{"CREATE_COMPLETE", outputs, true, ""},
		{"UPDATE_ROLLBACK_COMPLETE", outputs, true, ""},
		{"ROLLBACK_COMPLETE", outputs, false, "delete-stack --stack-name s"},
		{"UPDATE_IN_PROGRESS", outputs, false, "wait for stack s"},
		{"CREATE_COMPLETE", map[string]string{"RoleArn": "r"}, false, "s3grant deploy --stack-name s"},
	}
	for _, tt := range tests {
		r := judgeStack(in, Facts{Stack: &Stack{Name: "s", Status: tt.status, Outputs: tt.outputs}})
		if r.Pass != tt.pass || !strings.Contains(r.Fix, tt.fix) {
			t.Errorf("%s %v: pass=%v fix %q, want pass=%v fix with %q", tt.status, tt.outputs, r.Pass, r.Fix, tt.pass, tt.fix)
		}
	}
}

func TestEvaluate(t *testing.T) {
	allowAll := `{"Effect":"Allow","Action":"s3:*","Resource":"*"}`
	tests := []struct {
		name, statements string
		req              Request
		want             Decision
	}{
		{"no statement", ``, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, ImplicitDeny},
		{"action case-insensitive", `{"Effect":"Allow","Action":"S3:getobject","Resource":"arn:aws:s3:::b/*"}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, Allowed},
		{"resource case-sensitive", `{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::B/*"}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, ImplicitDeny},
		{"explicit deny wins", allowAll + `,{"Effect":"Deny","Action":"s3:GetObject","Resource":"*"}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, ExplicitDeny},
		{"NotAction", `{"Effect":"Allow","NotAction":"s3:Delete*","Resource":"*"}`, Request{Action: "s3:DeleteObject", Resource: "arn:aws:s3:::b/k"}, ImplicitDeny},
		{"NotAction allows the rest", `{"Effect":"Allow","NotAction":"s3:Delete*","Resource":"*"}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k"}, Allowed},
		{"NotResource", `{"Effect":"Allow","Action":"s3:GetObject","NotResource":"arn:aws:s3:::b/secret/*"}`, Request{Action: "s3:GetObject", Resource: "arn:aws:s3:::b/secret/k"}, ImplicitDeny},
		{"condition key missing", `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"images/*"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}, ImplicitDeny},
		{"condition holds", `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringLike":{"s3:prefix":"images/*"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: map[string]string{"S3:Prefix": "images/"}}, Allowed},
		{"IfExists with the key absent", `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"StringEqualsIfExists":{"s3:prefix":"x"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}, Allowed},
		{"unknown operator never proves", `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":"10"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: map[string]string{"s3:max-keys": "5"}}, ImplicitDeny},
		{"IpAddress in range", `{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: map[string]string{"aws:SourceIp": "10.1.2.3"}}, Allowed},
		{"the Internet is in no range", `{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b", Context: map[string]string{"aws:SourceIp": internetIP}}, ExplicitDeny},
		{"negated operator on an absent key holds", `{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}`, Request{Action: "s3:ListBucket", Resource: "arn:aws:s3:::b"}, ExplicitDeny},
	}
	for _, tt := range tests {
		p, err := ParsePolicy(`{"Statement":[` + tt.statements + `]}`)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if got := Evaluate([]Policy{p}, tt.req); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
}

// During an external-ID rotation the trust policy must accept exactly the live IDs (ExternalId
// and NextExternalId, in any order); after it, never the previous one.
func TestTrustProblemsDuringRotation(t *testing.T) {
	trust := func(ids ...string) string {
		q := make([]string, len(ids))
		for i, id := range ids {
			q[i] = `"` + id + `"`
		}
		return `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":[` + strings.Join(q, ",") + `]}}}]}`
	}
	tests := []struct {
		name, current, next, previous, doc, want string
	}{
		{"overlap", "ext-id", "new-id", "", trust("ext-id", "new-id"), ""},
		{"overlap, other order", "ext-id", "new-id", "", trust("new-id", "ext-id"), ""},
		{"overlap not deployed", "ext-id", "new-id", "", trust("ext-id"), "during the rotation exactly ext-id and new-id must be accepted"},
		{"only the next one", "ext-id", "new-id", "", trust("new-id"), "during the rotation exactly ext-id and new-id must be accepted"},
		{"a third ID", "ext-id", "new-id", "", trust("ext-id", "new-id", "other"), "requires the external ID ext-id, new-id, other"},
		{"the next one twice", "ext-id", "new-id", "", trust("new-id", "new-id"), "must be accepted"},
		{"two IDs, no rotation", "ext-id", "", "", trust("ext-id", "new-id"), "requires the external ID ext-id, new-id, but isahit Lab generated ext-id"},
		{"finished", "new-id", "", "ext-id", trust("new-id"), ""},
		{"finish not deployed", "new-id", "", "ext-id", trust("ext-id", "new-id"), "still accepts the previous external ID ext-id"},
	}
	for _, tt := range tests {
		p, err := ParsePolicy(tt.doc)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		in := testInput()
		in.ExternalID, in.NextExternalID, in.PreviousExternalID = tt.current, tt.next, tt.previous
		got := strings.Join(trustProblems(in, p), "; ")
		if tt.want == "" && got != "" || !strings.Contains(got, tt.want) {
			t.Errorf("%s: problems %q, want %q", tt.name, got, tt.want)
		}
	}
}

// A stack in the middle of a rotation names the next ID in its parameters: the checks then
// expect both IDs. A v1 stack (no such parameter) means no rotation.
func TestFromStackReadsTheRotation(t *testing.T) {
	in := testInput()
	in.ExternalID = ""
	s := Stack{Outputs: map[string]string{"ExternalId": "ext-id"}, Parameters: map[string]string{"NextExternalId": "new-id"}}
	if got := in.fromStack(s).liveExternalIDs(); !slices.Equal(got, []string{"ext-id", "new-id"}) {
		t.Errorf("during a rotation: live IDs %v", got)
	}
	delete(s.Parameters, "NextExternalId")
	if got := in.fromStack(s).liveExternalIDs(); !slices.Equal(got, []string{"ext-id"}) {
		t.Errorf("v1 stack: live IDs %v", got)
	}
}

// A fix's identity policy carries no Principal (IAM rejects one there), and a trust or key
// policy statement keeps its own.
func TestStatementJSONHasNoEmptyPrincipal(t *testing.T) {
	p, err := ParsePolicy(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999888496268:root"},"Action":"sts:AssumeRole"},{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range p.Statement {
		b, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
	}
	want := []string{`{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}`,
		`{"Effect":"Allow","Action":["sts:AssumeRole"],"Principal":{"AWS":["arn:aws:iam::999888496268:root"]}}`,
		`{"Effect":"Allow","Action":["s3:GetObject"],"Principal":"*"}`}
	if !slices.Equal(got, want) {
		t.Errorf("statements as JSON:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
