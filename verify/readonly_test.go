package verify_test

import (
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"strings"
	"testing"
)

// readOnly reports whether an API operation only reads, describes or assumes. "Preflight" is
// the unsigned browser OPTIONS request.
func readOnly(op string) bool {
	for _, p := range []string{"Get", "List", "Describe", "Head", "Simulate"} {
		if strings.HasPrefix(op, p) {
			return true
		}
	}
	return op == "AssumeRole" || op == "Preflight"
}

// TestVerifyOnlyReads runs both sides on the correct integration and on a broken one and
// checks every call every fake recorded.
func TestVerifyOnlyReads(t *testing.T) {
	for _, broken := range []bool{false, true} {
		w := aw.Start(t)
		w.DeployStack(t, aw.StackOutputs)
		before := len(w.CFN.Calls()) // the stack's deployment is test setup
		if broken {
			w.IAM.PutRole(aw.RoleName, aw.TrustPolicy(map[string]any{"AWS": "*"}, nil))
			w.KMS.Deny("GetKeyPolicy")
		}
		in := input()
		in.StackName = aw.StackName
		runCustomer(t, w, in)
		runVendor(t, w, input())

		calls := map[string][]string{}
		for _, c := range w.CFN.Calls()[before:] {
			calls["cloudformation"] = append(calls["cloudformation"], c.Action)
		}
		calls["iam"] = w.IAM.Actions()
		calls["sts"] = w.STS.Actions()
		calls["kms"] = w.KMS.Calls()
		for _, c := range w.S3.Calls() {
			calls[c.API] = append(calls[c.API], c.Operation)
		}
		for _, svc := range []string{"cloudformation", "iam", "sts", "kms", "s3", "s3control"} {
			if len(calls[svc]) == 0 {
				t.Errorf("broken=%v: no %s call recorded: the test would not see a write", broken, svc)
			}
			for _, op := range calls[svc] {
				if !readOnly(op) {
					t.Errorf("broken=%v: verify called %s %s, which is not read-only", broken, svc, op)
				}
			}
		}
	}
}
