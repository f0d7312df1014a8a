// Package verify proves that an integration works and names the fix for every failure. It is
// split in two: pure checks that judge facts (no AWS in them), and thin collectors that gather
// those facts with read-only AWS calls, from the customer's side or from the vendor's.
package verify

import (
	"fmt"
	"slices"
	"strings"
)

// Input is what verify checks against: the vendor's expectations (from its profile) and the
// customer's resources (from flags, or read from the stack's outputs when StackName is set).
type Input struct {
	// VendorName names the vendor in causes and fixes, e.g. "isahit Lab".
	VendorName string
	// VendorAccountID is the account the role must trust, and only it.
	VendorAccountID string
	// Origins, Methods and Headers are what the vendor's web apps send in a CORS preflight;
	// a "*" header means the apps may send any header.
	Origins []string
	Methods []string
	Headers []string

	// StackName, when set, is read first: its outputs fill the fields left empty below.
	StackName       string
	RoleARN         string
	Bucket          string
	AccessPointName string
	// AccessPointAlias is the access point's alias (the stack's AccessPointAlias output). The
	// vendor side addresses the access point by it against a custom endpoint.
	AccessPointAlias string
	// ExternalID is the value the vendor generated for this customer.
	ExternalID   string
	ObjectPrefix string
	// KMSKeyARN is the key the integration was set up for, if any. The bucket's default
	// encryption is read anyway: a customer key found there is checked too.
	KMSKeyARN string
	// Region is where the stack, the access point and so the bucket are expected to be.
	Region string
}

// Result is the outcome of one check.
type Result struct {
	// ID is stable, for scripts and the docs' troubleshooting page.
	ID    string `json:"id"`
	Title string `json:"title"`
	Pass  bool   `json:"pass"`
	// Detail says how the check was made or what it saw, pass or fail.
	Detail string `json:"detail,omitempty"`
	// Cause says what is wrong; Fix the precise change that repairs it, naming the resource.
	Cause string `json:"cause,omitempty"`
	Fix   string `json:"fix,omitempty"`
}

// Report is every check run from one side.
type Report struct {
	// Side is "customer" or "vendor".
	Side   string   `json:"side"`
	Checks []Result `json:"checks"`
}

// Passed reports whether every check passed.
func (r Report) Passed() bool {
	for _, c := range r.Checks {
		if !c.Pass {
			return false
		}
	}
	return len(r.Checks) > 0
}

// Failed returns the checks that did not pass.
func (r Report) Failed() []Result {
	var out []Result
	for _, c := range r.Checks {
		if !c.Pass {
			out = append(out, c)
		}
	}
	return out
}

// Check IDs, customer side.
const (
	CheckStack          = "stack"
	CheckTrust          = "role-trust"
	CheckPermissions    = "role-permissions"
	CheckLeastPrivilege = "role-least-privilege"
	CheckAccessPoint    = "access-point"
	CheckCORS           = "bucket-cors"
	CheckEncryption     = "encryption"
	CheckRegion         = "region"
)

// Check IDs, vendor side.
const (
	CheckAssume              = "assume-role"
	CheckAssumeNoExternalID  = "assume-role-without-external-id"
	CheckAssumeBadExternalID = "assume-role-wrong-external-id"
	CheckListAccessPoint     = "list-via-access-point"
	CheckListBucket          = "list-via-bucket"
	CheckReadObject          = "read-object"
	CheckPreflight           = "cors-preflight"
)

// Check describes one check: what the checklist and the guide call it.
type Check struct {
	ID    string
	Title string
	// Proves says in a sentence what passing the check proves.
	Proves string
	// Vendor is true for the checks run with --as-vendor, from the vendor's side.
	Vendor bool
}

// checks lists every check in the order verify runs them: the customer side, then the vendor's.
var checks = []Check{
	{CheckStack, "Stack is complete and has its outputs", "the stack finished creating or updating and holds the values to paste into the vendor's app", false},
	{CheckTrust, "Role trusts only the vendor account, with the external ID", "only the vendor's account can assume the role, and only with your external ID", false},
	{CheckPermissions, "Role can list and read the bucket, directly and through the access point", "the vendor can list and read your objects (checked with IAM's policy simulator when you may call it)", false},
	{CheckLeastPrivilege, "Role is granted nothing more", "the role cannot write, delete or reach anything but this bucket", false},
	{CheckAccessPoint, "Access point is on the bucket, Internet origin, public access blocked", "the access point serves this bucket to the vendor's servers and to no one else", false},
	{CheckCORS, "Bucket CORS allows the vendor's origins", "a browser on each of the vendor's web apps may load your images, evaluated as S3 evaluates a preflight", false},
	{CheckEncryption, "Role can decrypt the bucket's objects", "objects encrypted with your KMS key can be read (an AccessDenied otherwise looks like an S3 error)", false},
	{CheckRegion, "Bucket, access point and stack are in one region", "the access point and the stack live in the bucket's region", false},
	{CheckAssume, "Vendor can assume the role with the external ID", "the vendor reaches your role with the external ID it holds", true},
	{CheckAssumeNoExternalID, "Role refuses AssumeRole without an external ID", "the confused-deputy protection: without the external ID the vendor's account is refused", true},
	{CheckAssumeBadExternalID, "Role refuses AssumeRole with a wrong external ID", "another customer's external ID does not open your role", true},
	{CheckListAccessPoint, "Session lists objects through the access point", "listing works the way the vendor's servers list", true},
	{CheckListBucket, "Session lists objects through the bucket", "listing works on the bucket itself, past any bucket policy or SCP", true},
	{CheckReadObject, "Session reads an object (first byte)", "an object can really be read, key and encryption included", true},
	{CheckPreflight, "Browser preflight from each vendor origin is allowed", "S3 itself answers a browser's CORS preflight for each vendor origin", true},
}

// Checks lists every check verify can run, customer side first, for the checklist's readers
// and the guide.
func Checks() []Check { return slices.Clone(checks) }

// title returns the title of the check id.
func title(id string) string {
	for _, c := range checks {
		if c.ID == id {
			return c.Title
		}
	}
	return id
}

func pass(id, detail string) Result {
	return Result{ID: id, Title: title(id), Pass: true, Detail: detail}
}

func fail(id, cause, fix string) Result {
	return Result{ID: id, Title: title(id), Cause: cause, Fix: fix}
}

func (in Input) vendor() string {
	if in.VendorName != "" {
		return in.VendorName
	}
	return "the vendor"
}

// partition returns the ARN partition of region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// ARN is the parts of an Amazon Resource Name that verify reads.
type ARN struct {
	Partition, Service, Region, Account, Resource string
}

// ParseARN splits arn into its parts.
func ParseARN(arn string) (ARN, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN", arn)
	}
	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

func (a ARN) String() string {
	return strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.Account, a.Resource}, ":")
}

// roleName returns the name of the role in a role ARN (the last path element).
func roleName(roleARN string) string {
	a, err := ParseARN(roleARN)
	if err != nil {
		return roleARN
	}
	r := strings.TrimPrefix(a.Resource, "role/")
	return r[strings.LastIndex(r, "/")+1:]
}

// accessPointARN builds the ARN of access point name in account and region.
func accessPointARN(region, account, name string) string {
	return ARN{Partition: partition(region), Service: "s3", Region: region, Account: account,
		Resource: "accesspoint/" + name}.String()
}
