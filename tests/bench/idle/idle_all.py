#!/usr/bin/env python3
"""Idle memory with every channel type configured: warblerd with the API
channel and an email channel connected (IDLE) to a real Dovecot, on the
sample knowledge base; VmRSS after a few seconds idle.

    tests/bench/idle/idle_all.py [BUILD_DIR]
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(SRC, "tests", "integration"))
import wbtest  # noqa: E402
from mailpeers import MailPeers, warbler_channel_conf  # noqa: E402



def main():
    if len(sys.argv) > 1:
        os.environ["WARBLERD"] = os.path.join(sys.argv[1], "src", "warblerd")
    peers = MailPeers()
    cb = wbtest.Callback()
    try:
        conf = warbler_channel_conf(peers)
        d = wbtest.Daemon(cb.url, channels_extra=conf).start()
        deadline = time.time() + 20
        while time.time() < deadline:
            chans = {c["id"]: c["state"] for c in d.health()[1]["channels"]}
            if chans.get("mail") == "up":
                break
            time.sleep(0.1)
        time.sleep(3)
        status = {}
        with open("/proc/%d/status" % d.proc.pid) as f:
            for line in f:
                k, v = line.split(":", 1)
                status[k] = v.strip()
        roll = {}
        with open("/proc/%d/smaps_rollup" % d.proc.pid) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[2] == "kB":
                    roll[parts[0].rstrip(":")] = int(parts[1])
        print("channels: %s" % chans)
        print("Pss %d kB, Private_Dirty %d kB, Private_Clean %d kB, Shared_Clean %d kB" % (
            roll.get("Pss", 0), roll.get("Private_Dirty", 0), roll.get("Private_Clean", 0),
            roll.get("Shared_Clean", 0)))
        print("VmRSS %s, VmHWM %s, threads %s" % (status["VmRSS"], status["VmHWM"],
                                                   status["Threads"]))
        d.stop()
        return 0 if chans.get("mail") == "up" else 1
    finally:
        cb.close()
        peers.stop()


if __name__ == "__main__":
    sys.exit(main())
