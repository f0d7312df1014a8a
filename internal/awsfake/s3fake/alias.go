package s3fake

import "strings"

// Alias returns the access point's alias, which S3 accepts wherever a bucket name goes in a
// data-plane request (virtual-hosted or path-style): NAME-<random>-s3alias. The fake's random
// part is fixed.
func (a *AccessPoint) Alias() string { return a.Name + "-fakealias-s3alias" }

// byAlias returns the access point whose alias is name, or nil. The caller holds f.mu.
func (f *Fake) byAlias(name string) *AccessPoint {
	if !strings.HasSuffix(name, "-s3alias") {
		return nil
	}
	for _, ap := range f.accessPoints {
		if ap.Alias() == name {
			return ap
		}
	}
	return nil
}
