// Package launch makes the one-click path: CloudFormation quick-create links that open the
// console with a customer's values filled in, "Launch Stack" buttons for them, external IDs for
// new customers, and the publishing of templates to S3 under immutable URLs those links can use.
//
// Everything except Publisher is pure, so the CLI, the README and the docs site build links
// with the same functions and the same checks.
package launch

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/internal/rules"
)

// Field names used in the errors of Link.Build, in the link's own terms (a prefilled
// parameter is named ParamPrefix+NAME); a caller with other names for them maps these.
const (
	FieldRegion      = "Region"
	FieldTemplateURL = "TemplateURL"
	FieldStackName   = "StackName"
)

// ParamPrefix starts every prefilled parameter in a quick-create link, as in param_BucketName.
const ParamPrefix = "param_"

// Link is a CloudFormation quick-create link: the console region (where the stack will be
// created), the template to read, the proposed stack name and the parameter values to prefill.
type Link struct {
	Region      string
	TemplateURL string
	// StackName is optional: empty leaves the console's stack name box empty.
	StackName string
	// Parameters maps template parameter names (without param_) to the values to prefill.
	Parameters map[string]string
	// Partition, when set, is the console's partition, for a Region that stands for a value
	// (the guide's marked region); by default it is Region's.
	Partition partition.Partition
}

// partition returns the partition of the link's console.
func (l Link) partition() partition.Partition {
	if l.Partition.ID != "" {
		return l.Partition
	}
	return partition.Of(l.Region)
}

// Build checks the link against the rules and against the parameters of the template it points
// to, and returns it as a URL. Each failure is a *rules.InvalidError naming the field:
// FieldRegion, FieldTemplateURL, FieldStackName or param_NAME.
//
// The checks are those the console would not make, or would make only after the customer
// clicked: a region code, an S3 HTTPS template URL of at most 1024 characters in the region's
// partition, the stack name rule, and for every prefilled parameter: it exists in the template
// (the console silently drops unknown ones), it is not NoEcho (the console refuses to prefill
// those) and its value meets the template's own constraints.
func (l Link) Build(params Parameters) (string, error) {
	if err := l.check(params); err != nil {
		return "", err
	}
	return l.String(), nil
}

func (l Link) check(params Parameters) error {
	if err := rules.Region.Validate(FieldRegion, l.Region); err != nil {
		return err
	}
	if err := QuickCreateIn(FieldRegion, l.Region); err != nil {
		return err
	}
	if _, err := TemplateURLIn(FieldTemplateURL, l.TemplateURL, l.Region); err != nil {
		return err
	}
	if l.StackName != "" {
		if err := rules.StackName.Validate(FieldStackName, l.StackName); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(l.Parameters)) {
		if err := params.check(name, l.Parameters[name]); err != nil {
			return err
		}
	}
	return nil
}

// QuickCreateIn returns nil when quick-create links can open the console of region's partition
// (internal/partition decides), else an *rules.InvalidError naming field with the reason and
// the other ways to create the stack.
func QuickCreateIn(field, region string) error {
	p := partition.Of(region)
	if p.QuickCreate {
		return nil
	}
	return rules.Invalid(field, region, fmt.Sprintf("region %s is in partition %s, which %s, so no quick-create link can open it: "+
		"create the stack with s3grant deploy, or upload the template file in that console", region, p.ID, p.NoQuickCreate))
}

// String returns the link without checking it. Values are escaped so that both ways the
// console may decode the query in the fragment agree: a space is %20 (never +), and every
// character other than letters, digits and -_.~ is percent-encoded. Parameters come in name
// order, so the same Link always gives the same string.
func (l Link) String() string {
	domain := l.partition().ConsoleDomain
	var b strings.Builder
	fmt.Fprintf(&b, "https://%s.%s/cloudformation/home?region=%s#/stacks/create/review?templateURL=%s",
		l.Region, domain, escape(l.Region), escape(l.TemplateURL))
	if l.StackName != "" {
		b.WriteString("&stackName=" + escape(l.StackName))
	}
	for _, name := range slices.Sorted(maps.Keys(l.Parameters)) {
		b.WriteString("&" + escape(ParamPrefix+name) + "=" + escape(l.Parameters[name]))
	}
	return b.String()
}

// Parse reads a quick-create link back into a Link. It accepts what String produces and the
// same link written by hand with other valid escapes; it checks the link's shape, not its values.
func Parse(link string) (Link, error) {
	bad := func(reason string) (Link, error) {
		return Link{}, fmt.Errorf("not a CloudFormation quick-create link: %s", reason)
	}
	u, err := url.Parse(link)
	if err != nil {
		return bad(err.Error())
	}
	if u.Scheme != "https" || u.Path != "/cloudformation/home" {
		return bad("expected https://REGION.console.aws.amazon.com/cloudformation/home?region=REGION#/stacks/create/review?…")
	}
	region := u.Query().Get("region")
	domain := partition.Of(region).ConsoleDomain
	if region == "" || !partition.Of(region).QuickCreate || (u.Host != region+"."+domain && u.Host != domain) {
		return bad(fmt.Sprintf("host %q does not match region %q", u.Host, region))
	}
	// u.Fragment is already unescaped once; the query inside it must be read from the raw form.
	route, query, _ := strings.Cut(u.EscapedFragment(), "?")
	if route != "/stacks/create/review" {
		return bad(fmt.Sprintf("fragment route %q is not /stacks/create/review", route))
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return bad(err.Error())
	}
	l := Link{Region: region}
	for key, vs := range values {
		if len(vs) != 1 {
			return bad(fmt.Sprintf("%s appears %d times", key, len(vs)))
		}
		switch name, isParam := strings.CutPrefix(key, ParamPrefix); {
		case key == "templateURL":
			l.TemplateURL = vs[0]
		case key == "stackName":
			l.StackName = vs[0]
		case isParam:
			if l.Parameters == nil {
				l.Parameters = map[string]string{}
			}
			l.Parameters[name] = vs[0]
		default:
			return bad(fmt.Sprintf("unknown field %q", key))
		}
	}
	if l.TemplateURL == "" {
		return bad("no templateURL")
	}
	return l, nil
}

// escape percent-encodes s for the console's fragment query; see Link.String.
func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
