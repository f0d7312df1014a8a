package stackset

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/isahit/s3grant/internal/rules"
)

// TargetsEntry is one entry of a targets file: an account and region, and the buckets the
// integration connects there.
type TargetsEntry struct {
	Account string
	Region  string
	Buckets []Bucket
	// KMSKeyARN (key kms-key-arn, optional) is the KMS key the target's buckets are encrypted
	// with, in the target's region; ExternalID (key external-id, optional) is the account's
	// own external ID, the same in every target of the account.
	KMSKeyARN, ExternalID string
	// Line is where the entry starts in the file, for messages.
	Line int
}

// Bucket is a bucket of a target, with an optional object prefix (written name/prefix/).
type Bucket struct {
	Name, Prefix string
}

// ParseTargets reads a targets file:
//
//	targets:
//	  - account: "111122223333"
//	    region: eu-west-3
//	    buckets: [acme-images, acme-video/clips/]
//	    kms-key-arn: arn:aws:kms:eu-west-3:111122223333:key/ID   # optional
//	    external-id: 0c5f3e2a-...                                 # optional, per account
//
// Every value is checked with the rules the flags use; a refusal is a *rules.InvalidError
// whose field names the file, the line and the key (so the CLI exits 2). Account IDs must be
// quoted: unquoted, YAML reads them as numbers and a leading zero is lost. Unknown keys, an
// empty list, a repeated bucket, a repeated (account, region), a KMS key of another region
// (or partition) and two external IDs for one account are refused.
func ParseTargets(file string, data []byte) ([]TargetsEntry, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, rules.Invalid(file, "", "is not valid YAML: "+strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, rules.Invalid(file, "", `is empty: it needs a "targets:" list`)
	}
	root := doc.Content[0]
	at := func(n *yaml.Node, key string) string { return fmt.Sprintf("%s:%d: %s", file, n.Line, key) }
	if root.Kind != yaml.MappingNode {
		return nil, rules.Invalid(at(root, "targets"), "", `the file must be a mapping with one key, "targets"`)
	}
	var list *yaml.Node
	for i := 0; i < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != "targets" {
			return nil, rules.Invalid(at(k, k.Value), k.Value, `is not a known key (the file has one key, "targets")`)
		}
		list = v
	}
	if list == nil || list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		n := root
		if list != nil {
			n = list
		}
		return nil, rules.Invalid(at(n, "targets"), "", "must be a non-empty list of {account, region, buckets}")
	}
	var out []TargetsEntry
	seen := map[string]int{}
	type seenID struct {
		value string
		line  int
	}
	externalIDs := map[string]seenID{}
	for i, item := range list.Content {
		field := func(n *yaml.Node, key string) string { return at(n, fmt.Sprintf("targets[%d].%s", i, key)) }
		if item.Kind != yaml.MappingNode {
			return nil, rules.Invalid(at(item, fmt.Sprintf("targets[%d]", i)), "", "must be a mapping with account, region and buckets")
		}
		t := TargetsEntry{Line: item.Line}
		got := map[string]bool{}
		keyLines := map[string]int{}
		for j := 0; j < len(item.Content); j += 2 {
			k, v := item.Content[j], item.Content[j+1]
			if got[k.Value] {
				return nil, rules.Invalid(field(k, k.Value), "", "is given twice")
			}
			got[k.Value] = true
			switch k.Value {
			case "account":
				if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
					return nil, rules.Invalid(field(v, "account"), v.Value,
						fmt.Sprintf("%s must be a quoted string such as \"111122223333\" (unquoted, YAML reads a number and drops leading zeros)", v.Value))
				}
				if err := rules.AccountID.Validate(field(v, "account"), v.Value); err != nil {
					return nil, err
				}
				t.Account = v.Value
			case "region":
				if v.Kind != yaml.ScalarNode {
					return nil, rules.Invalid(field(v, "region"), "", "must be a region code such as eu-west-3")
				}
				if err := rules.Region.Validate(field(v, "region"), v.Value); err != nil {
					return nil, err
				}
				t.Region = v.Value
			case "buckets":
				bs, err := parseBuckets(v, func(n *yaml.Node, b int) string { return field(n, fmt.Sprintf("buckets[%d]", b)) })
				if err != nil {
					return nil, err
				}
				if len(bs) == 0 {
					return nil, rules.Invalid(field(v, "buckets"), "", "must list at least one bucket")
				}
				t.Buckets = bs
			case "kms-key-arn", "external-id":
				rule, dst := rules.KMSKeyARN, &t.KMSKeyARN
				if k.Value == "external-id" {
					rule, dst = rules.ExternalID, &t.ExternalID
				}
				if v.Kind != yaml.ScalarNode || v.Tag != "!!str" || v.Value == "" {
					return nil, rules.Invalid(field(v, k.Value), v.Value, "must be a string")
				}
				if err := rule.Validate(field(v, k.Value), v.Value); err != nil {
					return nil, err
				}
				*dst = v.Value
				keyLines[k.Value] = v.Line
			default:
				return nil, rules.Invalid(field(k, k.Value), k.Value, "is not a known key (account, region, buckets, kms-key-arn, external-id)")
			}
		}
		if kr := rules.RegionOfKMSKey(t.KMSKeyARN); kr != "" && t.Region != "" && kr != t.Region {
			return nil, rules.Invalid(at(&yaml.Node{Line: keyLines["kms-key-arn"]}, fmt.Sprintf("targets[%d].kms-key-arn", i)), t.KMSKeyARN, fmt.Sprintf(
				"the key is in %s but the target is in %s: S3 can only use a KMS key of the bucket's region", kr, t.Region))
		}
		if id, ok := externalIDs[t.Account]; ok && t.ExternalID != "" && id.value != "" && id.value != t.ExternalID {
			return nil, rules.Invalid(at(&yaml.Node{Line: keyLines["external-id"]}, fmt.Sprintf("targets[%d].external-id", i)), t.ExternalID, fmt.Sprintf(
				"account %s already has the external ID %s at line %d: one external ID per account, the same in all its regions", t.Account, id.value, id.line))
		}
		if t.ExternalID != "" {
			externalIDs[t.Account] = seenID{t.ExternalID, keyLines["external-id"]}
		}
		for _, key := range []string{"account", "region", "buckets"} {
			if !got[key] {
				return nil, rules.Invalid(at(item, fmt.Sprintf("targets[%d]", i)), "", "has no "+key)
			}
		}
		k := t.Account + "/" + t.Region
		if line, dup := seen[k]; dup {
			return nil, rules.Invalid(at(item, fmt.Sprintf("targets[%d]", i)), k,
				fmt.Sprintf("account %s in %s is already a target at line %d; list its buckets once", t.Account, t.Region, line))
		}
		seen[k] = item.Line
		out = append(out, t)
	}
	return out, nil
}

// parseBuckets reads a list of "name" or "name/prefix" strings.
func parseBuckets(n *yaml.Node, field func(*yaml.Node, int) string) ([]Bucket, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, rules.Invalid(field(n, 0), "", "buckets must be a list such as [acme-images, acme-video/clips/]")
	}
	var out []Bucket
	seen := map[string]bool{}
	for i, v := range n.Content {
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			return nil, rules.Invalid(field(v, i), v.Value, "must be a bucket name, optionally followed by /prefix/")
		}
		name, prefix, _ := strings.Cut(v.Value, "/")
		if err := rules.BucketName.Validate(field(v, i), name); err != nil {
			return nil, err
		}
		if err := rules.ObjectPrefix.Validate(field(v, i)+" (prefix)", prefix); err != nil {
			return nil, err
		}
		if seen[v.Value] {
			return nil, rules.Invalid(field(v, i), v.Value, fmt.Sprintf("%s is listed twice", v.Value))
		}
		seen[v.Value] = true
		out = append(out, Bucket{Name: name, Prefix: prefix})
	}
	return out, nil
}

// ValidateOrgUnits checks organizational unit IDs given with flag (such as --org-unit) and
// refuses repeats.
func ValidateOrgUnits(flag string, ids []string) error {
	seen := map[string]bool{}
	for _, id := range ids {
		if err := rules.OrgUnitID.Validate(flag, id); err != nil {
			return err
		}
		if seen[id] {
			return rules.Invalid(flag, id, fmt.Sprintf("%s is given twice", id))
		}
		seen[id] = true
	}
	return nil
}
