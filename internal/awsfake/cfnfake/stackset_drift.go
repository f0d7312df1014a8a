package cfnfake

import (
	"time"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// Stack set drift detection, as the API reference and the StackSets user guide describe it:
// DetectStackSetDrift starts an operation (action DETECT_DRIFT, refused with
// OperationInProgressException while another runs) that detects drift on the stack of every
// instance, with the operation preferences given; it changes no resource and no instance's
// status. Until an instance is checked its DriftStatus is NOT_CHECKED; after, DRIFTED when a
// resource of its stack differs from its template (see DriftStackInstance) or IN_SYNC, with
// LastDriftCheckTimestamp. An instance without a stack is left NOT_CHECKED.

// DriftStackInstance makes a resource of the stack of the instance in (account, region) look
// changed outside CloudFormation (MODIFIED with diffs, or DELETED) to the next drift
// detections, on the stack and on the stack set.
func (f *Fake) DriftStackInstance(stackSet, account, region, logicalID, status string, diffs ...PropertyDifference) bool {
	f.mu.Lock()
	var name string
	for _, ss := range f.sets.list {
		if ss.name != stackSet || ss.status == "DELETED" {
			continue
		}
		if in := ss.find(account, region); in != nil && in.stack != nil {
			name = in.stack.name
		}
	}
	f.mu.Unlock()
	if name == "" {
		return false
	}
	f.SetDrift(name, logicalID, status, diffs...)
	return true
}

func (f *Fake) detectStackSetDrift(r *awsquery.Request) (any, *awsquery.Error) {
	ss, err := f.findSet(r.Get("StackSetName"))
	if err != nil {
		return nil, err
	}
	var regions []string
	for _, in := range ss.live() {
		regions = append(regions, in.region)
	}
	p, err := parsePrefs(r, regions)
	if err != nil {
		return nil, err
	}
	op, err := f.newOperation(ss, r, "DETECT_DRIFT", p)
	if err != nil {
		return nil, err
	}
	for _, in := range ss.live() {
		op.jobs = append(op.jobs, &job{inst: in, kind: "drift"})
	}
	f.enqueue(ss, op)
	return struct{ OperationId string }{op.id}, nil
}

// runDriftJob checks one instance's stack from t0 and returns when it ends.
func (f *Fake) runDriftJob(j *job, t0 time.Time) (time.Time, bool) {
	f.scheduleSet(t0, func() { j.status = "RUNNING" })
	end := t0.Add(ms)
	f.scheduleSet(end, func() {
		in := j.inst
		j.status = "SUCCEEDED"
		if in.stack == nil || in.stack.deleted {
			return
		}
		in.drift, in.driftAt = "IN_SYNC", end
		for id := range in.stack.resources {
			if _, ok := f.drift[in.stack.name+"/"+id]; ok {
				in.drift = "DRIFTED"
			}
		}
	})
	return end, true
}

func driftStatus(in *instance) string {
	if in.drift == "" {
		return "NOT_CHECKED"
	}
	return in.drift
}

func driftTime(in *instance) string {
	if in.driftAt.IsZero() {
		return ""
	}
	return awsquery.Time(in.driftAt)
}
