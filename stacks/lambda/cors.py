"""Custom::BucketCors: keep one CORS rule in an existing S3 bucket, never touching other rules.

S3's PutBucketCors replaces the whole CORS configuration, so this reads it, changes only the rule
whose ID is ours, writes it back and reads it again to check. Other rules keep their order and
fields; the bucket's objects and other settings are never touched.

Our rule's ID is "s3grant:VENDOR:STACK-NAME:STACK-UUID" (from VendorId and the StackId): the prefix
is reserved and the UUID unique to the stack. A rule is ours only if its ID is exactly that, or
exactly the ID of older templates, "VENDOR-STACK-NAME-STACK-UUID" (property RuleId).

Properties (scalars arrive as strings): BucketName, VendorId (older: RuleId), AllowedOrigins,
AllowedMethods (lists), optional AllowedHeaders, ExposeHeaders (lists) and MaxAgeSeconds.
PhysicalResourceId is "BUCKET/RULEID". An Update to another bucket is a replacement: CloudFormation
then sends a Delete for the old ID, which removes the old rule from the old bucket. An Update of
the rule ID alone replaces the rule in place.
Standard library and boto3 only: the template inlines this file (ZipFile) as index.py.
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

MAX_RULES = 100  # S3's limits on a CORS configuration: rules, and bytes of the XML we send.
MAX_BYTES = 64 * 1024
MAX_RESPONSE = 4096  # CloudFormation's limit on a response body.
ATTEMPTS = 4  # Read-merge-write rounds against a configuration that keeps changing.
WRITE_RETRIES = 2  # Failed writes retried, each from a fresh read.
MARGIN_S = 12.0  # Answer this long before the Lambda timeout: room for two tries of the response PUT.
WRITE_BUDGET_S = 16.0  # Start no S3 write try later: one (connect + read timeouts) ends before that answer.
RESPONSE_TIMEOUT_S = 5.0
IAM_PAUSES_S = (1, 2, 4, 8)  # Pauses between AccessDenied retries while a new IAM policy propagates.
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
BUCKET_RE = re.compile(r"^[A-Za-z0-9._-]{3,255}$")  # Admits legacy us-east-1 names too.
NOTHING_WRITTEN = "nothing-written:"  # Physical ID prefix of a failed Create that changed no bucket.
MANAGED_PREFIX = "s3grant:"  # Reserved: every rule ID this function writes starts with it.
VENDOR_ID = r"[a-z][a-z0-9-]{0,30}[a-z0-9]"  # A vendor profile's id.
STACK_ID_RE = re.compile(r"^arn:aws[a-z-]*:cloudformation:[a-z0-9-]+:\d{12}:stack/([A-Za-z][-A-Za-z0-9]{0,127})/"
                         r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
MAX_AGE_S = 2 ** 31 - 1  # S3's MaxAgeSeconds is a 32-bit integer.
OPS = {  # Operation: (boto3 method, IAM action). DeleteBucketCors is authorised by s3:PutBucketCORS.
    "GetBucketCors": ("get_bucket_cors", "s3:GetBucketCORS"),
    "PutBucketCors": ("put_bucket_cors", "s3:PutBucketCORS"),
    "DeleteBucketCors": ("delete_bucket_cors", "s3:PutBucketCORS"),
}


def s3_client():
    """The S3 client: short timeouts, so one hung call cannot use up the function's time."""
    return boto3.client("s3", config=Config(connect_timeout=5, read_timeout=10,
                                            retries={"total_max_attempts": 3, "mode": "standard"}))


class Failed(Exception):
    """A failure whose message is written for the person reading the stack events."""


def handler(event, context):
    """Lambda entry point (index.handler once inlined)."""
    handle(event, context)


def handle(event, context, s3_factory=s3_client, opener=urllib.request.urlopen, sleep=time.sleep,
           margin=MARGIN_S, write_budget=WRITE_BUDGET_S, response_timeout=RESPONSE_TIMEOUT_S):
    """Run one event and send CloudFormation exactly one response, before the Lambda timeout.

    The work runs on this thread; a timer sends FAILED `margin` seconds before the timeout unless
    the work answered first. The first answer wins; later ones are dropped.
    """
    LOG.info("event: %s", json.dumps({k: v for k, v in event.items() if k != "ResponseURL"}, default=str))
    remaining = context.get_remaining_time_in_millis() / 1000.0 if context else 60.0
    stream = f" Log stream: {getattr(context, 'log_stream_name', '') or '(unknown)'}."
    responder = Responder(event, opener, response_timeout, sleep)
    job = Job(event, s3_factory, responder, sleep, time.monotonic() + remaining - margin - write_budget)

    def on_timeout():
        responder.send("FAILED", f"Timed out (the answer must beat the Lambda timeout) while {job.step}. The "
                                 f"rule may or may not be in place; the rollback removes or restores it. Retry; "
                                 f"if it recurs, check that the function reaches S3 quickly (VPC, endpoints, "
                                 f"throttling).{stream}", job.failure_physical_id())

    watchdog = threading.Timer(max(0.0, remaining - margin), on_timeout)
    watchdog.daemon = True
    watchdog.start()
    try:
        responder.send("SUCCESS", *job.run())
    except Failed as err:
        LOG.error("failed: %s", err)
        responder.send("FAILED", f"{err}{stream}", job.failure_physical_id())
    except Exception as err:  # Whatever goes wrong, CloudFormation must get an answer.
        LOG.exception("unexpected error")
        responder.send("FAILED", f"Internal error while {job.step}: {type(err).__name__}: {err}.{stream}",
                       job.failure_physical_id())
    finally:
        watchdog.cancel()
        job.close()
        responder.done.wait(response_timeout * 3 + 2)  # A watchdog answer in flight must finish.


class Job:
    """The S3 side of one event: validate, read, merge, write, read back."""

    def __init__(self, event, s3_factory, responder, sleep, write_cutoff):
        self.event = event
        self.props = event.get("ResourceProperties") or {}
        self.stack_id = event.get("StackId")
        self._s3_factory = s3_factory
        self._s3 = None
        self._responder = responder
        self._sleep = sleep
        self._write_cutoff = write_cutoff
        self.step = "starting"
        self.removing = None  # The rule ID a Delete removes, named in AccessDenied advice.
        self.wrote = False  # Whether a write to S3 was started.
        self._tries, self._failure, self._bucket = 0, None, None  # Of the current write.
        self._size_of = None

    def failure_physical_id(self):
        """The physical ID sent with FAILED, so that the rollback cleans up a half-done write.

        CloudFormation sends the rollback's Delete with the ID a FAILED Create returns. After a write,
        a Create or Update returns the ID its properties name, so that Delete removes what was written,
        even when an Update moved to another bucket. Before any write, an Update keeps its ID and a
        Create returns NOTHING_WRITTEN, for which the Delete calls no S3 (which may deny it again).
        """
        if self.wrote and self.event.get("RequestType") != "Delete":
            return physical_id(*target_from_props(self.props, self.stack_id))
        return self.event.get("PhysicalResourceId") or NOTHING_WRITTEN + self.event.get("RequestId", "")

    def run(self):
        """(reason, physical ID, data) on success; raises Failed otherwise."""
        kind = self.event.get("RequestType")
        if kind in ("Create", "Update"):
            bucket, rule = desired_rule(self.props, self.stack_id)
            # An Update of our rule's ID alone (e.g. from the old form) replaces the rule in place.
            previous = parse_physical_id(self.event.get("PhysicalResourceId") or "", self.stack_id)
            ours = {rule["ID"]} | ({previous[1]} if kind == "Update" and previous and previous[0] == bucket else set())
            others = self.converge(bucket, rule["ID"], lambda rules: with_rule(rules, rule, ours),
                                   lambda rules: [r for r in rules if r.get("ID") in ours] == [rule], True, ours)
            return (f"CORS rule {rule['ID']} is in bucket {bucket}; its {others} other rule(s) are unchanged.",
                    physical_id(bucket, rule["ID"]), {"RuleId": rule["ID"], "Bucket": bucket})
        if kind == "Delete":
            return self.remove()
        raise Failed(f"Unknown RequestType {kind!r}: expected Create, Update or Delete.")

    def remove(self):
        """Take our rule out; delete the configuration only if ours was its only rule.

        The answer carries the request's physical ID: CloudFormation wants the same one in every
        response for a resource, even when it is not ours (a Create it gave up on).
        """
        current = self.event.get("PhysicalResourceId") or "none"
        target = None
        if not current.startswith(NOTHING_WRITTEN):
            target = parse_physical_id(current, self.stack_id) or target_from_props(self.props, self.stack_id)
        if target is None:  # A Create that failed before writing.
            return "Nothing to remove.", current, {}
        bucket, rule_id = target
        self.removing = rule_id
        try:
            others = self.converge(bucket, rule_id, lambda rules: without_rule(rules, rule_id),
                                   lambda rules: all(r.get("ID") != rule_id for r in rules), False)
            reason = f"CORS rule {rule_id} is not in bucket {bucket}; its {others} other rule(s) are unchanged."
        except S3Error as err:
            if err.code != "NoSuchBucket":
                raise
            reason = f"Bucket {bucket} no longer exists; nothing to remove."
        return reason, current, {"RuleId": rule_id, "Bucket": bucket}

    def converge(self, bucket, rule_id, change, done, grows, ours=None):
        """Read, `change`, write, read back until `done` holds; return the number of other rules.

        S3 has no conditional PutBucketCors, so a rule another writer saves between our read and
        our write is lost, undetectably. That window is kept minimal: between the read's answer and
        the write only the merge and size check run (serializer built before), and a failed write is
        never re-sent: it is retried after reading again. Reading back proves our rule was as wanted;
        if another writer replaced the configuration, we merge again. A writer who read before our
        write and writes after our read-back cannot be seen.
        `grows`: S3's limits are checked before writing. `ours`: our rule IDs (default: rule_id).
        """
        ours = ours or {rule_id}
        if grows and self._size_of is None:
            self._size_of = body_sizer(self.s3)
        denied = list(IAM_PAUSES_S) if self.removing is None else []
        retries, rounds = WRITE_RETRIES, 0
        rules = self.read(bucket)
        while True:
            wanted = change(rules)
            if wanted == rules:  # Already as wanted (e.g. a retried event): write nothing.
                break
            if grows:
                self.check_limits(bucket, rule_id, wanted)
            try:
                self.write(bucket, wanted)
            except StaleRetry as err:  # The client slept its backoff and would re-send this merge.
                if retries == 0:
                    raise err.failure from err
                retries, pause = retries - 1, 0
                LOG.warning("write failed (%s); reading again", err.failure)
            except S3Error as err:
                if err.code != "AccessDenied" or not denied:
                    raise
                pause = denied.pop(0)
                LOG.warning("AccessDenied on a write (IAM propagation?); retrying in %ss", pause)
            else:
                rules = self.read(bucket)
                if done(rules):
                    break
                rounds += 1
                LOG.warning("CORS of %s changed under us (round %d); merging again", bucket, rounds)
                if rounds == ATTEMPTS:
                    raise Failed(f"The CORS configuration of bucket {bucket} kept changing while rule {rule_id} was "
                                 f"written ({ATTEMPTS} rounds): something else writes it too. Let it finish, then retry.")
                pause = random.uniform(0.1, 0.5) * 2 ** rounds
            if pause:
                self._sleep(pause)
            rules = self.read(bucket)
        return sum(1 for r in rules if r.get("ID") not in ours)

    def check_limits(self, bucket, rule_id, rules):
        size = self._size_of(bucket, rules) if len(rules) <= MAX_RULES else 0
        if len(rules) > MAX_RULES:
            what = f"{len(rules)} rules (S3 allows {MAX_RULES})"
        elif size > MAX_BYTES:
            what = f"{size} bytes of XML (S3 allows {MAX_BYTES})"
        else:
            return
        raise Failed(f"Adding CORS rule {rule_id} to bucket {bucket} would make its CORS configuration {what}. "
                     f"Nothing was changed. Remove or shorten rules there, or set ManageCors to false and add the "
                     f"rule yourself.")

    @property
    def s3(self):
        if self._s3 is None:
            self._s3 = self._s3_factory()
            self._s3.meta.events.register_first("before-send.s3", self._before_send)
            self._s3.meta.events.register_first("needs-retry.s3", self._on_try_done)
        return self._s3

    def close(self):
        """Detach from the client, which may outlive this event."""
        if self._s3 is not None:
            self._s3.meta.events.unregister("before-send.s3", self._before_send)
            self._s3.meta.events.unregister("needs-retry.s3", self._on_try_done)

    def _before_send(self, request, **_):
        """Before every try, the client's retries too: no write once time is short, and no write re-sent
        (its body merges a read older than the failure)."""
        if request.method == "GET":
            return
        if self._responder.claimed or time.monotonic() > self._write_cutoff:
            raise Failed(f"Ran out of time while {self.step} (S3 was slow or failing); stopped rather than change "
                         f"the bucket after answering. Retry; if it recurs, check S3 latency and throttling.")
        self._tries += 1
        if self._tries > 1:
            raise StaleRetry(self._failure or Failed(f"S3 failed while {self.step}."))

    def _on_try_done(self, response=None, caught_exception=None, operation=None, **_):
        """Notes why a write's try failed, to explain it if we give up. Returns None: no say in retrying."""
        op = getattr(operation, "name", "")
        if op in ("PutBucketCors", "DeleteBucketCors") and caught_exception is not None:
            self._failure = Failed(f"Could not complete S3 {op}: {caught_exception}. Check that the function can "
                                   f"reach S3 (VPC routes, S3 endpoint, DNS), then retry.")
        elif op in ("PutBucketCors", "DeleteBucketCors") and response and response[0].status_code >= 300:
            self._failure = S3Error(op, self._bucket, ClientError(response[1], op), self.removing)

    def read(self, bucket):
        try:
            return self.call("GetBucketCors", bucket).get("CORSRules", [])
        except S3Error as err:
            if err.code == "NoSuchCORSConfiguration":
                return []
            raise

    def write(self, bucket, rules):
        self.wrote = True
        self._tries, self._failure, self._bucket = 0, None, bucket
        if rules:
            self.call("PutBucketCors", bucket, CORSConfiguration={"CORSRules": rules})
        else:
            self.call("DeleteBucketCors", bucket)

    def call(self, op, bucket, **params):
        """One S3 call; none once the watchdog has answered, no write when time is short.

        A Create or Update retries a denied read for a while: CloudFormation reports the function's
        bucket policy created before IAM applies it everywhere (converge retries writes).
        """
        pauses = IAM_PAUSES_S if self.removing is None and op == "GetBucketCors" else ()
        for pause in (*pauses, None):
            if self._responder.claimed:
                raise Failed(f"Stopped before {op} on bucket {bucket}: the timeout answer was already sent.")
            if op != "GetBucketCors" and time.monotonic() > self._write_cutoff:
                raise Failed(f"Ran out of time before {op} on bucket {bucket}; stopped rather than change the "
                             f"bucket after answering. Retry; if it recurs, check S3 latency and throttling.")
            self.step = f"calling S3 {op} on bucket {bucket}"
            try:
                return getattr(self.s3, OPS[op][0])(Bucket=bucket, **params)
            except ClientError as err:
                failure = S3Error(op, bucket, err, self.removing)
                if failure.code != "AccessDenied" or pause is None:
                    raise failure from err
            except BotoCoreError as err:
                raise Failed(f"Could not complete S3 {op} on bucket {bucket}: {err}. Check that the function can "
                             f"reach S3 (VPC routes, S3 endpoint, DNS), then retry.") from err
            LOG.warning("AccessDenied on %s (IAM may not apply a new policy yet); retrying in %ss", op, pause)
            self._sleep(pause)


class StaleRetry(Exception):
    """The client was about to re-send a failed write; `failure` says why it failed."""

    def __init__(self, failure):
        super().__init__(str(failure))
        self.failure = failure


class S3Error(Failed):
    """An S3 error response, explained: what to check or do."""

    def __init__(self, op, bucket, err, removing):
        info, meta = err.response.get("Error", {}), err.response.get("ResponseMetadata", {})
        self.code, status = info.get("Code", "Unknown"), meta.get("HTTPStatusCode")
        message, action = info.get("Message") or "no message", OPS[op][1]
        if self.code == "AccessDenied" or status == 403:
            text = (f"{self.code} on {action} for bucket {bucket} ({message}). The function's role must allow "
                    f"{action} on arn:aws:s3:::{bucket}, and no Deny in the bucket policy, an SCP or a permissions "
                    f"boundary may block it.")
            if removing:
                text += (f" If BucketName changed in an update, the role no longer covers this old bucket: remove "
                         f"the CORS rule with ID {removing} from bucket {bucket} by hand.")
        elif self.code == "NoSuchBucket":
            text = f"Bucket {bucket} does not exist. BucketName must be an existing bucket of this account."
        elif self.code in ("PermanentRedirect", "AuthorizationHeaderMalformed"):
            text = f"Bucket {bucket} is in another region ({self.code}). Deploy the stack in the bucket's region."
        elif self.code in ("SlowDown", "Throttling", "RequestTimeout") or (status or 0) >= 500:
            text = (f"S3 kept answering {op} on bucket {bucket} with {self.code} (throttling or a transient "
                    f"error). Nothing needs fixing: retry the stack operation in a few minutes.")
        elif op == "PutBucketCors":
            text = (f"S3 refused the new CORS configuration of bucket {bucket}: {self.code}: {message}. Check "
                    f"AllowedOrigins, AllowedMethods, AllowedHeaders, ExposeHeaders and MaxAgeSeconds.")
        else:
            text = f"S3 {op} on bucket {bucket} failed: {self.code} (HTTP {status}): {message}."
        super().__init__(text)


class Responder:
    """Sends the one response CloudFormation waits for; later sends are dropped."""

    def __init__(self, event, opener, timeout, sleep):
        self._event, self._opener, self._timeout, self._sleep = event, opener, timeout, sleep
        self._lock = threading.Lock()
        self.claimed = False
        self.done = threading.Event()

    def send(self, status, reason, physical_id, data=None):
        with self._lock:
            if self.claimed:
                LOG.warning("already answered; dropping %s: %s", status, reason)
                return
            self.claimed = True
        try:
            body = response_body(self._event, status, reason, physical_id, data or {})
            LOG.info("response: %s", body.decode())
            for attempt in range(1, 4):
                try:
                    request = urllib.request.Request(self._event["ResponseURL"], data=body, method="PUT",
                                                     headers={"Content-Type": "", "Content-Length": str(len(body))})
                    with self._opener(request, timeout=self._timeout) as reply:
                        LOG.info("response stored: HTTP %s", reply.status)
                        return
                except Exception as err:  # Network or HTTP error: the only cure is another try.
                    LOG.error("sending the response failed (try %d of 3): %s", attempt, err)
                    if attempt < 3:
                        self._sleep(0.5 * attempt)
        finally:
            self.done.set()


def response_body(event, status, reason, physical_id, data):
    """The JSON response; Reason is cut so the body fits CloudFormation's 4096 bytes."""
    def encode(text):
        return json.dumps({"Status": status, "Reason": text, "PhysicalResourceId": physical_id,
                           "StackId": event.get("StackId", ""), "RequestId": event.get("RequestId", ""),
                           "LogicalResourceId": event.get("LogicalResourceId", ""), "NoEcho": False,
                           "Data": data}).encode()
    if len(encode(reason)) <= MAX_RESPONSE:
        return encode(reason)
    fits, too_long = 0, len(reason)  # Binary search for the longest prefix that fits with "...".
    while too_long - fits > 1:
        mid = (fits + too_long) // 2
        fits, too_long = (mid, too_long) if len(encode(reason[:mid] + "...")) <= MAX_RESPONSE else (fits, mid)
    return encode(reason[:fits] + "...")


def physical_id(bucket, rule_id):
    return f"{bucket}/{rule_id}"


def stack_of(stack_id):
    """(stack name, stack UUID) from the event's StackId; None if it is not a stack ARN."""
    m = STACK_ID_RE.match(stack_id) if isinstance(stack_id, str) else None
    return m.groups() if m else None


def managed_rule_id(vendor_id, stack_id):
    """Our rule's ID: the one place its form is defined (the template passes VendorId)."""
    name, uuid = stack_of(stack_id)
    return f"{MANAGED_PREFIX}{vendor_id}:{name}:{uuid}"


def is_ours(rule_id, stack_id):
    """Whether rule_id is exactly this stack's rule ID, in the managed or the older form."""
    stack = stack_of(stack_id)
    if stack is None or not isinstance(rule_id, str):
        return False
    name, uuid = (re.escape(part) for part in stack)
    return bool(re.fullmatch(f"{re.escape(MANAGED_PREFIX)}{VENDOR_ID}:{name}:{uuid}", rule_id)
                or re.fullmatch(f"{VENDOR_ID}-{name}-{uuid}", rule_id))


def parse_physical_id(value, stack_id):
    """(bucket, rule ID) from our physical ID; None for anything else, e.g. a log stream name."""
    bucket, _, rule_id = value.partition("/")
    return (bucket, rule_id) if BUCKET_RE.match(bucket) and is_ours(rule_id, stack_id) else None


def rule_id_from_props(props, stack_id):
    """Our rule ID as the properties name it; Failed says which property is missing or wrong."""
    if stack_of(stack_id) is None:
        raise Failed(f"The event's StackId {str(stack_id)[:200]!r} is not a CloudFormation stack ARN.")
    vendor = props.get("VendorId")
    if vendor not in (None, ""):
        if not isinstance(vendor, str) or not re.fullmatch(VENDOR_ID, vendor):
            raise Failed(f"Property VendorId must be 2-32 lowercase letters, digits or hyphens, got {str(vendor)[:80]!r}.")
        return managed_rule_id(vendor, stack_id)
    old = props.get("RuleId")
    if old in (None, ""):
        raise Failed("Property VendorId is missing.")
    if not is_ours(old, stack_id):  # Older templates: only this stack's own ID.
        raise Failed("Property RuleId must be this stack's own rule ID (VENDOR-{}-{}), got {!r}.".format(
            *stack_of(stack_id), str(old)[:80]))
    return old


def target_from_props(props, stack_id):
    bucket = props.get("BucketName")
    if not isinstance(bucket, str) or not BUCKET_RE.match(bucket):
        return None
    try:
        return bucket, rule_id_from_props(props, stack_id)
    except Failed:
        return None


def desired_rule(props, stack_id):
    """(bucket, our CORS rule) from the properties; Failed names a missing or bad property."""
    bucket = _string(props, "BucketName", BUCKET_RE, "3-255 letters, digits, dots, hyphens or underscores")
    rule = {"ID": rule_id_from_props(props, stack_id),
            "AllowedOrigins": _list(props, "AllowedOrigins", required=True, wildcards=1),
            "AllowedMethods": _list(props, "AllowedMethods", required=True, allowed=METHODS)}
    for name, wildcards in (("AllowedHeaders", 1), ("ExposeHeaders", None)):
        values = _list(props, name, wildcards=wildcards)
        if values:
            rule[name] = values
    max_age = props.get("MaxAgeSeconds")
    if max_age not in (None, ""):
        if not re.fullmatch(r"\d{1,10}", str(max_age)) or int(max_age) > MAX_AGE_S:
            raise Failed(f"Property MaxAgeSeconds must be a whole number of seconds from 0 to {MAX_AGE_S}, "
                         f"got {str(max_age)[:80]!r}.")
        rule["MaxAgeSeconds"] = int(max_age)
    return bucket, rule


def _string(props, name, pattern, rule):
    value = props.get(name)
    if value in (None, ""):
        raise Failed(f"Property {name} is missing.")
    if not isinstance(value, str) or not pattern.match(value):
        raise Failed(f"Property {name} must be {rule}, got {str(value)[:80]!r}.")
    return value


def _list(props, name, required=False, wildcards=None, allowed=None):
    value = props.get(name)
    if value in (None, "", []):
        if required:
            raise Failed(f"Property {name} is missing: it needs at least one value.")
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v and not re.search(r"\s", v) for v in value):
        raise Failed(f"Property {name} must be a list of non-empty strings without spaces, got {str(value)[:80]!r}.")
    for v in value:
        if wildcards is not None and v.count("*") > wildcards:
            raise Failed(f"Property {name} value {v[:80]!r} has more than one '*'; S3 allows one per value.")
        if allowed and v not in allowed:
            raise Failed(f"Property {name} value {v[:80]!r} is not one of {', '.join(allowed)}.")
    return value


def with_rule(rules, rule, ours=None):
    """`rules` with `rule` in place of the first whose ID is in `ours` (default: rule's ID; appended if
    none), other rules of ours dropped, every other rule untouched."""
    ours = ours or {rule["ID"]}
    out, placed = [], False
    for r in rules:
        if r.get("ID") not in ours:
            out.append(r)
        elif not placed:
            out.append(rule)
            placed = True
    return out if placed else out + [rule]


def without_rule(rules, rule_id):
    """`rules` without those whose ID is `rule_id`; the others keep their order and fields."""
    return [r for r in rules if r.get("ID") != rule_id]


def xml_size(s3, bucket, rules):
    """Bytes of the PutBucketCors XML body botocore sends for `rules`, the size S3 limits."""
    return body_sizer(s3)(bucket, rules)


def body_sizer(s3):
    """(bucket, rules) -> PutBucketCors body bytes; built ahead so that measuring is quick."""
    model = s3.meta.service_model
    serializer = create_serializer(model.metadata["protocol"], include_validation=False)
    operation = model.operation_model("PutBucketCors")

    def size(bucket, rules):
        request = serializer.serialize_to_request({"Bucket": bucket, "CORSConfiguration": {"CORSRules": rules}},
                                                  operation)
        return len(request["body"])
    return size
