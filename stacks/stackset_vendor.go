package stacks

import (
	"fmt"
	"strings"
)

// InstanceVendorChanges returns what an update of one existing stack instance in region
// changes for the vendor, from the model alone: old and new are the instance's parameter
// values (the stack set's with the instance's overrides over them). Per slot, a bucket
// removed (its access point is deleted) or a slot whose bucket or access point name changes
// (VendorChanges of the one-stack parameters, Resource naming the slot's access point); the
// role's name and the external IDs as VendorChanges says; and the vendor role deleted here
// when the account's home region moves away from region.
func InstanceVendorChanges(vendor, region string, old, new map[string]string) []VendorChange {
	pick := func(v map[string]string) map[string]string {
		return map[string]string{"RoleName": v["RoleName"], "ExternalId": v["ExternalId"], "NextExternalId": v["NextExternalId"]}
	}
	out := VendorChanges(vendor, pick(old), pick(new))
	if old[HomeRegionParam] == region && new[HomeRegionParam] != region {
		c, _ := ReplacementOf(vendor, VendorRoleID, "Remove", "")
		c.Param, c.Old, c.New = HomeRegionParam, old[HomeRegionParam], new[HomeRegionParam]
		c.Tell = fmt.Sprintf("the vendor role is deleted here (the account's home region moves from %s to %s, whose instance must create it): "+
			"%s loses access to the account until it exists again", c.Old, c.New, vendor)
		out = append(out, c)
	}
	oldSlots, newSlots := InstanceSlots(old), InstanceSlots(new)
	for i, o := range oldSlots {
		if o.Name == "" {
			continue
		}
		k := i + 1
		id := AccessPointID + fmt.Sprint(k)
		var n Bucket
		if i < len(newSlots) {
			n = newSlots[i]
		}
		if n.Name == "" {
			c, _ := ReplacementOf(vendor, AccessPointID, "Remove", "")
			c.Resource, c.Param, c.Old = id, SlotBucket(k), o.Name
			c.Outputs = []string{SlotOutput("AccessPointArn", k), SlotOutput("AccessPointAlias", k)}
			c.Tell = fmt.Sprintf("bucket %s leaves the integration: its access point %s is deleted, and %s loses access to the bucket (tell it to stop using them)",
				o.Name, o.AccessPoint, vendor)
			out = append(out, c)
			continue
		}
		before := map[string]string{"BucketName": o.Name, "AccessPointName": o.AccessPoint}
		after := map[string]string{"BucketName": n.Name, "AccessPointName": n.AccessPoint}
		for _, c := range VendorChanges(vendor, before, after) {
			c.Resource, c.Param = id, strings.Replace(c.Param, "BucketName", SlotBucket(k), 1)
			if c.Param == "AccessPointName" {
				c.Param = SlotAccessPoint(k)
			}
			out = append(out, c)
		}
	}
	return out
}
