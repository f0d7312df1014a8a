package verify

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/isahit/s3grant/internal/arn"
	"github.com/isahit/s3grant/internal/awserr"
)

// This file is the customer side's look at the objects themselves: default encryption covers
// new writes only, so an object written earlier (or copied in) may carry another KMS key, and
// with ACLs enabled an object another account uploaded is that account's, refused to every
// principal of the bucket owner unless its ACL grants the owner. Both refuse the vendor's role
// what its policies allow. The customer side reads a sample of objects under the prefix with
// read-only calls: the listing with its owners, HeadObject for the encryption, the bucket's
// Object Ownership and, for an object of another owner, its ACL.

// Check IDs of the sampled objects, customer side.
const (
	CheckObjectEncryption = "object-encryption"
	CheckObjectOwner      = "object-owner"
)

// Objects is what the customer side read of the sampled objects under the prefix.
type Objects struct {
	// Ownership is the bucket's Object Ownership (BucketOwnerEnforced, BucketOwnerPreferred,
	// ObjectWriter); "" when none is set, which leaves ACLs enabled (ObjectWriter).
	Ownership    string
	OwnershipErr error
	// BucketOwner is the canonical user ID of the bucket's owner (GetBucketAcl).
	BucketOwner    string
	BucketOwnerErr error
	Sampled        []Object
}

// Object is one sampled object.
type Object struct {
	Key string
	// Owner is the canonical user ID of its owner, as the listing gives it ("" when not given).
	Owner string
	// HeadErr is HeadObject's failure; Encryption is what HeadObject said of the object's
	// encryption, its key described as the bucket's default key is.
	HeadErr    error
	Encryption *Encryption
	// ACLGrantsOwner says whether the object's ACL grants the bucket owner READ (or
	// FULL_CONTROL); ACLErr is why it could not be read. Both are read only for an object
	// of another owner while ACLs are enabled.
	ACLGrantsOwner bool
	ACLErr         error
}

// foreign reports whether the object is owned by another account than the bucket's while ACLs
// are enabled: with BucketOwnerEnforced the bucket owner owns every object.
func (o Objects) foreign(obj Object) bool {
	return o.Ownership != "BucketOwnerEnforced" && obj.Owner != "" && o.BucketOwner != "" && obj.Owner != o.BucketOwner
}

// readObjects lists the prefix (with the owners) and reads up to in.sample() objects.
func (c *Checker) readObjects(ctx context.Context, s3c *s3.Client, kc *kms.Client, in Input) (*Objects, error) {
	listed, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &in.BucketName, Prefix: aws.String(in.ObjectPrefix),
		MaxKeys: aws.Int32(100), FetchOwner: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	o := &Objects{}
	oc, err := s3c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: &in.BucketName})
	switch {
	case awserr.Code(err) == "OwnershipControlsNotFoundError":
	case err != nil:
		o.OwnershipErr = err
	case oc.OwnershipControls != nil && len(oc.OwnershipControls.Rules) > 0:
		o.Ownership = string(oc.OwnershipControls.Rules[0].ObjectOwnership)
	}
	if o.Ownership != "BucketOwnerEnforced" {
		acl, err := s3c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: &in.BucketName})
		if err != nil {
			o.BucketOwnerErr = err
		} else if acl.Owner != nil {
			o.BucketOwner = aws.ToString(acl.Owner.ID)
		}
	}
	owners := map[string]string{}
	for _, obj := range listed.Contents {
		if obj.Owner != nil {
			owners[aws.ToString(obj.Key)] = aws.ToString(obj.Owner.ID)
		}
	}
	keys := map[string]*Encryption{} // described keys, by the ID HeadObject gives
	for _, key := range sampleKeys(listed, in.sample()) {
		obj := Object{Key: key, Owner: owners[key]}
		head, err := s3c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &in.BucketName, Key: &key})
		if err != nil {
			obj.HeadErr = err
		} else {
			obj.Encryption = objectKey(ctx, kc, keys, string(head.ServerSideEncryption), aws.ToString(head.SSEKMSKeyId))
		}
		if o.foreign(obj) {
			acl, err := s3c.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: &in.BucketName, Key: &key})
			if err != nil {
				obj.ACLErr = err
			} else {
				obj.ACLGrantsOwner = grantsRead(acl.Grants, o.BucketOwner)
			}
		}
		o.Sampled = append(o.Sampled, obj)
	}
	return o, ctx.Err()
}

// objectKey describes an object's encryption, its KMS key read once per run.
func objectKey(ctx context.Context, kc *kms.Client, seen map[string]*Encryption, algorithm, keyID string) *Encryption {
	if !strings.HasPrefix(algorithm, "aws:kms") || keyID == "" {
		return &Encryption{Algorithm: algorithm}
	}
	if e, ok := seen[keyID]; ok {
		return e
	}
	e := &Encryption{Algorithm: algorithm, KeyID: keyID}
	describeKey(ctx, kc, e)
	seen[keyID] = e
	return e
}

// describeKey fills in the key's ARN, manager and, for a customer managed key, its key policy
// (DescribeKey, GetKeyPolicy; read-only). What cannot be read is said in KeyPolicySkipped.
func describeKey(ctx context.Context, kc *kms.Client, e *Encryption) {
	desc, err := kc.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &e.KeyID})
	if err != nil {
		// Without DescribeKey the configured ID stands for the key; the role check still runs.
		e.KeyPolicySkipped = "DescribeKey refused: " + awserr.Code(err)
		return
	}
	e.KeyARN, e.KeyManager = aws.ToString(desc.KeyMetadata.Arn), string(desc.KeyMetadata.KeyManager)
	if e.KeyManager == "AWS" {
		return
	}
	pol, err := kc.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: &e.KeyARN, PolicyName: aws.String("default")})
	switch {
	case isAccessDenied(err):
		e.KeyPolicySkipped = "GetKeyPolicy: access denied"
	case err != nil:
		e.KeyPolicySkipped = "GetKeyPolicy: " + describeCallError(err)
	default:
		p, perr := ParsePolicy(aws.ToString(pol.Policy))
		if perr != nil {
			e.KeyPolicySkipped = perr.Error()
		} else {
			e.KeyPolicy = &p
		}
	}
}

// grantsRead reports whether an ACL grants the canonical user owner READ or FULL_CONTROL.
func grantsRead(grants []s3types.Grant, owner string) bool {
	for _, g := range grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.ID) == owner &&
			(g.Permission == s3types.PermissionRead || g.Permission == s3types.PermissionFullControl) {
			return true
		}
	}
	return false
}

// otherKeys returns the customer managed keys of sampled objects other than the integration's
// key: the role must be able to decrypt with each, so each is probed.
func (o *Objects) otherKeys(integrationKey string) []string {
	var out []string
	if o == nil {
		return nil
	}
	for _, obj := range o.Sampled {
		if k := obj.Encryption.customerKey(); k != "" && k != integrationKey && !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// keyProbe is the template's kms:Decrypt probe aimed at another key.
func keyProbe(exp expectation, in Input, key string) Request {
	ctx := map[string]string{"kms:ViaService": "s3." + in.Region + ".amazonaws.com"}
	if probes := exp.probes("kms"); len(probes) > 0 {
		ctx = probes[0].Context
	}
	return Request{Action: "kms:Decrypt", Resource: key, Context: ctx}
}

func objectsUnreadable(id string, in Input, err error) Result {
	return fail(id, fmt.Sprintf("cannot list the objects under %q in bucket %s: %s", in.ObjectPrefix, in.BucketName, describeCallError(err)),
		callFix(err, fmt.Sprintf("the caller needs s3:ListBucket on %s", in.bucketARN())))
}

// judgeObjectEncryption checks that the role can decrypt every sampled object with the key it
// is encrypted with. The integration's own key is encryption's to judge; an object under
// another key fails here, with the layer that refuses (the role's policies, the key policy).
func judgeObjectEncryption(in Input, exp expectation, f Facts) Result {
	if f.ObjectsErr != nil {
		return objectsUnreadable(CheckObjectEncryption, in, f.ObjectsErr)
	}
	o := f.Objects
	if len(o.Sampled) == 0 {
		return pass(CheckObjectEncryption, fmt.Sprintf("no object under %q to sample", in.ObjectPrefix))
	}
	if f.RoleErr != nil {
		return roleUnreadable(CheckObjectEncryption, in, f.RoleErr)
	}
	integrationKey := exp.keyARN
	name := arn.RoleName(in.RoleARN)
	var problems, fixes, seen, skipped []string
	for _, obj := range o.Sampled {
		where := in.BucketName + "/" + obj.Key
		if obj.HeadErr != nil {
			if o.foreign(obj) {
				continue // refused for its owner: object-owner's failure
			}
			problems = append(problems, fmt.Sprintf("cannot read the encryption of %s (HeadObject): %s", where, describeCallError(obj.HeadErr)))
			fixes = append(fixes, callFix(obj.HeadErr, fmt.Sprintf("the caller needs s3:GetObject on %s", arn.Bucket(in.Region, in.BucketName)+"/"+obj.Key)))
			continue
		}
		key := obj.Encryption.customerKey()
		if key == "" || key == integrationKey {
			continue
		}
		if d := f.Role.decide(keyProbe(exp, in, key)); d != Allowed {
			problems = append(problems, fmt.Sprintf("%s is encrypted with the KMS key %s, not the integration's key %s, and role %s may not kms:Decrypt with it (%s, method: %s): S3 refuses the vendor's reads of it with AccessDenied",
				where, key, orNoKey(integrationKey), name, d, f.Role.method()))
			fixes = append(fixes, reencryptFix(in, obj.Key, integrationKey, f))
			continue
		}
		if obj.Encryption.KeyPolicy == nil {
			// The role may decrypt; the key policy is not readable: said, as encryption does.
			if !slices.Contains(skipped, key) {
				skipped = append(skipped, key)
			}
			continue
		}
		if p := keyPolicyProblem(in, *obj.Encryption.KeyPolicy, keyProbe(exp, in, key)); p != "" && !slices.Contains(seen, key) {
			seen = append(seen, key)
			problems = append(problems, fmt.Sprintf("%s is encrypted with the KMS key %s, whose key policy %s", where, key, p))
			fixes = append(fixes, fmt.Sprintf("add to the key policy of %s (KMS console → Customer managed keys → the key → Key policy → Edit) a statement allowing kms:Decrypt to %s, or keep the default statement that lets the account's IAM policies grant use of the key (principal %s); or %s",
				key, in.RoleARN, arn.AccountRoot(in.Region, in.account()), reencryptFix(in, obj.Key, integrationKey, f)))
		}
	}
	if len(problems) > 0 {
		return fail(CheckObjectEncryption, strings.Join(problems, "; "), strings.Join(fixes, "; "))
	}
	detail := fmt.Sprintf("%d sampled object(s) under %q: each is encrypted with a key the role can use (%s)", len(o.Sampled), in.ObjectPrefix, sampledList(o))
	if len(skipped) > 0 {
		detail += "; key policy of " + strings.Join(skipped, ", ") + " not readable, skipped"
	}
	return pass(CheckObjectEncryption, detail)
}

func orNoKey(key string) string {
	if key == "" {
		return "(none: the integration grants no kms:Decrypt)"
	}
	return key
}

// reencryptFix says how to bring an object under the integration's encryption: copy it onto
// itself with the integration's key (metadata kept), or, when the integration has no key and
// the object's key is meant to stay, make that key the integration's.
func reencryptFix(in Input, key, integrationKey string, f Facts) string {
	copyObject := fmt.Sprintf("aws s3api copy-object --bucket %s --key %s --copy-source %s/%s --metadata-directive COPY", in.BucketName, key, in.BucketName, key)
	if integrationKey != "" {
		return fmt.Sprintf("re-encrypt %s with the integration's key (the object's bytes and metadata are kept; a versioned bucket keeps the old version): %s --server-side-encryption aws:kms --ssekms-key-id %s",
			key, copyObject, integrationKey)
	}
	out := fmt.Sprintf("re-encrypt %s with the bucket's default encryption (SSE-S3): %s --server-side-encryption AES256", key, copyObject)
	if objKey := objectKeyOf(f, key); objKey != "" {
		out += "; or, if the bucket's objects are meant to use " + objKey + ", make it the integration's key: " +
			deployOr(in, f, "--kms-key-arn", objKey, fmt.Sprintf("allow role %s kms:Decrypt on %s with the condition kms:ViaService s3.%s.amazonaws.com", arn.RoleName(in.RoleARN), objKey, in.Region))
	}
	return out
}

func objectKeyOf(f Facts, key string) string {
	if f.Objects == nil {
		return ""
	}
	for _, o := range f.Objects.Sampled {
		if o.Key == key {
			return o.Encryption.customerKey()
		}
	}
	return ""
}

func sampledList(o *Objects) string {
	var keys []string
	for _, obj := range o.Sampled {
		keys = append(keys, obj.Key)
	}
	return strings.Join(keys, ", ")
}

// judgeObjectOwner checks that every sampled object is readable by the bucket owner's
// principals: with ACLs enabled, an object another account uploaded is refused to them
// unless its ACL grants the bucket owner, whatever their policies allow.
func judgeObjectOwner(in Input, f Facts) Result {
	if f.ObjectsErr != nil {
		return objectsUnreadable(CheckObjectOwner, in, f.ObjectsErr)
	}
	o := f.Objects
	if o.Ownership == "BucketOwnerEnforced" {
		return pass(CheckObjectOwner, "Object Ownership is Bucket owner enforced: ACLs are disabled and your account owns every object")
	}
	if o.BucketOwnerErr != nil {
		return fail(CheckObjectOwner, fmt.Sprintf("Object Ownership of bucket %s leaves ACLs enabled, and its owner cannot be read (GetBucketAcl): %s", in.BucketName, describeCallError(o.BucketOwnerErr)),
			callFix(o.BucketOwnerErr, fmt.Sprintf("the caller needs s3:GetBucketAcl on %s (or set Object Ownership to Bucket owner enforced)", in.bucketARN())))
	}
	setting := o.Ownership
	if setting == "" {
		setting = "not set (ACLs enabled, ObjectWriter)"
	}
	var refused, keys []string
	for _, obj := range o.Sampled {
		if !o.foreign(obj) {
			continue
		}
		granted := obj.ACLGrantsOwner
		if obj.ACLErr != nil {
			// No READ_ACP on the object: whether the bucket owner may read it is HeadObject's answer.
			granted = obj.HeadErr == nil
		}
		if !granted {
			refused = append(refused, fmt.Sprintf("%s/%s is owned by another account (canonical ID %s) and its ACL does not grant your account read", in.BucketName, obj.Key, obj.Owner))
			keys = append(keys, obj.Key)
		}
	}
	if len(refused) == 0 {
		detail := fmt.Sprintf("Object Ownership %s; the %d sampled object(s) are readable by your account", setting, len(o.Sampled))
		if o.OwnershipErr != nil {
			detail += fmt.Sprintf(" (Object Ownership not readable: %s)", describeCallError(o.OwnershipErr))
		}
		return pass(CheckObjectOwner, detail+"; objects other accounts upload later stay theirs unless ownership is Bucket owner enforced")
	}
	return fail(CheckObjectOwner, fmt.Sprintf("Object Ownership %s: %s. S3 refuses such objects to every principal of your account, role %s included, whatever its policies allow",
		setting, strings.Join(refused, "; "), arn.RoleName(in.RoleARN)), fmt.Sprintf(
		"set bucket %s's Object Ownership to Bucket owner enforced, which disables ACLs and makes your account the owner of every object, these included: aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls 'Rules=[{ObjectOwnership=BucketOwnerEnforced}]' (S3 console → %s → Permissions → Object Ownership → Edit → ACLs disabled); check first that nothing relies on ACLs (the bucket's ACL must grant only its owner). Or have the owning account grant you each object: aws s3api put-object-acl --bucket %s --key %s --acl bucket-owner-full-control",
		in.BucketName, in.BucketName, in.BucketName, in.BucketName, keys[0]))
}
