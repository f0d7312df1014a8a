package cfnfake

import (
	"fmt"
	"slices"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
)

// Drift detection, as AWS documents it: DetectStackDrift starts a detection on a stack that is
// not running an operation and returns its ID; DescribeStackDriftDetectionStatus reports
// DETECTION_IN_PROGRESS, then DETECTION_COMPLETE with the stack's drift status (DRIFTED or
// IN_SYNC) and the number of drifted resources; DescribeStackResourceDrifts lists each
// resource's drift (IN_SYNC, MODIFIED, DELETED, or NOT_CHECKED for types drift detection does
// not support, such as custom resources) with its property differences.

// PropertyDifference is one property a resource has that its template does not say.
type PropertyDifference struct {
	Path, Expected, Actual string
	// Type is ADD, REMOVE or NOT_EQUAL.
	Type string
}

type drifted struct {
	status string // MODIFIED or DELETED
	diffs  []PropertyDifference
}

type detection struct {
	id, stackID string
	doneAt      int // detection completes at this count of status calls
	calls       int
	results     []xResourceDrift
	drifted     int
}

// SetDrift makes a resource of the stack look changed outside CloudFormation (status MODIFIED
// with the given differences, or DELETED) to the next drift detections.
func (f *Fake) SetDrift(stackName, logicalID, status string, diffs ...PropertyDifference) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.drift == nil {
		f.drift = map[string]drifted{}
	}
	f.drift[stackName+"/"+logicalID] = drifted{status: status, diffs: diffs}
}

type xPropertyDifference struct {
	PropertyPath, ExpectedValue, ActualValue, DifferenceType string
}

type xResourceDrift struct {
	StackId                  string
	LogicalResourceId        string
	PhysicalResourceId       string
	ResourceType             string
	StackResourceDriftStatus string
	Timestamp                string
	PropertyDifferences      []xPropertyDifference `xml:"PropertyDifferences>member,omitempty"`
}

// driftUnsupported are the resource types drift detection does not check.
func driftUnsupported(typ string) bool {
	return len(typ) > 8 && typ[:8] == "Custom::" || typ == "AWS::CloudFormation::CustomResource" ||
		typ == "AWS::Lambda::EventInvokeConfig"
}

func (f *Fake) detectStackDrift(r *awsquery.Request) (any, *awsquery.Error) {
	s := f.find(r.Get("StackName"), false)
	if s == nil {
		return nil, notFound(r.Get("StackName"))
	}
	if busy(s) || s.status == "REVIEW_IN_PROGRESS" {
		return nil, validation("Drift detection cannot be performed on stack [%s] in status %s", s.name, s.status)
	}
	f.seq++
	d := &detection{id: fmt.Sprintf("%08x-dddd-4ddd-8ddd-%012d", f.seq, f.seq), stackID: s.id, doneAt: 1}
	now := awsquery.Time(f.now())
	for _, id := range awsquery.SortedKeys(s.resources) {
		res := s.resources[id]
		x := xResourceDrift{StackId: s.id, LogicalResourceId: id, PhysicalResourceId: res.physical, ResourceType: res.typ,
			StackResourceDriftStatus: "IN_SYNC", Timestamp: now}
		if dr, ok := f.drift[s.name+"/"+id]; ok {
			x.StackResourceDriftStatus = dr.status
			for _, p := range dr.diffs {
				x.PropertyDifferences = append(x.PropertyDifferences, xPropertyDifference{p.Path, p.Expected, p.Actual, p.Type})
			}
			d.drifted++
		} else if driftUnsupported(res.typ) {
			x.StackResourceDriftStatus = "NOT_CHECKED"
		}
		d.results = append(d.results, x)
	}
	if f.detections == nil {
		f.detections = map[string]*detection{}
	}
	f.detections[d.id] = d
	return struct{ StackDriftDetectionId string }{d.id}, nil
}

func (f *Fake) describeStackDriftDetectionStatus(r *awsquery.Request) (any, *awsquery.Error) {
	d, ok := f.detections[r.Get("StackDriftDetectionId")]
	if !ok {
		return nil, validation("Drift detection [%s] does not exist", r.Get("StackDriftDetectionId"))
	}
	d.calls++
	out := struct {
		StackId                   string
		StackDriftDetectionId     string
		StackDriftStatus          string `xml:",omitempty"`
		DetectionStatus           string
		DriftedStackResourceCount int
		Timestamp                 string
	}{StackId: d.stackID, StackDriftDetectionId: d.id, DetectionStatus: "DETECTION_IN_PROGRESS", Timestamp: awsquery.Time(f.now())}
	if d.calls > d.doneAt {
		out.DetectionStatus, out.StackDriftStatus, out.DriftedStackResourceCount = "DETECTION_COMPLETE", "IN_SYNC", d.drifted
		if d.drifted > 0 {
			out.StackDriftStatus = "DRIFTED"
		}
	}
	return out, nil
}

func (f *Fake) describeStackResourceDrifts(r *awsquery.Request) (any, *awsquery.Error) {
	s := f.find(r.Get("StackName"), false)
	if s == nil {
		return nil, notFound(r.Get("StackName"))
	}
	var latest *detection
	for _, d := range f.detections {
		if d.stackID == s.id && (latest == nil || d.id > latest.id) {
			latest = d
		}
	}
	filters := r.List("StackResourceDriftStatusFilters")
	var out []xResourceDrift
	if latest != nil {
		for _, x := range latest.results {
			if len(filters) == 0 || slices.Contains(filters, x.StackResourceDriftStatus) {
				out = append(out, x)
			}
		}
	}
	return struct {
		StackResourceDrifts []xResourceDrift `xml:"StackResourceDrifts>member"`
	}{out}, nil
}
