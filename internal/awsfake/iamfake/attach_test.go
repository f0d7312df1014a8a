package iamfake

import (
	"strings"
	"testing"
)

// AttachRolePolicy follows IAM: no such role or policy is NoSuchEntity, attaching twice keeps
// one attachment, and the account's quota of managed policies per role is LimitExceeded.
func TestAttachRolePolicyQuota(t *testing.T) {
	for _, tc := range []struct {
		quota, attach int
		wantErr       string
	}{
		{DefaultPoliciesPerRole, 10, ""},
		{DefaultPoliciesPerRole, 11, "LimitExceeded: Cannot exceed quota for PoliciesPerRole: 10"},
		{20, 20, ""},
	} {
		opts := []Option{}
		if tc.quota != DefaultPoliciesPerRole {
			opts = append(opts, WithPoliciesPerRole(tc.quota))
		}
		f := New(opts...)
		f.PutRole("r", "{}")
		var err error
		for i := 0; i < tc.attach && err == nil; i++ {
			arn := f.CreatePolicy("p"+string(rune('a'+i)), "{}")
			if err = f.AttachRolePolicy("r", arn); err == nil {
				err = f.AttachRolePolicy("r", arn) // again: still one attachment
			}
		}
		if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr) {
			t.Errorf("quota %d, %d policies: %v, want %q", tc.quota, tc.attach, err, tc.wantErr)
		}
		if n := len(f.AttachedPolicies("r")); n != min(tc.attach, tc.quota) {
			t.Errorf("quota %d: %d attached", tc.quota, n)
		}
	}
	f := New()
	if err := f.AttachRolePolicy("missing", f.CreatePolicy("p", "{}")); err == nil || !strings.HasPrefix(err.Error(), "NoSuchEntity") {
		t.Errorf("missing role: %v", err)
	}
	f.PutRole("r", "{}")
	if err := f.AttachRolePolicy("r", "arn:aws:iam::111122223333:policy/none"); err == nil || !strings.HasPrefix(err.Error(), "NoSuchEntity") {
		t.Errorf("missing policy: %v", err)
	}
}
