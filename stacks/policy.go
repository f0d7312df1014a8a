package stacks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/isahit/s3grant/internal/partition"
)

// A Document is an IAM policy document whose strings use Fn::Sub syntax: ${BucketName} stands
// for a template parameter, ${AWS::Partition} for a pseudo parameter. The template wraps those
// strings in intrinsics; the docs and checks resolve them with concrete values. One value, two
// readings, so the guide can never disagree with the stack.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement of a Document.
type Statement struct {
	Sid       string            `json:"Sid,omitempty"`
	Effect    string            `json:"Effect"`
	Principal map[string]string `json:"Principal,omitempty"`
	Action    []string          `json:"Action"`
	Resource  []string          `json:"Resource,omitempty"`
	// Condition maps an IAM condition operator to keys and their values.
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
	// When names the template condition under which the statement exists; nil means always.
	When *Cond `json:"-"`
	// ValueWhen names, for a condition value such as "${NextExternalId}", the template condition
	// under which that value is in the list; values not named are always there.
	ValueWhen map[string]*Cond `json:"-"`
}

// Cond is a template condition: it holds when parameter Param equals Equals (or, with Negate,
// when it does not). The template evaluates it in CloudFormation; Resolve evaluates it in Go.
type Cond struct {
	Name   string
	Param  string
	Equals string
	Negate bool
}

// The template's conditions.
var (
	HasObjectPrefix = &Cond{Name: "HasObjectPrefix", Param: "ObjectPrefix", Negate: true}
	NoObjectPrefix  = &Cond{Name: "NoObjectPrefix", Param: "ObjectPrefix"}
	HasKmsKey       = &Cond{Name: "HasKmsKey", Param: "KmsKeyArn", Negate: true}
	HasRoleName     = &Cond{Name: "HasRoleName", Param: "RoleName", Negate: true}
	ManagesCors     = &Cond{Name: "ManageCors", Param: "ManageCors", Equals: "true"}
	// Rotating holds while an external-ID rotation is in progress: the role accepts two IDs.
	Rotating = &Cond{Name: "RotatingExternalId", Param: "NextExternalId", Negate: true}
)

var conditions = []*Cond{HasObjectPrefix, NoObjectPrefix, HasKmsKey, HasRoleName, ManagesCors, Rotating}

// Holds evaluates the condition for concrete parameter values.
func (c *Cond) Holds(vals map[string]string) bool {
	return (vals[c.Param] == c.Equals) != c.Negate
}

// ARNs of the integration, in Fn::Sub syntax.
const (
	bucketARN      = "arn:${AWS::Partition}:s3:::${BucketName}"
	accessPointARN = "arn:${AWS::Partition}:s3:${AWS::Region}:${AWS::AccountId}:accesspoint/${AccessPointName}"
	prefixPattern  = "${ObjectPrefix}*"
	vendorRootARN  = "arn:${AWS::Partition}:iam::${TrustedAccountId}:root"
)

// PermissionsPolicy is what the vendor's role may do: list and read objects of the bucket,
// directly and through the access point, under the prefix if one is set, and decrypt them with
// the customer's KMS key through S3 only. Nothing else: no write, no delete, no wildcard.
func PermissionsPolicy() Document {
	listResources := []string{bucketARN, accessPointARN}
	return Document{Version: "2012-10-17", Statement: []Statement{
		{
			Sid: "ListBucket", Effect: "Allow", When: NoObjectPrefix,
			Action: []string{"s3:ListBucket"}, Resource: listResources,
		},
		{
			Sid: "ListBucketUnderPrefix", Effect: "Allow", When: HasObjectPrefix,
			Action: []string{"s3:ListBucket"}, Resource: listResources,
			Condition: map[string]map[string][]string{"StringLike": {"s3:prefix": {prefixPattern}}},
		},
		{
			Sid: "GetObject", Effect: "Allow",
			Action: []string{"s3:GetObject"},
			Resource: []string{
				bucketARN + "/" + prefixPattern,
				accessPointARN + "/object/" + prefixPattern,
			},
		},
		DecryptThroughS3(),
	}}
}

// DecryptThroughS3 lets the role decrypt with the customer's KMS key (parameter KmsKeyArn,
// when set) only when S3 calls KMS for it, in the bucket's region: the key cannot be used for
// anything else. The one-stack and the StackSet templates both grant it.
func DecryptThroughS3() Statement {
	return Statement{
		Sid: "DecryptThroughS3", Effect: "Allow", When: HasKmsKey,
		Action:    []string{"kms:Decrypt"},
		Resource:  []string{"${KmsKeyArn}"},
		Condition: map[string]map[string][]string{"StringEquals": {"kms:ViaService": {"s3.${AWS::Region}.${AWS::URLSuffix}"}}},
	}
}

// TrustPolicy lets the vendor's account assume the role, and only with the external ID: the
// condition that closes the confused-deputy hole. While a rotation is in progress the
// condition lists the next external ID too (StringEquals matches any value of the list), so
// the vendor switches without losing access.
func TrustPolicy() Document {
	return Document{Version: "2012-10-17", Statement: []Statement{{
		Sid: "VendorWithExternalId", Effect: "Allow",
		Principal: map[string]string{"AWS": vendorRootARN},
		Action:    []string{"sts:AssumeRole"},
		Condition: map[string]map[string][]string{"StringEquals": {"sts:ExternalId": {"${ExternalId}", "${NextExternalId}"}}},
		ValueWhen: map[string]*Cond{"${NextExternalId}": Rotating},
	}}}
}

// PseudoValues returns the values of the pseudo parameters the documents use, for a region
// and an account ID (which may be a placeholder in docs).
func PseudoValues(region, accountID string) map[string]string {
	p := partition.Of(region)
	return map[string]string{
		"AWS::Partition": p.ID,
		"AWS::Region":    region,
		"AWS::AccountId": accountID,
		"AWS::URLSuffix": p.DNSSuffix,
	}
}

var subVar = regexp.MustCompile(`\$\{([A-Za-z0-9:]+)\}`)

// Resolve returns the document as IAM receives it for these values (parameters and pseudo
// parameters by name): statements whose condition does not hold are dropped and every ${Name}
// is replaced. An unknown name is an error, so a typo cannot slip into the docs.
func (d Document) Resolve(vals map[string]string) (Document, error) {
	var out Document
	raw, err := json.Marshal(d)
	if err != nil {
		return out, err
	}
	var unknown []string
	resolved := subVar.ReplaceAllStringFunc(string(raw), func(m string) string {
		name := subVar.FindStringSubmatch(m)[1]
		v, ok := vals[name]
		if !ok {
			unknown = append(unknown, name)
			return m
		}
		b, _ := json.Marshal(v)
		return string(b[1 : len(b)-1])
	})
	if len(unknown) > 0 {
		return out, fmt.Errorf("resolve policy: no value for %s", strings.Join(unknown, ", "))
	}
	if err := json.Unmarshal([]byte(resolved), &out); err != nil {
		return out, err
	}
	kept := out.Statement[:0]
	for i, s := range out.Statement {
		if when := d.Statement[i].When; when == nil || when.Holds(vals) {
			s.Condition = d.Statement[i].keptValues(s.Condition, vals)
			kept = append(kept, s)
		}
	}
	out.Statement = kept
	return out, nil
}

// keptValues drops from resolved (the statement's condition with values substituted) the
// values whose ValueWhen condition does not hold.
func (s Statement) keptValues(resolved map[string]map[string][]string, vals map[string]string) map[string]map[string][]string {
	if len(s.ValueWhen) == 0 {
		return resolved
	}
	for op, keys := range s.Condition {
		for key, raw := range keys {
			var kept []string
			for j, v := range raw {
				if c := s.ValueWhen[v]; c == nil || c.Holds(vals) {
					kept = append(kept, resolved[op][key][j])
				}
			}
			resolved[op][key] = kept
		}
	}
	return resolved
}

// CORSRule is one rule of a bucket's CORS configuration, in the shape of S3's API.
type CORSRule struct {
	ID             string   `json:"ID,omitempty"`
	AllowedHeaders []string `json:"AllowedHeaders"`
	AllowedMethods []string `json:"AllowedMethods"`
	AllowedOrigins []string `json:"AllowedOrigins"`
	ExposeHeaders  []string `json:"ExposeHeaders"`
	MaxAgeSeconds  int      `json:"MaxAgeSeconds,omitempty"`
}

// CORSRule is the rule the vendor's web apps need on the bucket: the vendor's origins,
// methods and headers. The CORS custom resource adds it with an ID unique to the stack.
func (in Integration) CORSRule() CORSRule {
	c := in.Vendor.CORS
	return CORSRule{
		AllowedHeaders: nonNil(c.Headers),
		AllowedMethods: nonNil(c.Methods),
		AllowedOrigins: nonNil(c.Origins),
		ExposeHeaders:  nonNil(c.ExposeHeaders),
		MaxAgeSeconds:  c.MaxAgeSeconds,
	}
}

// nonNil keeps empty lists as [] in JSON, the form the S3 console shows and accepts.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
