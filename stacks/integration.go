// Package stacks is the model of one integration between a customer's S3 bucket and a vendor,
// and the CloudFormation template built from it. The model is Integration: the vendor profile
// (package profile, which the model owns) and the customer's values. Everything downstream
// reads it: the template, the guide (package guide), the links (launch), the deploy and verify,
// so none of them restates a policy, a CORS rule or a grant. It is pure: it makes no AWS calls.
package stacks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/isahit/s3grant/internal/rules"
	"github.com/isahit/s3grant/profile"
)

// TemplateVersion names the shape of the template. It changes when the template's parameters,
// resources or outputs change, so published templates can be told apart.
const TemplateVersion = "v2"

// Integration is one customer's connection to a vendor: the vendor profile and the customer's
// values. Empty optional fields mean "not used"; empty required fields leave the template
// parameter without a default, for the customer to fill in.
type Integration struct {
	Vendor profile.Vendor

	BucketName string
	ExternalID string
	// NextExternalID is the new external ID the role accepts too while a rotation is in
	// progress; empty otherwise.
	NextExternalID  string
	AccessPointName string
	RoleName        string
	ObjectPrefix    string
	KMSKeyARN       string
	// Region is where the bucket, and so the stack, live. The template does not need it
	// (it uses AWS::Region); it is checked against the KMS key and used by links and docs.
	Region string
	// ManageCORS adds the custom resource that merges the vendor's CORS rule into the bucket.
	ManageCORS bool
	// CORSRepairToken changes to make CloudFormation run the CORS custom resource again.
	CORSRepairToken string

	// MoreBuckets are the integration's buckets after the first (BucketName, ObjectPrefix,
	// AccessPointName), each with its own prefix; their access point names are derived
	// (Buckets). Empty: the one-bucket integration, whose template is the published one.
	MoreBuckets []Bucket
	// Role says whether the stack creates the vendor role (RoleCreate, the zero value) or
	// attaches its policies to a role another stack of the integration created (RoleAttach).
	Role RoleSource
	// MaxManagedPolicies is how many managed policies this stack may attach to the vendor role:
	// 0 means IAM's default quota, ManagedPoliciesPerRole; up to RaisedManagedPoliciesPerRole
	// when the account's quota was raised, less the policies other stacks attach to the role.
	MaxManagedPolicies int
}

// New returns the integration for vendor with the vendor's defaults filled in.
func New(vendor profile.Vendor) Integration {
	return Integration{
		Vendor:          vendor,
		AccessPointName: vendor.AccessPointName,
		ManageCORS:      true,
	}
}

// Values returns the template parameter values this integration sets, by parameter name.
// Parameters without a value are absent, so callers can tell "unset" from "empty".
func (in Integration) Values() map[string]string {
	vals := map[string]string{}
	for _, p := range in.params() {
		if v := p.value(in); v != "" {
			vals[p.Name] = v
		}
	}
	return vals
}

// SubstitutionValues returns every name a Document may reference, for Document.Resolve: each
// parameter (empty when unset) and the pseudo parameters of region and accountID, which the
// docs may pass as placeholders.
func (in Integration) SubstitutionValues(region, accountID string) map[string]string {
	vals := PseudoValues(region, accountID)
	for _, p := range Params {
		vals[p.Name] = p.value(in)
	}
	return vals
}

// FieldRegion names Integration.Region in errors; every other field is named by its template
// parameter (BucketName, ExternalId, ...).
const FieldRegion = "Region"

// Validate checks every value against its rule, then the rules that tie values together.
// Errors are *rules.InvalidError naming the bad value's template parameter, or FieldRegion.
func (in Integration) Validate() error {
	for _, p := range Params {
		if p.Rule == nil {
			continue
		}
		// Required parameters may stay unset: the customer then fills them in at deploy time.
		if v := p.value(in); v != "" {
			if err := p.Rule.Validate(p.Name, v); err != nil {
				return err
			}
		}
	}
	if in.Region != "" {
		if err := rules.Region.Validate(FieldRegion, in.Region); err != nil {
			return err
		}
	}
	if name, ok := in.Role.Attached(); ok {
		if err := rules.RoleName.Validate(FieldAttachRole, name); err != nil {
			return err
		}
	}
	if _, err := in.Buckets(); err != nil {
		return err
	}
	if _, attached := in.Role.Attached(); !attached && in.ExternalID != "" && in.NextExternalID != "" {
		// Each ID fits alone; during a rotation the trust policy holds both, and IAM would
		// refuse the update half-way (the stack rolls back): say so before.
		sizing := WorstCase
		if in.Region != "" {
			sizing = SizingFor(in.Region, "123456789012") // every account ID has 12 digits
		}
		if err := CheckTrustPolicy(TrustPolicy(), sizing, in.SubstitutionValues("", "")); err != nil {
			return err
		}
	}
	if in.Region != "" {
		if kr := rules.RegionOfKMSKey(in.KMSKeyARN); kr != "" && kr != in.Region {
			return rules.Invalid("KmsKeyArn", in.KMSKeyARN, fmt.Sprintf(
				"the key is in %s but the bucket is in %s: S3 can only use a KMS key of the bucket's region", kr, in.Region))
		}
	}
	return nil
}

// DefaultStackName proposes VENDOR-BUCKET for the integration's stack, with the dots of a
// bucket name (not allowed in stack names) turned into hyphens.
func (in Integration) DefaultStackName() string {
	return in.Vendor.ID + "-" + strings.ReplaceAll(in.BucketName, ".", "-")
}

// TrustedAccountID is the vendor account the role trusts.
func (in Integration) TrustedAccountID() string { return in.Vendor.AccountID }

func boolString(b bool) string { return strconv.FormatBool(b) }
