package verify_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	cfntypes "github.com/aws/aws-sdk-go-v2/service/cloudformation/types"

	"github.com/isahit/s3grant/internal/awsfake/cfnfake"
	"github.com/isahit/s3grant/internal/awsfake/iamfake"
	"github.com/isahit/s3grant/internal/awsfake/kmsfake"
	"github.com/isahit/s3grant/internal/awsfake/s3fake"
	"github.com/isahit/s3grant/internal/awsfake/stsfake"
	"github.com/isahit/s3grant/verify"
)

// The integration every test starts from: correct in every respect.
const (
	region          = "eu-west-3"
	customerAccount = "111122223333"
	vendorAccount   = "999888496268"
	otherAccount    = "090680223052"
	bucket          = "customer-images"
	apName          = "isahit-lab-access-point"
	roleName        = "isahit-lab-role"
	policyName      = "isahit-lab-read"
	externalID      = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"
	keyARN          = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	stackName       = "isahit-lab-customer-images"
	customerKey     = "AKIACUSTOMER"
	vendorKey       = "AKIAVENDOR"
)

var (
	origins = []string{"https://lab.isahit.com", "https://work.isahit.com"}
	roleARN = "arn:aws:iam::" + customerAccount + ":role/" + roleName
	apARN   = "arn:aws:s3:" + region + ":" + customerAccount + ":accesspoint/" + apName
)

// world is every fake AWS service the checks talk to, behind one endpoint.
type world struct {
	iam *iamfake.Fake
	sts *stsfake.Fake
	s3  *s3fake.Fake
	kms *kmsfake.Fake
	cfn *cfnfake.Fake
	url string
	// client dials the endpoint whatever host the SDK builds (S3 Control and access point
	// requests prefix the account ID or the access point to the host).
	client *http.Client
}

func doc(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func trustPolicy(principal any, condition map[string]any) string {
	st := map[string]any{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
	if condition != nil {
		st["Condition"] = condition
	}
	return doc(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
}

var goodTrust = trustPolicy(map[string]any{"AWS": "arn:aws:iam::" + vendorAccount + ":root"},
	map[string]any{"StringEquals": map[string]any{"sts:ExternalId": externalID}})

// readPolicy is the template's policy, as CloudFormation resolves it, plus extra statements.
func readPolicy(extra ...map[string]any) string { return readPolicyWithout("", extra...) }

// readPolicyWithout is readPolicy without the statement whose Sid is drop.
func readPolicyWithout(drop string, extra ...map[string]any) string {
	base := []map[string]any{
		{"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
			"Resource": []string{"arn:aws:s3:::" + bucket, apARN}},
		{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
			"Resource": []string{"arn:aws:s3:::" + bucket + "/*", apARN + "/object/*"}},
		{"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": keyARN,
			"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + region + ".amazonaws.com"}}},
	}
	var statements []map[string]any
	for _, s := range append(base, extra...) {
		if s["Sid"] != drop || drop == "" {
			statements = append(statements, s)
		}
	}
	return doc(map[string]any{"Version": "2012-10-17", "Statement": statements})
}

var goodCORS = []s3fake.CORSRule{
	{ID: "customer-own", AllowedOrigins: []string{"https://intranet.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"authorization"}},
	{ID: "isahit-lab", AllowedOrigins: origins, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}},
}

func rootKeyPolicy(account string) string {
	return doc(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": "Enable IAM policies", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
		"Action": "kms:*", "Resource": "*"}}})
}

// service names the fake a request is for, from the SigV4 credential scope.
func service(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/v20180820/") {
		return "s3control"
	}
	cred := r.URL.Query().Get("X-Amz-Credential")
	if _, after, ok := strings.Cut(r.Header.Get("Authorization"), "Credential="); ok {
		cred, _, _ = strings.Cut(after, ",")
	}
	parts := strings.Split(cred, "/")
	if len(parts) < 4 {
		return "s3" // browser preflights are unsigned
	}
	return parts[3]
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{
		iam: iamfake.New(iamfake.WithAccount(customerAccount)),
		s3:  s3fake.New(),
		kms: kmsfake.New(),
		cfn: cfnfake.New(cfnfake.WithAccount(customerAccount), cfnfake.WithDelay("", time.Millisecond),
			cfnfake.WithChangeSetDelay(time.Millisecond)),
	}
	w.sts = stsfake.New(w.iam)
	w.sts.AddCaller(vendorKey, "arn:aws:iam::"+vendorAccount+":user/integrations")
	w.sts.AddCaller(customerKey, "arn:aws:iam::"+customerAccount+":user/admin")
	handlers := map[string]http.Handler{"iam": w.iam, "sts": w.sts, "s3": w.s3, "s3control": w.s3.Control(),
		"kms": w.kms, "cloudformation": w.cfn}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h, ok := handlers[service(r)]
		if !ok {
			http.Error(rw, "no fake for "+service(r), http.StatusNotImplemented)
			return
		}
		h.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.url = srv.URL
	addr := srv.Listener.Addr().String()
	w.client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}

	w.iam.PutRole(roleName, goodTrust)
	w.iam.AttachRolePolicy(roleName, w.iam.CreatePolicy(policyName, readPolicy()))
	w.s3.PutBucket(s3fake.Bucket{Name: bucket, Region: region, CORS: goodCORS, SSEAlgorithm: "aws:kms", KMSKeyID: keyARN,
		Objects: map[string][]byte{"images/cat.jpg": []byte("\xff\xd8cat"), "images/dog.jpg": []byte("\xff\xd8dog")}})
	w.s3.PutAccessPoint(s3fake.AccessPoint{Name: apName, Account: customerAccount, Region: region, Bucket: bucket,
		PublicAccessBlock: [4]bool{true, true, true, true}})
	w.kms.PutKey(kmsfake.Key{ARN: keyARN, Manager: "CUSTOMER", Policy: rootKeyPolicy(customerAccount)})
	w.kms.PutKey(kmsfake.Key{ARN: "arn:aws:kms:eu-west-3:111122223333:key/aws-managed-s3", Manager: "AWS", Aliases: []string{"alias/aws/s3"}})
	return w
}

// config is an SDK configuration signing with accessKey and sending everything to the world.
func (w *world) config(accessKey string) aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(w.url), HTTPClient: w.client,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, "secret", "")}
}

// deployStack creates the customer's stack in the CloudFormation fake with the outputs the
// s3grant template declares, through the real SDK client.
func (w *world) deployStack(t *testing.T, outputs map[string]string) {
	t.Helper()
	tmplOutputs := map[string]any{}
	for k, v := range outputs {
		tmplOutputs[k] = map[string]any{"Value": v}
	}
	body := doc(map[string]any{
		"Resources": map[string]any{"Marker": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
		"Outputs":   tmplOutputs,
	})
	ctx := context.Background()
	cf := cloudformation.NewFromConfig(w.config(customerKey))
	cs, err := cf.CreateChangeSet(ctx, &cloudformation.CreateChangeSetInput{StackName: aws.String(stackName),
		ChangeSetName: aws.String("create"), ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: &body})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		d, err := cf.DescribeChangeSet(ctx, &cloudformation.DescribeChangeSetInput{ChangeSetName: cs.Id})
		return err == nil && d.Status == cfntypes.ChangeSetStatusCreateComplete
	})
	if _, err := cf.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.Id}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		s, ok := w.cfn.Stack(stackName)
		return ok && s.Status == "CREATE_COMPLETE"
	})
}

func waitFor(t *testing.T, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("the fake never reached the awaited state")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

var stackOutputs = map[string]string{"RoleArn": roleARN, "ExternalId": externalID, "AccessPointArn": apARN,
	"AccessPointAlias": apName + "-fakealias-s3alias", "BucketName": bucket}

// input is what the CLI fills from the isahit Lab profile and the customer's values.
func input() verify.Input {
	return verify.Input{VendorName: "isahit Lab", VendorAccountID: vendorAccount, Origins: origins,
		Methods: []string{"GET"}, Headers: []string{"*"}, RoleARN: roleARN, Bucket: bucket,
		AccessPointName: apName, ExternalID: externalID, Region: region}
}
