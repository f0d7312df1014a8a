package stacks

import (
	"fmt"
	"slices"
	"strings"
)

// VendorHeld lists, per resource the vendor holds a reference to, the outputs it pasted into
// the vendor's app: replacing the resource changes them, and the vendor's access breaks until
// it is told the new values.
var VendorHeld = map[string][]string{
	AccessPointID: {"AccessPointArn", "AccessPointAlias"},
	VendorRoleID:  {"RoleArn"},
}

// replacedBy lists, per parameter, the vendor-held resources a change of its value replaces:
// an access point's bucket and name, and a role's name, cannot change in place.
var replacedBy = map[string][]string{
	"BucketName":      {AccessPointID},
	"AccessPointName": {AccessPointID},
	"RoleName":        {VendorRoleID},
}

// VendorChange is a change the vendor must be told about before its access works again: a
// vendor-held resource replaced (a new ARN), the integration moved to another bucket, or the
// external ID the vendor presents no longer accepted.
type VendorChange struct {
	// Param is the parameter whose change causes it; empty when only the change set says so.
	Param    string `json:"param,omitempty"`
	Old      string `json:"old,omitempty"`
	New      string `json:"new,omitempty"`
	Resource string `json:"resource,omitempty"`
	// Outputs are the values the vendor holds that change.
	Outputs []string `json:"outputs,omitempty"`
	// Tell is what to tell the vendor, in one sentence.
	Tell string `json:"tell"`
}

// VendorChanges returns what a change of parameter values from old to new changes for the
// vendor, from the model alone (CloudFormation's change set is a second source, see
// ReplacementOf). vendor names the vendor in the sentences.
func VendorChanges(vendor string, old, new map[string]string) []VendorChange {
	var out []VendorChange
	for _, p := range Params {
		res := replacedBy[p.Name]
		if len(res) == 0 || old[p.Name] == new[p.Name] {
			continue
		}
		for _, id := range res {
			c := VendorChange{Param: p.Name, Old: old[p.Name], New: new[p.Name], Resource: id, Outputs: VendorHeld[id]}
			if p.Name == "BucketName" {
				c.Outputs = append(slices.Clone(c.Outputs), "BucketName")
				c.Tell = fmt.Sprintf("the integration moves from bucket %s to %s and the access point is replaced: tell %s the new %s",
					old[p.Name], new[p.Name], vendor, strings.Join(c.Outputs, ", "))
			} else {
				c.Tell = replacedTell(vendor, id, c.Outputs)
			}
			out = append(out, c)
		}
	}
	if id := new["ExternalId"]; id != "" && !slices.Contains(LiveExternalIDs(old), id) {
		out = append(out, VendorChange{Param: "ExternalId", Old: old["ExternalId"], New: id, Outputs: []string{"ExternalId"},
			Tell: fmt.Sprintf("the role stops accepting the external ID %s presents now (%s): give it the new one, %s, "+
				"or rotate without downtime (s3grant rotate)", vendor, strings.Join(LiveExternalIDs(old), ", "), id)})
	}
	return out
}

// ReplacementOf returns the vendor change for a resource CloudFormation's change set says it
// replaces or removes (action Modify with replacement True or Conditional, or Remove), when the
// vendor holds that resource; ok is false otherwise.
func ReplacementOf(vendor, logicalID, action, replacement string) (VendorChange, bool) {
	outputs, held := vendorHeld(logicalID)
	if !held || !(action == "Remove" || action == "Modify" && (replacement == "True" || replacement == "Conditional")) {
		return VendorChange{}, false
	}
	c := VendorChange{Resource: logicalID, Outputs: outputs, Tell: replacedTell(vendor, logicalID, outputs)}
	if action == "Remove" {
		c.Tell = fmt.Sprintf("%s is removed: %s loses access through it", logicalID, vendor)
	} else if replacement == "Conditional" {
		c.Tell = "CloudFormation may replace " + logicalID + ": if it does, " + c.Tell
	}
	return c, true
}

func replacedTell(vendor, logicalID string, outputs []string) string {
	return fmt.Sprintf("%s is replaced (the old one is deleted): tell %s the new %s", logicalID, vendor, strings.Join(outputs, ", "))
}

// vendorHeld returns the outputs the vendor holds for a resource: VendorHeld's, and for the
// access point of a bucket after the first (AccessPoint followed by the bucket's name and hash,
// BucketLogicalID) the MoreBuckets output listing its alias, and its ARN.
func vendorHeld(logicalID string) ([]string, bool) {
	if outputs, ok := VendorHeld[logicalID]; ok {
		return outputs, true
	}
	if rest, ok := strings.CutPrefix(logicalID, AccessPointID); ok && len(rest) > 8 {
		return []string{"the bucket's access point ARN and alias (" + MoreBucketsOutput + ")"}, true
	}
	return nil, false
}

// BucketChanges returns what the vendor must be told when the buckets after the first change
// from old to new (both as Buckets returns them, with access point names): a bucket removed
// takes its access point with it, and a kept bucket whose access point name changes (its
// derived name follows AccessPointName) gets a new access point. The first bucket is the
// parameters' (VendorChanges). Added buckets need no warning: nothing the vendor holds changes.
func BucketChanges(vendor string, old, new []Bucket) []VendorChange {
	now := map[string]Bucket{}
	for _, b := range new {
		now[b.Name] = b
	}
	first := ""
	if len(new) > 0 {
		first = new[0].Name
	}
	var out []VendorChange
	for i, b := range old {
		if i == 0 || b.Name == first {
			continue
		}
		id := BucketLogicalID(AccessPointID, i, b)
		outputs, _ := vendorHeld(id)
		n, kept := now[b.Name]
		switch {
		case !kept:
			out = append(out, VendorChange{Param: FieldBuckets, Old: b.Name, Resource: id, Outputs: outputs,
				Tell: fmt.Sprintf("bucket %s leaves the integration: its access point %s and its CORS rule are deleted, and %s can no longer read it", b.Name, b.AccessPoint, vendor)})
		case n.AccessPoint != b.AccessPoint:
			out = append(out, VendorChange{Param: "AccessPointName", Old: b.AccessPoint, New: n.AccessPoint, Resource: id, Outputs: outputs,
				Tell: fmt.Sprintf("the access point of bucket %s is replaced (%s → %s): tell %s its new ARN and alias", b.Name, b.AccessPoint, n.AccessPoint, vendor)})
		}
	}
	return out
}
