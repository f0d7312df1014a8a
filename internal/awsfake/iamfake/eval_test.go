package iamfake

import "testing"

func TestTrustAllows(t *testing.T) {
	vendor := "arn:aws:iam::999888496268:user/integrations"
	withID := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999888496268:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"good"}}}]}`
	ifExists := `{"Statement":{"Effect":"Allow","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole","Condition":{"StringEqualsIfExists":{"sts:ExternalId":"good"}}}}`
	tests := []struct {
		name, doc, principal string
		externalID           []string
		want                 bool
	}{
		{"right ID", withID, vendor, []string{"good"}, true},
		{"wrong ID", withID, vendor, []string{"bad"}, false},
		{"no ID", withID, vendor, nil, false},
		{"other account", withID, "arn:aws:iam::090680223052:user/x", []string{"good"}, false},
		{"IfExists without ID", ifExists, vendor, nil, true},
		{"IfExists with a wrong ID", ifExists, vendor, []string{"bad"}, false},
		{"any principal", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:*"}]}`, "arn:aws:iam::1:user/x", nil, true},
		{"deny wins", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":{"AWS":"999888496268"},"Action":"sts:AssumeRole"}]}`, vendor, nil, false},
	}
	for _, tt := range tests {
		ctx := map[string][]string{}
		if tt.externalID != nil {
			ctx["sts:externalid"] = tt.externalID
		}
		if got := TrustAllows(tt.doc, tt.principal, "sts:AssumeRole", ctx); got != tt.want {
			t.Errorf("%s: TrustAllows = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestEvaluateReportsMissingContext(t *testing.T) {
	doc := `{"Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::b","Condition":{"StringLike":{"s3:prefix":"images/*"}}}]}`
	if d, missing := Evaluate([]string{doc}, "s3:ListBucket", "arn:aws:s3:::b", nil); d != "implicitDeny" || len(missing) != 1 || missing[0] != "s3:prefix" {
		t.Errorf("without s3:prefix: %s, missing %v", d, missing)
	}
	if d, _ := Evaluate([]string{doc}, "S3:LISTBUCKET", "arn:aws:s3:::b", map[string][]string{"s3:prefix": {"images/a"}}); d != "allowed" {
		t.Errorf("with s3:prefix images/a: %s", d)
	}
	if d, _ := Evaluate([]string{doc}, "s3:ListBucket", "arn:aws:s3:::B", map[string][]string{"s3:prefix": {"images/a"}}); d != "implicitDeny" {
		t.Errorf("resource names are case-sensitive: %s", d)
	}
}
