package verify

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
)

// accessPointBucket returns the Bucket value, and the per-call options, with which the session
// of s3c addresses the access point in data-plane calls (ListObjectsV2, GetObject, presigning).
//
// On AWS it is the access point's ARN, which the SDK sends to the access point's own host
// (NAME-ACCOUNT.s3-accesspoint.REGION.amazonaws.com); ARNs are always virtual-hosted.
//
// Against a custom endpoint (--endpoint-url: LocalStack, moto, an S3-compatible proxy) the
// SDK would send an ARN to NAME-ACCOUNT.<endpoint host>, a name such endpoints do not serve.
// S3 accepts an access point's alias wherever a bucket name goes, so there the alias is
// used, path-style on the endpoint as given: in.AccessPointAlias (the stack's
// AccessPointAlias output), else the alias GetAccessPoint reports with the session's
// credentials. The error says how to give the alias when neither is at hand.
func (c *Checker) accessPointBucket(ctx context.Context, in Input, s3c *s3.Client) (string, []func(*s3.Options), error) {
	o := s3c.Options()
	if o.BaseEndpoint == nil {
		return in.accessPointARN(), []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = false }}, nil
	}
	pathStyle := []func(*s3.Options){func(o *s3.Options) { o.UsePathStyle = true }}
	if in.AccessPointAlias != "" {
		return in.AccessPointAlias, pathStyle, nil
	}
	ctl := s3control.New(s3control.Options{Region: o.Region, Credentials: o.Credentials, HTTPClient: o.HTTPClient,
		BaseEndpoint: o.BaseEndpoint, Logger: o.Logger, ClientLogMode: o.ClientLogMode,
		EndpointResolverV2: endpointAsGiven{base: *o.BaseEndpoint, next: s3control.NewDefaultEndpointResolverV2()}})
	account := in.account()
	out, err := ctl.GetAccessPoint(ctx, &s3control.GetAccessPointInput{AccountId: &account, Name: &in.AccessPointName})
	if err == nil && aws.ToString(out.Alias) != "" {
		return aws.ToString(out.Alias), pathStyle, nil
	}
	if err == nil {
		err = fmt.Errorf("GetAccessPoint returned no alias")
	}
	return "", nil, fmt.Errorf("against the endpoint %s the access point %s is addressed by its alias, which could not be read (%w): give the stack's AccessPointAlias output with --access-point-alias",
		*o.BaseEndpoint, in.AccessPointName, err)
}
