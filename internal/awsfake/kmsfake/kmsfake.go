// Package kmsfake is an in-process fake of the KMS API (JSON 1.1 protocol) for tests: keys
// with their manager (AWS or CUSTOMER), aliases and key policies, DescribeKey and
// GetKeyPolicy, and refusals of GetKeyPolicy as for a caller the key policy does not name.
//
// It is test support: only _test.go files and other fakes import it.
package kmsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Fake is the fake KMS service; it is an http.Handler.
type Fake struct {
	mu     sync.Mutex
	keys   []*Key
	denied map[string]bool // operations refused with AccessDeniedException
	calls  []string
}

// Key is one KMS key.
type Key struct {
	ARN string
	// Manager is CUSTOMER or AWS.
	Manager string
	// Aliases are full alias names such as alias/aws/s3.
	Aliases []string
	Policy  string
}

// New returns a fake without keys.
func New() *Fake { return &Fake{denied: map[string]bool{}} }

// PutKey adds a key.
func (f *Fake) PutKey(k Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = append(f.keys, &k)
}

// Deny makes every call of operation (e.g. "GetKeyPolicy") fail with AccessDeniedException.
func (f *Fake) Deny(operation string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.denied[operation] = true
}

// KeyPolicy returns the policy of the key id names (ID, ARN or alias), for other fakes that
// authorize its use.
func (f *Fake) KeyPolicy(id string) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k := f.find(id); k != nil {
		return k.Policy, true
	}
	return "", false
}

// Calls returns the operations called so far, in order.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// find resolves a key ID, key ARN, alias name or alias ARN, as KMS does.
func (f *Fake) find(id string) *Key {
	for _, k := range f.keys {
		keyID := k.ARN[strings.LastIndex(k.ARN, "/")+1:]
		if id == k.ARN || id == keyID {
			return k
		}
		for _, a := range k.Aliases {
			if id == a || strings.HasSuffix(id, ":"+a) {
				return k
			}
		}
	}
	return nil
}

type kmsError struct {
	Type    string `json:"__type"`
	Message string `json:"message"`
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "TrentService.")
	var in struct{ KeyId, PolicyName string }
	decodeErr := json.NewDecoder(r.Body).Decode(&in)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	reply := func(status int, v any) {
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case decodeErr != nil:
		reply(http.StatusBadRequest, kmsError{"SerializationException", decodeErr.Error()})
		return
	case f.denied[op]:
		reply(http.StatusBadRequest, kmsError{"AccessDeniedException",
			fmt.Sprintf("User: arn:aws:iam::111122223333:user/caller is not authorized to perform: kms:%s on this resource because the resource does not exist in this Region, no resource-based policies allow access, or a resource-based policy explicitly denies access", op)})
		return
	}
	k := f.find(in.KeyId)
	if k == nil && (op == "DescribeKey" || op == "GetKeyPolicy") {
		reply(http.StatusBadRequest, kmsError{"NotFoundException", fmt.Sprintf("Key '%s' does not exist", in.KeyId)})
		return
	}
	switch op {
	case "DescribeKey":
		reply(http.StatusOK, map[string]any{"KeyMetadata": map[string]any{
			"Arn": k.ARN, "KeyId": k.ARN[strings.LastIndex(k.ARN, "/")+1:], "KeyManager": k.Manager,
			"KeyState": "Enabled", "Enabled": true, "KeyUsage": "ENCRYPT_DECRYPT"}})
	case "GetKeyPolicy":
		reply(http.StatusOK, map[string]string{"Policy": k.Policy, "PolicyName": "default"})
	default:
		reply(http.StatusBadRequest, kmsError{"UnknownOperationException", "the fake does not implement " + op})
	}
}
