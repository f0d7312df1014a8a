// Package guide builds the s3grant guide from the integration model: it executes the
// Markdown pages of package docs with Data (policies, CORS rule, grants, parameters, outputs,
// launch link, verify's checks) and renders them with package site, so every snippet comes
// from the same code as the CloudFormation template and can never drift from it.
package guide

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"testing/fstest"

	"github.com/isahit/s3grant/docs"
	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/partition"
	"github.com/isahit/s3grant/launch"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/site"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/verify"
)

// TemplateFile is the name of the CloudFormation template shipped with the
// guide, for the console's "Upload a template file".
const TemplateFile = "s3grant-template.json"

// Config is what one build of the guide bakes in. Customer values left empty
// in the integration (bucket, external ID, region) and an empty AccountID stay
// marked placeholders that the guide's "your values" form fills in the reader's
// browser; values given are written into every page.
type Config struct {
	Integration stacks.Integration
	// AccountID is the customer's AWS account ID, part of the access point ARN.
	AccountID string
	// TemplateURL is the published template (s3grant publish); without it the
	// guide has no Launch Stack button and points to the template file instead.
	TemplateURL string
	// BaseURL is where the guide is published, for its sitemap; see site.WithBaseURL.
	BaseURL string
	// Flags maps template parameter names to the s3grant CLI flags that set them, for the
	// CLI page (the CLI owns its flag names; parameters without a flag are not listed).
	Flags map[string]string
}

// Flag is one row of the CLI page's table of integration flags.
type Flag struct {
	Flag, Description string
}

// Data is what the pages are executed with. Strings that hold a customer value
// carry the site's marker for it, so the value shows highlighted and the form
// can replace it.
type Data struct {
	Vendor profile.Vendor
	// Partition is the ARN partition of the bucket's region (aws for a placeholder region).
	Partition string
	// Bucket, ExternalID, Region and AccountID are the marked customer values.
	Bucket, ExternalID, Region, AccountID string
	AccessPointName                       string
	AccessPointARN                        string
	// ObjectPrefix and KMSKeyARN are the optional restrictions, empty when unused.
	ObjectPrefix, KMSKeyARN string
	// TrustPolicy, PermissionsPolicy and CORSRules are exactly what the stack
	// creates, resolved for the values above.
	TrustPolicy, PermissionsPolicy stacks.Document
	CORSRules                      []stacks.CORSRule
	// KMSStatement is the permissions statement a KMS key adds, shown for a
	// placeholder key when the build has none.
	KMSStatement stacks.Statement
	// Grants describe, statement by statement, what the stack grants (the same
	// words as deploy's preview).
	Grants []stacks.Grant
	Params []stacks.Param
	// Flags are the CLI flags that set parameters, in parameter order.
	Flags   []Flag
	Outputs []stacks.Output
	// Checks are the checks of s3grant verify, for the troubleshooting page.
	Checks []verify.Check
	// StackName is the stack name the guide proposes.
	StackName string
	// LaunchURL is the quick-create link, empty without a TemplateURL. It prefills the
	// customer's values and every value of the build that differs from the published
	// template's defaults, so the stack launched is the one the guide describes.
	LaunchURL, TemplateURL string
	TemplateFile           string
	// TemplateVersion is the version of the template the guide describes
	// (stacks.TemplateVersion); PublishedKey is the immutable key name s3grant publish gives
	// the vendor's template of this build (VERSION/HASH.json, under the vendor's prefix).
	TemplateVersion, PublishedKey string
	// Resources are every resource of the template, with why the stack creates it.
	Resources  []stacks.Resource
	ManageCORS bool
	// Buckets are every bucket of the integration, the first (Bucket above, marked) first; one
	// entry for the one-bucket integration. Several is true when there are more than one.
	Buckets []Bucket
	Several bool
	// MoreBucketsOutputs name the outputs listing the access points of the buckets after the
	// first (stacks.MoreBucketsOutput).
	MoreBucketsOutputs []string
	// RolePolicies are the role's permissions policies resolved, PermissionsPolicy first: one
	// for the one-bucket integration, more with several buckets (the first bucket's and the
	// others', packed within IAM's policy size).
	RolePolicies []RolePolicy
}

// RolePolicy is one of the role's permissions policies, for the manual setup.
type RolePolicy struct {
	// Name is the name the manual setup proposes for it.
	Name     string
	Document stacks.Document
	// Buckets are the buckets it grants (the first one marked).
	Buckets []string
}

// Bucket is one bucket of the integration as the pages show it.
type Bucket struct {
	// Name is the bucket (the first one marked), Prefix the one its grant is limited to.
	Name, Prefix                    string
	AccessPointName, AccessPointARN string
}

// Vars returns the customer values of cfg as site variables: a value given is
// baked in, a value missing becomes a form field with a placeholder.
func Vars(cfg Config) []site.Var {
	in := cfg.Integration
	ex := in.Vendor.Example
	label := func(param string) string {
		p, _ := stacks.ParamByName(param)
		return p.Label
	}
	return []site.Var{
		{Name: "Bucket", Label: label("BucketName"), Placeholder: "YOUR-BUCKET", Example: ex.Bucket, Value: in.BucketName},
		{Name: "ExternalId", Label: label("ExternalId"), Placeholder: "YOUR-EXTERNAL-ID", Example: ex.ExternalID, Value: in.ExternalID},
		{Name: "Region", Label: "Region of the bucket", Placeholder: "YOUR-REGION", Example: ex.Region, Value: in.Region},
		{Name: "AccountId", Label: "Your AWS account ID", Placeholder: "YOUR-ACCOUNT-ID", Example: "123456789012", Value: cfg.AccountID},
	}
}

// NewData returns the values the pages are executed with.
func NewData(cfg Config) (Data, error) {
	in := cfg.Integration
	marks := map[string]string{}
	for _, v := range Vars(cfg) {
		marks[v.Name] = v.Mark()
	}
	vals := in.SubstitutionValues(marks["Region"], marks["AccountId"])
	// The marked region is not a region name: the partition is the given region's (aws for a
	// placeholder), so a China or GovCloud guide shows its own ARNs.
	part := partition.Of(in.Region)
	vals["AWS::Partition"], vals["AWS::URLSuffix"] = part.ID, part.DNSSuffix
	vals["BucketName"] = marks["Bucket"]
	vals["ExternalId"] = marks["ExternalId"]
	d := Data{
		Vendor:          in.Vendor,
		Partition:       part.ID,
		Bucket:          marks["Bucket"],
		ExternalID:      marks["ExternalId"],
		Region:          marks["Region"],
		AccountID:       marks["AccountId"],
		AccessPointName: in.AccessPointName,
		ObjectPrefix:    in.ObjectPrefix,
		KMSKeyARN:       in.KMSKeyARN,
		CORSRules:       []stacks.CORSRule{in.CORSRule()},
		Params:          stacks.Params,
		TemplateURL:     cfg.TemplateURL,
		TemplateFile:    TemplateFile,
		TemplateVersion: stacks.TemplateVersion,
		ManageCORS:      in.ManageCORS,
	}
	named := in
	named.BucketName = d.Bucket // the real name, or its placeholder marker
	d.StackName = named.DefaultStackName()
	d.AccessPointARN = arn.ARN{Partition: part.ID, Service: "s3", Region: d.Region, Account: d.AccountID,
		Resource: "accesspoint/" + d.AccessPointName}.String()
	var err error
	if d.TrustPolicy, err = stacks.TrustPolicy().Resolve(vals); err != nil {
		return Data{}, err
	}
	if d.PermissionsPolicy, err = stacks.PermissionsPolicy().Resolve(vals); err != nil {
		return Data{}, err
	}
	withKey := maps.Clone(vals)
	if withKey["KmsKeyArn"] == "" {
		withKey["KmsKeyArn"] = arn.ARN{Partition: vals["AWS::Partition"], Service: "kms", Region: d.Region,
			Account: d.AccountID, Resource: "key/YOUR-KEY-ID"}.String()
	}
	full, err := stacks.PermissionsPolicy().Resolve(withKey)
	if err != nil {
		return Data{}, err
	}
	for _, s := range full.Statement {
		if slices.Contains(s.Action, "kms:Decrypt") {
			d.KMSStatement = s
		}
	}
	buckets, err := in.Buckets()
	if err != nil {
		return Data{}, err
	}
	for i, b := range buckets {
		name := b.Name
		if i == 0 {
			name = d.Bucket
		}
		d.Buckets = append(d.Buckets, Bucket{Name: name, Prefix: b.Prefix, AccessPointName: b.AccessPoint,
			AccessPointARN: arn.ARN{Partition: part.ID, Service: "s3", Region: d.Region, Account: d.AccountID,
				Resource: "accesspoint/" + b.AccessPoint}.String()})
	}
	d.Several = len(d.Buckets) > 1
	d.MoreBucketsOutputs = stacks.MoreBucketsOutputs(len(d.Buckets) - 1)
	policies, err := in.RolePolicies()
	if err != nil {
		return Data{}, err
	}
	for n, p := range policies {
		r, err := p.Document.Resolve(vals)
		if err != nil {
			return Data{}, err
		}
		rp := RolePolicy{Name: in.Vendor.ID + "-s3-read", Document: r, Buckets: p.Buckets}
		if n == 0 {
			rp.Buckets = []string{d.Bucket}
		} else {
			rp.Name += fmt.Sprintf("-%d", n+1)
		}
		d.RolePolicies = append(d.RolePolicies, rp)
	}
	if d.Grants, err = in.Grants(vals); err != nil {
		return Data{}, err
	}
	for _, p := range stacks.Params {
		if f, ok := cfg.Flags[p.Name]; ok {
			d.Flags = append(d.Flags, Flag{Flag: f, Description: p.Description})
		}
	}
	d.Outputs = in.Outputs()
	d.Checks = verify.Checks()
	if d.Resources, err = stacks.Resources(in); err != nil {
		return Data{}, err
	}
	published, err := stacks.PublishedJSON(in)
	if err != nil {
		return Data{}, err
	}
	d.PublishedKey = launch.TemplateKeyName(stacks.TemplateVersion, published)
	if len(in.MoreBuckets) > 0 {
		d.PublishedKey = launch.ShapeKeyName(stacks.TemplateVersion, published)
	}
	// Without quick-create in the partition (internal/partition says why), the page keeps the
	// template-file steps instead of a button no console would open.
	if cfg.TemplateURL != "" && part.QuickCreate {
		d.LaunchURL = launch.Link{
			Region:      d.Region,
			TemplateURL: cfg.TemplateURL,
			StackName:   d.StackName,
			Parameters:  launchParameters(in, d),
			Partition:   part,
		}.String()
	}
	return d, nil
}

// launchParameters are the values the Launch Stack link prefills: the customer's bucket and
// external ID (marked, so the form can fill them in) and each value of in that differs from
// the published template's default.
func launchParameters(in stacks.Integration, d Data) map[string]string {
	params := map[string]string{"BucketName": d.Bucket, "ExternalId": d.ExternalID}
	defaults := stacks.New(in.Vendor).Values()
	for name, v := range in.Values() {
		if _, set := params[name]; !set && defaults[name] != v {
			params[name] = v
		}
	}
	return params
}

// Build renders the guide for cfg into out: the pages of docs.FS with the
// model's values, and the template file.
func Build(ctx context.Context, cfg Config, out site.Output) error {
	data, err := NewData(cfg)
	if err != nil {
		return err
	}
	template, err := stacks.JSON(cfg.Integration)
	if err != nil {
		return err
	}
	src, err := withFile(docs.FS, TemplateFile, template)
	if err != nil {
		return err
	}
	s := site.New(
		site.WithTitle(cfg.Integration.Vendor.Name+" · S3 integration guide"),
		site.WithData(data),
		site.WithVars(Vars(cfg)...),
		site.WithBaseURL(cfg.BaseURL),
	)
	return s.Build(ctx, src, out)
}

// withFile returns fsys with one more file.
func withFile(fsys fs.FS, name string, data []byte) (fs.FS, error) {
	m := fstest.MapFS{name: {Data: data, Mode: 0o644}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		m[p] = &fstest.MapFile{Data: b, Mode: 0o644}
		return err
	})
	return m, err
}
