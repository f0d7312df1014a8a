"""Tests for cors.py, the Custom::BucketCors Lambda. Run: cd stacks/lambda && /usr/bin/python3 -m unittest -v

They need boto3/botocore (Debian: python3-boto3 python3-botocore). Without them the tests fail
when CI=true and are skipped, saying so, elsewhere.
"""

import http.server
import json
import logging
import os
import threading
import unittest

try:
    import boto3  # noqa: F401
    import botocore  # noqa: F401
except ImportError as err:
    if os.environ.get("CI") == "true":
        raise ImportError(f"CI needs boto3 and botocore for the CORS Lambda tests "
                          f"(apt-get install python3-boto3 python3-botocore): {err}") from err
    raise unittest.SkipTest(f"boto3/botocore missing ({err}); install python3-boto3 python3-botocore to run "
                            f"the CORS Lambda tests")

from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber

import cors
from fake_s3 import FakeS3

logging.getLogger().addHandler(logging.NullHandler())  # The handler's logs would drown the test report.

STACK = "arn:aws:cloudformation:eu-west-3:123456789012:stack/lab/5a1b2c3d-0000-4000-8000-000000000000"
STACK_UUID = "5a1b2c3d-0000-4000-8000-000000000000"
OURS = f"s3grant:isahit-lab:lab:{STACK_UUID}"
LEGACY = f"isahit-lab-lab-{STACK_UUID}"  # The rule ID of stacks made before the managed form.
BUCKET = "customer-images"
ORIGINS = ["https://lab.isahit.com", "https://work.isahit.com"]
OUR_RULE = {"ID": OURS, "AllowedOrigins": ORIGINS, "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}

CUSTOMER = {"ID": "website", "AllowedOrigins": ["https://www.example.com"], "AllowedMethods": ["GET", "HEAD"],
            "AllowedHeaders": ["Authorization", "x-amz-*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}
NO_ID = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
SAME_AS_OURS_NO_ID = {"AllowedOrigins": ORIGINS, "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}
OTHER_STACK = {"ID": "s3grant:isahit-lab:staging:77777777-0000-4000-8000-000000000000", "AllowedOrigins": ORIGINS, "AllowedMethods": ["GET"],
               "AllowedHeaders": ["*"]}
UPLOADS = {"ID": "uploads", "AllowedOrigins": ["https://*.example.org"], "AllowedMethods": ["PUT", "POST", "DELETE"],
           "ExposeHeaders": ["ETag", "x-amz-version-id"]}


def others(n):
    return [{"ID": f"rule-{i:03d}", "AllowedOrigins": [f"https://s{i}.example.com"], "AllowedMethods": ["GET"]}
            for i in range(n)]


# Existing configurations a customer may have before our Create (None: no CORS configuration).
SHAPES = {
    "none": None,
    "one customer rule": [CUSTOMER],
    "several, mixed fields": [CUSTOMER, UPLOADS, NO_ID],
    "rule without ID, same content as ours": [SAME_AS_OURS_NO_ID],
    "another s3grant stack's rule, same origins": [OTHER_STACK, CUSTOMER],
    "duplicate customer rules": [CUSTOMER, CUSTOMER],
    "99 rules": others(99),
}


def props(bucket=BUCKET, vendor="isahit-lab", **extra):
    p = {"ServiceToken": "arn:aws:lambda:eu-west-3:123456789012:function:cors", "BucketName": bucket,
         "VendorId": vendor, "AllowedOrigins": list(ORIGINS), "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}
    p.update(extra)
    return {k: v for k, v in p.items() if v is not None}


def event(kind, properties=None, physical_id=None, old=None):
    e = {"RequestType": kind, "ResponseURL": "https://cloudformation-custom-resource-response.example/x?sig=1",
         "StackId": STACK, "RequestId": f"req-{kind}", "LogicalResourceId": "BucketCors",
         "ResourceType": "Custom::BucketCors", "ResourceProperties": properties if properties is not None else props()}
    if physical_id is not None:
        e["PhysicalResourceId"] = physical_id
    if old is not None:
        e["OldResourceProperties"] = old
    return e


class Context:
    log_stream_name = "2026/11/27/[$LATEST]0123456789abcdef"

    def __init__(self, remaining_s=60.0):
        self.remaining_s = remaining_s

    def get_remaining_time_in_millis(self):
        return int(self.remaining_s * 1000)


class Reply:
    status = 200

    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False


class Opener:
    """Stands in for urllib's urlopen: records each response PUT; can fail the first ones."""

    def __init__(self, failures=0, on_send=None):
        self.requests = []
        self.failures = failures
        self.on_send = on_send

    def __call__(self, request, timeout):
        self.requests.append(request)
        if self.on_send:
            self.on_send()
        if self.failures:
            self.failures -= 1
            raise OSError("connection reset")
        return Reply()

    @property
    def bodies(self):
        return [json.loads(r.data) for r in self.requests]


def no_s3():
    raise AssertionError("this event must not call S3")


def run(e, s3, context=None, **kw):
    """Handle one event with client `s3` (or a factory); return the decoded response bodies."""
    opener = kw.pop("opener", None) or Opener()
    factory = s3 if callable(s3) and not hasattr(s3, "meta") else (lambda: s3)
    cors.handle(e, context or Context(), s3_factory=factory, opener=opener, sleep=lambda s: None, **kw)
    return opener.bodies


class Case(unittest.TestCase):
    def setUp(self):
        self.fake = FakeS3(BUCKET, "new-bucket")
        self.s3 = self.fake.client()
        self.customer = self.fake.client()  # Another S3 user, who set the bucket's existing rules.

    def seed(self, rules, bucket=BUCKET):
        if rules is not None:
            self.customer.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
        self.fake.calls.clear()

    def rules(self, bucket=BUCKET):
        if self.fake.cors[bucket] is None:
            return None
        return self.customer.get_bucket_cors(Bucket=bucket)["CORSRules"]

    def one(self, bodies, status):
        self.assertEqual(len(bodies), 1, bodies)
        self.assertEqual(bodies[0]["Status"], status, bodies[0]["Reason"])
        return bodies[0]


class RoundTripTest(Case):
    """Done-when: create-then-delete leaves every shape of configuration byte for byte as it was."""

    def test_create_then_delete_restores_every_shape(self):
        for name, rules in SHAPES.items():
            with self.subTest(name):
                self.setUp()
                self.seed(rules)
                before = self.fake.cors[BUCKET]
                created = self.one(run(event("Create"), self.s3), "SUCCESS")
                self.assertEqual(self.rules(), (rules or []) + [OUR_RULE])
                self.one(run(event("Delete", physical_id=created["PhysicalResourceId"]), self.s3), "SUCCESS")
                self.assertEqual(self.fake.cors[BUCKET], before)

    def test_update_then_delete_restores_every_shape(self):
        for name, rules in SHAPES.items():
            with self.subTest(name):
                self.setUp()
                self.seed(rules)
                before = self.fake.cors[BUCKET]
                pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
                changed = props(AllowedOrigins=["https://lab.isahit.com"], MaxAgeSeconds="600")
                self.one(run(event("Update", changed, pid, props()), self.s3), "SUCCESS")
                self.one(run(event("Delete", changed, pid), self.s3), "SUCCESS")
                self.assertEqual(self.fake.cors[BUCKET], before)

    def test_stale_rule_with_our_id_is_replaced_in_place(self):
        # Only this stack uses its rule ID, so a rule carrying it was left by an earlier attempt.
        stale = {"ID": OURS, "AllowedOrigins": ["https://old.example"], "AllowedMethods": ["PUT"]}
        self.seed([CUSTOMER, stale, UPLOADS, stale])
        self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE, UPLOADS])


class EventTest(Case):
    def test_create_without_configuration(self):
        body = self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], f"{BUCKET}/{OURS}")
        self.assertEqual(body["Data"], {"RuleId": OURS, "Bucket": BUCKET})
        self.assertEqual(self.rules(), [OUR_RULE])

    def test_create_with_all_fields(self):
        p = props(ExposeHeaders=["ETag"], MaxAgeSeconds="3000", AllowedMethods=["GET", "HEAD"])
        self.one(run(event("Create", p), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [dict(OUR_RULE, ExposeHeaders=["ETag"], MaxAgeSeconds=3000,
                                             AllowedMethods=["GET", "HEAD"])])

    def test_empty_optional_lists_are_left_out(self):
        p = props(AllowedHeaders=[], ExposeHeaders=[], MaxAgeSeconds="")
        self.one(run(event("Create", p), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [{k: v for k, v in OUR_RULE.items() if k != "AllowedHeaders"}])

    def test_retried_create_writes_nothing(self):
        self.seed([CUSTOMER])
        run(event("Create"), self.s3)
        self.fake.calls.clear()
        self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertEqual(self.fake.writes(), [])
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])

    def test_update_same_bucket_changes_only_our_rule_in_place(self):
        self.seed([CUSTOMER])
        pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.customer.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [CUSTOMER, OUR_RULE, UPLOADS]})
        new = props(AllowedOrigins=["https://lab.isahit.com", "https://new.isahit.com"])
        body = self.one(run(event("Update", new, pid, props()), self.s3), "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], pid)
        self.assertEqual(self.rules(), [CUSTOMER, dict(OUR_RULE, AllowedOrigins=new["AllowedOrigins"]), UPLOADS])

    def test_update_restores_a_rule_removed_by_hand(self):
        pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.customer.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [CUSTOMER]})
        self.one(run(event("Update", props(), pid, props()), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])

    def test_repair_token_update_puts_back_a_removed_rule_keeping_customer_rules(self):
        # s3grant deploy --repair-cors: only RepairToken changes, so CloudFormation sends an Update
        # whose other properties are the old ones; the vendor's rule, dropped by other tooling
        # (e.g. Terraform owning the whole CORS document), comes back, the customer's rules stay.
        old = props(RepairToken="")
        self.seed([CUSTOMER])
        pid = self.one(run(event("Create", old), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.customer.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [CUSTOMER, UPLOADS]})
        self.fake.calls.clear()
        repaired = props(RepairToken="r20261201101500-1a2b3c4d")
        body = self.one(run(event("Update", repaired, pid, old), self.s3), "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], pid)  # In place: no replacement, no Delete after.
        self.assertEqual(self.rules(), [CUSTOMER, UPLOADS, OUR_RULE])  # The token is not part of the rule.
        # A second repair with the rule in place writes nothing.
        self.fake.calls.clear()
        again = props(RepairToken="r20261201102000-5e6f7a8b")
        self.one(run(event("Update", again, pid, repaired), self.s3), "SUCCESS")
        self.assertEqual(self.fake.writes(), [])
        self.assertEqual(self.rules(), [CUSTOMER, UPLOADS, OUR_RULE])

    def test_update_bucket_changed_is_a_replacement(self):
        self.seed([CUSTOMER])
        self.seed([UPLOADS], "new-bucket")
        old_pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        body = self.one(run(event("Update", props(bucket="new-bucket"), old_pid, props()), self.s3), "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], f"new-bucket/{OURS}")
        self.assertEqual(body["Data"], {"RuleId": OURS, "Bucket": "new-bucket"})
        self.assertEqual(self.rules("new-bucket"), [UPLOADS, OUR_RULE])
        # Until CloudFormation's cleanup Delete, the old rule stays (a rollback may still need it).
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])
        # The cleanup Delete carries the old physical ID; it must touch the old bucket only.
        self.fake.calls.clear()
        self.one(run(event("Delete", props(), old_pid), self.s3), "SUCCESS")
        self.assertEqual({b for _, b in self.fake.calls}, {BUCKET})
        self.assertEqual(self.rules(), [CUSTOMER])
        self.assertEqual(self.rules("new-bucket"), [UPLOADS, OUR_RULE])

    def test_update_rule_id_changed_replaces_the_rule_in_place(self):
        self.seed([CUSTOMER])
        old_pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.customer.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={"CORSRules": [CUSTOMER, OUR_RULE, UPLOADS]})
        renamed = f"s3grant:acme:lab:{STACK_UUID}"
        body = self.one(run(event("Update", props(vendor="acme"), old_pid, props()), self.s3), "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], f"{BUCKET}/{renamed}")
        self.assertEqual(self.rules(), [CUSTOMER, dict(OUR_RULE, ID=renamed), UPLOADS])
        # CloudFormation's cleanup Delete of the old physical ID then finds nothing to remove.
        self.fake.calls.clear()
        self.one(run(event("Delete", props(), old_pid), self.s3), "SUCCESS")
        self.assertEqual(self.fake.writes(), [])
        self.assertEqual(self.rules(), [CUSTOMER, dict(OUR_RULE, ID=renamed), UPLOADS])

    def test_update_rolled_back_after_bucket_change(self):
        # Rollback: the new physical ID is deleted (with the new properties); the old rule is still there.
        self.seed([CUSTOMER])
        old_pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        new_pid = self.one(run(event("Update", props(bucket="new-bucket"), old_pid), self.s3),
                           "SUCCESS")["PhysicalResourceId"]
        self.one(run(event("Delete", props(bucket="new-bucket"), new_pid), self.s3), "SUCCESS")
        self.assertIsNone(self.rules("new-bucket"))
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])

    def test_failed_update_to_another_bucket_is_rolled_back(self):
        # The write to the new bucket lands, then its read-back fails. FAILED carries the new ID, so
        # the rollback's Delete for it removes that half-done rule; the old bucket is never touched.
        self.seed([CUSTOMER])
        self.seed([UPLOADS], "new-bucket")
        old_pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.fake.after["PutBucketCors"] = lambda b: self.fake.fail("GetBucketCors", "InternalError", 500)
        body = self.one(run(event("Update", props(bucket="new-bucket"), old_pid, props()), self.s3), "FAILED")
        self.assertEqual(body["PhysicalResourceId"], f"new-bucket/{OURS}")
        self.fake.after.clear()
        self.one(run(event("Update", props(), body["PhysicalResourceId"], props(bucket="new-bucket")), self.s3),
                 "SUCCESS")
        self.one(run(event("Delete", props(bucket="new-bucket"), body["PhysicalResourceId"]), self.s3), "SUCCESS")
        self.assertEqual(self.rules("new-bucket"), [UPLOADS])
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])

    def test_delete_ours_only_deletes_the_configuration(self):
        pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.fake.calls.clear()
        self.one(run(event("Delete", physical_id=pid), self.s3), "SUCCESS")
        self.assertIn(("DeleteBucketCors", BUCKET), self.fake.calls)
        self.assertNotIn(("PutBucketCors", BUCKET), self.fake.calls)
        self.assertIsNone(self.fake.cors[BUCKET])

    def test_delete_among_others_keeps_the_configuration(self):
        self.seed([CUSTOMER, OUR_RULE, UPLOADS])
        self.one(run(event("Delete", physical_id=f"{BUCKET}/{OURS}"), self.s3), "SUCCESS")
        self.assertNotIn(("DeleteBucketCors", BUCKET), self.fake.calls)
        self.assertEqual(self.rules(), [CUSTOMER, UPLOADS])

    def test_delete_when_bucket_gone(self):
        del self.fake.cors[BUCKET]
        body = self.one(run(event("Delete", physical_id=f"{BUCKET}/{OURS}"), self.s3), "SUCCESS")
        self.assertIn("no longer exists", body["Reason"])
        self.assertEqual(self.fake.writes(), [])

    def test_retried_delete_writes_nothing(self):
        self.seed([CUSTOMER])
        pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.one(run(event("Delete", physical_id=pid), self.s3), "SUCCESS")
        self.fake.calls.clear()
        self.one(run(event("Delete", physical_id=pid), self.s3), "SUCCESS")
        self.assertEqual(self.fake.writes(), [])
        self.assertEqual(self.rules(), [CUSTOMER])

    def test_delete_without_configuration(self):
        self.one(run(event("Delete", physical_id=f"{BUCKET}/{OURS}"), self.s3), "SUCCESS")
        self.assertEqual(self.fake.calls, [("GetBucketCors", BUCKET)])

    def test_delete_after_create_that_never_answered_uses_properties(self):
        # CloudFormation then deletes with whatever physical ID it has, e.g. a log stream name.
        self.seed([CUSTOMER, OUR_RULE])
        body = self.one(run(event("Delete", physical_id=Context.log_stream_name), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER])
        # A response's PhysicalResourceId must be identical for all responses for the same resource.
        self.assertEqual(body["PhysicalResourceId"], Context.log_stream_name)

    def test_delete_of_invalid_create_touches_nothing(self):
        body = self.one(run(event("Delete", {"ServiceToken": "x"}, cors.NOTHING_WRITTEN + "req-Create"), no_s3),
                        "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], cors.NOTHING_WRITTEN + "req-Create")

    def test_failed_create_that_wrote_nothing_is_rolled_back_without_s3(self):
        # The rollback's Delete carries the FAILED answer's physical ID. Had the Create named the
        # bucket, that Delete would hit the same AccessDenied and the stack would end ROLLBACK_FAILED.
        self.seed([CUSTOMER])
        before = self.fake.cors[BUCKET]
        self.fake.fail("GetBucketCors", "AccessDenied", 403, times=1000)
        body = self.one(run(event("Create"), self.s3), "FAILED")
        self.assertTrue(body["PhysicalResourceId"].startswith(cors.NOTHING_WRITTEN), body["PhysicalResourceId"])
        self.fake.calls.clear()
        deleted = self.one(run(event("Delete", physical_id=body["PhysicalResourceId"]), self.s3), "SUCCESS")
        self.assertEqual(deleted["PhysicalResourceId"], body["PhysicalResourceId"])
        self.assertEqual(self.fake.calls, [])
        self.assertEqual(self.fake.cors[BUCKET], before)

    def test_failed_update_that_wrote_nothing_keeps_its_physical_id(self):
        old_pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.fake.fail("GetBucketCors", "AccessDenied", 403, times=1000)
        body = self.one(run(event("Update", props(bucket="new-bucket"), old_pid, props()), self.s3), "FAILED")
        self.assertEqual(body["PhysicalResourceId"], old_pid)

    def test_failed_create_is_rolled_back_by_its_delete(self):
        # The create writes, then its read-back fails: FAILED, but with our physical ID, so the
        # rollback Delete removes what was written.
        self.seed([CUSTOMER])
        self.fake.after["PutBucketCors"] = lambda b: self.fake.fail("GetBucketCors", "InternalError", 500)
        body = self.one(run(event("Create"), self.s3), "FAILED")
        self.assertEqual(body["PhysicalResourceId"], f"{BUCKET}/{OURS}")
        self.fake.after.clear()
        self.one(run(event("Delete", physical_id=body["PhysicalResourceId"]), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER])


class LimitTest(Case):
    def test_99_others_plus_ours(self):
        self.seed(others(99))
        self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertEqual(len(self.rules()), 100)

    def test_100_others_plus_ours_refused(self):
        self.seed(others(100))
        before = self.fake.cors[BUCKET]
        body = self.one(run(event("Create"), self.s3), "FAILED")
        self.assertIn("101 rules (S3 allows 100)", body["Reason"])
        self.assertEqual(self.fake.writes(), [])
        self.assertEqual(self.fake.cors[BUCKET], before)

    def test_update_of_our_rule_in_a_full_configuration(self):
        self.seed(others(99) + [OUR_RULE])
        new = props(AllowedOrigins=["https://lab.isahit.com"])
        self.one(run(event("Update", new, f"{BUCKET}/{OURS}"), self.s3), "SUCCESS")
        self.assertEqual(self.rules()[-1]["AllowedOrigins"], ["https://lab.isahit.com"])

    def near_limit(self, pad):
        """A configuration of about 65 KB of XML: 20 rules of 46 origins and one padded origin."""
        rules = [{"ID": f"big-{i}", "AllowedMethods": ["GET"],
                  "AllowedOrigins": [f"https://app-{i}-{j}.customer-example.com" for j in range(46)]} for i in range(20)]
        return rules + [{"ID": "pad", "AllowedMethods": ["GET"], "AllowedOrigins": [f"https://{'p' * pad}.example.com"]}]

    def test_size_just_under_64_kb_with_ours(self):
        self.seed(self.near_limit(800))  # 65,215 bytes; ours (about 210) still fits.
        self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertLessEqual(len(self.fake.bodies[-1]), 64 * 1024)

    def test_size_over_64_kb_refused(self):
        self.seed(self.near_limit(1000))  # 65,415 bytes: S3 took it, but not with ours added.
        self.assertGreater(len(self.fake.bodies[-1]), 64 * 1024 - 150)
        before = self.fake.cors[BUCKET]
        body = self.one(run(event("Create"), self.s3), "FAILED")
        self.assertIn("bytes of XML (S3 allows 65536)", body["Reason"])
        self.assertEqual(self.fake.writes(), [])
        self.assertEqual(self.fake.cors[BUCKET], before)

    def test_size_is_measured_on_the_body_sent(self):
        self.seed([CUSTOMER, UPLOADS, NO_ID])
        self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertEqual(cors.xml_size(self.s3, BUCKET, self.rules()), len(self.fake.bodies[-1]))


class FailureTest(Case):
    def assertFailed(self, e, *words):
        body = self.one(run(e, self.s3), "FAILED")
        for word in words:
            self.assertIn(word, body["Reason"])
        self.assertIn(Context.log_stream_name, body["Reason"])
        return body

    def test_access_denied_on_each_call(self):
        cases = [("Create", "GetBucketCors", [CUSTOMER], "s3:GetBucketCORS"),
                 ("Create", "PutBucketCors", [CUSTOMER], "s3:PutBucketCORS"),
                 ("Delete", "GetBucketCors", [CUSTOMER, OUR_RULE], "s3:GetBucketCORS"),
                 ("Delete", "PutBucketCors", [CUSTOMER, OUR_RULE], "s3:PutBucketCORS"),
                 ("Delete", "DeleteBucketCors", [OUR_RULE], "s3:PutBucketCORS")]
        for kind, op, rules, action in cases:
            with self.subTest(kind=kind, op=op):
                self.setUp()
                self.seed(rules)
                before = self.fake.cors[BUCKET]
                self.fake.fail(op, "AccessDenied", 403, times=1000)
                e = event(kind, physical_id=f"{BUCKET}/{OURS}" if kind == "Delete" else None)
                body = self.assertFailed(e, "AccessDenied", action, BUCKET, "bucket policy")
                if kind == "Delete":
                    self.assertIn(f"remove the CORS rule with ID {OURS} from bucket {BUCKET} by hand", body["Reason"])
                self.assertEqual(self.fake.cors[BUCKET], before)

    def test_access_denied_while_a_new_policy_propagates_is_retried(self):
        # CloudFormation reports the function's bucket policy created before IAM applies it: the
        # first calls of a Create, or of an Update to another bucket, may be denied for seconds.
        for kind, op in (("Create", "GetBucketCors"), ("Create", "PutBucketCors"), ("Update", "GetBucketCors")):
            with self.subTest(kind=kind, op=op):
                self.setUp()
                self.seed([CUSTOMER])
                self.fake.fail(op, "AccessDenied", 403, times=3)
                pauses = []
                e = event(kind, physical_id=f"{BUCKET}/{OURS}" if kind == "Update" else None)
                bodies = Opener()
                cors.handle(e, Context(), s3_factory=lambda: self.s3, opener=bodies, sleep=pauses.append)
                self.one(bodies.bodies, "SUCCESS")
                self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])
                self.assertEqual(len(pauses), 3)

    def test_access_denied_on_delete_is_not_retried(self):
        self.seed([CUSTOMER, OUR_RULE])
        self.fake.fail("GetBucketCors", "AccessDenied", 403, times=1000)
        self.assertFailed(event("Delete", physical_id=f"{BUCKET}/{OURS}"), "AccessDenied")
        self.assertEqual(self.fake.calls, [("GetBucketCors", BUCKET)])

    def test_throttled_until_retries_run_out(self):
        for op in ("GetBucketCors", "PutBucketCors"):
            with self.subTest(op):
                self.setUp()
                self.fake.fail(op, "SlowDown", 503)
                self.assertFailed(event("Create"), "SlowDown", "retry the stack operation")

    def test_throttling_is_retried_by_the_client(self):
        s3 = self.fake.client(attempts=3)
        self.fake.fail("PutBucketCors", "SlowDown", 503)
        self.one(run(event("Create"), s3), "SUCCESS")
        self.assertEqual(self.rules(), [OUR_RULE])
        self.assertEqual(self.fake.calls.count(("PutBucketCors", BUCKET)), 2)

    def test_missing_bucket_on_create(self):
        del self.fake.cors[BUCKET]
        body = self.assertFailed(event("Create"), "does not exist", "BucketName")
        self.assertEqual(body["PhysicalResourceId"], cors.NOTHING_WRITTEN + "req-Create")

    def test_s3_refuses_the_configuration(self):
        self.fake.fail("PutBucketCors", "InvalidRequest", 400)
        self.assertFailed(event("Create"), "refused the new CORS configuration", "AllowedOrigins")

    def test_region_mismatch(self):
        self.fake.fail("GetBucketCors", "AuthorizationHeaderMalformed", 400)
        self.assertFailed(event("Create"), "another region")

    def test_other_s3_error(self):
        self.fake.fail("GetBucketCors", "InvalidBucketState", 409)
        self.assertFailed(event("Create"), "InvalidBucketState", "HTTP 409")

    def test_s3_unreachable(self):
        def unreachable(**_):
            raise EndpointConnectionError(endpoint_url="https://s3.eu-west-3.amazonaws.com")
        self.s3.meta.events.register_first("before-send.s3", unreachable)
        self.assertFailed(event("Create"), "Could not complete S3 GetBucketCors", "reach S3")

    def test_unexpected_exception(self):
        def boom(**_):
            raise RuntimeError("disk on fire")
        self.s3.meta.events.register_first("before-send.s3", boom)
        self.assertFailed(event("Create"), "Internal error", "RuntimeError: disk on fire")

    def test_client_cannot_be_made(self):
        def factory():
            raise RuntimeError("no region")
        body = self.one(run(event("Create"), factory), "FAILED")
        self.assertIn("no region", body["Reason"])

    def test_unknown_request_type(self):
        self.assertFailed(event("Upsert", physical_id="x"), "Unknown RequestType 'Upsert'")

    def test_invalid_properties_name_the_property(self):
        cases = {"BucketName": props(bucket=None), "VendorId": props(vendor="Bad Vendor"),
                 "VendorId missing": props(vendor=None),
                 "RuleId of a customer rule": props(vendor=None, RuleId="website"),
                 "RuleId of another stack": props(vendor=None, RuleId="isahit-lab-staging-" + STACK_UUID),
                 "MaxAgeSeconds int32": props(MaxAgeSeconds=str(2 ** 31)),
                 "MaxAgeSeconds 10000000000": props(MaxAgeSeconds="10000000000"),
                 "AllowedOrigins": props(AllowedOrigins=[]), "AllowedMethods": props(AllowedMethods=["PATCH"])}
        cases.update({"AllowedHeaders": props(AllowedHeaders="*"), "MaxAgeSeconds": props(MaxAgeSeconds="soon"),
                      "ExposeHeaders": props(ExposeHeaders=[""])})
        cases["AllowedOrigins '*"] = props(AllowedOrigins=["https://*.*.example.com"])
        cases["AllowedOrigins spaces"] = props(AllowedOrigins=["https://lab.isahit.com", " https://work.isahit.com"])
        for name, p in cases.items():
            with self.subTest(name):
                body = self.one(run(event("Create", p), no_s3), "FAILED")
                self.assertIn(f"Property {name.split()[0]}", body["Reason"])
        body = self.one(run(event("Create", props(bucket=None)), no_s3), "FAILED")
        self.assertEqual(body["PhysicalResourceId"], cors.NOTHING_WRITTEN + "req-Create")
        body = self.one(run(event("Update", props(bucket=None), f"{BUCKET}/{OURS}"), no_s3), "FAILED")
        self.assertEqual(body["PhysicalResourceId"], f"{BUCKET}/{OURS}")


class RuleIdTest(Case):
    """Our rule is the one whose ID is exactly this stack's: no customer rule can be taken for it."""

    def test_the_managed_id_is_reserved_and_unique_to_the_stack(self):
        self.assertEqual(cors.managed_rule_id("isahit-lab", STACK), OURS)
        self.assertTrue(OURS.startswith(cors.MANAGED_PREFIX))
        self.assertLessEqual(len(cors.managed_rule_id("v" * 32, STACK.replace("/lab/", "/" + "s" * 128 + "/"))), 255)
        for other in ("website", OURS + "x", "x" + OURS, OURS.replace("lab:", "staging:"),
                      OURS.replace(STACK_UUID, "77777777-0000-4000-8000-000000000000"), LEGACY + "-2",
                      "s3grant:", "isahit-lab-lab", OURS.upper()):
            with self.subTest(other):
                self.assertFalse(cors.is_ours(other, STACK))
        self.assertTrue(cors.is_ours(OURS, STACK))
        self.assertTrue(cors.is_ours(LEGACY, STACK))
        self.assertFalse(cors.is_ours(OURS, "not-a-stack-arn"))

    def test_customer_rules_with_look_alike_ids_are_never_touched(self):
        look_alikes = [dict(CUSTOMER, ID=i) for i in ("s3grant:isahit-lab:lab", OURS + "-copy",
                                                      f"isahit-lab-staging-{STACK_UUID}", "lab")]
        self.seed(look_alikes)
        before = self.fake.cors[BUCKET]
        pid = self.one(run(event("Create"), self.s3), "SUCCESS")["PhysicalResourceId"]
        self.assertEqual(self.rules(), look_alikes + [OUR_RULE])
        self.one(run(event("Delete", physical_id=pid), self.s3), "SUCCESS")
        self.assertEqual(self.fake.cors[BUCKET], before)

    def test_a_physical_id_naming_a_customer_rule_is_not_ours(self):
        # Whatever physical ID a Delete carries, only this stack's own rule ID is removed.
        self.seed([CUSTOMER, OUR_RULE])
        self.one(run(event("Delete", physical_id=f"{BUCKET}/website"), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER])

    def test_upgrade_from_the_old_id_replaces_the_rule_in_place(self):
        # A stack made by the previous template: its rule has the old ID form; the update to this
        # template's properties (VendorId) rewrites that rule in place, even in a full configuration.
        old = props(vendor=None, RuleId=LEGACY)
        self.seed(others(50) + [dict(OUR_RULE, ID=LEGACY)] + others(99)[50:])
        legacy_pid = f"{BUCKET}/{LEGACY}"
        body = self.one(run(event("Update", props(), legacy_pid, old), self.s3), "SUCCESS")
        self.assertEqual(body["PhysicalResourceId"], f"{BUCKET}/{OURS}")
        self.assertIn("99 other rule(s)", body["Reason"])
        self.assertEqual(self.rules(), others(50) + [OUR_RULE] + others(99)[50:])
        # CloudFormation's cleanup Delete for the old physical ID (old properties) changes nothing.
        self.fake.calls.clear()
        self.one(run(event("Delete", old, legacy_pid), self.s3), "SUCCESS")
        self.assertEqual(self.fake.writes(), [])
        self.one(run(event("Delete", props(), body["PhysicalResourceId"]), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), others(99))

    def test_upgrade_rolled_back_restores_the_old_id(self):
        old = props(vendor=None, RuleId=LEGACY)
        self.seed([CUSTOMER, dict(OUR_RULE, ID=LEGACY), UPLOADS])
        before = self.fake.cors[BUCKET]
        new_pid = self.one(run(event("Update", props(), f"{BUCKET}/{LEGACY}", old), self.s3),
                           "SUCCESS")["PhysicalResourceId"]
        # Rollback: an Update back to the old properties, then the cleanup Delete of the new ID.
        back = self.one(run(event("Update", old, new_pid, props()), self.s3), "SUCCESS")
        self.assertEqual(back["PhysicalResourceId"], f"{BUCKET}/{LEGACY}")
        self.one(run(event("Delete", props(), new_pid), self.s3), "SUCCESS")
        self.assertEqual(self.fake.cors[BUCKET], before)

    def test_delete_of_a_stack_with_the_old_id(self):
        self.seed([CUSTOMER, dict(OUR_RULE, ID=LEGACY)])
        self.one(run(event("Delete", props(vendor=None, RuleId=LEGACY), f"{BUCKET}/{LEGACY}"), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER])


class WindowTest(Case):
    """Between reading the configuration and writing it there is only the merge: no pause, no
    other call, and no write re-sent from an old read."""

    def recorded(self, s3):
        """s3, with every request it sends (after the handler's own checks) noted in self.seq."""
        self.seq = []
        s3.meta.events.register("before-send.s3", lambda request, **_: self.seq.append(
            {"GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"}[request.method]))
        return s3

    def handle(self, s3, kind="Create", physical_id=None):
        opener = Opener()
        cors.handle(event(kind, physical_id=physical_id), Context(), s3_factory=lambda: s3, opener=opener,
                    sleep=lambda seconds: self.seq.append("sleep"))
        return opener.bodies

    def assertEveryWriteFollowsARead(self):
        for i, op in enumerate(self.seq):
            if op in ("PutBucketCors", "DeleteBucketCors"):
                self.assertEqual(self.seq[i - 1] if i else None, "GetBucketCors",
                                 f"a write not sent right after a read: {self.seq}")

    def test_a_throttled_write_is_retried_from_a_fresh_read(self):
        # While S3 throttles our write, the customer adds a rule: a client retry of the same body
        # would drop it; reading again first keeps it.
        self.seed([CUSTOMER])
        s3 = self.recorded(self.fake.client(attempts=3))
        writer = self.fake.client()
        self.fake.fail("PutBucketCors", "SlowDown", 503)
        self.fake.after_fault["PutBucketCors"] = lambda b: writer.put_bucket_cors(
            Bucket=b, CORSConfiguration={"CORSRules": [CUSTOMER, UPLOADS]})
        self.one(self.handle(s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER, UPLOADS, OUR_RULE])
        self.assertEqual(self.seq, ["GetBucketCors", "PutBucketCors", "GetBucketCors", "PutBucketCors",
                                    "GetBucketCors"])

    def test_a_write_whose_answer_was_lost_is_checked_by_reading_again(self):
        # The write lands but its answer times out: the client would send it again; we read instead.
        self.seed([CUSTOMER])
        s3 = self.recorded(self.fake.client(attempts=3))

        def lose_first_answer(request, **_):
            if request.method == "PUT" and self.seq.count("PutBucketCors") == 1:
                raise ReadTimeoutError(endpoint_url=request.url)
        s3.meta.events.register("before-send.s3", lose_first_answer)  # After the fake applied the write.
        self.one(self.handle(s3), "SUCCESS")
        self.assertEqual(self.fake.calls, [("GetBucketCors", BUCKET), ("PutBucketCors", BUCKET),
                                           ("GetBucketCors", BUCKET)])
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])

    def test_writes_failing_until_retries_run_out(self):
        self.fake.fail("PutBucketCors", "SlowDown", 503, times=100)
        body = self.one(run(event("Create"), self.fake.client(attempts=3)), "FAILED")
        self.assertIn("SlowDown", body["Reason"])
        self.assertIn("retry the stack operation", body["Reason"])
        self.assertEqual(self.fake.calls.count(("PutBucketCors", BUCKET)), cors.WRITE_RETRIES + 1)
        self.assertIsNone(self.fake.cors[BUCKET])

    def test_a_denied_write_pauses_then_reads_again(self):
        self.seed([CUSTOMER])
        s3 = self.recorded(self.s3)
        self.fake.fail("PutBucketCors", "AccessDenied", 403, times=2)
        self.one(self.handle(s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER, OUR_RULE])
        self.assertEqual(self.seq, ["GetBucketCors", "PutBucketCors", "sleep", "GetBucketCors", "PutBucketCors",
                                    "sleep", "GetBucketCors", "PutBucketCors", "GetBucketCors"])

    def test_rounds_against_a_concurrent_writer_pause_before_reading(self):
        self.seed([CUSTOMER])
        s3 = self.recorded(self.s3)
        writer = self.fake.client()
        rounds = []

        def concurrent_write(bucket):
            rounds.append(1)
            if len(rounds) == 2:
                self.fake.after.clear()
            writer.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [CUSTOMER]})
        self.fake.after["PutBucketCors"] = concurrent_write
        self.one(self.handle(s3), "SUCCESS")
        self.assertEqual(self.seq.count("PutBucketCors"), 3)
        self.assertEveryWriteFollowsARead()

    def test_delete_writes_right_after_its_read(self):
        self.seed([CUSTOMER, OUR_RULE])
        self.fake.fail("PutBucketCors", "SlowDown", 503)
        self.one(self.handle(self.recorded(self.fake.client(attempts=3)), "Delete", f"{BUCKET}/{OURS}"), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER])
        self.assertEveryWriteFollowsARead()


class ConcurrencyTest(Case):
    def test_rule_lost_to_a_concurrent_writer_is_merged_again(self):
        self.seed([CUSTOMER])
        writer = self.fake.client()

        def concurrent_write(bucket):  # Another tool read before our write and writes after it.
            self.fake.after.clear()
            writer.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [CUSTOMER, UPLOADS]})
        self.fake.after["PutBucketCors"] = concurrent_write
        self.one(run(event("Create"), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER, UPLOADS, OUR_RULE])

    def test_rule_restored_by_a_concurrent_writer_is_removed_again(self):
        self.seed([CUSTOMER, OUR_RULE])
        writer = self.fake.client()

        def concurrent_write(bucket):
            self.fake.after.clear()
            writer.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [CUSTOMER, OUR_RULE, UPLOADS]})
        self.fake.after["PutBucketCors"] = concurrent_write
        self.one(run(event("Delete", physical_id=f"{BUCKET}/{OURS}"), self.s3), "SUCCESS")
        self.assertEqual(self.rules(), [CUSTOMER, UPLOADS])

    def test_configuration_that_keeps_changing(self):
        self.seed([CUSTOMER])
        writer = self.fake.client()
        self.fake.after["PutBucketCors"] = lambda b: writer.put_bucket_cors(
            Bucket=b, CORSConfiguration={"CORSRules": [CUSTOMER]})
        body = self.one(run(event("Create"), self.s3), "FAILED")
        self.assertIn("kept changing", body["Reason"])
        self.assertEqual(self.fake.calls.count(("PutBucketCors", BUCKET)), 2 * cors.ATTEMPTS)


class DeadlineTest(Case):
    def test_watchdog_answers_when_s3_hangs(self):
        release = threading.Event()
        self.fake.hold["GetBucketCors"] = release
        opener = Opener(on_send=release.set)  # S3 answers only after the watchdog has.
        # write_budget < 0 turns the write cutoff off: only the watchdog's answer may stop the write.
        bodies = run(event("Create"), self.s3, Context(remaining_s=0.3), opener=opener, margin=0.1,
                     write_budget=-60.0)
        body = self.one(bodies, "FAILED")
        self.assertIn("Timed out", body["Reason"])
        self.assertIn(f"calling S3 GetBucketCors on bucket {BUCKET}", body["Reason"])
        self.assertEqual(body["PhysicalResourceId"], cors.NOTHING_WRITTEN + "req-Create")
        self.assertEqual(self.fake.writes(), [], "nothing may change after the timeout answer")

    def test_no_write_started_too_close_to_the_timeout(self):
        self.seed([CUSTOMER])
        body = self.one(run(event("Create"), self.s3, Context(remaining_s=5), margin=1, write_budget=10), "FAILED")
        self.assertIn("Ran out of time before PutBucketCors", body["Reason"])
        self.assertEqual(self.fake.writes(), [])

    def test_no_write_retried_after_the_cutoff(self):
        # The client retries a failed write by itself; a retry past the cutoff could change the
        # bucket after the timeout answer (and after the rollback it triggers).
        self.seed([CUSTOMER])
        before = self.fake.cors[BUCKET]
        slow = threading.Event()
        threading.Timer(2.0, slow.set).start()
        self.fake.hold["PutBucketCors"] = slow  # The first try outlasts the cutoff, then fails.
        self.fake.fail("PutBucketCors", "InternalError", 500)
        body = self.one(run(event("Create"), self.fake.client(attempts=3), margin=1, write_budget=57.5), "FAILED")
        self.assertIn("Ran out of time", body["Reason"])
        self.assertEqual(self.fake.calls.count(("PutBucketCors", BUCKET)), 1)
        self.assertEqual(self.fake.cors[BUCKET], before)

    def test_a_write_try_started_before_the_cutoff_ends_before_the_answer(self):
        config = cors.s3_client().meta.config
        self.assertLessEqual(config.connect_timeout + config.read_timeout, cors.WRITE_BUDGET_S)

    def test_no_time_left_at_all(self):
        body = self.one(run(event("Create"), no_s3, Context(remaining_s=0)), "FAILED")
        self.assertIn("Timed out", body["Reason"])


class ResponseTest(Case):
    def test_reason_is_cut_to_fit_4096_bytes(self):
        for reason in ("x" * 10000, "é" * 5000, "y" * 4000):
            with self.subTest(len(reason)):
                body = cors.response_body(event("Create"), "FAILED", reason, f"{BUCKET}/{OURS}", {})
                self.assertLessEqual(len(body), 4096)
                self.assertTrue(json.loads(body)["Reason"].endswith("..."))
        short = cors.response_body(event("Create"), "FAILED", "short", "p", {})
        self.assertEqual(json.loads(short)["Reason"], "short")

    def test_response_put_is_retried(self):
        opener = Opener(failures=2)
        run(event("Create"), self.s3, opener=opener)
        self.assertEqual(len(opener.requests), 3)
        self.assertEqual(len({r.data for r in opener.requests}), 1, "one answer, sent again")

    def test_response_put_that_never_succeeds_does_not_raise(self):
        opener = Opener(failures=10)
        run(event("Create"), self.s3, opener=opener)
        self.assertEqual(len(opener.requests), 3)

    def test_response_over_http(self):
        received = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_PUT(self):
                length = int(self.headers["Content-Length"])
                received.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_):
                pass

        server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        url = f"http://127.0.0.1:{server.server_port}/stack/resource?X-Amz-Signature=abc&X-Amz-Expires=7200"
        e = dict(event("Create"), ResponseURL=url)
        cors.handle(e, Context(), s3_factory=lambda: self.s3, sleep=lambda s: None)
        # The Lambda entry point itself, on an event that needs no S3 call.
        cors.handler(dict(event("Delete", {"ServiceToken": "x"}, "none"), ResponseURL=url, RequestId="r2"),
                     Context())
        self.assertEqual(len(received), 2)
        method, path, headers, raw = received[0]
        self.assertEqual((method, path), ("PUT", "/stack/resource?X-Amz-Signature=abc&X-Amz-Expires=7200"))
        self.assertEqual(headers.get("Content-Type"), "")
        self.assertEqual(json.loads(raw), {
            "Status": "SUCCESS", "Reason": json.loads(raw)["Reason"], "PhysicalResourceId": f"{BUCKET}/{OURS}",
            "StackId": STACK, "RequestId": "req-Create", "LogicalResourceId": "BucketCors", "NoEcho": False,
            "Data": {"RuleId": OURS, "Bucket": BUCKET}})
        self.assertIn(f"CORS rule {OURS} is in bucket {BUCKET}", json.loads(raw)["Reason"])
        second = json.loads(received[1][3])
        self.assertEqual((second["Status"], second["RequestId"], second["PhysicalResourceId"]), ("SUCCESS", "r2", "none"))


class StubberTest(unittest.TestCase):
    """Every request the handler makes, checked against the real S3 service model by Stubber."""

    def setUp(self):
        self.s3 = FakeS3().client()
        self.stub = Stubber(self.s3)
        self.stub.activate()
        self.addCleanup(self.stub.deactivate)

    def get(self, rules):
        if rules is None:
            self.stub.add_client_error("get_bucket_cors", "NoSuchCORSConfiguration", http_status_code=404,
                                       expected_params={"Bucket": BUCKET})
        else:
            self.stub.add_response("get_bucket_cors", {"CORSRules": rules}, {"Bucket": BUCKET})

    def put(self, rules):
        self.stub.add_response("put_bucket_cors", {}, {"Bucket": BUCKET, "CORSConfiguration": {"CORSRules": rules}})

    def check(self, e, status="SUCCESS"):
        bodies = run(e, self.s3)
        self.assertEqual([b["Status"] for b in bodies], [status], bodies)
        self.stub.assert_no_pending_responses()

    def test_create_without_configuration(self):
        self.get(None)
        self.put([OUR_RULE])
        self.get([OUR_RULE])
        self.check(event("Create"))

    def test_create_with_every_field_among_others(self):
        ours = dict(OUR_RULE, ExposeHeaders=["ETag"], MaxAgeSeconds=600)
        self.get([CUSTOMER, UPLOADS, NO_ID])
        self.put([CUSTOMER, UPLOADS, NO_ID, ours])
        self.get([CUSTOMER, UPLOADS, NO_ID, ours])
        self.check(event("Create", props(ExposeHeaders=["ETag"], MaxAgeSeconds="600")))

    def test_update_in_place(self):
        new = dict(OUR_RULE, AllowedOrigins=["https://lab.isahit.com"])
        self.get([CUSTOMER, OUR_RULE, UPLOADS])
        self.put([CUSTOMER, new, UPLOADS])
        self.get([CUSTOMER, new, UPLOADS])
        self.check(event("Update", props(AllowedOrigins=["https://lab.isahit.com"]), f"{BUCKET}/{OURS}", props()))

    def test_delete_among_others(self):
        self.get([CUSTOMER, OUR_RULE])
        self.put([CUSTOMER])
        self.get([CUSTOMER])
        self.check(event("Delete", physical_id=f"{BUCKET}/{OURS}"))

    def test_delete_ours_only(self):
        self.get([OUR_RULE])
        self.stub.add_response("delete_bucket_cors", {}, {"Bucket": BUCKET})
        self.get(None)
        self.check(event("Delete", physical_id=f"{BUCKET}/{OURS}"))

    def test_delete_bucket_gone(self):
        self.stub.add_client_error("get_bucket_cors", "NoSuchBucket", http_status_code=404,
                                   expected_params={"Bucket": BUCKET})
        self.check(event("Delete", physical_id=f"{BUCKET}/{OURS}"))

    def test_access_denied(self):
        for _ in range(len(cors.IAM_PAUSES_S) + 1):  # Retried while a new policy may still propagate.
            self.stub.add_client_error("get_bucket_cors", "AccessDenied", http_status_code=403,
                                       expected_params={"Bucket": BUCKET})
        self.check(event("Create"), "FAILED")


if __name__ == "__main__":
    unittest.main()
