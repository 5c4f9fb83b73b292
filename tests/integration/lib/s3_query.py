#!/usr/bin/python3
"""What the S3 tests ask the store directly, signed with Signature Version 4
by hand (standard library only; the same keys zrecon uses, from the
environment: S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
An independent client, so a bug in zrecon's cannot hide in the checks.

Usage: s3_query.py COMMAND ARGS
  mkbucket BUCKET        creates it (exit 1 unless 200)
  keys BUCKET PREFIX     every key below PREFIX, sorted, one per line
  uploads BUCKET PREFIX  unfinished multipart uploads: key<TAB>upload id
  get BUCKET KEY         the object's content on stdout
  tags BUCKET KEY        its tags: name<TAB>value, sorted
"""

import datetime
import hashlib
import hmac
import os
import sys
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def request(method, path, query):
    endpoint = os.environ["S3_ENDPOINT"]
    ak, sk = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    host = urllib.parse.urlparse(endpoint).netloc
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    payload = hashlib.sha256(b"").hexdigest()
    q = "&".join(urllib.parse.quote(k, safe="-_.~") + "=" + urllib.parse.quote(v, safe="-_.~")
                 for k, v in sorted(query.items()))
    uri = urllib.parse.quote(path, safe="/-_.~")
    headers = {"host": host, "x-amz-content-sha256": payload, "x-amz-date": now}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, uri, q, "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                           signed, payload])
    scope = f"{now[:8]}/us-east-1/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", now, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + sk).encode()
    for part in (now[:8], "us-east-1", "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ak}/{scope}, "
                                f"SignedHeaders={signed}, Signature={signature}")
    del headers["host"]
    req = urllib.request.Request(endpoint + uri + ("?" + q if q else ""), method=method,
                                 headers=headers)
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.status, r.read()


def children(node, tag):
    return [c for c in node if c.tag.split("}")[-1] == tag]


def text(node, tag):
    found = children(node, tag)
    return found[0].text or "" if found else ""


def main(argv):
    command, bucket = argv[1], argv[2]
    if command == "mkbucket":
        status, _ = request("PUT", "/" + bucket, {})
        sys.exit(0 if status == 200 else 1)
    prefix = argv[3]
    rows = []
    if command == "get":
        _, body = request("GET", "/" + bucket + "/" + prefix, {})
        sys.stdout.buffer.write(body)
        return
    if command == "tags":
        _, body = request("GET", "/" + bucket + "/" + prefix, {"tagging": ""})
        root = ET.fromstring(body)
        for tag_set in children(root, "TagSet"):
            rows += [text(t, "Key") + "\t" + text(t, "Value") for t in children(tag_set, "Tag")]
    if command == "keys":
        token = None
        while True:
            query = {"list-type": "2", "prefix": prefix, "encoding-type": "url"}
            if token:
                query["continuation-token"] = token
            _, body = request("GET", "/" + bucket, query)
            root = ET.fromstring(body)
            rows += [urllib.parse.unquote(text(c, "Key")) for c in children(root, "Contents")]
            token = text(root, "NextContinuationToken") if text(root, "IsTruncated") == "true" else None
            if not token:
                break
    elif command == "uploads":
        _, body = request("GET", "/" + bucket, {"uploads": "", "prefix": prefix})
        root = ET.fromstring(body)
        rows = [text(u, "Key") + "\t" + text(u, "UploadId") for u in children(root, "Upload")]
    print("\n".join(sorted(rows)))


if __name__ == "__main__":
    main(sys.argv)
