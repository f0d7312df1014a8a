package iamfake

import (
	"sort"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// TagRole sets a tag on a role, as TagRole does (and CloudFormation for the Tags property of an
// AWS::IAM::Role; it adds no aws:cloudformation:* tags to IAM roles).
func (f *Fake) TagRole(roleName, key, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.roles[roleName]
	if r.tags == nil {
		r.tags = map[string]string{}
	}
	r.tags[key] = value
}

type tagXML struct{ Key, Value string }

// listRoleTags answers ListRoleTags: the role's tags sorted by key, in one page.
func (f *Fake) listRoleTags(r *awsquery.Request) (any, *awsquery.Error) {
	ro, err := f.role(r.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(ro.tags))
	for k := range ro.tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := struct {
		Tags        []tagXML `xml:"Tags>member"`
		IsTruncated bool
	}{}
	for _, k := range keys {
		out.Tags = append(out.Tags, tagXML{k, ro.tags[k]})
	}
	return out, nil
}
