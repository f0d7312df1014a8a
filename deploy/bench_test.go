package deploy_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
)

// BenchmarkDeployDetectsTheEnd deploys the integration against the fake with realistic
// per-resource delays (seconds, not minutes, so it stays runnable) and the engine's default
// polling. It reports how long after the stack reached its final state Deploy returned
// (target: under 1.5 s), the API calls made, and the calls a loop polling DescribeStacks and
// DescribeStackEvents every second would have made over the same operation.
//
//	go test -run '^$' -bench DeployDetectsTheEnd -benchtime 3x ./deploy
func BenchmarkDeployDetectsTheEnd(b *testing.B) {
	delays := []cfnfake.Option{
		cfnfake.WithDelay("", 2*time.Second),
		cfnfake.WithDelay("AWS::S3::AccessPoint", 3*time.Second),
		cfnfake.WithDelay("AWS::IAM::Role", 5*time.Second),
		cfnfake.WithDelay("AWS::IAM::ManagedPolicy", 4*time.Second),
		cfnfake.WithDelay("AWS::Lambda::Function", 3*time.Second),
		cfnfake.WithChangeSetDelay(2 * time.Second),
	}
	var lag, calls, naive, seconds float64
	for i := 0; i < b.N; i++ {
		fake, url := cfnfake.Start(b, delays...)
		req := request(b, nil)
		var executed time.Time
		eng := deploy.New(client(url, "AKIDTEST"), deploy.WithConfirm(func(context.Context, deploy.Question) (bool, error) {
			executed = time.Now()
			return true, nil
		}))
		res, err := eng.Deploy(context.Background(), req)
		returned := time.Now()
		if err != nil || res.Status != "CREATE_COMPLETE" {
			b.Fatalf("deploy: %v", err)
		}
		st, _ := fake.Stack(req.StackName)
		lag += returned.Sub(st.FinalAt).Seconds()
		calls += float64(len(fake.Calls()))
		op := st.FinalAt.Sub(executed).Seconds()
		seconds += op
		naive += 2 * math.Ceil(op)
	}
	n := float64(b.N)
	b.ReportMetric(lag/n, "s-end-to-return")
	b.ReportMetric(calls/n, "api-calls")
	b.ReportMetric(naive/n, "api-calls-if-polling-1s")
	b.ReportMetric(seconds/n, "s-operation")
}
