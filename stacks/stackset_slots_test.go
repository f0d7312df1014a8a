package stacks

import (
	"reflect"
	"testing"
)

func TestPlaceBuckets(t *testing.T) {
	const base = "vendor-ap"
	a := Bucket{Name: "acme-a", AccessPoint: base}
	b := Bucket{Name: "acme-b", Prefix: "clips/", AccessPoint: derivedAccessPointName(base, "acme-b")}
	c := Bucket{Name: "acme-c", AccessPoint: derivedAccessPointName(base, "acme-c")}
	d := Bucket{Name: "acme-d", AccessPoint: derivedAccessPointName(base, "acme-d")}
	names := func(bs ...Bucket) []Bucket {
		var out []Bucket
		for _, x := range bs {
			out = append(out, Bucket{Name: x.Name, Prefix: x.Prefix})
		}
		return out
	}
	cases := []struct {
		name          string
		current, want []Bucket
		buckets       []Bucket
	}{
		{"new instance", nil, []Bucket{a, b, c}, names(a, b, c)},
		{"middle removed", []Bucket{a, b, c}, []Bucket{a, {}, c}, names(a, c)},
		{"last removed", []Bucket{a, b, c}, []Bucket{a, b}, names(a, b)},
		{"new bucket fills the gap", []Bucket{a, {}, c}, []Bucket{a, d, c}, names(a, c, d)},
		{"new bucket after the last", []Bucket{a, b}, []Bucket{a, b, d}, names(d, a, b)},
		// acme-a held the base name; a new first bucket must not take it while it is deleted.
		{"first removed, new first", []Bucket{a, b}, []Bucket{d, b}, names(d, b)},
		{"prefix changes in place", []Bucket{a, b}, []Bucket{a, {Name: "acme-b", Prefix: "new/", AccessPoint: b.AccessPoint}},
			[]Bucket{{Name: "acme-a"}, {Name: "acme-b", Prefix: "new/"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PlaceBuckets(base, tc.current, tc.buckets)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestSlotOverridesClearsWhatIsGone(t *testing.T) {
	current := InstanceValues("eu-west-3", []Bucket{{Name: "acme-a", AccessPoint: "ap-a"}, {Name: "acme-b", Prefix: "p/", AccessPoint: "ap-b"}})
	got := SlotOverrides([]Bucket{{Name: "acme-a", AccessPoint: "ap-a"}}, current)
	want := map[string]string{"Bucket1": "acme-a", "AccessPointName1": "ap-a", "Bucket2": "", "Prefix2": "", "AccessPointName2": ""}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if slots := InstanceSlots(got); len(slots) != 1 || slots[0].Name != "acme-a" {
		t.Errorf("InstanceSlots: %+v", slots)
	}
}
