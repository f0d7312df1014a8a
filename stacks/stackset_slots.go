package stacks

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
)

// Slot stability. A stack instance holds each of its buckets in a slot (Bucket1, Prefix1 and
// AccessPointName1, ...), and slot K's access point is the resource AccessPointK: a bucket that
// moves to another slot gets another resource, so its access point is replaced and its ARN,
// which the vendor holds, changes. So an update keeps every bucket in the slot it has, a
// removed bucket leaves its slot empty, and a new bucket takes an empty slot before a new one.

// InstanceSlots reads the slots of an instance from its parameter values (overrides): entry
// K-1 is slot K, with an empty Name when the slot is empty. Slots after the last bucket are
// left out.
func InstanceSlots(vals map[string]string) []Bucket {
	n := 0
	for k := range vals {
		if rest, ok := strings.CutPrefix(k, "Bucket"); ok {
			if i, err := strconv.Atoi(rest); err == nil && i > n && vals[k] != "" {
				n = i
			}
		}
	}
	out := make([]Bucket, n)
	for k := 1; k <= n; k++ {
		if vals[SlotBucket(k)] != "" {
			out[k-1] = Bucket{Name: vals[SlotBucket(k)], Prefix: vals[SlotPrefix(k)], AccessPoint: vals[SlotAccessPoint(k)]}
		}
	}
	return out
}

// PlaceBuckets puts buckets into the slots of an instance whose slots are now current (nil
// for a new instance): a bucket already there keeps its slot and its access point name (only
// its prefix may change), a new bucket takes the first empty slot, then a slot after the
// last. New buckets are named as NameAccessPoints names them, except that base goes only to
// a bucket when no current slot holds it (a name CloudFormation still holds until the old
// access point is deleted, after the new one is created). The result is indexed like
// InstanceSlots; empty entries are empty slots.
func PlaceBuckets(base string, current, buckets []Bucket) ([]Bucket, error) {
	named, err := NameAccessPoints(base, buckets)
	if err != nil {
		return nil, err
	}
	baseHeld := slices.ContainsFunc(current, func(b Bucket) bool { return b.AccessPoint == base })
	out := make([]Bucket, len(current))
	var fresh []Bucket
	for _, b := range named {
		i := slices.IndexFunc(current, func(c Bucket) bool { return c.Name != "" && c.Name == b.Name })
		if i < 0 {
			if baseHeld && b.AccessPoint == base {
				b.AccessPoint = derivedAccessPointName(base, b.Name)
			}
			fresh = append(fresh, b)
			continue
		}
		b.AccessPoint = current[i].AccessPoint
		out[i] = b
	}
	for _, b := range fresh {
		if i := slices.IndexFunc(out, func(c Bucket) bool { return c.Name == "" }); i >= 0 {
			out[i] = b
		} else {
			out = append(out, b)
		}
	}
	for len(out) > 0 && out[len(out)-1].Name == "" {
		out = out[:len(out)-1]
	}
	var used []Bucket
	for _, b := range out {
		if b.Name != "" {
			used = append(used, b)
		}
	}
	return out, checkAccessPoints(used)
}

// SlotOverrides are the parameter overrides of an instance's slots: every filled slot, and an
// explicit empty value for each slot parameter the instance overrides now (current) but the
// new slots leave empty, so that no old bucket, prefix or key lingers whichever way
// CloudFormation treats an override left out.
func SlotOverrides(slots []Bucket, current map[string]string) map[string]string {
	vals := map[string]string{}
	for i, b := range slots {
		if b.Name == "" {
			continue
		}
		vals[SlotBucket(i+1)] = b.Name
		if b.Prefix != "" {
			vals[SlotPrefix(i+1)] = b.Prefix
		}
		vals[SlotAccessPoint(i+1)] = b.AccessPoint
	}
	for k := range current {
		if _, set := vals[k]; !set && IsSlotParam(k) {
			vals[k] = ""
		}
	}
	return vals
}

// IsSlotParam reports whether name is a slot's parameter (BucketK, PrefixK or
// AccessPointNameK).
func IsSlotParam(name string) bool {
	for _, kind := range []string{"Bucket", "Prefix", "AccessPointName"} {
		if rest, ok := strings.CutPrefix(name, kind); ok {
			if _, err := strconv.Atoi(rest); err == nil {
				return true
			}
		}
	}
	return false
}

// TemplateSlots returns how many bucket slots a StackSet template made by
// BuildStackSetTemplate has (its s3grant metadata), 0 when the body is not one: an update
// never shrinks it, since an instance may hold a bucket in its last slot.
func TemplateSlots(body string) int {
	var t struct {
		Metadata struct {
			S3grant struct {
				Slots int
			} `json:"s3grant"`
		}
	}
	if json.Unmarshal([]byte(body), &t) != nil {
		return 0
	}
	return t.Metadata.S3grant.Slots
}
