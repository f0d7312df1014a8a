"""Test support: S3's bucket CORS API at the wire level, behind a real botocore S3 client.

The fake answers botocore's HTTP requests (through the client's before-send event), so every
request is built, validated and signed by botocore from the real S3 service model, and every
answer goes through botocore's real response and error parsing. Like S3, it keeps the
configuration it parsed from a PUT (not the request bytes) and renders it on GET in a fixed
element order, so the bytes a GET returns are what anyone can observe of a bucket's CORS,
and tests compare those byte for byte.
"""

import base64
import hashlib
import threading
import zlib
from urllib.parse import urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
METHODS = {"GET", "PUT", "POST", "DELETE", "HEAD"}
ELEMENTS = ("ID", "AllowedHeader", "AllowedMethod", "AllowedOrigin", "ExposeHeader", "MaxAgeSeconds")
OPS = {"GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"}


class _Raw:
    def __init__(self, body):
        self._body = body

    def stream(self, **_):
        yield self._body


class FakeS3:
    """Buckets with their CORS configuration (the XML a GET returns, or None when there is none)."""

    def __init__(self, *buckets):
        self.cors = {b: None for b in buckets}
        self.calls = []  # (operation, bucket) in the order S3 received them.
        self.faults = []  # [operation, code, HTTP status, times]: the next matching calls fail.
        self.after = {}  # operation -> callable(bucket) run after that operation succeeded.
        self.after_fault = {}  # operation -> callable(bucket) run after an injected fault answered it.
        self.hold = {}  # operation -> threading.Event the call waits for before answering.
        self.bodies = []  # Every PutBucketCors request body, as sent.
        self._in_after = False
        self._lock = threading.Lock()

    def client(self, attempts=1):
        """A real boto3 S3 client (fake credentials) whose requests this fake answers."""
        client = boto3.client("s3", region_name="eu-west-3", aws_access_key_id="AKIAFAKEFAKEFAKEFAKE",
                              aws_secret_access_key="fake-secret", aws_session_token=None,
                              config=Config(s3={"addressing_style": "path"},
                                            retries={"total_max_attempts": attempts, "mode": "standard"}))
        client.meta.events.register("before-send.s3", self._on_send)
        return client

    def fail(self, op, code, status, times=1):
        self.faults.append([op, code, status, times])

    def writes(self):
        return [c for c in self.calls if c[0] != "GetBucketCors"]

    def _on_send(self, request, **_):
        url = urlsplit(request.url)
        bucket, op = url.path.strip("/"), OPS[request.method]
        assert url.query == "cors", f"unexpected request {request.method} {request.url}"
        if op in self.hold:
            self.hold[op].wait(5)
        with self._lock:
            self.calls.append((op, bucket))
            faulted = len(self.faults) and any(f[0] == op and f[3] > 0 for f in self.faults)
            response = self._answer(op, bucket, request)
        hooks = self.after_fault if faulted else self.after if response[0] < 300 else {}
        if op in hooks and not self._in_after:
            self._in_after = True  # What the hook writes does not trigger the hook again.
            try:
                hooks[op](bucket)
            finally:
                self._in_after = False
        return AWSResponse(request.url, response[0], {"x-amz-request-id": "FAKE", "Content-Type": "application/xml"},
                           _Raw(response[1]))

    def _answer(self, op, bucket, request):
        for fault in self.faults:
            if fault[0] == op and fault[3] > 0:
                fault[3] -= 1
                return error(fault[2], fault[1], "injected by the test")
        if bucket not in self.cors:
            return error(404, "NoSuchBucket", "The specified bucket does not exist")
        if op == "GetBucketCors":
            if self.cors[bucket] is None:
                return error(404, "NoSuchCORSConfiguration", "The CORS configuration does not exist")
            return 200, self.cors[bucket]
        if op == "DeleteBucketCors":
            self.cors[bucket] = None
            return 204, b""
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        self.bodies.append(body)
        problem = check_put(request.headers, body)
        if problem:
            return error(400, *problem)
        self.cors[bucket] = render(ElementTree.fromstring(body).findall(NS + "CORSRule"))
        return 200, b""


def render(rules):
    """The GET body for `rules`: every value kept as sent, in order; elements in one fixed order."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">']
    for rule in rules:
        out.append("<CORSRule>")
        for name in ELEMENTS:
            out += [f"<{name}>{escape(e.text or '')}</{name}>" for e in rule.findall(NS + name)]
        out.append("</CORSRule>")
    out.append("</CORSConfiguration>")
    return "".join(out).encode()


def error(status, code, message):
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            f"<RequestId>FAKE</RequestId><HostId>FAKE</HostId></Error>").encode()
    return status, body


def check_put(headers, body):
    """S3's checks on a PutBucketCors body: integrity header, size, rule count and rule contents."""
    md5, crc = (v.decode() if isinstance(v, bytes) else v
                for v in (headers.get("Content-MD5"), headers.get("x-amz-checksum-crc32")))
    if md5 is None and crc is None:
        return "InvalidRequest", "Missing required header for this request: Content-MD5"
    if md5 is not None and md5 != base64.b64encode(hashlib.md5(body).digest()).decode():
        return "BadDigest", "The Content-MD5 you specified did not match what we received."
    if crc is not None and crc != base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode():
        return "BadDigest", "The CRC32 you specified did not match the calculated checksum."
    if len(body) > 64 * 1024:
        return "MalformedXML", "The CORS configuration is larger than 64 KB"
    try:
        rules = ElementTree.fromstring(body).findall(NS + "CORSRule")
    except ElementTree.ParseError:
        return "MalformedXML", "The XML you provided was not well-formed"
    if not 1 <= len(rules) <= 100:
        return "MalformedXML", "A CORS configuration holds 1 to 100 rules"
    for rule in rules:
        unknown = {child.tag for child in rule} - {NS + name for name in ELEMENTS}
        if unknown:
            return "MalformedXML", f"Unknown element in CORSRule: {sorted(unknown)[0]}"
        methods = [m.text for m in rule.findall(NS + "AllowedMethod")]
        if not methods or not rule.findall(NS + "AllowedOrigin") or not set(methods) <= METHODS:
            return "InvalidRequest", "Each CORS rule needs AllowedOrigin and a valid AllowedMethod"
    return None
