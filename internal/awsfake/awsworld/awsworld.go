// Package awsworld runs every AWS fake the verify checks talk to (IAM, STS, S3, S3 Control,
// KMS, CloudFormation) behind one endpoint, seeded with a correct isahit Lab integration that
// tests then break one fault at a time. Isolate gives a test the AWS environment a user would
// set up to aim s3grant at such an endpoint (or at LocalStack or moto).
//
// It is test support: only _test.go files import it.
package awsworld

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/jpeg"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
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
)

// The integration every world starts with: correct in every respect.
const (
	Region          = "eu-west-3"
	CustomerAccount = "111122223333"
	VendorAccount   = "999888496268"
	OtherAccount    = "090680223052"
	Bucket          = "customer-images"
	AccessPoint     = "isahit-lab-access-point"
	RoleName        = "isahit-lab-role"
	PolicyName      = "isahit-lab-read"
	ExternalID      = "a6fa9c7f-7f53-4a41-812d-a29f48288a94"
	KeyARN          = "arn:aws:kms:eu-west-3:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	// OtherKeyARN is another customer managed key of the account, which the role may not use.
	OtherKeyARN = "arn:aws:kms:eu-west-3:111122223333:key/9999abcd-12ab-34cd-56ef-1234567890ab"
	StackName   = "isahit-lab-customer-images"
	// CustomerKey and VendorKey are the access keys of the customer's admin and of the
	// vendor's integration user.
	CustomerKey = "AKIACUSTOMER"
	VendorKey   = "AKIAVENDOR"
	Secret      = "secret"
)

var (
	// Origins are isahit Lab's web apps.
	Origins        = []string{"https://lab.isahit.com", "https://work.isahit.com"}
	RoleARN        = "arn:aws:iam::" + CustomerAccount + ":role/" + RoleName
	AccessPointARN = "arn:aws:s3:" + Region + ":" + CustomerAccount + ":accesspoint/" + AccessPoint
	// StackOutputs are the outputs the s3grant template declares, for this integration.
	StackOutputs = map[string]string{"RoleArn": RoleARN, "ExternalId": ExternalID, "AccessPointArn": AccessPointARN,
		"AccessPointAlias": AccessPoint + "-fakealias-s3alias", "BucketName": Bucket}
	// VendorRoot is the principal that trusts isahit's whole account.
	VendorRoot = map[string]any{"AWS": "arn:aws:iam::" + VendorAccount + ":root"}
	// WithExternalID is the trust policy condition on the external ID.
	WithExternalID = map[string]any{"StringEquals": map[string]any{"sts:ExternalId": ExternalID}}
	// GoodTrust is the trust policy the template creates.
	GoodTrust = TrustPolicy(VendorRoot, WithExternalID)
	// GoodCORS holds a rule of the customer's own and isahit Lab's rule.
	GoodCORS = []s3fake.CORSRule{
		{ID: "customer-own", AllowedOrigins: []string{"https://intranet.example.com"}, AllowedMethods: []string{"GET", "PUT"}, AllowedHeaders: []string{"authorization"}},
		{ID: "isahit-lab", AllowedOrigins: Origins, AllowedMethods: []string{"GET"}, AllowedHeaders: []string{"*"}},
	}
)

// Doc marshals a policy document written as Go maps.
func Doc(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic("awsworld: " + err.Error()) // maps of strings always marshal
	}
	return string(b)
}

// TrustPolicy is a one-statement trust policy letting principal assume the role under condition.
func TrustPolicy(principal any, condition map[string]any) string {
	st := map[string]any{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
	if condition != nil {
		st["Condition"] = condition
	}
	return Doc(map[string]any{"Version": "2012-10-17", "Statement": []any{st}})
}

// ReadPolicy is the template's permissions policy as CloudFormation resolves it, plus extra statements.
func ReadPolicy(extra ...map[string]any) string { return ReadPolicyWithout("", extra...) }

// ReadPolicyWithout is ReadPolicy without the statement whose Sid is drop (List, Read, Decrypt).
func ReadPolicyWithout(drop string, extra ...map[string]any) string {
	base := []map[string]any{
		{"Sid": "List", "Effect": "Allow", "Action": "s3:ListBucket",
			"Resource": []string{"arn:aws:s3:::" + Bucket, AccessPointARN}},
		{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
			"Resource": []string{"arn:aws:s3:::" + Bucket + "/*", AccessPointARN + "/object/*"}},
		{"Sid": "Decrypt", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": KeyARN,
			"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + Region + ".amazonaws.com"}}},
	}
	var statements []map[string]any
	for _, s := range append(base, extra...) {
		if drop == "" || s["Sid"] != drop {
			statements = append(statements, s)
		}
	}
	return Doc(map[string]any{"Version": "2012-10-17", "Statement": statements})
}

// DenyUnless is a bucket policy denying every S3 action on the bucket to everyone when the
// condition op key value holds, as customers write to restrict a bucket to their network.
func DenyUnless(op, key, value string) string {
	return Doc(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": "RestrictAccess", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
		"Resource":  []string{"arn:aws:s3:::" + Bucket, "arn:aws:s3:::" + Bucket + "/*"},
		"Condition": map[string]any{op: map[string]any{key: value}}}}})
}

// RootKeyPolicy is KMS's default key policy: the account's IAM policies decide.
func RootKeyPolicy(account string) string {
	return Doc(map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
		"Sid": "Enable IAM policies", "Effect": "Allow", "Principal": map[string]any{"AWS": "arn:aws:iam::" + account + ":root"},
		"Action": "kms:*", "Resource": "*"}}})
}

// JPEG returns a real w×h JPEG image, which a browser decodes.
func JPEG(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 37)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		panic("awsworld: " + err.Error()) // encoding into memory does not fail
	}
	return b.Bytes()
}

// GoodBucket is the customer's bucket: in Region, with GoodCORS, SSE-KMS with KeyARN, two
// JPEG images uploaded with their Content-Type.
func GoodBucket() s3fake.Bucket {
	jpg := s3fake.ObjectMeta{ContentType: "image/jpeg"}
	return s3fake.Bucket{Name: Bucket, Region: Region, CORS: GoodCORS, SSEAlgorithm: "aws:kms", KMSKeyID: KeyARN,
		Owner: CustomerAccount, Ownership: "BucketOwnerEnforced",
		Objects: map[string][]byte{"images/cat.jpg": JPEG(3, 2), "images/dog.jpg": JPEG(2, 3)},
		Meta:    map[string]s3fake.ObjectMeta{"images/cat.jpg": jpg, "images/dog.jpg": jpg}}
}

// GoodAccessPoint is the template's access point: Internet origin, all public access blocked.
func GoodAccessPoint() s3fake.AccessPoint {
	return s3fake.AccessPoint{Name: AccessPoint, Account: CustomerAccount, Region: Region, Bucket: Bucket,
		PublicAccessBlock: [4]bool{true, true, true, true}}
}

// World is every fake AWS service, behind one endpoint.
type World struct {
	IAM *iamfake.Fake
	STS *stsfake.Fake
	S3  *s3fake.Fake
	KMS *kmsfake.Fake
	CFN *cfnfake.Fake
	URL string
	// Client dials the endpoint whatever host the SDK builds (access point ARNs put the
	// access point's name and account in the host).
	Client *http.Client
	// OrgID is the AWS Organization of the customer's account ("" for none): the
	// aws:PrincipalOrgID of its role's sessions.
	OrgID string
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

// Start runs a world holding the correct integration; it stops at the end of the test.
func Start(tb testing.TB) *World {
	tb.Helper()
	w := &World{
		IAM: iamfake.New(iamfake.WithAccount(CustomerAccount)),
		S3:  s3fake.New(),
		KMS: kmsfake.New(),
	}
	// CloudFormation reads a TemplateURL's object from S3 (as the caller; the fake's caller is
	// the customer, who may read everything).
	w.CFN = cfnfake.New(cfnfake.WithAccount(CustomerAccount), cfnfake.WithDelay("", time.Millisecond),
		cfnfake.WithChangeSetDelay(time.Millisecond), cfnfake.WithTemplateURLs(w.templateObject))
	w.STS = stsfake.New(w.IAM)
	w.STS.AddCaller(VendorKey, "arn:aws:iam::"+VendorAccount+":user/integrations")
	w.STS.AddCaller(CustomerKey, "arn:aws:iam::"+CustomerAccount+":user/admin")
	handlers := map[string]http.Handler{"iam": w.IAM, "sts": w.STS, "s3": w.S3, "s3control": w.S3.Control(),
		"kms": w.KMS, "cloudformation": w.CFN}
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		h, ok := handlers[service(r)]
		if !ok {
			http.Error(rw, "no fake for "+service(r), http.StatusNotImplemented)
			return
		}
		h.ServeHTTP(rw, r)
	}))
	tb.Cleanup(srv.Close)
	w.URL = srv.URL
	addr := srv.Listener.Addr().String()
	w.Client = &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}}}

	// S3 authorizes as AWS would: the customer's admin may do anything; a session what AWS's
	// evaluation gives its role in one account: an explicit Deny anywhere (identity policies,
	// permissions boundary, bucket policy, access point policy) refuses, then an Allow in the
	// identity policies (within the boundary) or in a resource policy naming the role grants;
	// KMS's key policy decides kms:Decrypt, itself or by delegating to IAM. Anyone else: nothing.
	w.S3.SetPolicyAuthorizer(func(r s3fake.AuthRequest) bool {
		if r.AccessKey == CustomerKey {
			return true
		}
		role, ok := w.STS.SessionRole(r.AccessKey)
		if !ok {
			return false
		}
		ctx := map[string][]string{"aws:principalarn": {role}, "aws:principalaccount": {CustomerAccount}}
		if w.OrgID != "" {
			ctx["aws:principalorgid"] = []string{w.OrgID}
		}
		maps.Copy(ctx, r.Context)
		identity := w.IAM.RoleDecision(role, r.Action, r.Resource, ctx)
		if r.KMSKey != "" {
			policy, _ := w.KMS.KeyPolicy(r.KMSKey)
			return iamfake.KeyPolicyDecision(policy, role, r.Action, r.Resource, ctx, identity) == "allowed"
		}
		decisions := []string{identity}
		if r.BucketPolicy != "" {
			decisions = append(decisions, iamfake.EvaluateResource([]string{r.BucketPolicy}, role, r.Action, r.BucketResource, ctx))
		}
		if r.AccessPointPolicy != "" {
			decisions = append(decisions, iamfake.EvaluateResource([]string{r.AccessPointPolicy}, role, r.Action, r.Resource, ctx))
		}
		if slices.Contains(decisions, "explicitDeny") {
			return false
		}
		return slices.Contains(decisions, "allowed")
	})
	// Presigned URLs are checked as S3 checks them: signed with a key S3 knows, by its secret.
	w.S3.SetSecrets(func(key string) (string, string, bool) {
		if key == CustomerKey || key == VendorKey {
			return Secret, "", true
		}
		return w.STS.Secret(key)
	})
	w.IAM.PutRole(RoleName, GoodTrust)
	if err := w.IAM.AttachRolePolicy(RoleName, w.IAM.CreatePolicy(PolicyName, ReadPolicy())); err != nil {
		tb.Fatal(err)
	}
	w.S3.PutBucket(GoodBucket())
	w.S3.PutAccessPoint(GoodAccessPoint())
	w.KMS.PutKey(kmsfake.Key{ARN: KeyARN, Manager: "CUSTOMER", Policy: RootKeyPolicy(CustomerAccount)})
	w.KMS.PutKey(kmsfake.Key{ARN: OtherKeyARN, Manager: "CUSTOMER", Policy: RootKeyPolicy(CustomerAccount)})
	w.KMS.PutKey(kmsfake.Key{ARN: "arn:aws:kms:eu-west-3:111122223333:key/aws-managed-s3", Manager: "AWS", Aliases: []string{"alias/aws/s3"}})
	return w
}

// Config is an SDK configuration signing with accessKey and sending everything to the world.
func (w *World) Config(accessKey string) aws.Config {
	return aws.Config{Region: Region, BaseEndpoint: aws.String(w.URL), HTTPClient: w.Client,
		Credentials: credentials.NewStaticCredentialsProvider(accessKey, Secret, "")}
}

// DeployStack creates the customer's stack with these outputs through the real SDK client,
// and waits for CREATE_COMPLETE.
func (w *World) DeployStack(tb testing.TB, outputs map[string]string) {
	tb.Helper()
	tmplOutputs := map[string]any{}
	for k, v := range outputs {
		tmplOutputs[k] = map[string]any{"Value": v}
	}
	body := Doc(map[string]any{
		"Resources": map[string]any{"Marker": map[string]any{"Type": "AWS::CloudFormation::WaitConditionHandle"}},
		"Outputs":   tmplOutputs,
	})
	ctx := context.Background()
	cf := cloudformation.NewFromConfig(w.Config(CustomerKey))
	cs, err := cfnfake.CreateChangeSet(ctx, cf, &cloudformation.CreateChangeSetInput{StackName: aws.String(StackName),
		ChangeSetName: aws.String("create"), ChangeSetType: cfntypes.ChangeSetTypeCreate, TemplateBody: &body})
	if err != nil {
		tb.Fatal(err)
	}
	if cs.Status != cfntypes.ChangeSetStatusCreateComplete {
		tb.Fatalf("the stack's change set is %s: %s", cs.Status, aws.ToString(cs.StatusReason))
	}
	if _, err := cf.ExecuteChangeSet(ctx, &cloudformation.ExecuteChangeSetInput{ChangeSetName: cs.ChangeSetId}); err != nil {
		tb.Fatal(err)
	}
	waitFor(tb, func() bool {
		s, ok := w.CFN.Stack(StackName)
		return ok && s.Status == "CREATE_COMPLETE"
	})
}

func waitFor(tb testing.TB, done func() bool) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !done() {
		if time.Now().After(deadline) {
			tb.Fatal("the fake never reached the awaited state")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Isolate sets the environment the AWS SDK's default configuration reads: static credentials,
// a region, and endpoint as AWS_ENDPOINT_URL (empty leaves it unset), with no shared config or
// credentials file, no profile and no instance metadata, so a test never reads the machine's
// own AWS configuration.
func Isolate(t testing.TB, endpoint, accessKey, secret, region string) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_ACCESS_KEY_ID":           accessKey,
		"AWS_SECRET_ACCESS_KEY":       secret,
		"AWS_REGION":                  region,
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                 "",
		"AWS_EC2_METADATA_DISABLED":   "true",
	} {
		t.Setenv(k, v)
	}
}
