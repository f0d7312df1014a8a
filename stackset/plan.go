package stackset

import (
	"maps"
	"slices"
	"strings"
)

// call is one CreateStackInstances, UpdateStackInstances or DeleteStackInstances call: the
// instances it makes are every account (or OU) times every region, all with the same
// overrides.
type call struct {
	accounts, orgUnits, regions []string
	overrides                   map[string]string
}

// plan groups targets into the fewest calls that make exactly those instances: targets with
// identical overrides share a call (overrides apply to every instance of one call), and
// within such a group the accounts (or OUs) that share the same regions share a call, since
// a call makes the cross product of its accounts and regions. OUs go at most
// MaxOrgUnitsPerCall to a call. Calls keep the order in which the targets name them.
func plan(targets []Target) []call {
	type group struct {
		overrides map[string]string
		ids       []string            // accounts or OUs, in order
		regions   map[string][]string // id -> its regions, in order
		ou        bool
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, t := range targets {
		id, ou := t.Account, false
		if t.OrgUnit != "" {
			id, ou = t.OrgUnit, true
		}
		k := overridesKey(t.Overrides)
		if ou {
			k = "ou\x00" + k
		}
		g := byKey[k]
		if g == nil {
			g = &group{overrides: t.Overrides, regions: map[string][]string{}, ou: ou}
			byKey[k] = g
			groups = append(groups, g)
		}
		if _, ok := g.regions[id]; !ok {
			g.ids = append(g.ids, id)
		}
		if !slices.Contains(g.regions[id], t.Region) {
			g.regions[id] = append(g.regions[id], t.Region)
		}
	}
	var out []call
	for _, g := range groups {
		var order []string
		byRegions := map[string]*call{}
		for _, id := range g.ids {
			k := strings.Join(g.regions[id], ",")
			c := byRegions[k]
			if c == nil {
				c = &call{regions: g.regions[id], overrides: g.overrides}
				byRegions[k] = c
				order = append(order, k)
			}
			if g.ou {
				c.orgUnits = append(c.orgUnits, id)
			} else {
				c.accounts = append(c.accounts, id)
			}
		}
		for _, k := range order {
			c := byRegions[k]
			if len(c.orgUnits) == 0 {
				out = append(out, *c)
				continue
			}
			for chunk := range slices.Chunk(c.orgUnits, MaxOrgUnitsPerCall) {
				out = append(out, call{orgUnits: chunk, regions: c.regions, overrides: c.overrides})
			}
		}
	}
	return out
}

// overridesKey is a canonical form of a set of overrides.
func overridesKey(m map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(k)
		b.WriteByte(0)
		b.WriteString(m[k])
		b.WriteByte(0)
	}
	return b.String()
}

// regionOrder is the RegionOrder of one call: the regions of first that the call targets,
// then its other regions in target order.
func regionOrder(first, regions []string) []string {
	var out []string
	for _, r := range first {
		if slices.Contains(regions, r) && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	for _, r := range regions {
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}
