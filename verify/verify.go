// Package verify proves that an integration works and names the fix for every failure. It is
// split in two: pure checks that judge facts (no AWS in them), and thin collectors that gather
// those facts with read-only AWS calls, from the customer's side or from the vendor's.
package verify

import (
	"slices"

	"github.com/isahit/s3grant/stacks"
)

// Input is what verify checks against: the integration model (the vendor profile and the
// customer's values, as the template was built from them) and what only verify needs. Every
// expectation (the trust and permissions policies, the CORS rule, the access point) is derived
// from the model, never restated here.
type Input struct {
	// Integration is the model. Its customer values may be left empty when StackName is set:
	// the stack's outputs and parameters fill them in. Region is where the stack, the access
	// point and so the bucket are expected to be (default: the configured region). KMSKeyARN
	// is the key the integration was set up for, if any; the bucket's default encryption is
	// read anyway and a customer key found there is checked too.
	stacks.Integration

	// StackName, when set, is read first: its outputs fill the fields left empty.
	StackName string
	// RoleARN is the role the vendor assumes (default: the stack's RoleArn output).
	RoleARN string
	// PreviousExternalID, when set, is an external ID the role must no longer accept: the old
	// one after a rotation is finished. The live IDs are the model's ExternalID and, while a
	// rotation is in progress, NextExternalID (default: the stack's NextExternalId).
	PreviousExternalID string
	// Side says whose credentials run the checks: SideCustomer (default) or SideVendor.
	Side Side
	// AccessPointAlias is the access point's alias (the stack's AccessPointAlias output). The
	// vendor side addresses the access point by it against a custom endpoint.
	AccessPointAlias string
	// Sample is how many objects under the prefix are looked at (default DefaultSample): the
	// customer side reads each one's own encryption key and owner, the vendor side loads each
	// the way the browser does. Both take the first non-empty keys of the listing, so both
	// sides look at the same objects.
	Sample int
	// Browser makes the vendor side also load each sampled object in headless Chromium, on a
	// page served as each vendor origin.
	Browser bool

	// others are the role's grants for the other buckets of the integration while one bucket
	// of it is checked (each.go): allowed to the role, not probed.
	others *Policy
	// laterBucket is set while a bucket after the first is checked: the stack's BucketName and
	// ObjectPrefix parameters are the first bucket's, so they say nothing about this one's.
	laterBucket bool
}

// DefaultSample is how many objects each side samples under the prefix: enough to meet
// objects written at different times (another key, another owner), few enough to be quick
// (a handful of read-only calls per object).
const DefaultSample = 3

// Side is whose account verify checks from.
type Side string

// The two sides.
const (
	SideCustomer Side = "customer"
	SideVendor   Side = "vendor"
)

// Fields of Input that are not template parameters, as *rules.InvalidError names them.
// Integration fields are named by their template parameter (stacks.FieldRegion for Region).
const (
	FieldStackName          = "StackName"
	FieldRoleARN            = "RoleArn"
	FieldPreviousExternalID = "PreviousExternalId"
)

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
	// Bucket names the bucket a check is about, in an integration of several buckets.
	Bucket string `json:"bucket,omitempty"`
}

// Report is every check run from one side.
type Report struct {
	// Side is "customer" or "vendor".
	Side   Side     `json:"side"`
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
	CheckBucketPolicy   = "bucket-policy"
	CheckAPPolicy       = "access-point-policy"
)

// Check IDs, vendor side.
const (
	CheckAssume                   = "assume-role"
	CheckAssumeNoExternalID       = "assume-role-without-external-id"
	CheckAssumeBadExternalID      = "assume-role-wrong-external-id"
	CheckAssumeNextExternalID     = "assume-role-next-external-id"
	CheckAssumePreviousExternalID = "assume-role-previous-external-id"
	CheckListAccessPoint          = "list-via-access-point"
	CheckListBucket               = "list-via-bucket"
	CheckReadObject               = "read-object"
	CheckPreflight                = "cors-preflight"
	CheckPresignedGet             = "presigned-get"
	CheckGetAllowOrigin           = "cors-get-allow-origin"
	CheckVary                     = "cors-vary"
	CheckRange                    = "range-get"
	CheckContentType              = "content-type"
	CheckBrowser                  = "browser-load"
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
	{CheckBucketPolicy, "Bucket policy does not refuse the role", "no explicit Deny of the bucket policy (by aws:SourceIp, aws:SourceVpce, aws:PrincipalOrgID, aws:SecureTransport, ...) applies to the vendor's list and read requests, evaluated with their context", false},
	{CheckAPPolicy, "Access point policy does not refuse the role", "no explicit Deny of the access point policy applies to the vendor's requests through it", false},
	{CheckRegion, "Bucket, access point and stack are in one region", "the access point and the stack live in the bucket's region", false},
	{CheckObjectEncryption, "Role can decrypt each sampled object with its own key", "default encryption covers new writes only: each of --sample objects under the prefix is encrypted with a key the role may use, by its policies and by the key policy", false},
	{CheckObjectOwner, "Sampled objects are owned by your account, or granted to it", "with ACLs enabled an object another account uploaded is refused to your account's principals: Bucket owner enforced, or each sampled object's ACL granting your account, lets the role read it", false},
	{CheckAssume, "Vendor can assume the role with the external ID", "the vendor reaches your role with the external ID it holds", true},
	{CheckAssumeNextExternalID, "Vendor can assume the role with the next external ID (rotation in progress)", "during a rotation the vendor can switch to the new external ID without losing access", true},
	{CheckAssumeNoExternalID, "Role refuses AssumeRole without an external ID", "the confused-deputy protection: without the external ID the vendor's account is refused", true},
	{CheckAssumeBadExternalID, "Role refuses AssumeRole with a wrong external ID", "another customer's external ID does not open your role", true},
	{CheckAssumePreviousExternalID, "Role refuses the previous external ID (rotation finished)", "after a rotation the old external ID no longer opens your role", true},
	{CheckListAccessPoint, "Session lists objects through the access point", "listing works the way the vendor's servers list", true},
	{CheckListBucket, "Session lists objects through the bucket", "listing works on the bucket itself, past any bucket policy or SCP", true},
	{CheckReadObject, "Session reads an object (first byte)", "an object can really be read, key and encryption included", true},
	{CheckPreflight, "Browser preflight from each vendor origin is allowed", "S3 itself answers a browser's CORS preflight for each vendor origin, on presigned URLs of sampled objects through the bucket and the access point", true},
	{CheckPresignedGet, "Presigned URLs of sampled objects load", "the GET the browser makes after the preflight succeeds, through the bucket and the access point alias (a 403 names the layer that refuses; a network error is not blamed on permissions)", true},
	{CheckGetAllowOrigin, "The GET's own response allows each vendor origin", "the object's response carries Access-Control-Allow-Origin itself: nothing in front of S3 (a proxy, a CDN) strips it", true},
	{CheckVary, "Responses vary on Origin", "a shared cache never serves one origin's CORS answer to another (Vary: Origin)", true},
	{CheckRange, "Range requests are honoured", "a Range GET is answered 206, as video players need to seek", true},
	{CheckContentType, "Media objects carry their media type", "images and videos are served with an image/ or video/ Content-Type, so browsers show them", true},
	{CheckBrowser, "Headless Chromium loads each object from each vendor origin", "with --browser: a real browser on a page served as each vendor origin fetches each sampled object and decodes it as an image, exactly as the annotator's browser does", true},
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

// liveExternalIDs are the external IDs the role must accept, and no other: ExternalID and,
// while a rotation is in progress, NextExternalID.
func (in Input) liveExternalIDs() []string {
	ids := []string{in.ExternalID}
	if in.NextExternalID != "" && in.NextExternalID != in.ExternalID {
		ids = append(ids, in.NextExternalID)
	}
	return ids
}

func (in Input) vendor() string {
	if in.Vendor.Name != "" {
		return in.Vendor.Name
	}
	return "the vendor"
}
