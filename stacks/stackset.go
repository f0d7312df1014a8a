package stacks

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/iam"
	"github.com/awslabs/goformation/v7/cloudformation/s3"

	"github.com/isahit/s3grant/internal/rules"
)

// The StackSet template: one template for every stack instance of an organization rollout,
// each instance being one account in one region. IAM is global and S3 access points are
// regional, so the template splits them:
//
//   - the vendor role exists once per account: only the instance of the account's home region
//     (parameter HomeRegion equal to AWS::Region) creates it, with the name RoleName, the same
//     in every account so the vendor can be told every role ARN;
//   - every instance creates, for its region's buckets, one access point per bucket, the CORS
//     rule on each bucket, and one managed policy granting read on exactly those buckets,
//     attached to the role by name (the home instance refers to the role it creates, which
//     orders the attachment after the role; the others name it, so they must run after the
//     home instance, which the CLI's region order guarantees).
//
// No instance creates a global resource another instance also creates: the collision
// (HTTP 409, EntityAlreadyExists) an organization rollout hits when every regional stack
// registers the same role.
//
// StackSets give every instance the same template and one set of parameters with per-instance
// overrides, and accounts list different buckets, so the template has bucket slots: Bucket1,
// Prefix1 and AccessPoint1 up to the largest bucket list of the rollout; an instance fills the
// slots of its buckets through overrides and leaves the others empty, which their conditions
// turn into no resource at all. Service-managed rollouts (automatic deployment to accounts
// that join an organizational unit later) cannot have per-account overrides: their bucket
// names are rules written into the template, such as data-${AWS::AccountId}.

// Logical IDs and parameters of the StackSet template.
const (
	// RegionalReadPolicyID is the managed policy each instance attaches to the vendor role.
	RegionalReadPolicyID = "RegionalReadPolicy"
	// HomeRegionParam names the region whose instance creates the vendor role.
	HomeRegionParam = "HomeRegion"
	// IsHomeRegion is the condition true in the account's home region only.
	IsHomeRegion = "IsHomeRegion"
)

// The parameters of a bucket slot (K from 1).
func slotParam(kind string, k int) string { return kind + strconv.Itoa(k) }

// SlotBucket, SlotPrefix and SlotAccessPoint name the parameters of slot k (from 1).
func SlotBucket(k int) string      { return slotParam("Bucket", k) }
func SlotPrefix(k int) string      { return slotParam("Prefix", k) }
func SlotAccessPoint(k int) string { return slotParam("AccessPointName", k) }

// stackSetShared are the template parameters every instance shares (overrides may still set
// ExternalId per account); the per-bucket ones become slots.
var stackSetShared = []string{"ExternalId", "NextExternalId", "TrustedAccountId", "AllowedOrigins", "ManageCors", "RoleName", "CorsRepairToken"}

// stackSetFixedParams counts the parameters besides the slots: the shared ones, HomeRegion
// and KmsKeyArn.
var stackSetFixedParams = len(stackSetShared) + 2

// MaxStackParameters and MaxStackConditions... CloudFormation allows 200 parameters per
// template; each slot takes three.
const MaxStackParameters = 200

// MaxStackSetSlots is the largest bucket list one instance may have: what fits
// CloudFormation's 200 parameters and 200 outputs (three of each per slot).
var MaxStackSetSlots = min((MaxStackParameters-stackSetFixedParams)/3, (MaxStackOutputs-4)/3)

// StackSetTemplate is how a StackSet template is shaped.
type StackSetTemplate struct {
	// Slots is how many buckets an instance may have (self-managed: the largest list of the
	// targets file).
	Slots int
	// Rules, when set, replaces the slots with bucket naming rules written into the template
	// (service-managed): every instance gets these buckets, whose names may hold
	// ${AWS::AccountId} and ${AWS::Region}.
	Rules []Bucket
}

// orgSlot is one bucket of the template: its name, prefix and access point name in Fn::Sub
// syntax (a parameter reference or a naming rule), and the conditions under which it exists
// (nil: always) and has or has no prefix (both nil: the prefix is known, see prefix).
type orgSlot struct {
	id                      int
	bucket, prefix, ap      string
	has, hasPrefix, noPrefx *Cond
}

func (s StackSetTemplate) slots() []orgSlot {
	var out []orgSlot
	if len(s.Rules) > 0 {
		for i, b := range s.Rules {
			out = append(out, orgSlot{id: i + 1, bucket: b.Name, prefix: b.Prefix, ap: b.AccessPoint})
		}
		return out
	}
	for k := 1; k <= s.Slots; k++ {
		has := &Cond{Name: slotParam("HasBucket", k), Param: SlotBucket(k), Negate: true}
		out = append(out, orgSlot{id: k, bucket: "${" + SlotBucket(k) + "}", prefix: "${" + SlotPrefix(k) + "}",
			ap:  "${" + SlotAccessPoint(k) + "}",
			has: has, hasPrefix: &Cond{Name: slotParam("HasPrefix", k)}, noPrefx: &Cond{Name: slotParam("NoPrefix", k)}})
	}
	return out
}

// validate checks the shape against CloudFormation's limits.
func (s StackSetTemplate) validate() error {
	n := s.Slots
	if len(s.Rules) > 0 {
		n = len(s.Rules)
		for _, b := range s.Rules {
			if err := checkRule(b.Name); err != nil {
				return err
			}
		}
	}
	if n < 1 || n > MaxStackSetSlots {
		return rules.Invalid("--targets", strconv.Itoa(n), fmt.Sprintf(
			"an account lists %d buckets in one region; a StackSet template holds 1 to %d (CloudFormation's 200 parameters and outputs)", n, MaxStackSetSlots))
	}
	return nil
}

// ruleVars are the pseudo parameters a bucket naming rule may hold.
var ruleVars = []string{"${AWS::AccountId}", "${AWS::Region}"}

// checkRule checks a bucket naming rule: a bucket name once its pseudo parameters are replaced
// by the longest values they take.
func checkRule(rule string) error {
	probe := strings.NewReplacer("${AWS::AccountId}", "123456789012", "${AWS::Region}", "ap-southeast-4").Replace(rule)
	if strings.Contains(probe, "${") {
		return rules.Invalid("--bucket", rule, "a bucket naming rule may hold only "+strings.Join(ruleVars, " and "))
	}
	return rules.BucketName.Validate("--bucket", probe)
}

// BuildStackSetTemplate returns the StackSet template of the integration (its vendor and its
// shared values as defaults) shaped by s. RoleName is required: the role has one name in
// every account.
func BuildStackSetTemplate(in Integration, s StackSetTemplate) (*cloudformation.Template, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if in.RoleName == "" {
		return nil, rules.Invalid("RoleName", "", "is required for a stack set: the vendor role has one name in every account")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	slots := s.slots()
	t := cloudformation.NewTemplate()
	t.Description = description(in) + " StackSet instance: the vendor role in the account's home region only, access points and CORS rules per region."
	t.Metadata = map[string]any{
		"s3grant": map[string]any{"TemplateVersion": TemplateVersion, "Vendor": in.Vendor.ID, "Kind": "StackSet",
			"Slots": len(slots)},
	}
	vals := in.Values()
	for _, name := range stackSetShared {
		p, _ := ParamByName(name)
		t.Parameters[name] = parameter(p, vals[name])
	}
	t.Parameters[HomeRegionParam] = cloudformation.Parameter{Type: "String",
		Description:    cloudformation.String("The region whose stack instance creates the vendor role; the other regions attach their policy to it by name."),
		AllowedPattern: cloudformation.String(rules.Region.AllowedPattern())}
	t.Conditions[IsHomeRegion] = cloudformation.Equals(cloudformation.Ref(HomeRegionParam), cloudformation.Ref("AWS::Region"))
	t.Conditions[ManagesCors.Name] = ManagesCors.expression()
	t.Conditions[Rotating.Name] = Rotating.expression()
	for _, sl := range slots {
		if sl.has == nil {
			continue
		}
		k := sl.id
		bp, _ := ParamByName("BucketName")
		pp, _ := ParamByName("ObjectPrefix")
		ap, _ := ParamByName("AccessPointName")
		for _, x := range []struct {
			name string
			p    Param
		}{{SlotBucket(k), bp}, {SlotPrefix(k), pp}, {SlotAccessPoint(k), ap}} {
			param := parameter(x.p, "")
			param.Default = "" // an empty slot is no bucket
			param.AllowedPattern = cloudformation.String(orEmpty(x.p.Rule))
			param.Description = cloudformation.String(fmt.Sprintf("Bucket %d of this account and region (empty: none). %s", k, x.p.Description))
			t.Parameters[x.name] = param
		}
		t.Conditions[sl.has.Name] = sl.has.expression()
		// goformation's helpers are base64 strings that Template.JSON decodes when they hold an
		// intrinsic function; {"Condition": NAME} is not one, so combined conditions repeat the
		// expressions they combine.
		prefixEmpty := cloudformation.Equals(cloudformation.Ref(SlotPrefix(k)), "")
		has := sl.has.expression()
		t.Conditions[sl.hasPrefix.Name] = cloudformation.And([]string{has, cloudformation.Not([]string{prefixEmpty})})
		t.Conditions[sl.noPrefx.Name] = cloudformation.And([]string{has, prefixEmpty})
		t.Conditions[slotParam("CorsBucket", k)] = cloudformation.And([]string{ManagesCors.expression(), has})
	}

	trust, err := TrustPolicy().templateValue()
	if err != nil {
		return nil, err
	}
	t.Resources[VendorRoleID] = &iam.Role{
		Description: cloudformation.SubPtr(fmt.Sprintf(
			"Assumed by %s (account ${TrustedAccountId}) with its external ID, to read this account's buckets; its policies come from the stack instance of each region.", in.Vendor.Name)),
		AssumeRolePolicyDocument:   trust,
		RoleName:                   cloudformation.RefPtr("RoleName"),
		Tags:                       roleTags(),
		AWSCloudFormationCondition: IsHomeRegion,
	}
	addStackSetKMS(t)
	read, err := withKMS(RegionalReadPolicy(slots)).templateValue()
	if err != nil {
		return nil, err
	}
	t.Resources[RegionalReadPolicyID] = &iam.ManagedPolicy{
		Description: cloudformation.SubPtr(fmt.Sprintf(
			"%s: list and read the objects of this account's buckets in ${AWS::Region}, directly and through their access points; nothing else.", in.Vendor.Name)),
		PolicyDocument: read,
		// The home instance refers to the role it creates (Ref is the role's name), which makes
		// CloudFormation attach the policy after creating the role; the others name the role.
		Roles: []string{cloudformation.If(IsHomeRegion, cloudformation.Ref(VendorRoleID), cloudformation.Ref("RoleName"))},
	}
	for _, sl := range slots {
		t.Resources[slotID(AccessPointID, sl)] = &s3.AccessPoint{
			Bucket: cloudformation.Sub(sl.bucket),
			Name:   cloudformation.SubPtr(sl.ap),
			PublicAccessBlockConfiguration: &s3.AccessPoint_PublicAccessBlockConfiguration{
				BlockPublicAcls: cloudformation.Bool(true), BlockPublicPolicy: cloudformation.Bool(true),
				IgnorePublicAcls: cloudformation.Bool(true), RestrictPublicBuckets: cloudformation.Bool(true),
			},
			AWSCloudFormationCondition: condName(sl.has),
		}
	}
	if err := addSlotCORS(t, in, slots); err != nil {
		return nil, err
	}
	t.Outputs = stackSetOutputs(in, slots)
	return t, nil
}

// orEmpty is the rule's pattern, empty allowed: an empty slot.
func orEmpty(r *rules.Rule) string {
	if r.Optional {
		return r.AllowedPattern()
	}
	return "^(" + strings.TrimSuffix(strings.TrimPrefix(r.Pattern, "^"), "$") + ")?$"
}

func slotID(base string, sl orgSlot) string { return base + strconv.Itoa(sl.id) }

func condName(c *Cond) string {
	if c == nil {
		return ""
	}
	return c.Name
}

// RegionalReadPolicy is what the vendor role may do with one region's buckets: for each, what
// PermissionsPolicy grants for one bucket (list with the prefix condition, read under the
// prefix, directly and through the access point). Called with concrete slots (names written
// out, no conditions) it is the policy IAM receives for one instance, to measure.
func RegionalReadPolicy(slots []orgSlot) Document {
	doc := Document{Version: "2012-10-17"}
	for _, sl := range slots {
		b := strings.ReplaceAll(bucketARN, "${BucketName}", sl.bucket)
		ap := strings.ReplaceAll(accessPointARN, "${AccessPointName}", sl.ap)
		list := []string{b, ap}
		k := strconv.Itoa(sl.id)
		underPrefix := Statement{Sid: "ListUnderPrefix" + k, Effect: "Allow", When: sl.hasPrefix, Action: []string{"s3:ListBucket"},
			Resource: list, Condition: map[string]map[string][]string{"StringLike": {"s3:prefix": {sl.prefix + "*"}}}}
		whole := Statement{Sid: "List" + k, Effect: "Allow", When: sl.noPrefx, Action: []string{"s3:ListBucket"}, Resource: list}
		switch {
		case sl.has != nil:
			doc.Statement = append(doc.Statement, whole, underPrefix)
		case sl.prefix != "":
			doc.Statement = append(doc.Statement, underPrefix)
		default:
			doc.Statement = append(doc.Statement, whole)
		}
		doc.Statement = append(doc.Statement, Statement{Sid: "Read" + k, Effect: "Allow", When: sl.has, Action: []string{"s3:GetObject"},
			Resource: []string{b + "/" + sl.prefix + "*", ap + "/object/" + sl.prefix + "*"}})
	}
	return doc
}

// addSlotCORS adds the CORS function of addCORS once per instance, and one CORS custom
// resource per bucket slot; the function may read and write the CORS configuration of the
// instance's buckets only.
func addSlotCORS(t *cloudformation.Template, in Integration, slots []orgSlot) error {
	if err := addCORS(t, in, &shapePlan{}); err != nil {
		return err
	}
	proto := t.Resources[BucketCorsID].(*customResource)
	delete(t.Resources, BucketCorsID)
	access := t.Resources[CorsFunctionBucketID].(*iam.RolePolicy)
	proto.DependsOn = []string{CorsFunctionBucketID, CorsFunctionNoRetryID}
	base := CorsFunctionPolicy().Statement[0]
	var resources []string
	for _, sl := range slots {
		arn := cloudformation.Sub(strings.ReplaceAll(bucketARN, "${BucketName}", sl.bucket))
		if sl.has != nil {
			arn = cloudformation.If(sl.has.Name, arn, cloudformation.Ref("AWS::NoValue"))
		}
		resources = append(resources, arn)
		props := in.corsProperties(cloudformation.Sub(sl.bucket))
		cond := ManagesCors.Name
		if sl.has != nil {
			cond = slotParam("CorsBucket", sl.id)
		}
		t.Resources[slotID(BucketCorsID, sl)] = &customResource{Type: proto.Type, Properties: props, DependsOn: proto.DependsOn,
			Condition: cond, Metadata: map[string]any{"Description": cloudformation.Sub(strings.ReplaceAll(
				fmt.Sprintf(corsWhatItDoes, in.Vendor.Name), "${BucketName}", sl.bucket))}}
	}
	access.PolicyName = cloudformation.Sub("s3grant-cors-${AWS::Region}")
	access.PolicyDocument = map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": base.Sid, "Effect": base.Effect, "Action": base.Action, "Resource": resources}}}
	return nil
}

// Outputs of the StackSet template besides the per-slot ones.
const (
	// OutputIsHomeRegion says whether the instance created the vendor role.
	OutputIsHomeRegion = "IsHomeRegion"
)

// SlotOutput names the output of slot k (from 1) for a one-stack output name such as
// AccessPointArn.
func SlotOutput(name string, k int) string { return name + strconv.Itoa(k) }

func stackSetOutputs(in Integration, slots []orgSlot) cloudformation.Outputs {
	v := in.Vendor.Name
	out := cloudformation.Outputs{
		"RoleArn": {Value: cloudformation.Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}"),
			Description: cloudformation.String(fmt.Sprintf("ARN of the role %s assumes in this account (created by the home region's instance): paste it into %s.", v, v))},
		"ExternalId": {Value: cloudformation.Ref("ExternalId"), Description: cloudformation.String("The external ID the role requires.")},
		"LiveExternalIds": {Value: cloudformation.If(Rotating.Name, cloudformation.Join(",", []string{cloudformation.Ref("ExternalId"), cloudformation.Ref("NextExternalId")}), cloudformation.Ref("ExternalId")),
			Description: cloudformation.String("The external IDs the role accepts now, comma-separated.")},
		OutputIsHomeRegion: {Value: cloudformation.If(IsHomeRegion, "true", "false"),
			Description: cloudformation.String("true when this instance created the vendor role (the account's home region).")},
	}
	for _, sl := range slots {
		id := slotID(AccessPointID, sl)
		var cond *string
		if sl.has != nil {
			cond = cloudformation.String(sl.has.Name)
		}
		out[SlotOutput("AccessPointArn", sl.id)] = cloudformation.Output{Value: cloudformation.GetAtt(id, "Arn"), Condition: cond,
			Description: cloudformation.String(fmt.Sprintf("ARN of the access point of bucket %d: paste it into %s.", sl.id, v))}
		out[SlotOutput("AccessPointAlias", sl.id)] = cloudformation.Output{Value: cloudformation.GetAtt(id, "Alias"), Condition: cond,
			Description: cloudformation.String(fmt.Sprintf("Alias of the access point of bucket %d.", sl.id))}
		out[SlotOutput("BucketName", sl.id)] = cloudformation.Output{Value: cloudformation.Sub(sl.bucket), Condition: cond,
			Description: cloudformation.String(fmt.Sprintf("Bucket %d of this account and region.", sl.id))}
	}
	return out
}

// InstanceValues are the parameter overrides of a new stack instance: the home region, and
// the slots of its buckets (which must have their access point names, see NameAccessPoints;
// an update places them with PlaceBuckets and SlotOverrides). The slots after the last bucket
// are left out: an override left out takes the stack set's value, which is empty.
func InstanceValues(home string, buckets []Bucket) map[string]string {
	vals := SlotOverrides(buckets, nil)
	vals[HomeRegionParam] = home
	return vals
}

// CheckInstancePolicy refuses an instance whose regional read policy would exceed IAM's
// managed policy size, measured as IAM counts it in that region and account.
func CheckInstancePolicy(account, region string, buckets []Bucket, kmsKeyARN string) error {
	var slots []orgSlot
	for i, b := range buckets {
		slots = append(slots, orgSlot{id: i + 1, bucket: b.Name, prefix: b.Prefix, ap: b.AccessPoint})
	}
	n, err := PolicyChars(withKMS(RegionalReadPolicy(slots)), SizingFor(region, account), map[string]string{"KmsKeyArn": kmsKeyARN})
	if err != nil {
		return err
	}
	if n > MaxManagedPolicyChars {
		return rules.Invalid("--targets", account+"/"+region, fmt.Sprintf(
			"the read policy of account %s in %s would be %d characters, over IAM's %d for a managed policy: move some of its %d buckets to a common prefix or split the rollout",
			account, region, n, MaxManagedPolicyChars, len(buckets)))
	}
	return nil
}
