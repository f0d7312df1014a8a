package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/awsquery"
	aw "github.com/isahit/s3grant/internal/awsfake/awsworld"
	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/profile"
	"github.com/isahit/s3grant/stacks"
	"github.com/isahit/s3grant/stackset"
)

const (
	orgSet       = "isahit-lab-org"
	adminAccount = "999999999999"
	adminKey     = "AKIAADMIN"
)

var orgAccounts = []string{"111111111111", "222222222222", "333333333333"}

// orgTargets is 3 accounts x 2 regions; account 1 has two buckets in eu-west-3, one with a prefix.
const orgTargets = `targets:
  - account: "111111111111"
    region: eu-west-3
    buckets: [acme-one-images, acme-one-video/clips/]
  - account: "111111111111"
    region: us-east-1
    buckets: [acme-one-us]
  - account: "222222222222"
    region: us-east-1
    buckets: [acme-two-us]
  - account: "222222222222"
    region: eu-west-3
    buckets: [acme-two-eu]
  - account: "333333333333"
    region: eu-west-3
    buckets: [acme-three-eu]
  - account: "333333333333"
    region: us-east-1
    buckets: [acme-three-us]
`

type orgWorld struct {
	fake    *cfnfake.Fake
	url     string
	targets string
}

// startOrg runs one CloudFormation fake standing for the administrator account and the three
// target accounts (each signs with its own key), with a profile per target account.
func startOrg(t *testing.T) *orgWorld {
	t.Helper()
	callers := map[string]string{}
	var config, creds strings.Builder
	for _, a := range orgAccounts {
		callers["AKIA"+a] = a
		fmt.Fprintf(&config, "[profile acct-%s]\nregion = eu-west-3\n", a)
		fmt.Fprintf(&creds, "[acct-%s]\naws_access_key_id = AKIA%s\naws_secret_access_key = secret\n", a, a)
	}
	f, url := cfnfake.Start(t, cfnfake.WithAccount(adminAccount), cfnfake.WithDelay("", time.Millisecond),
		cfnfake.WithChangeSetDelay(time.Millisecond), cfnfake.WithCallers(callers))
	aw.Isolate(t, url, adminKey, "secret", "eu-west-3")
	for name, body := range map[string]string{"AWS_CONFIG_FILE": config.String(), "AWS_SHARED_CREDENTIALS_FILE": creds.String()} {
		if err := os.WriteFile(os.Getenv(name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	w := &orgWorld{fake: f, url: url, targets: filepath.Join(t.TempDir(), "targets.yaml")}
	w.writeTargets(t, orgTargets)
	return w
}

func (w *orgWorld) writeTargets(t *testing.T, body string) {
	t.Helper()
	if err := os.WriteFile(w.targets, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

func accountProfiles() []string {
	var args []string
	for _, a := range orgAccounts {
		args = append(args, "--account-profile", a+"=acct-"+a)
	}
	return args
}

func (w *orgWorld) deployArgs(extra ...string) []string {
	args := []string{"deploy", "--stack-set", orgSet, "--targets", w.targets, "--external-id", aw.ExternalID, "--yes"}
	return append(append(args, accountProfiles()...), extra...)
}

// runOrgCLI runs s3grant in-process with the stack set engine polling every millisecond.
func runOrgCLI(ctx context.Context, t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	return runOrgCLIOut(ctx, t, &syncBuffer{}, stdin, args...)
}

func runOrgCLIOut(ctx context.Context, t *testing.T, stdout *syncBuffer, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var stderr syncBuffer
	a := &app{stdin: strings.NewReader(stdin), stdout: stdout, stderr: &stderr,
		stackSetOptions: []stackset.Option{stackset.WithPolling(time.Millisecond, 5*time.Millisecond)}}
	code := runApp(ctx, a, args)
	return code, stdout.String(), stderr.String()
}

// instanceStacks returns each instance's stack, by "account/region".
func (w *orgWorld) instanceStacks(t *testing.T) map[string]cfnfake.StackState {
	t.Helper()
	st, ok := w.fake.StackSet(orgSet)
	if !ok {
		t.Fatal("no stack set")
	}
	out := map[string]cfnfake.StackState{}
	for _, in := range st.Instances {
		s, ok := w.fake.Stack(in.StackID)
		if !ok {
			t.Fatalf("instance %s/%s has no stack %q", in.Account, in.Region, in.StackID)
		}
		out[in.Account+"/"+in.Region] = s
	}
	return out
}

var instanceLine = regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d \[\d+/\d+\] (\d{12})\s+(\S+)\s+(\S+)`)

// The done-when rollout: 3 accounts x 2 regions, one vendor role per account (in its home
// region), one access point per bucket, progress per instance, a summary, what to tell the
// vendor; status lists every instance and gives the vendor every role ARN and access point.
func TestStackSetRolloutThreeAccountsTwoRegions(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...)
	if code != exitOK || errOut != "" {
		t.Fatalf("deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}
	stacksByKey := w.instanceStacks(t)
	if len(stacksByKey) != 6 {
		t.Fatalf("%d instance stacks, want 6", len(stacksByKey))
	}
	home := map[string]string{"111111111111": "eu-west-3", "222222222222": "us-east-1", "333333333333": "eu-west-3"}
	roles := map[string]int{}
	accessPoints := 0
	for k, s := range stacksByKey {
		acct, region, _ := strings.Cut(k, "/")
		if s.Status != "CREATE_COMPLETE" {
			t.Errorf("%s: stack %s", k, s.Status)
		}
		if _, ok := s.Resources[stacks.VendorRoleID]; ok {
			roles[acct]++
			if region != home[acct] {
				t.Errorf("%s: the vendor role is created outside the account's home region %s", k, home[acct])
			}
		}
		if _, ok := s.Resources[stacks.RegionalReadPolicyID]; !ok {
			t.Errorf("%s: no regional read policy", k)
		}
		for id := range s.Resources {
			if strings.HasPrefix(id, "AccessPoint") {
				accessPoints++
			}
		}
		if s.Outputs["RoleArn"] != "arn:aws:iam::"+acct+":role/"+orgSet {
			t.Errorf("%s: RoleArn %q", k, s.Outputs["RoleArn"])
		}
	}
	for _, a := range orgAccounts {
		if roles[a] != 1 {
			t.Errorf("account %s has %d vendor roles, want 1", a, roles[a])
		}
	}
	if accessPoints != 7 {
		t.Errorf("%d access points, want 7 (one per bucket)", accessPoints)
	}
	if s := stacksByKey["111111111111/eu-west-3"]; s.Parameters["Prefix2"] != "clips/" || s.Outputs["BucketName2"] != "acme-one-video" {
		t.Errorf("account 1's second bucket: parameters %v outputs %v", s.Parameters, s.Outputs)
	}
	// Each account's home region ran before its other region.
	seen := map[string]bool{}
	for _, m := range instanceLine.FindAllStringSubmatch(out, -1) {
		if m[3] == "SUCCEEDED" {
			if m[2] != home[m[1]] && !seen[m[1]] {
				t.Errorf("account %s: %s succeeded before its home region", m[1], m[2])
			}
			seen[m[1]] = true
		}
	}
	if len(seen) != 3 {
		t.Errorf("progress lines name %d accounts, want 3:\n%s", len(seen), out)
	}
	if !regexp.MustCompile(`ACCOUNT\s+REGION\s+STATUS`).MatchString(out) {
		t.Errorf("no summary table:\n%s", out)
	}
	for _, want := range []string{"created here", "Tell isahit Lab", "arn:aws:s3:us-east-1:222222222222:accesspoint/isahit-lab-access-point"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, out)
		}
	}

	// A second run changes nothing.
	if code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...); code != exitOK || !strings.Contains(out, "up to date") {
		t.Errorf("second deploy: exit %d, stderr %q\n%s", code, errOut, out)
	}

	code, out, errOut = runOrgCLI(ctx, t, "", append([]string{"status", "--stack-set", orgSet, "--output", "json"}, accountProfiles()...)...)
	if code != exitOK {
		t.Fatalf("status: exit %d, stderr %q\n%s", code, errOut, out)
	}
	var st stackSetJSON
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status JSON: %v\n%s", err, out)
	}
	if len(st.Instances) != 6 || len(st.Accounts) != 3 {
		t.Fatalf("status: %d instances, %d accounts", len(st.Instances), len(st.Accounts))
	}
	aps := 0
	for _, a := range st.Accounts {
		if a.RoleArn != "arn:aws:iam::"+a.Account+":role/"+orgSet || a.ExternalID != aw.ExternalID || a.HomeRegion != home[a.Account] {
			t.Errorf("account %+v", a)
		}
		aps += len(a.AccessPoints)
	}
	if aps != 7 {
		t.Errorf("the vendor is given %d access points, want 7", aps)
	}
}

// A failing instance is reported with its root cause, the rollout stops there, exit 1; what
// the account had is untouched.
func TestStackSetFailingInstance(t *testing.T) {
	w := startOrg(t)
	w.fake.FailStackInstance("222222222222", "us-east-1", "AccessPoint1", "Resource handler returned message: \"Access point already exists\" (HandlerErrorCode: AlreadyExists)")
	code, out, errOut := runOrgCLI(context.Background(), t, "", w.deployArgs()...)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1; stderr %q\n%s", code, errOut, out)
	}
	if !strings.Contains(out, "Root cause in 222222222222/us-east-1: AccessPoint1 (AWS::S3::AccessPoint): Resource handler returned message: \"Access point already exists\"") {
		t.Errorf("no root cause:\n%s", out)
	}
	if !strings.Contains(errOut, "222222222222/us-east-1: FAILED") {
		t.Errorf("stderr %q", errOut)
	}
	st, _ := w.fake.StackSet(orgSet)
	for _, in := range st.Instances {
		if in.Account == "333333333333" {
			t.Errorf("the rollout went on to account 3 after the failure: %+v", in)
		}
	}
	if n := w.fake.Count("DeleteStackInstances"); n != 0 {
		t.Errorf("a failed rollout deleted instances (%d calls)", n)
	}
}

// delete asks (no terminal without --yes is bad input), removes every instance, the home
// regions' last, then the set.
func TestStackSetDelete(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	if code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...); code != exitOK {
		t.Fatalf("deploy: exit %d %s\n%s", code, errOut, out)
	}
	before := w.instanceStacks(t)
	code, out, errOut := runOrgCLI(ctx, t, "", "delete", "--stack-set", orgSet)
	wantBadInput(t, code, out, errOut, "--yes")

	code, out, errOut = runOrgCLI(ctx, t, "", append([]string{"delete", "--stack-set", orgSet, "--yes"}, accountProfiles()...)...)
	if code != exitOK {
		t.Fatalf("delete: exit %d, stderr %q\n%s", code, errOut, out)
	}
	st, _ := w.fake.StackSet(orgSet)
	if st.Status != "DELETED" || len(st.Instances) != 0 {
		t.Errorf("set %s with %d instances", st.Status, len(st.Instances))
	}
	for k, s := range before {
		if _, ok := w.fake.Stack(s.ID); ok {
			t.Errorf("stack of %s remains", k)
		}
	}
	// The home instances (holding the role) were deleted after all the others.
	ops := regexp.MustCompile(`(?m)^operation \S+: delete (\S+) in (\S+)$`).FindAllStringSubmatch(out, -1)
	home := map[string]string{"111111111111": "eu-west-3", "222222222222": "us-east-1", "333333333333": "eu-west-3"}
	homeSeen := false
	for _, op := range ops {
		isHome := true
		for _, a := range strings.Split(op[1], ",") {
			isHome = isHome && home[a] == op[2]
		}
		if !isHome && homeSeen {
			t.Errorf("a non-home deletion (%s in %s) after a home one:\n%s", op[1], op[2], out)
		}
		homeSeen = homeSeen || isHome
	}
	if len(ops) == 0 || !strings.Contains(out, "deleted. Your buckets") {
		t.Errorf("delete output:\n%s", out)
	}
}

// Targets file errors are bad input naming the file and the line; nothing is called.
func TestStackSetTargetsErrors(t *testing.T) {
	w := startOrg(t)
	for name, tt := range map[string]struct{ body, field string }{
		"bad account":  {"targets:\n  - account: \"1234\"\n    region: eu-west-3\n    buckets: [b-one]\n", ":2: targets[0].account"},
		"unknown key":  {"targets:\n  - account: \"111111111111\"\n    region: eu-west-3\n    bucket: [b-one]\n", ":4: targets[0].bucket"},
		"bad bucket":   {"targets:\n  - account: \"111111111111\"\n    region: eu-west-3\n    buckets: [B_ONE]\n", ":4: targets[0].buckets[0]"},
		"bad region":   {"targets:\n  - account: \"111111111111\"\n    region: europe\n    buckets: [b-one]\n", ":3: targets[0].region"},
		"many regions": {manyRegions(), ":" + fmt.Sprint(1+3*10+1) + ""},
	} {
		t.Run(name, func(t *testing.T) {
			w.writeTargets(t, tt.body)
			code, out, errOut := runOrgCLI(context.Background(), t, "", w.deployArgs()...)
			wantBadInput(t, code, out, errOut, w.targets+tt.field)
		})
	}
	if n := len(w.fake.Calls()); n != 0 {
		t.Errorf("%d calls for bad input", n)
	}
}

func manyRegions() string {
	regions := []string{"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1"}
	var b strings.Builder
	b.WriteString("targets:\n")
	for i, r := range regions {
		fmt.Fprintf(&b, "  - account: \"111111111111\"\n    region: %s\n    buckets: [b-one-%d]\n", r, i)
	}
	return b.String()
}

// An account that already has a single-stack integration in a target region is refused with
// the next step, before anything is created.
func TestStackSetRefusesAccountWithSingleStack(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	in := stacks.New(profile.Default())
	in.BucketName, in.ExternalID = "acme-two-us", aw.ExternalID
	body, err := stacks.JSON(in)
	if err != nil {
		t.Fatal(err)
	}
	acct := cloudformation.New(cloudformation.Options{Region: "us-east-1", BaseEndpoint: aws.String(w.url),
		Credentials: credentials.NewStaticCredentialsProvider("AKIA222222222222", "secret", ""), Retryer: awsquery.ConnectionRetryer()})
	cs, err := cfnfake.CreateChangeSet(ctx, acct, &cloudformation.CreateChangeSetInput{StackName: aws.String("isahit-lab-acme-two-us"),
		ChangeSetName: aws.String("c1"), ChangeSetType: types.ChangeSetTypeCreate, TemplateBody: aws.String(string(body)),
		Capabilities: []types.Capability{types.CapabilityCapabilityIam}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := acct.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.ChangeSetId}); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runOrgCLI(ctx, t, "", w.deployArgs()...)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1; stderr %q\n%s", code, errOut, out)
	}
	for _, want := range []string{"account 222222222222 in us-east-1", "isahit-lab-acme-two-us", "s3grant delete --stack-name isahit-lab-acme-two-us --region us-east-1", "nothing changed"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q: %s", want, errOut)
		}
	}
	if _, ok := w.fake.StackSet(orgSet); ok {
		t.Error("the stack set was created")
	}
}

// Ctrl-C stops the watching, not the operation: exit 130 and the command that resumes, which
// follows the operation to its end.
func TestStackSetInterruptedPrintsResume(t *testing.T) {
	w := startOrg(t)
	w.fake.SetDelay("", 100*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &syncBuffer{onWrite: func(s string) {
		if strings.Contains(s, "RUNNING") {
			cancel()
		}
	}}
	code, _, errOut := runOrgCLIOut(ctx, t, stdout, "", w.deployArgs()...)
	if code != exitInterrupted {
		t.Fatalf("exit %d, want 130; stderr %q", code, errOut)
	}
	m := regexp.MustCompile(`s3grant status --stack-set ` + orgSet + ` --operation-id (\S+) --endpoint-url|s3grant status --stack-set ` + orgSet + ` --operation-id (\S+)`).FindStringSubmatch(errOut)
	if m == nil {
		t.Fatalf("no resume command: %q", errOut)
	}
	id := m[1] + m[2]
	code, out, errOut := runOrgCLI(context.Background(), t, "", "status", "--stack-set", orgSet, "--operation-id", id)
	if code != exitOK || !strings.Contains(out, "SUCCEEDED") {
		t.Errorf("resume: exit %d, stderr %q\n%s", code, errOut, out)
	}
}

// The vendor side of a rollout: every role ARN and access point of the JSON status gives the
// vendor is checked with the vendor's credentials; one broken account fails the run.
func TestStackSetVerifyAsVendor(t *testing.T) {
	verifyEnv(t)
	w := aw.Start(t)
	t.Setenv("AWS_ACCESS_KEY_ID", aw.VendorKey)
	good := accountJSON{Account: aw.CustomerAccount, RoleArn: aw.RoleARN, ExternalID: aw.ExternalID, HomeRegion: aw.Region,
		AccessPoints: []accessPointJSON{{Bucket: aw.Bucket, AccessPointArn: aw.AccessPointARN}}}
	file := filepath.Join(t.TempDir(), "rollout.json")
	write := func(accts ...accountJSON) {
		b, _ := json.Marshal(stackSetJSON{StackSet: orgSet, Accounts: accts})
		if err := os.WriteFile(file, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(good)
	code, out, errOut := runCLI(t, "", "verify", "--as-vendor", "--rollout", file, "--endpoint-url", w.URL)
	if code != exitOK || !strings.Contains(out, "== account "+aw.CustomerAccount+", "+aw.Region+", bucket "+aw.Bucket) {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	broken := good
	broken.RoleArn = "arn:aws:iam::" + aw.CustomerAccount + ":role/no-such-role"
	write(good, broken)
	code, out, errOut = runCLI(t, "", "verify", "--as-vendor", "--rollout", file, "--endpoint-url", w.URL)
	if code != exitFailure || !strings.Contains(errOut, "across 2 bucket(s)") {
		t.Errorf("a broken account: exit %d, stderr %q\n%s", code, errOut, out)
	}
	code, out, errOut = runCLI(t, "", "verify", "--as-vendor", "--stack-set", orgSet, "--endpoint-url", w.URL)
	wantBadInput(t, code, out, errOut, "--rollout")
}

// --external-id-per-account gives each account its own external ID, the same in its regions,
// kept by later runs, and tells the vendor each.
func TestStackSetExternalIDPerAccount(t *testing.T) {
	w := startOrg(t)
	ctx := context.Background()
	args := append([]string{"deploy", "--stack-set", orgSet, "--targets", w.targets, "--external-id-per-account", "--yes"}, accountProfiles()...)
	code, out, errOut := runOrgCLI(ctx, t, "", args...)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q\n%s", code, errOut, out)
	}
	ids := map[string]string{}
	st, _ := w.fake.StackSet(orgSet)
	for _, in := range st.Instances {
		id := in.Overrides["ExternalId"]
		if prev, ok := ids[in.Account]; ok && prev != id || id == "" {
			t.Errorf("account %s: external IDs %q and %q", in.Account, prev, id)
		}
		ids[in.Account] = id
		if !strings.Contains(out, id) {
			t.Errorf("the vendor is not told %s's external ID %s", in.Account, id)
		}
	}
	if len(ids) != 3 || ids[orgAccounts[0]] == ids[orgAccounts[1]] {
		t.Errorf("external IDs %v", ids)
	}
	if code, out, _ := runOrgCLI(ctx, t, "", args...); code != exitOK || !strings.Contains(out, "up to date") {
		t.Errorf("second run changed something: exit %d\n%s", code, out)
	}
}
