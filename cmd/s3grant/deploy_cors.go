package main

import (
	"encoding/json"
	"fmt"

	"github.com/isahit/s3grant/deploy"
	"github.com/isahit/s3grant/stacks"
)

// corsToAdd ends a deploy that leaves CORS to the customer (--manage-cors=false) with the rule
// the vendor's web apps need, from the model, and how to add it without losing the bucket's
// own rules: the stack is complete, but the setup is not until that rule is there. It prints
// nothing after a failure, a dry run or a kept change set, and returns err unchanged.
func (u *ui) corsToAdd(in stacks.Integration, res *deploy.Result, err error) error {
	if in.ManageCORS || err != nil || res == nil || (res.Outcome != deploy.Created && res.Outcome != deploy.Updated) {
		return err
	}
	rule, jerr := json.MarshalIndent(in.CORSRule(), "", "  ")
	if jerr != nil {
		return jerr
	}
	buckets, berr := in.Buckets()
	if berr != nil {
		return berr
	}
	if len(buckets) == 1 {
		fmt.Fprintf(u.w, "\nCORS is yours to manage (%s=false): %s's web apps load images in the browser only once "+
			"bucket %s's CORS configuration holds this rule:\n%s\n", flagFor("ManageCors"), in.Vendor.Name, in.BucketName, rule)
		fmt.Fprintf(u.w, "Add it next to the bucket's other rules (S3 console: %s, Permissions, Cross-origin resource sharing "+
			"(CORS), Edit). Careful with `aws s3api put-bucket-cors`: it replaces the whole configuration, so first read "+
			"the rules there with `aws s3api get-bucket-cors --bucket %s`, add this rule to their CORSRules list and write "+
			"them all back. `s3grant verify` then checks that the rule is there.\n", in.BucketName, in.BucketName)
		return nil
	}
	fmt.Fprintf(u.w, "\nCORS is yours to manage (%s=false): %s's web apps load images in the browser only once "+
		"the CORS configuration of each of the %d buckets holds this rule:\n%s\n", flagFor("ManageCors"), in.Vendor.Name, len(buckets), rule)
	fmt.Fprintln(u.w, "Add it next to each bucket's other rules (S3 console: the bucket, Permissions, Cross-origin resource sharing "+
		"(CORS), Edit). Careful with `aws s3api put-bucket-cors`: it replaces the whole configuration, so first read "+
		"each bucket's rules, add this rule to their CORSRules list and write them all back:")
	for _, b := range buckets {
		fmt.Fprintf(u.w, "  aws s3api get-bucket-cors --bucket %s\n", b.Name)
	}
	fmt.Fprintln(u.w, "`s3grant verify` then checks that every bucket holds the rule.")
	return nil
}
