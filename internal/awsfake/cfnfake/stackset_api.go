package cfnfake

import (
	"slices"
	"strconv"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// The read side of the StackSets API: the XML shapes the SDK's deserialisers expect.

type xAutoDeployment struct {
	Enabled                      bool
	RetainStacksOnAccountRemoval bool
}

type xStackSet struct {
	StackSetName          string
	StackSetId            string
	StackSetARN           string
	Description           string `xml:",omitempty"`
	Status                string
	TemplateBody          string
	Parameters            []xParam         `xml:"Parameters>member,omitempty"`
	Capabilities          []string         `xml:"Capabilities>member,omitempty"`
	Tags                  []xTag           `xml:"Tags>member,omitempty"`
	AdministrationRoleARN string           `xml:",omitempty"`
	ExecutionRoleName     string           `xml:",omitempty"`
	PermissionModel       string           `xml:",omitempty"`
	AutoDeployment        *xAutoDeployment `xml:",omitempty"`
	ManagedExecution      struct{ Active bool }
	OrganizationalUnitIds []string `xml:"OrganizationalUnitIds>member,omitempty"`
	Regions               []string `xml:"Regions>member,omitempty"`
}

type xDetailedStatus struct{ DetailedStatus string }

type xInstance struct {
	StackSetId              string
	Region                  string
	Account                 string
	StackId                 string `xml:",omitempty"`
	Status                  string
	StatusReason            string          `xml:",omitempty"`
	StackInstanceStatus     xDetailedStatus `xml:"StackInstanceStatus"`
	OrganizationalUnitId    string          `xml:",omitempty"`
	DriftStatus             string
	LastDriftCheckTimestamp string   `xml:",omitempty"`
	LastOperationId         string   `xml:",omitempty"`
	ParameterOverrides      []xParam `xml:"ParameterOverrides>member,omitempty"`
}

type xPrefs struct {
	RegionConcurrencyType      string   `xml:",omitempty"`
	RegionOrder                []string `xml:"RegionOrder>member,omitempty"`
	FailureToleranceCount      *int     `xml:",omitempty"`
	FailureTolerancePercentage *int     `xml:",omitempty"`
	MaxConcurrentCount         *int     `xml:",omitempty"`
	MaxConcurrentPercentage    *int     `xml:",omitempty"`
	ConcurrencyMode            string   `xml:",omitempty"`
}

type xOperation struct {
	OperationId           string
	StackSetId            string
	Action                string
	Status                string
	StatusReason          string `xml:",omitempty"`
	OperationPreferences  xPrefs
	RetainStacks          *bool  `xml:",omitempty"`
	AdministrationRoleARN string `xml:",omitempty"`
	ExecutionRoleName     string `xml:",omitempty"`
	CreationTimestamp     string
	EndTimestamp          string `xml:",omitempty"`
}

type xResult struct {
	Account              string
	Region               string
	Status               string
	StatusReason         string `xml:",omitempty"`
	OrganizationalUnitId string `xml:",omitempty"`
}

func (f *Fake) describeStackSet(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	x := xStackSet{StackSetName: ss.name, StackSetId: ss.id, StackSetARN: ss.arn, Description: ss.description,
		Status: ss.status, TemplateBody: ss.body, Parameters: xParams(ss.params), Capabilities: ss.caps,
		Tags: xTags(ss.tags), AdministrationRoleARN: ss.adminRole, ExecutionRoleName: ss.execRole,
		PermissionModel: ss.permission}
	x.ManagedExecution.Active = ss.managed
	if ss.autoDeploy != nil {
		x.AutoDeployment = &xAutoDeployment{ss.autoDeploy.enabled, ss.autoDeploy.retain}
	}
	for _, in := range ss.live() {
		if !slices.Contains(x.Regions, in.region) {
			x.Regions = append(x.Regions, in.region)
		}
		if in.ou != "" && !slices.Contains(x.OrganizationalUnitIds, in.ou) {
			x.OrganizationalUnitIds = append(x.OrganizationalUnitIds, in.ou)
		}
	}
	return struct{ StackSet xStackSet }{x}, nil
}

func (f *Fake) xInstance(ss *stackSet, in *instance) xInstance {
	return xInstance{StackSetId: ss.id, Region: in.region, Account: in.account, StackId: in.stackID, Status: in.status,
		StatusReason: in.reason, StackInstanceStatus: xDetailedStatus{in.detailed}, OrganizationalUnitId: in.ou,
		DriftStatus: driftStatus(in), LastOperationId: in.lastOp, LastDriftCheckTimestamp: driftTime(in)}
}

// pageOf returns the items of one page: NextToken is the index of the first item, MaxResults
// (at most 100) or the fake's page size bounds it.
func (f *Fake) pageOf(r *awsquery.Request, n int) (start, end int, next string) {
	size := f.pageSize
	if m, err := strconv.Atoi(r.Get("MaxResults")); err == nil && m > 0 && m < size {
		size = m
	}
	start, _ = strconv.Atoi(r.Get("NextToken"))
	end, next = page(start, n, size)
	return min(start, end), end, next
}

func (f *Fake) listStackInstances(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	var all []xInstance
	for _, in := range ss.live() {
		if a := r.Get("StackInstanceAccount"); a != "" && a != in.account {
			continue
		}
		if reg := r.Get("StackInstanceRegion"); reg != "" && reg != in.region {
			continue
		}
		all = append(all, f.xInstance(ss, in))
	}
	start, end, next := f.pageOf(r, len(all))
	return struct {
		Summaries []xInstance `xml:"Summaries>member"`
		NextToken string      `xml:",omitempty"`
	}{all[start:end], next}, nil
}

func (f *Fake) describeStackInstance(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	in := ss.find(r.Get("StackInstanceAccount"), r.Get("StackInstanceRegion"))
	if in == nil {
		return nil, stackSetError(404, "StackInstanceNotFoundException", "Stack instance in account %s and region %s does not exist in StackSet %s",
			r.Get("StackInstanceAccount"), r.Get("StackInstanceRegion"), ss.name)
	}
	x := f.xInstance(ss, in)
	x.ParameterOverrides = xParams(in.overrides)
	return struct{ StackInstance xInstance }{x}, nil
}

func (f *Fake) findOperation(r *awsquery.Request) (*stackSet, *operation, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, nil, err
	}
	for _, op := range ss.ops {
		if op.id == r.Get("OperationId") {
			return ss, op, nil
		}
	}
	return nil, nil, stackSetError(404, "OperationNotFoundException", "Operation %s not found on StackSet %s", r.Get("OperationId"), ss.name)
}

func (f *Fake) xOperation(ss *stackSet, op *operation) xOperation {
	x := xOperation{OperationId: op.id, StackSetId: ss.id, Action: op.action, Status: op.status, StatusReason: op.reason,
		RetainStacks: op.retain, AdministrationRoleARN: op.adminRole, ExecutionRoleName: op.execRole,
		CreationTimestamp: awsquery.Time(op.created)}
	p := op.prefs
	x.OperationPreferences = xPrefs{RegionOrder: p.regionOrder, RegionConcurrencyType: "SEQUENTIAL", ConcurrencyMode: "STRICT_FAILURE_TOLERANCE"}
	if p.parallel {
		x.OperationPreferences.RegionConcurrencyType = "PARALLEL"
	}
	if p.soft {
		x.OperationPreferences.ConcurrencyMode = "SOFT_FAILURE_TOLERANCE"
	}
	if p.hasTolPct {
		x.OperationPreferences.FailureTolerancePercentage = &p.tolPct
	} else {
		x.OperationPreferences.FailureToleranceCount = &p.tolCount
	}
	if p.hasMaxPct {
		x.OperationPreferences.MaxConcurrentPercentage = &p.maxPct
	} else {
		x.OperationPreferences.MaxConcurrentCount = &p.maxCount
	}
	if op.status != "RUNNING" && op.status != "QUEUED" {
		x.EndTimestamp = awsquery.Time(op.end)
	}
	return x
}

func (f *Fake) describeStackSetOperation(r *awsquery.Request) (any, *awsquery.Error) {
	ss, op, err := f.findOperation(r)
	if err != nil {
		return nil, err
	}
	return struct{ StackSetOperation xOperation }{f.xOperation(ss, op)}, nil
}

func (f *Fake) listStackSetOperations(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	var all []xOperation
	for i := len(ss.ops) - 1; i >= 0; i-- { // newest first
		x := f.xOperation(ss, ss.ops[i])
		x.OperationPreferences, x.RetainStacks, x.AdministrationRoleARN, x.ExecutionRoleName, x.StackSetId = xPrefs{}, nil, "", "", ""
		all = append(all, x)
	}
	start, end, next := f.pageOf(r, len(all))
	type summary struct {
		OperationId       string
		Action            string
		Status            string
		StatusReason      string `xml:",omitempty"`
		CreationTimestamp string
		EndTimestamp      string `xml:",omitempty"`
	}
	var out []summary
	for _, x := range all[start:end] {
		out = append(out, summary{x.OperationId, x.Action, x.Status, x.StatusReason, x.CreationTimestamp, x.EndTimestamp})
	}
	return struct {
		Summaries []summary `xml:"Summaries>member"`
		NextToken string    `xml:",omitempty"`
	}{out, next}, nil
}

func (f *Fake) listStackSetOperationResults(r *awsquery.Request) (any, *awsquery.Error) {
	_, op, err := f.findOperation(r)
	if err != nil {
		return nil, err
	}
	var all []xResult
	for _, j := range op.jobs {
		all = append(all, xResult{Account: j.inst.account, Region: j.inst.region, Status: j.status,
			StatusReason: j.reason, OrganizationalUnitId: j.inst.ou})
	}
	start, end, next := f.pageOf(r, len(all))
	return struct {
		Summaries []xResult `xml:"Summaries>member"`
		NextToken string    `xml:",omitempty"`
	}{all[start:end], next}, nil
}
