package sitepublish

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/isahit/s3grant/internal/partition"
)

// Website is a bucket's website configuration as the plan found it, and what publishing
// would change in it.
type Website struct {
	// Found is false when the bucket has no website configuration.
	Found bool `json:"found"`
	// Index and Error are the current index document suffix and error document key.
	Index string `json:"index,omitempty"`
	Error string `json:"error,omitempty"`
	// RedirectAll is the host every request is redirected to, if the bucket does that: then
	// the site cannot be served from it and Publish leaves the configuration alone.
	RedirectAll string `json:"redirectAll,omitempty"`
	// RoutingRules tells whether the configuration has routing rules (kept on any change).
	RoutingRules bool `json:"routingRules,omitempty"`
	// WantIndex and WantError are what the site needs: index.html and PREFIX404.html.
	WantIndex string `json:"wantIndex"`
	WantError string `json:"wantError"`
	// Change describes what is needed, "" when the configuration already fits or the
	// bucket is not a website and none was asked for.
	Change string `json:"change,omitempty"`
	// Apply is true when Apply makes Change (WithWebsite); Applied once it did.
	Apply   bool `json:"apply"`
	Applied bool `json:"applied"`

	current *types.WebsiteConfiguration
}

// Serves reports whether the bucket serves the site as a website once the plan is applied.
func (w Website) Serves() bool {
	return w.RedirectAll == "" && (w.Apply || w.Found && w.Change == "")
}

// planWebsite reads the bucket's website configuration and decides what to change. A
// customer's (or a colleague's) configuration is never changed without WithWebsite: the
// plan says what would change instead.
func (p *Publisher) planWebsite(ctx context.Context, plan *Plan) error {
	w := &plan.Website
	w.WantIndex, w.WantError = IndexDocument, plan.Prefix+ErrorDocument
	out, err := p.s3.GetBucketWebsite(ctx, &s3.GetBucketWebsiteInput{Bucket: &plan.Bucket}, p.inRegion(plan.Region))
	switch {
	case isCode(err, "NoSuchWebsiteConfiguration"):
		if p.website {
			w.Change = fmt.Sprintf("create a website configuration: index document %s, error document %s", w.WantIndex, w.WantError)
			w.Apply = true
		}
		return nil
	case err != nil && !p.website && isCode(err, "AccessDenied"):
		// Reading it is only needed to serve a website; without WithWebsite, go on.
		w.Change = "could not read the website configuration (AccessDenied on s3:GetBucketWebsite); left alone"
		return nil
	case err != nil:
		return fmt.Errorf("bucket %s: reading its website configuration: %w", plan.Bucket, err)
	}
	w.Found = true
	w.current = &types.WebsiteConfiguration{ErrorDocument: out.ErrorDocument, IndexDocument: out.IndexDocument,
		RedirectAllRequestsTo: out.RedirectAllRequestsTo, RoutingRules: out.RoutingRules}
	if out.IndexDocument != nil {
		w.Index = aws.ToString(out.IndexDocument.Suffix)
	}
	if out.ErrorDocument != nil {
		w.Error = aws.ToString(out.ErrorDocument.Key)
	}
	w.RoutingRules = len(out.RoutingRules) > 0
	if r := out.RedirectAllRequestsTo; r != nil {
		w.RedirectAll = aws.ToString(r.HostName)
		w.Change = fmt.Sprintf("none possible: the bucket redirects every request to %s; serve the site from another bucket or behind CloudFront", w.RedirectAll)
		return nil
	}
	var changes []string
	if w.Index != w.WantIndex {
		changes = append(changes, fmt.Sprintf("index document %q -> %q", w.Index, w.WantIndex))
	}
	if w.Error != w.WantError {
		changes = append(changes, fmt.Sprintf("error document %q -> %q", w.Error, w.WantError))
	}
	if len(changes) == 0 {
		return nil
	}
	w.Change = strings.Join(changes, ", ")
	if w.RoutingRules {
		w.Change += " (routing rules kept)"
	}
	w.Apply = p.website
	return nil
}

// putWebsite writes the website configuration the plan wants. PutBucketWebsite replaces
// the whole configuration, so the routing rules read by the plan are written back.
func (p *Publisher) putWebsite(ctx context.Context, plan *Plan) error {
	cfg := &types.WebsiteConfiguration{
		IndexDocument: &types.IndexDocument{Suffix: aws.String(plan.Website.WantIndex)},
		ErrorDocument: &types.ErrorDocument{Key: aws.String(plan.Website.WantError)},
	}
	if c := plan.Website.current; c != nil {
		cfg.RoutingRules = c.RoutingRules
	}
	_, err := p.s3.PutBucketWebsite(ctx, &s3.PutBucketWebsiteInput{Bucket: &plan.Bucket, WebsiteConfiguration: cfg}, p.inRegion(plan.Region))
	if err != nil {
		return fmt.Errorf("bucket %s: setting its website configuration: %w", plan.Bucket, err)
	}
	return nil
}

// dashRegions are the regions whose website endpoint is s3-website-REGION (with a dash);
// every other region uses s3-website.REGION. From AWS's table of website endpoints.
var dashRegions = map[string]bool{
	"us-east-1": true, "us-west-1": true, "us-west-2": true, "eu-west-1": true, "sa-east-1": true,
	"ap-southeast-1": true, "ap-southeast-2": true, "ap-northeast-1": true, "us-gov-west-1": true,
}

// WebsiteEndpoint returns the website endpoint of a bucket, http:// (website endpoints do
// not serve HTTPS; put CloudFront in front for that), in the bucket region's partition.
func WebsiteEndpoint(bucket, region string) string {
	suffix := "." + partition.Of(region).DNSSuffix
	sep := "."
	if dashRegions[region] {
		sep = "-"
	}
	return "http://" + bucket + ".s3-website" + sep + region + suffix
}
