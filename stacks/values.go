package stacks

import (
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/isahit/s3grant/profile"
)

// FromValues returns the integration a stack's parameter values describe, for vendor: the
// inverse of Values. Parameters absent from vals keep the vendor's defaults, so a stack made
// by an older template (without a newer parameter) reads as that parameter's default.
func FromValues(vendor profile.Vendor, vals map[string]string) Integration {
	in := New(vendor)
	for _, p := range Params {
		if v, ok := vals[p.Name]; ok {
			p.set(&in, v)
		}
	}
	return in
}

// Overlay returns base with the values of top put over it: a stack's current parameter values
// with the ones the user gave.
func Overlay(base, top map[string]string) map[string]string {
	out := make(map[string]string, len(base)+len(top))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range top {
		out[k] = v
	}
	return out
}

// LiveExternalIDs returns the external IDs the role accepts with these parameter values: the
// current one, and the next one while a rotation is in progress.
func LiveExternalIDs(vals map[string]string) []string {
	var ids []string
	for _, name := range []string{"ExternalId", "NextExternalId"} {
		if v := vals[name]; v != "" {
			ids = append(ids, v)
		}
	}
	return ids
}

var versionPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^s3grant (v[0-9]+):`) })

// VersionOf returns the template version a stack's description names ("v1"), or "" when the
// description is not one this tool writes.
func VersionOf(description string) string {
	if m := versionPrefix().FindStringSubmatch(description); m != nil {
		return m[1]
	}
	return ""
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// ValuesOf returns the values of the named parameters, empty ones included: what the user set
// explicitly, sent even when empty (an empty ObjectPrefix removes the prefix), while Values
// leaves unset ones out. Unknown names are ignored.
func (in Integration) ValuesOf(names ...string) map[string]string {
	out := map[string]string{}
	for _, p := range in.params() {
		if slices.Contains(names, p.Name) {
			out[p.Name] = p.value(in)
		}
	}
	return out
}

// ParamNames returns the name of every template parameter, in console order.
func ParamNames() []string {
	names := make([]string, len(Params))
	for i, p := range Params {
		names[i] = p.Name
	}
	return names
}
