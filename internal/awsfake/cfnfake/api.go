package cfnfake

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

type xParam struct {
	ParameterKey   string
	ParameterValue string
}

type xTag struct{ Key, Value string }

type xOutput struct {
	OutputKey   string
	OutputValue string
	Description string `xml:",omitempty"`
}

type xStack struct {
	StackId           string
	StackName         string
	Description       string   `xml:",omitempty"`
	Parameters        []xParam `xml:"Parameters>member,omitempty"`
	CreationTime      string
	LastUpdatedTime   string `xml:",omitempty"`
	DeletionTime      string `xml:",omitempty"`
	StackStatus       string
	StackStatusReason string `xml:",omitempty"`
	DisableRollback   bool
	Capabilities      []string  `xml:"Capabilities>member,omitempty"`
	Outputs           []xOutput `xml:"Outputs>member,omitempty"`
	Tags              []xTag    `xml:"Tags>member,omitempty"`
	RoleARN           string    `xml:",omitempty"`
}

type xEvent struct {
	StackId              string
	EventId              string
	StackName            string
	LogicalResourceId    string
	PhysicalResourceId   string
	ResourceType         string
	Timestamp            string
	ResourceStatus       string
	ResourceStatusReason string `xml:",omitempty"`
	ClientRequestToken   string `xml:",omitempty"`
}

type xTarget struct {
	Attribute          string
	Name               string
	RequiresRecreation string
}

type xDetail struct {
	Target       xTarget
	Evaluation   string
	ChangeSource string
}

type xResourceChange struct {
	Action             string
	LogicalResourceId  string
	PhysicalResourceId string `xml:",omitempty"`
	ResourceType       string
	Replacement        string    `xml:",omitempty"`
	Scope              []string  `xml:"Scope>member,omitempty"`
	Details            []xDetail `xml:"Details>member,omitempty"`
}

type xChange struct {
	Type           string
	ResourceChange xResourceChange
}

var changeSetName = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

var iamNamedTypes = []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"}

// replacing lists, per resource type, the properties whose change replaces the resource.
var replacing = map[string][]string{
	"AWS::S3::AccessPoint":    {"Bucket", "BucketAccountId", "Name", "VpcConfiguration"},
	"AWS::IAM::Role":          {"Path", "RoleName"},
	"AWS::IAM::ManagedPolicy": {"Description", "ManagedPolicyName", "Path"},
	"AWS::Lambda::Function":   {"FunctionName"},
}

func (f *Fake) createChangeSet(r *awsquery.Request) (any, *awsquery.Error) {
	name, csName := r.Get("StackName"), r.Get("ChangeSetName")
	typ := r.Get("ChangeSetType")
	if typ == "" {
		typ = "UPDATE"
	}
	if !changeSetName.MatchString(csName) {
		return nil, validation("1 validation error detected: Value '%s' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*", csName)
	}
	s := f.find(name, false)
	switch {
	case typ == "CREATE" && s != nil && s.status != "REVIEW_IN_PROGRESS":
		return nil, validation("Stack [%s] already exists and cannot be created again with the changeSet [%s].", name, csName)
	case typ == "UPDATE" && s == nil:
		return nil, validation("Stack [%s] does not exist", name)
	case typ == "UPDATE" && (busy(s) || s.status == "REVIEW_IN_PROGRESS" || s.status == "ROLLBACK_COMPLETE" ||
		strings.HasSuffix(s.status, "_FAILED")):
		return nil, validation("Stack:%s is in %s state and can not be updated.", s.id, s.status)
	}
	body, berr := f.templateOf(r, s)
	if berr != nil {
		return nil, berr
	}
	t, err := parseTemplate(body)
	if err != nil {
		return nil, validation("%s", err.Error())
	}
	var previous map[string]string
	if s != nil {
		previous = s.params
	}
	params, perr := resolveParams(t, r.Structs("Parameters"), previous)
	if perr != nil {
		return nil, perr
	}
	roleARN, rerr := serviceRole(r, s)
	if rerr != nil {
		return nil, rerr
	}
	caps := r.List("Capabilities")
	account := f.callerAccount(r)
	stackID, region := fmt.Sprintf("arn:aws:cloudformation:%s:%s:stack/%s/%08x-aaaa-4bbb-8ccc-%012d", r.Region, account, name, f.seq+1, f.seq+1), r.Region
	if s != nil {
		stackID, region, account = s.id, s.region, s.accountID(f)
	}
	e, everr := newEnv(t, params, name, stackID, region, account)
	if everr != nil {
		return nil, validation("Template format error: %v", everr)
	}
	if need := e.iamCapability(); need != "" && !slices.Contains(caps, need) &&
		!(need == "CAPABILITY_IAM" && slices.Contains(caps, "CAPABILITY_NAMED_IAM")) {
		return nil, &awsquery.Error{Status: 400, Type: "Sender", Code: "InsufficientCapabilitiesException",
			Message: fmt.Sprintf("Requires capabilities : [%s]", need)}
	}
	for _, c := range caps {
		if !slices.Contains(iamNamedTypes, c) && c != "CAPABILITY_AUTO_EXPAND" {
			return nil, validation("1 validation error detected: Value '[%s]' at 'capabilities' failed to satisfy constraint: Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]", c)
		}
	}
	tags := map[string]string{}
	for _, tag := range r.Structs("Tags") {
		tags[tag["Key"]] = tag["Value"]
	}
	now := f.now()
	if s == nil {
		f.seq++
		s = &stack{name: name, region: r.Region, created: now, status: "REVIEW_IN_PROGRESS",
			id: stackID, account: f.otherAccount(account),
			resources: map[string]*resource{}, params: map[string]string{}, tags: map[string]string{}}
		f.stacks = append(f.stacks, s)
		f.schedule(s, f.stackEvent(s, now, "REVIEW_IN_PROGRESS", "User Initiated", ""))
	}
	for _, cs := range s.changeSets {
		if cs.name == csName {
			return nil, &awsquery.Error{Status: 400, Type: "Sender", Code: "AlreadyExistsException",
				Message: fmt.Sprintf("ChangeSet %s already exists", csName)}
		}
	}
	f.seq++
	cs := &changeSet{name: csName, typ: typ, status: "CREATE_PENDING", execution: "UNAVAILABLE", created: now,
		id:   fmt.Sprintf("arn:aws:cloudformation:%s:%s:changeSet/%s/%08x-dddd-4eee-8fff-%012d", s.region, f.account, csName, f.seq, f.seq),
		body: body, tmpl: t, env: e, params: params, tags: tags, caps: caps, description: r.Get("Description"), roleARN: roleARN}
	cs.changes = f.diff(s, cs)
	s.changeSets = append(s.changeSets, cs)
	noop := len(cs.changes) == 0 && typ == "UPDATE" && equalMaps(params, s.params) && equalMaps(tags, s.tags)
	f.schedule(s,
		step{at: now.Add(f.csDelay / 2), apply: func() { cs.status = "CREATE_IN_PROGRESS" }},
		step{at: now.Add(f.csDelay), apply: func() {
			if noop {
				cs.status, cs.reason = "FAILED", NoChangesReason
				return
			}
			cs.status, cs.execution = "CREATE_COMPLETE", "AVAILABLE"
		}})
	return struct {
		Id      string
		StackId string
	}{cs.id, s.id}, nil
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// resolveParams merges the parameters sent with the template's defaults and the previous
// values, refusing unknown, missing and malformed ones as CloudFormation does.
func resolveParams(t *template, sent []map[string]string, previous map[string]string) (map[string]string, *awsquery.Error) {
	out, err := sentParams(t, sent, previous)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, key := range awsquery.SortedKeys(t.Parameters) {
		p := t.Parameters[key]
		if _, ok := out[key]; !ok {
			d, ok := defaultString(p.Default)
			if !ok {
				missing = append(missing, key)
				continue
			}
			out[key] = d
		}
		if p.AllowedPattern != "" {
			re, err := regexp.Compile(p.AllowedPattern)
			if err == nil && !re.MatchString(out[key]) {
				return nil, validation("Parameter '%s' must match pattern %s", key, p.AllowedPattern)
			}
		}
	}
	if len(missing) > 0 {
		return nil, validation("Parameters: [%s] must have values", strings.Join(missing, ", "))
	}
	return out, nil
}

// diff computes the resource changes a change set would make to the stack.
func (f *Fake) diff(s *stack, cs *changeSet) []change {
	e := cs.env
	var out []change
	for _, id := range awsquery.SortedKeys(cs.tmpl.Resources) {
		if !e.exists(id) {
			continue
		}
		typ := cs.tmpl.Resources[id].Type
		props, _ := e.resolve(cs.tmpl.Resources[id].Properties).(map[string]any)
		old, ok := s.resources[id]
		if !ok {
			out = append(out, change{action: "Add", logicalID: id, typ: typ})
			continue
		}
		var oldProps map[string]any
		_ = json.Unmarshal([]byte(old.props), &oldProps)
		c := change{action: "Modify", logicalID: id, physicalID: old.physical, typ: typ, replacement: "False",
			requiresRecreation: map[string]string{}}
		if old.typ != typ {
			c.replacement = "True"
		}
		for _, k := range unionKeys(props, oldProps) {
			if jsonOf(props[k]) == jsonOf(oldProps[k]) {
				continue
			}
			c.details = append(c.details, k)
			c.requiresRecreation[k] = "Never"
			if slices.Contains(replacing[typ], k) {
				c.replacement, c.requiresRecreation[k] = "True", "Always"
			}
		}
		if len(c.details) > 0 || c.replacement == "True" {
			out = append(out, c)
		}
	}
	for _, id := range awsquery.SortedKeys(s.resources) {
		if !e.exists(id) {
			r := s.resources[id]
			out = append(out, change{action: "Remove", logicalID: id, physicalID: r.physical, typ: r.typ})
		}
	}
	return out
}

func unionKeys(a, b map[string]any) []string {
	m := map[string]bool{}
	for k := range a {
		m[k] = true
	}
	for k := range b {
		m[k] = true
	}
	return awsquery.SortedKeys(m)
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func (f *Fake) findChangeSet(r *awsquery.Request) (*stack, *changeSet, *awsquery.Error) {
	name := r.Get("ChangeSetName")
	for _, s := range f.stacks {
		if s.deleted {
			continue
		}
		for _, cs := range s.changeSets {
			if cs.id == name || (cs.name == name && (s.name == r.Get("StackName") || s.id == r.Get("StackName"))) {
				return s, cs, nil
			}
		}
	}
	return nil, nil, &awsquery.Error{Status: 404, Type: "Sender", Code: "ChangeSetNotFound",
		Message: fmt.Sprintf("ChangeSet [%s] does not exist", name)}
}

func (f *Fake) describeChangeSet(r *awsquery.Request) (any, *awsquery.Error) {
	s, cs, err := f.findChangeSet(r)
	if err != nil {
		return nil, err
	}
	start, _ := strconv.Atoi(r.Get("NextToken"))
	end, next := page(start, len(cs.changes), f.pageSize)
	var changes []xChange
	for _, c := range cs.changes[start:end] {
		rc := xResourceChange{Action: c.action, LogicalResourceId: c.logicalID, PhysicalResourceId: c.physicalID,
			ResourceType: c.typ, Replacement: c.replacement}
		if len(c.details) > 0 {
			rc.Scope = []string{"Properties"}
		}
		for _, d := range c.details {
			rc.Details = append(rc.Details, xDetail{Target: xTarget{Attribute: "Properties", Name: d,
				RequiresRecreation: c.requiresRecreation[d]}, Evaluation: "Static", ChangeSource: "DirectModification"})
		}
		changes = append(changes, xChange{Type: "Resource", ResourceChange: rc})
	}
	return struct {
		ChangeSetName   string
		ChangeSetId     string
		StackId         string
		StackName       string
		Description     string   `xml:",omitempty"`
		Parameters      []xParam `xml:"Parameters>member,omitempty"`
		CreationTime    string
		ExecutionStatus string
		Status          string
		StatusReason    string    `xml:",omitempty"`
		Capabilities    []string  `xml:"Capabilities>member,omitempty"`
		Tags            []xTag    `xml:"Tags>member,omitempty"`
		Changes         []xChange `xml:"Changes>member,omitempty"`
		NextToken       string    `xml:",omitempty"`
	}{cs.name, cs.id, s.id, s.name, cs.description, xParams(cs.params), awsquery.Time(cs.created),
		cs.execution, cs.status, cs.reason, cs.caps, xTags(cs.tags), changes, next}, nil
}

func page(start, n, size int) (end int, next string) {
	if start > n {
		start = n
	}
	end = min(start+size, n)
	if end < n {
		next = strconv.Itoa(end)
	}
	return end, next
}

func xParams(m map[string]string) []xParam {
	var out []xParam
	for _, k := range awsquery.SortedKeys(m) {
		out = append(out, xParam{k, m[k]})
	}
	return out
}

func xTags(m map[string]string) []xTag {
	var out []xTag
	for _, k := range awsquery.SortedKeys(m) {
		out = append(out, xTag{k, m[k]})
	}
	return out
}

func (f *Fake) deleteChangeSet(r *awsquery.Request) (any, *awsquery.Error) {
	s, cs, err := f.findChangeSet(r)
	if err != nil {
		return nil, err
	}
	if cs.execution == "EXECUTE_IN_PROGRESS" {
		return nil, &awsquery.Error{Status: 400, Type: "Sender", Code: "InvalidChangeSetStatus",
			Message: fmt.Sprintf("Cannot delete ChangeSet %s because it is in EXECUTE_IN_PROGRESS status", cs.id)}
	}
	s.changeSets = slices.DeleteFunc(s.changeSets, func(c *changeSet) bool { return c == cs })
	return struct{}{}, nil
}

func (f *Fake) executeChangeSet(r *awsquery.Request) (any, *awsquery.Error) {
	s, cs, err := f.findChangeSet(r)
	if err != nil {
		return nil, err
	}
	if cs.status != "CREATE_COMPLETE" || cs.execution != "AVAILABLE" {
		return nil, &awsquery.Error{Status: 400, Type: "Sender", Code: "InvalidChangeSetStatus",
			Message: fmt.Sprintf("ChangeSet [%s] cannot be executed in its current status of [%s]", cs.id, cs.status)}
	}
	if busy(s) {
		return nil, validation("Stack:%s is in %s state and can not be updated.", s.id, s.status)
	}
	cs.execution = "EXECUTE_IN_PROGRESS"
	s.changeSets = []*changeSet{cs}
	f.run(s, cs, r.Get("ClientRequestToken"), f.now())
	return struct{}{}, nil
}

func (f *Fake) describeStacks(r *awsquery.Request) (any, *awsquery.Error) {
	var list []*stack
	if name := r.Get("StackName"); name != "" {
		s := f.find(name, true)
		if s == nil {
			return nil, notFound(name)
		}
		list = append(list, s)
	} else {
		// A caller sees the stacks of its account and region: stack set instances live in
		// their target accounts.
		caller := f.otherAccount(f.callerAccount(r))
		for _, s := range f.stacks {
			if !s.deleted && s.account == caller && (r.Region == "" || s.region == r.Region) {
				list = append(list, s)
			}
		}
	}
	var out []xStack
	for _, s := range list {
		x := xStack{StackId: s.id, StackName: s.name, Parameters: xParams(s.params),
			CreationTime: awsquery.Time(s.created), StackStatus: s.status, StackStatusReason: s.reason,
			Capabilities: s.caps, Tags: xTags(s.tags), RoleARN: s.roleARN}
		if s.tmpl != nil {
			x.Description = s.tmpl.Description
		}
		if !s.updated.IsZero() {
			x.LastUpdatedTime = awsquery.Time(s.updated)
		}
		if s.deleted {
			x.DeletionTime = awsquery.Time(s.finalAt)
		}
		for _, o := range s.outputs {
			x.Outputs = append(x.Outputs, xOutput{o.Key, o.Value, o.Description})
		}
		out = append(out, x)
	}
	return struct {
		Stacks []xStack `xml:"Stacks>member"`
	}{out}, nil
}

func (f *Fake) describeStackEvents(r *awsquery.Request) (any, *awsquery.Error) {
	s := f.find(r.Get("StackName"), true)
	if s == nil {
		return nil, notFound(r.Get("StackName"))
	}
	start, _ := strconv.Atoi(r.Get("NextToken"))
	end, next := page(start, len(s.events), f.pageSize)
	var out []xEvent
	for i := start; i < end; i++ {
		e := s.events[len(s.events)-1-i]
		out = append(out, xEvent{StackId: s.id, EventId: e.id, StackName: s.name, LogicalResourceId: e.logicalID,
			PhysicalResourceId: e.physicalID, ResourceType: e.typ, Timestamp: awsquery.Time(e.at),
			ResourceStatus: e.status, ResourceStatusReason: e.reason, ClientRequestToken: e.token})
	}
	return struct {
		StackEvents []xEvent `xml:"StackEvents>member"`
		NextToken   string   `xml:",omitempty"`
	}{out, next}, nil
}

func (f *Fake) describeStackResources(r *awsquery.Request) (any, *awsquery.Error) {
	s := f.find(r.Get("StackName"), true)
	if s == nil {
		return nil, notFound(r.Get("StackName"))
	}
	type xResource struct {
		StackName, StackId, LogicalResourceId, PhysicalResourceId, ResourceType, Timestamp, ResourceStatus string
	}
	var out []xResource
	for _, id := range awsquery.SortedKeys(s.resources) {
		res := s.resources[id]
		out = append(out, xResource{s.name, s.id, id, res.physical, res.typ, awsquery.Time(res.updated), res.status})
	}
	return struct {
		StackResources []xResource `xml:"StackResources>member"`
	}{out}, nil
}

func (f *Fake) deleteStack(r *awsquery.Request) (any, *awsquery.Error) {
	s := f.find(r.Get("StackName"), false)
	if s == nil || s.status == "DELETE_IN_PROGRESS" {
		return struct{}{}, nil // CloudFormation accepts deleting a stack that is gone or going
	}
	if busy(s) {
		return nil, validation("Stack [%s] cannot be deleted while in status %s", s.name, s.status)
	}
	if _, err := serviceRole(r, s); err != nil {
		return nil, err
	}
	f.startDelete(s, r.Get("ClientRequestToken"), f.now())
	return struct{}{}, nil
}

// startDelete schedules the deletion of the stack's resources from t, newest first, and
// returns when the stack is gone.
func (f *Fake) startDelete(s *stack, token string, t time.Time) time.Time {
	f.schedule(s, f.stackEvent(s, t, "DELETE_IN_PROGRESS", "User Initiated", token))
	var victims []victim
	for _, id := range slices.Backward(f.creationOrder(s)) {
		res := s.resources[id]
		victims = append(victims, victim{id, res.physical, res.typ})
	}
	t = f.deleteAll(s, t.Add(ms), victims, token)
	end := f.stackEvent(s, t, "DELETE_COMPLETE", "", token)
	end.apply = func() { s.deleted, s.changeSets, s.outputs = true, nil, nil }
	f.schedule(s, end)
	return t
}

// creationOrder returns the stack's resources with every resource after those it depends on.
func (f *Fake) creationOrder(s *stack) []string {
	var order []string
	if s.tmpl == nil {
		return order
	}
	e := s.env
	done := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if done[id] {
			return
		}
		done[id] = true
		for _, d := range e.dependencies(id) {
			visit(d)
		}
		if _, ok := s.resources[id]; ok {
			order = append(order, id)
		}
	}
	for _, id := range awsquery.SortedKeys(s.resources) {
		visit(id)
	}
	return order
}

// resStep is a resource event; DELETE_COMPLETE removes the resource from the stack, other
// statuses record it.
func (f *Fake) resStep(s *stack, at time.Time, id, phys, typ, status, reason, token string, apply func()) step {
	return step{at: at, ev: f.newEvent(s, at, id, phys, typ, status, reason, token), apply: func() {
		if status == "DELETE_COMPLETE" {
			if res, ok := s.resources[id]; ok && res.physical == phys {
				delete(s.resources, id)
			}
		} else if res, ok := s.resources[id]; ok {
			res.status, res.updated = status, at
		} else {
			s.resources[id] = &resource{typ: typ, physical: phys, status: status, updated: at}
		}
		if apply != nil {
			apply()
		}
	}}
}

// sortByTime orders names by their time in m, then by name.
func sortByTime(names []string, m map[string]time.Time) {
	sort.SliceStable(names, func(i, j int) bool {
		if !m[names[i]].Equal(m[names[j]]) {
			return m[names[i]].Before(m[names[j]])
		}
		return names[i] < names[j]
	})
}

// CloudFormation's template size limits: inline (TemplateBody) and read from S3 (TemplateURL).
const (
	maxTemplateBody = 51200
	maxTemplateURL  = 1024
	maxTemplateS3   = 1024 * 1024
)

// templateOf is the change set's template: exactly one of TemplateBody, TemplateURL and
// UsePreviousTemplate, each within its limit.
func (f *Fake) templateOf(r *awsquery.Request, s *stack) (string, *awsquery.Error) {
	body, url, previous := r.Get("TemplateBody"), r.Get("TemplateURL"), r.Get("UsePreviousTemplate") == "true"
	given := 0
	for _, g := range []bool{body != "", url != "", previous} {
		if g {
			given++
		}
	}
	switch {
	case given != 1:
		return "", validation("Specify exactly one of TemplateBody, TemplateURL or UsePreviousTemplate.")
	case previous && s == nil:
		return "", validation("UsePreviousTemplate is only valid for an existing stack.")
	case previous:
		return s.body, nil
	case len(body) > maxTemplateBody:
		return "", validation("1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to %d", maxTemplateBody)
	case body != "":
		return body, nil
	case len(url) > maxTemplateURL:
		return "", validation("1 validation error detected: Value at 'templateURL' failed to satisfy constraint: Member must have length less than or equal to %d", maxTemplateURL)
	case f.fetch == nil:
		return "", validation("TemplateURL must be a supported URL.")
	}
	got, err := f.fetch(url)
	if err != nil {
		return "", validation("S3 error: %v", err)
	}
	if len(got) > maxTemplateS3 {
		return "", validation("Template may not exceed %d bytes in size.", maxTemplateS3)
	}
	return got, nil
}

// getTemplate returns the stack's current template (stage Original).
func (f *Fake) getTemplate(r *awsquery.Request) (any, *awsquery.Error) {
	name := r.Get("StackName")
	s := f.find(name, true)
	if s == nil || s.body == "" {
		return nil, notFound(name)
	}
	return struct {
		TemplateBody    string
		StagesAvailable []string `xml:"StagesAvailable>member"`
	}{s.body, []string{"Original", "Processed"}}, nil
}
