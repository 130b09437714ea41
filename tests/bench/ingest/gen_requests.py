#!/usr/bin/env python3
"""Write N distinct, correctly signed API-channel requests for wrk, one per
line: "<signature>\t<json body>", dealt round-robin into OUT.0 .. OUT.<T-1>
so that each wrk thread loads only its own share.

    gen_requests.py SECRET N OUT THREADS
"""
import hashlib
import hmac
import json
import sys

secret, n, out, nthreads = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
questions = ["How long does a refund take?", "Do you ship to Canada?", "退款多久到账？",
             "How do I reset my password?", "What are your support hours?", "hello"]
files = [open("%s.%d" % (out, t), "w") for t in range(nthreads)]
for i in range(n):
    body = json.dumps({"sender": {"id": "bench-%d" % (i % 5000), "name": "Bench User"},
                       "message": {"id": "bench-%d" % i, "text": questions[i % len(questions)]}},
                      ensure_ascii=False, separators=(",", ":"))
    sig = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    files[i % nthreads].write("sha256=%s\t%s\n" % (sig, body))
for f in files:
    f.close()
