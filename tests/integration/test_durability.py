"""Durability: a burst of API-channel messages, warblerd killed with SIGKILL in
the middle, restarted.  Every message that got a 200 must be in the store,
none twice, and each must get exactly one reply at the callback (counted by
distinct Idempotency-Key)."""
import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import wbtest  # noqa: E402

SENDERS = 8          # concurrent clients
PER_SENDER = 400     # messages each
KILL_AFTER = 800     # acknowledged messages before SIGKILL


class Durability(unittest.TestCase):
    def test_sigkill_mid_burst(self):
        cb = wbtest.Callback()
        d = wbtest.Daemon(cb.url).start()
        acked = {}            # external id -> sender id
        lock = threading.Lock()
        killed = threading.Event()

        def client(k):
            for i in range(PER_SENDER):
                if killed.is_set():
                    return
                sender = "s%d-%d" % (k, i)  # one conversation per message
                mid = "dur-%d-%d" % (k, i)
                try:
                    st, body = d.post_message(sender, mid, "Where is my order %d?" % i, timeout=10)
                except OSError:
                    return  # the daemon died under us: this one was not acknowledged
                if st == 200 and not body["duplicate"]:
                    with lock:
                        acked[mid] = sender
                        if len(acked) >= KILL_AFTER and not killed.is_set():
                            killed.set()
                            d.kill()

        threads = [threading.Thread(target=client, args=(k,)) for k in range(SENDERS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertTrue(killed.is_set(), "the burst ended before the kill")
        n_acked = len(acked)

        d.start()  # same state directory
        try:
            with d.db() as db:
                rows = db.execute("SELECT external_id, count(*) FROM messages WHERE "
                                  "channel_id='api-main' AND external_id LIKE 'dur-%' "
                                  "GROUP BY external_id").fetchall()
            stored = dict(rows)
            missing = [m for m in acked if m not in stored]
            self.assertEqual(missing, [], "acknowledged messages lost")
            self.assertTrue(all(c == 1 for c in stored.values()), "a message stored twice")

            # Each stored inbound message gets exactly one reply (at-least-once
            # delivery, deduplicated by Idempotency-Key at the receiver).
            want = len(stored)

            def distinct(recs):
                return {r["headers"].get("idempotency-key") for r in recs}
            recs = cb.wait_for(lambda rs: len(distinct(rs)) >= want, timeout=120)
            deadline = time.time() + 60
            while time.time() < deadline and d.health()[1]["outbox_depth"] > 0:
                time.sleep(0.2)
            recs = cb.snapshot()
            keys_by_recipient = {}
            for r in recs:
                keys_by_recipient.setdefault(r["json"]["recipient"]["id"], set()).add(
                    r["headers"]["idempotency-key"])
            for mid, sender in acked.items():
                self.assertEqual(len(keys_by_recipient.get(sender, ())), 1,
                                 "message %s: %r" % (mid, keys_by_recipient.get(sender)))
            self.assertEqual(len(distinct(recs)), want)
            print("acknowledged %d, stored %d, replies %d (deliveries %d)" %
                  (n_acked, len(stored), len(distinct(recs)), len(recs)))
        finally:
            d.stop()
            cb.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
