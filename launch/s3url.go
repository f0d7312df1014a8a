package launch

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
)

// MaxTemplateURLLength is CloudFormation's limit on a TemplateURL.
const MaxTemplateURLLength = 1024

// S3Location is an S3 object as a template URL names it. Region is empty for the legacy
// global endpoint (s3.amazonaws.com), which serves us-east-1 and redirects the rest.
type S3Location struct {
	Bucket string
	Key    string
	Region string
	// Partition is the ARN partition of the host's region, or aws for the global endpoint.
	Partition string
}

// ParseTemplateURL reads an S3 HTTPS object URL in one of the forms the CloudFormation console
// accepts: virtual-hosted (https://BUCKET.s3.REGION.amazonaws.com/KEY,
// https://BUCKET.s3.amazonaws.com/KEY) or path style (https://s3.REGION.amazonaws.com/BUCKET/KEY),
// also with the legacy s3-REGION form and dualstack, amazonaws.com.cn for China and
// s3.us-gov-west-1.amazonaws.com for GovCloud (whose partition the region names).
// Errors are *rules.InvalidError values naming field.
func ParseTemplateURL(field, raw string) (S3Location, error) {
	bad := func(reason string) (S3Location, error) {
		return S3Location{}, rules.Invalid(field, raw, reason)
	}
	if raw == "" {
		return bad("is required: the HTTPS URL of the template in S3")
	}
	if len(raw) > MaxTemplateURLLength {
		return bad(fmt.Sprintf("is %d characters; CloudFormation accepts a template URL of at most %d", len(raw), MaxTemplateURLLength))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return bad(fmt.Sprintf("%q is not a URL; expected https://BUCKET.s3.REGION.amazonaws.com/KEY", raw))
	}
	if u.Scheme != "https" {
		return bad(fmt.Sprintf("%q must use https: CloudFormation only reads templates from S3 HTTPS URLs", raw))
	}
	if u.User != nil || u.Port() != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
		return bad(fmt.Sprintf("%q must be a plain S3 object URL, without credentials, port, query string or fragment", raw))
	}
	loc, ok := parseS3Host(strings.ToLower(u.Hostname()))
	if !ok {
		return bad(fmt.Sprintf("%q is not an S3 URL; expected https://BUCKET.s3.REGION.amazonaws.com/KEY or https://s3.REGION.amazonaws.com/BUCKET/KEY", raw))
	}
	path := strings.TrimPrefix(u.Path, "/")
	if loc.Bucket == "" { // path style: the bucket is the first path segment
		loc.Bucket, path, _ = strings.Cut(path, "/")
	}
	loc.Key = path
	if err := rules.BucketName.Validate(field, loc.Bucket); err != nil {
		return bad(fmt.Sprintf("%q names bucket %q: %s", raw, loc.Bucket, rules.BucketName.Description))
	}
	if loc.Key == "" || strings.HasSuffix(loc.Key, "/") {
		return bad(fmt.Sprintf("%q names no object: the URL must end with the template's key", raw))
	}
	return loc, nil
}

// TemplateURLIn parses a template URL for a stack in region: an S3 HTTPS URL (see
// ParseTemplateURL) of region's partition, the only one whose console can read it. An empty
// region checks the URL alone.
func TemplateURLIn(field, raw, region string) (S3Location, error) {
	loc, err := ParseTemplateURL(field, raw)
	if err != nil || region == "" {
		return loc, err
	}
	if p := partition.Of(region); p.ID != loc.Partition {
		return S3Location{}, rules.Invalid(field, raw, fmt.Sprintf("%q is in AWS partition %s, but region %s is in %s: "+
			"publish the template to a bucket of the %s partition", raw, loc.Partition, region, p.ID, p.ID))
	}
	return loc, nil
}

// parseS3Host splits an S3 REST endpoint host into bucket (empty for path style), region and
// partition. Website endpoints (s3-website) are not REST endpoints and are refused. A region in
// the host decides the partition (aws-us-gov shares amazonaws.com with aws), and the host's DNS
// suffix must be that partition's.
func parseS3Host(host string) (S3Location, bool) {
	var loc S3Location
	name, suffix, ok := splitDNSSuffix(host)
	if !ok {
		return loc, false
	}
	rest := name
	// rest is "s3[.region]" (path style) or "BUCKET.s3[.region]" (virtual-hosted); the region
	// part may also be "-region" (legacy) or ".dualstack.region".
	endpoint := rest
	if i := strings.LastIndex(rest, ".s3"); i >= 0 && (i+3 == len(rest) || rest[i+3] == '.' || rest[i+3] == '-') {
		loc.Bucket, endpoint = rest[:i], rest[i+1:]
	}
	region, ok := strings.CutPrefix(endpoint, "s3")
	if !ok {
		return loc, false
	}
	switch {
	case region == "":
	case strings.HasPrefix(region, "-website"), strings.HasPrefix(region, ".website"):
		return loc, false
	case strings.HasPrefix(region, ".dualstack."):
		loc.Region = strings.TrimPrefix(region, ".dualstack.")
	default:
		loc.Region = region[1:]
	}
	if loc.Region == "" {
		loc.Partition = partition.AWS.ID
		return loc, suffix == partition.AWS.DNSSuffix // only aws has a global endpoint
	}
	p := partition.Of(loc.Region)
	loc.Partition = p.ID
	return loc, rules.Region.Validate("region", loc.Region) == nil && p.DNSSuffix == suffix
}

// splitDNSSuffix splits host into its name and the DNS suffix that ends it, among the
// partitions quick-create links serve, the longest suffix first (amazonaws.com.cn before
// amazonaws.com).
func splitDNSSuffix(host string) (name, suffix string, ok bool) {
	for _, p := range partition.All() {
		if !p.QuickCreate {
			continue
		}
		if n, found := strings.CutSuffix(host, "."+p.DNSSuffix); found && (!ok || len(p.DNSSuffix) > len(suffix)) {
			name, suffix, ok = n, p.DNSSuffix, true
		}
	}
	return name, suffix, ok
}

// URL is the object's public HTTPS URL, the form customers and the console use:
// virtual-hosted https://BUCKET.s3.REGION.amazonaws.com/KEY, or path style
// https://s3.REGION.amazonaws.com/BUCKET/KEY for a bucket name with dots, whose virtual-hosted
// name would not match S3's TLS certificate.
func (l S3Location) URL() string {
	suffix := "." + partition.Of(l.Region).DNSSuffix
	endpoint := "s3" + suffix
	if l.Region != "" {
		endpoint = "s3." + l.Region + suffix
	}
	key := escapeKey(l.Key)
	if strings.Contains(l.Bucket, ".") {
		return "https://" + endpoint + "/" + l.Bucket + "/" + key
	}
	return "https://" + l.Bucket + "." + endpoint + "/" + key
}

// escapeKey percent-encodes each segment of an object key, keeping the slashes.
func escapeKey(key string) string {
	segments := strings.Split(key, "/")
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return strings.Join(segments, "/")
}
