#!/usr/bin/env python3
"""Write N distinct, correctly signed API-channel requests for wrk, one per
line: "<signature>\t<json body>"."""
import hashlib
import hmac
import json
import sys

secret, n, out = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3]
questions = ["How long does a refund take?", "Do you ship to Canada?", "退款多久到账？",
             "How do I reset my password?", "What are your support hours?", "hello"]
with open(out, "w") as f:
    for i in range(n):
        body = json.dumps({"sender": {"id": "bench-%d" % (i % 5000), "name": "Bench User"},
                           "message": {"id": "bench-%d" % i, "text": questions[i % len(questions)]}},
                          ensure_ascii=False, separators=(",", ":"))
        sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
        f.write("sha256=%s\t%s\n" % (sig, body))
