package verify

import (
	"strings"
)

// resourceKind is what an S3 resource ARN pattern can name: buckets (and access points),
// objects, or both when wildcards leave it open.
type resourceKind int

const (
	kindAny resourceKind = iota
	kindBucket
	kindObject
)

// grant is one permission the integration needs: an action on resources of one kind.
type grant struct {
	action    string
	kind      resourceKind
	resources []string
}

func (in Input) account() string {
	a, _ := ParseARN(in.RoleARN)
	return a.Account
}

func (in Input) bucketARN() string {
	return "arn:" + partition(in.Region) + ":s3:::" + in.Bucket
}

func (in Input) accessPointARN() string {
	return accessPointARN(in.Region, in.account(), in.AccessPointName)
}

// grants lists what the role must be allowed, and all it may be allowed: the template's
// policy (ListBucket on the bucket and the access point, GetObject on their objects under the
// prefix, and kms:Decrypt on keyARN when the bucket uses a customer key).
func (in Input) grants(keyARN string) []grant {
	g := []grant{
		{action: "s3:ListBucket", kind: kindBucket, resources: []string{in.bucketARN(), in.accessPointARN()}},
		{action: "s3:GetObject", kind: kindObject, resources: []string{
			in.bucketARN() + "/" + in.ObjectPrefix + "*",
			in.accessPointARN() + "/object/" + in.ObjectPrefix + "*",
		}},
	}
	if keyARN != "" {
		g = append(g, grant{action: "kms:Decrypt", kind: kindAny, resources: []string{keyARN}})
	}
	return g
}

// probeObject is the key the permission probes ask about: any key under the prefix would do.
const probeObject = "s3grant-verify-probe"

// s3Probes are the requests the vendor makes: list and read, on the bucket and through the
// access point, with the context keys the template's conditions look at.
func (in Input) s3Probes() []Request {
	var listCtx map[string]string
	if in.ObjectPrefix != "" {
		listCtx = map[string]string{"s3:prefix": in.ObjectPrefix}
	}
	return []Request{
		{Action: "s3:ListBucket", Resource: in.bucketARN(), Context: listCtx},
		{Action: "s3:ListBucket", Resource: in.accessPointARN(), Context: listCtx},
		{Action: "s3:GetObject", Resource: in.bucketARN() + "/" + in.ObjectPrefix + probeObject},
		{Action: "s3:GetObject", Resource: in.accessPointARN() + "/object/" + in.ObjectPrefix + probeObject},
	}
}

// kmsProbe is S3 decrypting an object with keyARN on the vendor's behalf.
func (in Input) kmsProbe(keyARN string) Request {
	return Request{Action: "kms:Decrypt", Resource: keyARN,
		Context: map[string]string{"kms:ViaService": "s3." + in.Region + ".amazonaws.com"}}
}

// s3Kind classifies an S3 ARN pattern. Bucket and access point ARNs have no "/" after the
// name, object ARNs do: a pattern with a literal "/" after a literal name names objects only.
func s3Kind(pattern string) resourceKind {
	a, err := ParseARN(pattern)
	if err != nil || strings.ContainsAny(a.Partition+a.Service+a.Region+a.Account, "*?") {
		return kindAny
	}
	res, ap := strings.CutPrefix(a.Resource, "accesspoint/")
	if !ap && (a.Region != "" || a.Account != "") {
		return kindAny
	}
	name, _, hasSlash := strings.Cut(res, "/")
	switch {
	case strings.ContainsAny(name, "*?"):
		return kindAny
	case hasSlash:
		return kindObject
	}
	return kindBucket
}

// normalizeAccessPointObjects rewrites the common accesspoint/NAME/* form (the seed page's) to
// the object ARN form accesspoint/NAME/object/*: objects are the only thing under an access point.
func normalizeAccessPointObjects(pattern string) string {
	i := strings.Index(pattern, ":accesspoint/")
	if i < 0 {
		return pattern
	}
	name, rest, ok := strings.Cut(pattern[i+len(":accesspoint/"):], "/")
	if !ok || strings.HasPrefix(rest, "object/") || !strings.HasPrefix(rest, "*") {
		return pattern
	}
	return pattern[:i] + ":accesspoint/" + name + "/object/" + rest
}

// within reports whether every resource pattern names a subset of some allowed pattern.
func within(pattern string, allowed []string) bool {
	p := normalizeAccessPointObjects(pattern)
	for _, a := range allowed {
		if wildcardMatch(a, p) {
			return true
		}
	}
	return false
}
