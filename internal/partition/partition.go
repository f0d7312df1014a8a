// Package partition is the one home of what s3grant knows about AWS partitions: which
// partition a region belongs to, the DNS suffix of its endpoints (AWS::URLSuffix), its console
// domain, and whether CloudFormation quick-create links can open there. Templates, links,
// publishing and verify all read it here, so they can never disagree about a region.
package partition

import "strings"

// Partition is one AWS partition.
type Partition struct {
	// ID is the ARN partition, e.g. aws, aws-cn, aws-us-gov.
	ID string
	// DNSSuffix is the suffix of the partition's service endpoints (AWS::URLSuffix).
	DNSSuffix string
	// ConsoleDomain is the AWS Management Console's domain, empty where no public console is
	// reachable (the isolated partitions).
	ConsoleDomain string
	// QuickCreate reports whether s3grant makes CloudFormation quick-create links there: only
	// in the partitions whose console serves them to customers from the Internet (aws, aws-cn
	// and aws-us-gov, whose console takes the same #/stacks/create/review links; AWS's own
	// solutions publish GovCloud Launch Stack links on console.amazonaws-us-gov.com).
	QuickCreate bool
	// NoQuickCreate says why there are no quick-create links, where QuickCreate is false.
	NoQuickCreate string
}

// isolated is why the air-gapped partitions have no links: their consoles are reachable only
// from their own networks, never from a link a customer opens on the Internet.
const isolated = "is an isolated partition: its console is reachable only from inside its own network"

// The partitions, most specific region prefix first.
var (
	AWS      = Partition{ID: "aws", DNSSuffix: "amazonaws.com", ConsoleDomain: "console.aws.amazon.com", QuickCreate: true}
	China    = Partition{ID: "aws-cn", DNSSuffix: "amazonaws.com.cn", ConsoleDomain: "console.amazonaws.cn", QuickCreate: true}
	GovCloud = Partition{ID: "aws-us-gov", DNSSuffix: "amazonaws.com", ConsoleDomain: "console.amazonaws-us-gov.com", QuickCreate: true}
	ISO      = Partition{ID: "aws-iso", DNSSuffix: "c2s.ic.gov", NoQuickCreate: isolated}
	ISOB     = Partition{ID: "aws-iso-b", DNSSuffix: "sc2s.sgov.gov", NoQuickCreate: isolated}
	ISOE     = Partition{ID: "aws-iso-e", DNSSuffix: "cloud.adc-e.uk", NoQuickCreate: isolated}
	ISOF     = Partition{ID: "aws-iso-f", DNSSuffix: "csp.hci.ic.gov", NoQuickCreate: isolated}
	EUSC     = Partition{ID: "aws-eusc", DNSSuffix: "amazonaws.eu",
		NoQuickCreate: "is the AWS European Sovereign Cloud, whose console address s3grant has not checked"}
)

// All lists every partition, aws first.
func All() []Partition { return []Partition{AWS, China, GovCloud, ISO, ISOB, ISOE, ISOF, EUSC} }

// byPrefix maps region prefixes to partitions. Order matters: us-isob- before us-iso-.
var byPrefix = []struct {
	prefix string
	p      Partition
}{
	{"cn-", China},
	{"us-gov-", GovCloud},
	{"us-isob-", ISOB},
	{"us-isof-", ISOF},
	{"us-iso-", ISO},
	{"eu-isoe-", ISOE},
	{"eusc-", EUSC},
}

// Of returns the partition of region. Any other region, and the empty region, is in aws.
func Of(region string) Partition {
	for _, b := range byPrefix {
		if strings.HasPrefix(region, b.prefix) {
			return b.p
		}
	}
	return AWS
}

// ByDNSSuffix returns the partition whose endpoints end in suffix (without a leading dot),
// preferring aws for amazonaws.com, which GovCloud shares.
func ByDNSSuffix(suffix string) (Partition, bool) {
	for _, p := range All() { // aws before aws-us-gov
		if p.DNSSuffix == suffix {
			return p, true
		}
	}
	return Partition{}, false
}
