package stacks

import (
	"fmt"
	"strings"

	"github.com/isahit/s3grant/internal/rules"
)

// A PackedPolicy is one managed policy of a packed set: its document (Fn::Sub syntax with the
// bucket names written out, only pseudo parameters left to resolve), the buckets it grants, and
// its size as IAM counts it at the packing's Sizing.
type PackedPolicy struct {
	Document Document
	Buckets  []string
	Chars    int
}

// PackOption configures PackReadPolicies and PackCorsPolicies.
type PackOption func(*packConfig)

type packConfig struct {
	maxPolicies int
	sizing      Sizing
	kmsKeys     []string
}

// WithMaxPolicies sets how many managed policies the packing may use: IAM's default quota of
// ManagedPoliciesPerRole (10) unless the account has a raised quota (at most 20), less any
// policies attached to the role elsewhere (another regional stack of the same integration).
func WithMaxPolicies(n int) PackOption { return func(c *packConfig) { c.maxPolicies = n } }

// WithSizing sets the pseudo parameter values sizes are measured at; WorstCase by default, so a
// published template fits everywhere. A deploy that knows its region may pass SizingFor.
func WithSizing(s Sizing) PackOption { return func(c *packConfig) { c.sizing = s } }

// WithKMSKeys lets the role decrypt with these keys, through S3 in the stack's region only.
func WithKMSKeys(arns ...string) PackOption {
	return func(c *packConfig) { c.kmsKeys = append(c.kmsKeys, arns...) }
}

// PackReadPolicies returns the vendor role's permissions for buckets, packed into as few
// managed policies as fit IAM's 6,144 characters each. It grants what PermissionsPolicy grants
// for one bucket, for each bucket: s3:ListBucket on the bucket and its access point (with an
// s3:prefix condition when the bucket has a prefix), s3:GetObject on PREFIX* of both, and
// kms:Decrypt on the keys through S3. Buckets with the same prefix share a ListBucket statement
// (one condition for all of them); buckets with different prefixes never do, since a shared
// condition would let each bucket be listed under the other's prefix. A bucket's grants stay in
// one policy. Buckets must have their access point names (NameAccessPoints).
//
// A request that cannot fit returns a *LimitError naming the limit and the numbers.
func PackReadPolicies(buckets []Bucket, opts ...PackOption) ([]PackedPolicy, error) {
	cfg := newPackConfig(opts)
	if err := checkPackable(buckets); err != nil {
		return nil, err
	}
	protos, err := readPrototypes()
	if err != nil {
		return nil, err
	}
	var units []unit
	seenKey := map[string]bool{}
	for _, k := range cfg.kmsKeys {
		if err := rules.KMSKeyARN.Validate("KmsKeyArn", k); err != nil {
			return nil, err
		}
		if k == "" || seenKey[k] {
			continue
		}
		seenKey[k] = true
		units = append(units, unit{label: "KMS key " + k, pieces: []piece{{shape: shape{kind: kindDecrypt}, resource: k}}})
	}
	for _, b := range buckets {
		bucket := strings.ReplaceAll(bucketARN, "${BucketName}", b.Name)
		ap := strings.ReplaceAll(accessPointARN, "${AccessPointName}", b.AccessPoint)
		list := shape{kind: kindList, prefix: b.Prefix, hasPrefix: b.Prefix != ""}
		get := shape{kind: kindGet}
		units = append(units, unit{label: "bucket " + b.Name, bucket: b.Name, pieces: []piece{
			{shape: list, resource: bucket}, {shape: list, resource: ap},
			{shape: get, resource: bucket + "/" + b.Prefix + "*"}, {shape: get, resource: ap + "/object/" + b.Prefix + "*"},
		}})
	}
	return pack(units, protos, cfg)
}

// PackCorsPolicies returns the CORS function's bucket permissions (CorsFunctionPolicy's
// statement) for every bucket, packed like PackReadPolicies. KMS keys do not apply.
func PackCorsPolicies(buckets []Bucket, opts ...PackOption) ([]PackedPolicy, error) {
	cfg := newPackConfig(opts)
	cfg.kmsKeys = nil
	if err := checkPackable(buckets); err != nil {
		return nil, err
	}
	cors := CorsFunctionPolicy().Statement
	if len(cors) != 1 {
		return nil, fmt.Errorf("pack CORS policies: CorsFunctionPolicy has %d statements, want 1", len(cors))
	}
	protos := map[shape]Statement{{kind: kindCors}: cors[0]}
	units := make([]unit, 0, len(buckets))
	for _, b := range buckets {
		units = append(units, unit{label: "bucket " + b.Name, bucket: b.Name, pieces: []piece{
			{shape: shape{kind: kindCors}, resource: strings.ReplaceAll(bucketARN, "${BucketName}", b.Name)},
		}})
	}
	return pack(units, protos, cfg)
}

func newPackConfig(opts []PackOption) packConfig {
	cfg := packConfig{maxPolicies: ManagedPoliciesPerRole, sizing: WorstCase}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

func checkPackable(buckets []Bucket) error {
	for _, b := range buckets {
		if err := rules.BucketName.Validate(bucketFlag, b.Name); err != nil {
			return err
		}
		if err := rules.ObjectPrefix.Validate(bucketFlag, b.Prefix); err != nil {
			return err
		}
	}
	if err := CheckBuckets(buckets); err != nil {
		return err
	}
	return checkAccessPoints(buckets)
}

// Statement kinds, in the order statements appear in a policy.
const (
	kindList = iota
	kindGet
	kindDecrypt
	kindCors
)

// A shape is what makes statements different: the kind and, for listing, the prefix its
// condition names. Resources of one shape share a statement.
type shape struct {
	kind      int
	prefix    string
	hasPrefix bool
}

// A piece is one resource of one shape; a unit is the pieces that stay in one policy.
type piece struct {
	shape    shape
	resource string
	// chars is the resource's size in a list, measured once.
	chars int
}

type unit struct {
	label  string
	bucket string
	pieces []piece
}

// readPrototypes takes the statements of the one-bucket PermissionsPolicy as the prototypes
// of the packed ones, so both grant the same actions under the same conditions.
func readPrototypes() (map[shape]Statement, error) {
	bySid := map[string]Statement{}
	for _, s := range PermissionsPolicy().Statement {
		bySid[s.Sid] = s
	}
	protos := map[shape]Statement{}
	for sh, sid := range map[shape]string{
		{kind: kindList}:                  "ListBucket",
		{kind: kindList, hasPrefix: true}: "ListBucketUnderPrefix",
		{kind: kindGet}:                   "GetObject",
		{kind: kindDecrypt}:               "DecryptThroughS3",
	} {
		s, ok := bySid[sid]
		if !ok {
			return nil, fmt.Errorf("pack policies: PermissionsPolicy has no statement %s", sid)
		}
		protos[sh] = s
	}
	return protos, nil
}

// statementFor makes the statement of shape sh from its prototype: the same Effect, Actions
// and condition operators and keys; the condition values of a prefix shape name sh's prefix,
// the others keep the prototype's (kms:ViaService); Sid gets n when n > 1, since Sids are unique
// within a policy.
func statementFor(protos map[shape]Statement, sh shape, n int, resources []string) Statement {
	key := shape{kind: sh.kind, hasPrefix: sh.hasPrefix}
	p := protos[key]
	s := Statement{Sid: p.Sid, Effect: p.Effect, Action: p.Action, Resource: resources}
	if n > 1 {
		s.Sid = fmt.Sprintf("%s%d", p.Sid, n)
	}
	if len(p.Condition) > 0 {
		s.Condition = make(map[string]map[string][]string, len(p.Condition))
		for op, keys := range p.Condition {
			s.Condition[op] = make(map[string][]string, len(keys))
			for k, vals := range keys {
				if sh.hasPrefix {
					vals = []string{sh.prefix + "*"}
				}
				s.Condition[op][k] = vals
			}
		}
	}
	return s
}

// policyBuilder is a policy being filled: its statements by shape, in the order they were
// opened, and its size so far.
type policyBuilder struct {
	shapes  []shape
	res     map[shape][]string
	sid     map[shape]int
	perKind map[int]int
	buckets []string
	chars   int
}

// pack places each unit, in order, in the first policy it fits in (first fit), opening a new
// policy when none has room. Sizes are counted incrementally from exact measurements of each
// statement and resource, then every finished policy is measured again as a whole.
func pack(units []unit, protos map[shape]Statement, cfg packConfig) ([]PackedPolicy, error) {
	m, err := newMeter(cfg.sizing)
	if err != nil {
		return nil, err
	}
	for _, u := range units {
		for i := range u.pieces {
			if u.pieces[i].chars, err = m.resourceChars(u.pieces[i].resource); err != nil {
				return nil, err
			}
		}
	}
	var policies []*policyBuilder
	for _, u := range units {
		placed := false
		for _, p := range policies {
			if grow, err := m.growth(p, u, protos); err != nil {
				return nil, err
			} else if p.chars+grow <= MaxManagedPolicyChars {
				m.add(p, u, grow)
				placed = true
				break
			}
		}
		if placed {
			continue
		}
		p := &policyBuilder{res: map[shape][]string{}, sid: map[shape]int{}, perKind: map[int]int{}, chars: m.empty}
		grow, err := m.growth(p, u, protos)
		if err != nil {
			return nil, err
		}
		if p.chars+grow > MaxManagedPolicyChars {
			return nil, &LimitError{Limit: "IAM's managed policy size (characters, whitespace not counted)",
				Max: MaxManagedPolicyChars, Need: p.chars + grow, Field: bucketFlag,
				Hint: u.label + " alone does not fit in one policy; use a shorter prefix"}
		}
		m.add(p, u, grow)
		policies = append(policies, p)
	}
	if len(policies) > cfg.maxPolicies {
		return nil, &LimitError{Limit: "the managed policies a role may have attached", Max: cfg.maxPolicies, Need: len(policies),
			Field: bucketFlag, Hint: fmt.Sprintf("%d buckets need %d policies of at most %d characters; ask AWS to raise the quota (up to %d), or split the buckets across integrations",
				countBuckets(units), len(policies), MaxManagedPolicyChars, RaisedManagedPoliciesPerRole)}
	}
	out := make([]PackedPolicy, 0, len(policies))
	for _, p := range policies {
		doc := p.document(protos)
		n, err := PolicyChars(doc, cfg.sizing, nil)
		if err != nil {
			return nil, err
		}
		if n != p.chars || n > MaxManagedPolicyChars {
			// The incremental count and the measurement disagree: a bug here, never an over-limit policy.
			return nil, fmt.Errorf("pack policies: counted %d characters, measured %d", p.chars, n)
		}
		out = append(out, PackedPolicy{Document: doc, Buckets: p.buckets, Chars: n})
	}
	return out, nil
}

func countBuckets(units []unit) int {
	n := 0
	for _, u := range units {
		if u.bucket != "" {
			n++
		}
	}
	return n
}

// document is the finished policy: statements in kind order (listing, reading, decrypting),
// shapes of one kind in the order they were opened.
func (p *policyBuilder) document(protos map[shape]Statement) Document {
	doc := Document{Version: policyVersion}
	for kind := kindList; kind <= kindCors; kind++ {
		for _, sh := range p.shapes {
			if sh.kind == kind {
				doc.Statement = append(doc.Statement, statementFor(protos, sh, p.sid[sh], p.res[sh]))
			}
		}
	}
	return doc
}

const policyVersion = "2012-10-17"

// meter measures statements and resources as IAM counts them at one sizing.
type meter struct {
	sizing Sizing
	// empty is the size of a policy without statements; sep the comma between two elements.
	empty int
	stmts map[stmtKey]int
}

type stmtKey struct {
	sh shape
	n  int
}

func newMeter(s Sizing) (*meter, error) {
	empty, err := PolicyChars(Document{Version: policyVersion, Statement: []Statement{}}, s, nil)
	if err != nil {
		return nil, err
	}
	return &meter{sizing: s, empty: empty, stmts: map[stmtKey]int{}}, nil
}

// resourceChars is the size of one resource string in a list, with its quotes.
func (m *meter) resourceChars(r string) (int, error) {
	d := Document{Version: policyVersion, Statement: []Statement{{Resource: []string{r}}}}
	with, err := PolicyChars(d, m.sizing, nil)
	if err != nil {
		return 0, err
	}
	d.Statement[0].Resource = []string{""}
	one, err := PolicyChars(d, m.sizing, nil)
	if err != nil {
		return 0, err
	}
	// An empty string costs its two quotes: r's cost is the difference plus those two.
	return with - one + 2, nil
}

// statementChars is the size of the statement of shape sh numbered n with no resources but
// one empty string, less that string: the cost of opening it before its first resource.
func (m *meter) statementChars(protos map[shape]Statement, sh shape, n int) (int, error) {
	k := stmtKey{sh, n}
	if c, ok := m.stmts[k]; ok {
		return c, nil
	}
	d := Document{Version: policyVersion, Statement: []Statement{statementFor(protos, sh, n, []string{""})}}
	c, err := PolicyChars(d, m.sizing, nil)
	if err != nil {
		return 0, err
	}
	c = c - m.empty - 2
	m.stmts[k] = c
	return c, nil
}

// growth is how many characters adding u to p costs.
func (m *meter) growth(p *policyBuilder, u unit, protos map[shape]Statement) (int, error) {
	grow := 0
	opened := map[shape]bool{}
	stmts := len(p.shapes)
	for _, pc := range u.pieces {
		rc := pc.chars
		if _, ok := p.res[pc.shape]; ok || opened[pc.shape] {
			grow += 1 + rc
			continue
		}
		sc, err := m.statementChars(protos, pc.shape, p.nextSid(pc.shape, opened))
		if err != nil {
			return 0, err
		}
		if stmts > 0 {
			grow++
		}
		stmts++
		opened[pc.shape] = true
		grow += sc + rc
	}
	return grow, nil
}

// nextSid is the number the statement of sh would get in p: statements of one prototype are
// numbered 1, 2, ... within a policy.
func (p *policyBuilder) nextSid(sh shape, opened map[shape]bool) int {
	n := p.perKind[protoKind(sh)] + 1
	for o := range opened {
		if protoKind(o) == protoKind(sh) {
			n++
		}
	}
	return n
}

// protoKind tells prototypes apart: listing with and without a prefix are two prototypes.
func protoKind(sh shape) int {
	if sh.kind == kindList && sh.hasPrefix {
		return -1
	}
	return sh.kind
}

func (m *meter) add(p *policyBuilder, u unit, grow int) {
	for _, pc := range u.pieces {
		if _, ok := p.res[pc.shape]; !ok {
			p.perKind[protoKind(pc.shape)]++
			p.sid[pc.shape] = p.perKind[protoKind(pc.shape)]
			p.shapes = append(p.shapes, pc.shape)
		}
		p.res[pc.shape] = append(p.res[pc.shape], pc.resource)
	}
	if u.bucket != "" {
		p.buckets = append(p.buckets, u.bucket)
	}
	p.chars += grow
}
