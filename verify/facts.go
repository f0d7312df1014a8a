package verify

import (
	"strings"

	"github.com/isahit/s3grant/stacks"
)

// Facts is what the customer-side collector read. Each part carries the error that stopped
// its reading, so a check can say why it could not decide instead of guessing.
type Facts struct {
	Stack    *Stack
	StackErr error

	Role    *Role
	RoleErr error

	AccessPoint    *AccessPoint
	AccessPointErr error

	// CORS is nil when the bucket has no CORS configuration.
	CORS    []stacks.CORSRule
	CORSErr error

	Encryption    *Encryption
	EncryptionErr error

	BucketRegion    string
	BucketRegionErr error

	// BucketPolicy and AccessPointPolicy are nil when there is none.
	BucketPolicy         *Policy
	BucketPolicyErr      error
	AccessPointPolicy    *Policy
	AccessPointPolicyErr error

	// Objects are the sampled objects under the prefix (objects.go).
	Objects    *Objects
	ObjectsErr error

	// ManagedBy is the s3grant stack that manages the role, nil when none is known: its
	// resources are fixed through it (stackfix.go).
	ManagedBy *Stack
	// NoStack, with no ManagedBy, is what a hand fix of the role adds about its stack: the
	// role lacks the tags naming it, or they name a stack of another region ("" if nothing).
	NoStack string
}

// Stack is a CloudFormation stack as DescribeStacks shows it.
type Stack struct {
	Name, Status, StatusReason string
	Outputs, Parameters        map[string]string
}

// Role is an IAM role with its trust policy and every identity policy attached to it.
type Role struct {
	ARN      string
	Trust    Policy
	Policies []RolePolicy
	// Boundary is the role's permissions boundary, nil when it has none.
	Boundary *RolePolicy
	// Simulated holds the IAM policy simulator's decisions by Request.Key, when the caller may run it;
	// SimulatorSkipped then says why it is nil.
	Simulated        map[string]Decision
	SimulatorSkipped string
}

// RolePolicy is one identity policy of a role: inline (ARN empty) or managed.
type RolePolicy struct {
	Name     string
	ARN      string
	Document Policy
}

// AccessPoint is an S3 access point as GetAccessPoint shows it.
type AccessPoint struct {
	Name, ARN, Bucket, NetworkOrigin string
	// BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, RestrictPublicBuckets in that order.
	PublicAccessBlock [4]bool
}

// Encryption is a bucket's default encryption and, for SSE-KMS, what is known of its key.
type Encryption struct {
	// Algorithm is AES256, aws:kms or aws:kms:dsse; empty when the bucket has no configuration.
	Algorithm string
	// KeyID is the KMSMasterKeyID as configured (key ID, key ARN or alias); empty means aws/s3.
	KeyID string
	// KeyARN and KeyManager (AWS or CUSTOMER) come from DescribeKey; empty when not readable.
	KeyARN, KeyManager string
	// KeyPolicy is nil when GetKeyPolicy was refused; KeyPolicySkipped then says why.
	KeyPolicy        *Policy
	KeyPolicySkipped string
}

// customerKey returns the ARN of the customer managed key the bucket encrypts with, or "".
func (e *Encryption) customerKey() string {
	if e == nil || e.Algorithm == "" || e.Algorithm == "AES256" || e.KeyID == "" || e.KeyManager == "AWS" ||
		strings.HasSuffix(e.KeyID, "alias/aws/s3") {
		return ""
	}
	if e.KeyARN != "" {
		return e.KeyARN
	}
	return e.KeyID
}

// keyPolicy returns the key policy read, or nil.
func (e *Encryption) keyPolicy() *Policy {
	if e == nil {
		return nil
	}
	return e.KeyPolicy
}
