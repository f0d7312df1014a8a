"""Custom::BucketCors: keep one CORS rule in an existing S3 bucket, never touching other rules.

CloudFormation cannot edit a bucket the stack did not create, and S3's PutBucketCors replaces the
whole CORS configuration. So this function reads the configuration, changes only the rule whose ID
is ours, writes the result back and reads it again to check. Every other rule stays exactly as it
was: same order, same fields. The bucket, its objects and its other settings are never touched.

Contract with the template (all scalars arrive as strings):
  BucketName      existing bucket                    RuleId          ID of our rule, unique to the stack
  AllowedOrigins  list, >= 1                         AllowedMethods  list of GET/PUT/POST/DELETE/HEAD
  AllowedHeaders  list (optional)                    ExposeHeaders   list (optional)
  MaxAgeSeconds   integer as a string (optional)
PhysicalResourceId is "BUCKET/RULEID". A changed bucket or rule ID on Update is a replacement: the
rule is added where the new properties say, and CloudFormation later sends a Delete for the old
physical ID, which removes the old rule from the old bucket only.

Standard library and boto3 only: the template embeds this file inline (ZipFile), as index.py.
"""

import json
import logging
import random
import re
import threading
import time
import urllib.request

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.serialize import create_serializer

LOG = logging.getLogger()
LOG.setLevel(logging.INFO)

MAX_RULES = 100  # S3's limit on rules in one CORS configuration.
MAX_BYTES = 64 * 1024  # S3's limit on the CORS configuration, measured on the XML body we send.
MAX_RESPONSE = 4096  # CloudFormation's limit on a custom resource response body.
ATTEMPTS = 4  # Read-merge-write rounds before giving up on a configuration that keeps changing.
MARGIN_S = 8.0  # Answer this long before the Lambda timeout (covers the response PUT itself).
WRITE_BUDGET_S = 12.0  # Do not start an S3 write with less time than this before that answer.
RESPONSE_TIMEOUT_S = 5.0
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
BUCKET_RE = re.compile(r"^[A-Za-z0-9._-]{3,255}$")  # Also admits legacy us-east-1 names.
RULE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")  # No "/": it splits the physical ID.
OPS = {  # API operation -> (boto3 method, IAM action). DeleteBucketCors is authorised by s3:PutBucketCORS.
    "GetBucketCors": ("get_bucket_cors", "s3:GetBucketCORS"),
    "PutBucketCors": ("put_bucket_cors", "s3:PutBucketCORS"),
    "DeleteBucketCors": ("delete_bucket_cors", "s3:PutBucketCORS"),
}
THROTTLED = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests",
             "ServiceUnavailable", "RequestTimeout", "InternalError"}


def s3_client():
    """The production S3 client: short timeouts so a hung call cannot eat the Lambda's time."""
    return boto3.client("s3", config=Config(connect_timeout=5, read_timeout=10,
                                            retries={"total_max_attempts": 3, "mode": "standard"}))


class Failed(Exception):
    """A failure whose message is already written for the person reading the stack events."""


class Abandoned(Failed):
    """The watchdog has answered CloudFormation already; stop before changing anything else."""


def handler(event, context):
    """Lambda entry point: index.handler once CloudFormation inlines this file (ZipFile makes it index.py)."""
    handle(event, context)


def handle(event, context, s3_factory=s3_client, opener=urllib.request.urlopen, sleep=time.sleep,
           margin=MARGIN_S, write_budget=WRITE_BUDGET_S, response_timeout=RESPONSE_TIMEOUT_S):
    """Run one CloudFormation event and send exactly one response, before the Lambda timeout.

    The work runs on this thread; a timer sends FAILED `margin` seconds before the timeout if the
    work has not answered yet. Whoever answers first wins; the other's answer is dropped.
    """
    LOG.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}, default=str))
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else 60.0
    log_stream = getattr(context, "log_stream_name", "") or "(unknown)"
    responder = Responder(event, opener, response_timeout, sleep)
    job = Job(event, s3_factory, responder, sleep, time.monotonic() + remaining - margin - write_budget)
    fallback_id = job.failure_physical_id()

    def on_timeout():
        reason = (f"Timed out: the function must answer before its Lambda timeout and was still "
                  f"{job.step}. The rule may or may not be in place; CloudFormation's rollback removes or "
                  f"restores it. Retry the stack operation; if it recurs, check that the function reaches "
                  f"S3 quickly (VPC, endpoints, throttling).")
        responder.send("FAILED", f"{reason} Log stream: {log_stream}.", fallback_id)

    watchdog = threading.Timer(max(0.0, remaining - margin), on_timeout)
    watchdog.daemon = True
    watchdog.start()
    try:
        physical_id, reason, data = job.run()
        responder.send("SUCCESS", reason, physical_id, data)
    except Failed as err:
        LOG.error("failed: %s", err)
        responder.send("FAILED", f"{err} Log stream: {log_stream}.", fallback_id)
    except Exception as err:  # Anything unforeseen must still answer CloudFormation.
        LOG.exception("unexpected error")
        responder.send("FAILED", f"Internal error in the CORS function while {job.step}: "
                                 f"{type(err).__name__}: {err}. Log stream: {log_stream}.", fallback_id)
    finally:
        watchdog.cancel()
        responder.done.wait(response_timeout * 3)  # Let a watchdog answer in flight finish.


class Job:
    """The S3 side of one event: validate, read-merge-write, verify."""

    def __init__(self, event, s3_factory, responder, sleep, write_cutoff):
        self.event = event
        self.props = event.get("ResourceProperties") or {}
        self._s3_factory = s3_factory
        self._s3 = None
        self._responder = responder
        self._sleep = sleep
        self._write_cutoff = write_cutoff
        self.step = "starting"
        self.removing = None  # Rule ID being removed by a Delete, for the AccessDenied hint.

    def failure_physical_id(self):
        """The physical ID to report with FAILED, chosen so the rollback cleans up what was written.

        CloudFormation keeps the ID a FAILED Create or Update returns and sends a Delete for it in the
        rollback. So Create and Update report the ID their properties name: a half-done write to that
        bucket is then removed, even when an Update moved to another bucket. Without a valid bucket
        and rule ID nothing was written, and the current ID (if any) is kept.
        """
        target = target_from_props(self.props) if self.event.get("RequestType") != "Delete" else None
        if target:
            return physical_id(*target)
        return self.event.get("PhysicalResourceId") or f"invalid-properties-{self.event.get('RequestId', '')}"

    def run(self):
        kind = self.event.get("RequestType")
        if kind in ("Create", "Update"):
            return self.ensure()
        if kind == "Delete":
            return self.remove()
        raise Failed(f"Unknown RequestType {kind!r}: expected Create, Update or Delete.")

    def ensure(self):
        """Create and Update: put our rule in the bucket, replacing any rule with our ID in place."""
        bucket, rule = desired_rule(self.props)
        others = self.converge(bucket, rule["ID"], lambda rules: with_rule(rules, rule),
                               lambda rules: [r for r in rules if r.get("ID") == rule["ID"]] == [rule], grows=True)
        return (physical_id(bucket, rule["ID"]),
                f"CORS rule {rule['ID']} is in bucket {bucket}; its {others} other rule(s) were left as they were.",
                {"RuleId": rule["ID"], "Bucket": bucket})

    def remove(self):
        """Delete: take our rule out; delete the configuration only if ours was its only rule."""
        target = parse_physical_id(self.event.get("PhysicalResourceId", "")) or target_from_props(self.props)
        if target is None:  # A Create that failed validation: nothing was ever written.
            return self.event.get("PhysicalResourceId") or "none", "Nothing to remove.", {}
        bucket, rule_id = target
        self.removing = rule_id
        try:
            others = self.converge(bucket, rule_id, lambda rules: without_rule(rules, rule_id),
                                   lambda rules: not any(r.get("ID") == rule_id for r in rules), grows=False)
        except S3Error as err:
            if err.code != "NoSuchBucket":
                raise
            others, reason = 0, f"Bucket {bucket} no longer exists; nothing to remove."
        else:
            reason = f"CORS rule {rule_id} is not in bucket {bucket}; its {others} other rule(s) were left as they were."
        return physical_id(bucket, rule_id), reason, {"RuleId": rule_id, "Bucket": bucket}

    def converge(self, bucket, rule_id, change, done, grows):
        """Read, apply `change`, write, read back until `done` holds; return how many other rules exist.

        `grows` says the change can add bytes or rules, so S3's limits are checked before writing.

        S3 has no conditional PutBucketCors (no ETag or version on the CORS subresource). Reading back
        after the write proves that our rule was in the state we want at that moment, and if another
        writer replaced the configuration after our read, we merge again from what is there now.
        It cannot prove that a writer who read before our write and writes after our read-back keeps
        our rule, nor restore a rule another writer added between our read and our write: S3
        offers no way to detect either. The window is one round trip.
        """
        rules = self.read(bucket)
        for attempt in range(1, ATTEMPTS + 1):
            wanted = change(rules)
            if wanted == rules:  # Already as we want it (a retried event): write nothing.
                break
            if grows:
                self.check_limits(bucket, rule_id, wanted)
            self.write(bucket, wanted)
            rules = self.read(bucket)
            if done(rules):
                break
            LOG.warning("CORS of %s changed under us (round %d); merging again", bucket, attempt)
            if attempt == ATTEMPTS:
                raise Failed(f"The CORS configuration of bucket {bucket} kept changing while CORS rule {rule_id} "
                             f"was being written ({ATTEMPTS} rounds): another tool or person is writing it at the "
                             f"same time. Let that finish, then retry the stack operation.")
            self._sleep(random.uniform(0.1, 0.5) * 2 ** attempt)
            rules = self.read(bucket)
        return sum(1 for r in rules if r.get("ID") != rule_id)

    def check_limits(self, bucket, rule_id, rules):
        if len(rules) > MAX_RULES:
            raise Failed(f"Adding CORS rule {rule_id} to bucket {bucket} would make {len(rules)} rules; S3 allows "
                         f"at most {MAX_RULES}. Nothing was changed. Remove unused rules from the bucket's CORS "
                         f"configuration, or set ManageCors to false and add the rule yourself.")
        size = xml_size(self.s3, bucket, rules)
        if size > MAX_BYTES:
            raise Failed(f"Adding CORS rule {rule_id} to bucket {bucket} would make its CORS configuration "
                         f"{size} bytes of XML; S3 allows at most {MAX_BYTES}. Nothing was changed. Shorten or "
                         f"remove rules, or set ManageCors to false and add the rule yourself.")

    @property
    def s3(self):
        if self._s3 is None:
            self._s3 = self._s3_factory()
        return self._s3

    def read(self, bucket):
        try:
            return self.call("GetBucketCors", bucket).get("CORSRules", [])
        except S3Error as err:
            if err.code == "NoSuchCORSConfiguration":
                return []
            raise

    def write(self, bucket, rules):
        if rules:
            self.call("PutBucketCors", bucket, CORSConfiguration={"CORSRules": rules})
        else:
            self.call("DeleteBucketCors", bucket)

    def call(self, op, bucket, **params):
        """One S3 call, refused once the watchdog has answered or (for writes) when time is short."""
        if self._responder.claimed:
            raise Abandoned(f"Stopped before {op} on bucket {bucket}: the timeout answer was already sent.")
        if op != "GetBucketCors" and time.monotonic() > self._write_cutoff:
            raise Failed(f"Ran out of time before {op} on bucket {bucket}; stopped rather than change the bucket "
                         f"after answering. Retry the stack operation; if it recurs, check S3 latency and "
                         f"throttling for this bucket.")
        self.step = f"calling S3 {op} on bucket {bucket}"
        try:
            return getattr(self.s3, OPS[op][0])(Bucket=bucket, **params)
        except ClientError as err:
            raise S3Error(op, bucket, err, self.removing) from err
        except BotoCoreError as err:
            raise Failed(f"Could not complete S3 {op} on bucket {bucket}: {err}. Check that the function can "
                         f"reach S3 (VPC routes, S3 endpoint, DNS), then retry the stack operation.") from err


class S3Error(Failed):
    """An S3 error response, explained: which permission or setting to check."""

    def __init__(self, op, bucket, err, removing):
        info = err.response.get("Error", {})
        self.code = info.get("Code", "Unknown")
        status = err.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        message = info.get("Message") or "no message"
        action = OPS[op][1]
        if self.code == "AccessDenied" or status == 403:
            text = (f"{self.code} on {action} for bucket {bucket} ({message}). The function's role must allow "
                    f"{action} on arn:aws:s3:::{bucket}, and no Deny in the bucket policy, an SCP or a permissions "
                    f"boundary may block it; check those for {action}.")
            if removing:
                text += (f" If BucketName changed in a stack update, the role no longer covers this old bucket: "
                         f"remove the CORS rule with ID {removing} from bucket {bucket} by hand.")
        elif self.code == "NoSuchBucket":
            text = (f"Bucket {bucket} does not exist (NoSuchBucket). BucketName must be an existing bucket in "
                    f"this account and region.")
        elif self.code in ("PermanentRedirect", "AuthorizationHeaderMalformed", "IllegalLocationConstraintException"):
            text = (f"Bucket {bucket} is in another region than this stack ({self.code}). Deploy the stack in "
                    f"the bucket's region.")
        elif self.code in THROTTLED or status in (500, 503):
            text = (f"S3 kept refusing {op} on bucket {bucket} with {self.code} after retries (throttling or a "
                    f"transient S3 error). Nothing needs fixing: retry the stack operation in a few minutes.")
        elif op == "PutBucketCors":
            text = (f"S3 refused the new CORS configuration of bucket {bucket}: {self.code}: {message}. Check the "
                    f"AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders and MaxAgeSeconds values.")
        else:
            text = f"S3 {op} on bucket {bucket} failed: {self.code} (HTTP {status}): {message}."
        super().__init__(text)


class Responder:
    """Sends the one response CloudFormation waits for; every later send is dropped."""

    def __init__(self, event, opener, timeout, sleep):
        self._event = event
        self._opener = opener
        self._timeout = timeout
        self._sleep = sleep
        self._lock = threading.Lock()
        self.claimed = False
        self.done = threading.Event()

    def send(self, status, reason, physical_id, data=None):
        with self._lock:
            if self.claimed:
                LOG.warning("response already sent; dropping %s: %s", status, reason)
                return False
            self.claimed = True
        try:
            body = response_body(self._event, status, reason, physical_id, data or {})
            LOG.info("response: %s", body.decode())
            self._put(body)
        finally:
            self.done.set()
        return True

    def _put(self, body):
        for attempt in range(1, 4):
            try:
                request = urllib.request.Request(self._event["ResponseURL"], data=body, method="PUT",
                                                 headers={"Content-Type": "", "Content-Length": str(len(body))})
                with self._opener(request, timeout=self._timeout) as reply:
                    LOG.info("CloudFormation response stored: HTTP %s", reply.status)
                    return
            except Exception as err:  # Network or HTTP error: the only cure is another try.
                LOG.error("sending the response failed (try %d of 3): %s", attempt, err)
                if attempt < 3:
                    self._sleep(0.5 * attempt)


def response_body(event, status, reason, physical_id, data):
    """The JSON response, with Reason shortened so the whole body fits CloudFormation's 4096 bytes."""
    def encode(text):
        return json.dumps({"Status": status, "Reason": text, "PhysicalResourceId": physical_id,
                           "StackId": event.get("StackId", ""), "RequestId": event.get("RequestId", ""),
                           "LogicalResourceId": event.get("LogicalResourceId", ""), "NoEcho": False,
                           "Data": data}).encode()
    body = encode(reason)
    if len(body) <= MAX_RESPONSE:
        return body
    fits, too_long = 0, len(reason)  # Longest prefix of reason that fits with "..." appended.
    while too_long - fits > 1:
        mid = (fits + too_long) // 2
        fits, too_long = (mid, too_long) if len(encode(reason[:mid] + "...")) <= MAX_RESPONSE else (fits, mid)
    return encode(reason[:fits] + "...")


def physical_id(bucket, rule_id):
    return f"{bucket}/{rule_id}"


def parse_physical_id(value):
    """(bucket, rule ID) from our physical ID, or None for anything else (e.g. a log stream name)."""
    bucket, sep, rule_id = value.partition("/")
    if sep and BUCKET_RE.match(bucket) and RULE_ID_RE.match(rule_id):
        return bucket, rule_id
    return None


def target_from_props(props):
    bucket, rule_id = props.get("BucketName"), props.get("RuleId")
    if isinstance(bucket, str) and isinstance(rule_id, str) and BUCKET_RE.match(bucket) and RULE_ID_RE.match(rule_id):
        return bucket, rule_id
    return None


def desired_rule(props):
    """(bucket, our CORS rule) from the resource properties, or Failed naming the bad property."""
    bucket = _string(props, "BucketName", BUCKET_RE, "3-255 letters, digits, dots, hyphens or underscores")
    rule = {"ID": _string(props, "RuleId", RULE_ID_RE,
                          "1-255 letters, digits, dots, hyphens or underscores, starting with a letter or digit"),
            "AllowedOrigins": _list(props, "AllowedOrigins", required=True, wildcards=1),
            "AllowedMethods": _list(props, "AllowedMethods", required=True, allowed=METHODS)}
    headers = _list(props, "AllowedHeaders", wildcards=1)
    expose = _list(props, "ExposeHeaders")
    if headers:
        rule["AllowedHeaders"] = headers
    if expose:
        rule["ExposeHeaders"] = expose
    max_age = props.get("MaxAgeSeconds")
    if max_age not in (None, ""):
        if not re.fullmatch(r"\d{1,9}", str(max_age)):
            raise Failed(f"Property MaxAgeSeconds must be a whole number of seconds, got {str(max_age)[:80]!r}.")
        rule["MaxAgeSeconds"] = int(max_age)
    return bucket, rule


def _string(props, name, pattern, rule):
    value = props.get(name)
    if value is None or value == "":
        raise Failed(f"Property {name} is missing: the custom resource needs it.")
    if not isinstance(value, str) or not pattern.match(value):
        raise Failed(f"Property {name} must be {rule}, got {str(value)[:80]!r}.")
    return value


def _list(props, name, required=False, wildcards=None, allowed=None):
    value = props.get(name)
    if value is None or value == "" or value == []:
        if required:
            raise Failed(f"Property {name} is missing: the custom resource needs at least one value.")
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v and not re.search(r"\s", v) for v in value):
        raise Failed(f"Property {name} must be a list of non-empty strings without spaces, got {str(value)[:80]!r}.")
    for v in value:
        if wildcards is not None and v.count("*") > wildcards:
            raise Failed(f"Property {name} value {v[:80]!r} has more than one '*'; S3 allows one wildcard per value.")
        if allowed and v not in allowed:
            raise Failed(f"Property {name} value {v[:80]!r} is not one of {', '.join(allowed)}.")
    return value


def with_rule(rules, rule):
    """`rules` with our rule in place of the first rule carrying its ID (appended if none); others untouched."""
    out, placed = [], False
    for r in rules:
        if r.get("ID") != rule["ID"]:
            out.append(r)
        elif not placed:
            out.append(rule)
            placed = True
    return out if placed else out + [rule]


def without_rule(rules, rule_id):
    """`rules` without any rule carrying `rule_id`; the others keep their order and fields."""
    return [r for r in rules if r.get("ID") != rule_id]


def xml_size(s3, bucket, rules):
    """Bytes of the PutBucketCors XML body botocore would send for `rules` (what S3 measures)."""
    model = s3.meta.service_model
    request = create_serializer(model.metadata["protocol"], include_validation=False).serialize_to_request(
        {"Bucket": bucket, "CORSConfiguration": {"CORSRules": rules}}, model.operation_model("PutBucketCors"))
    return len(request["body"])
