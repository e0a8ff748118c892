"""Floods Login with wrong passwords and watches the server's memory.

python3 scripts/signin_flood.py HOST:PORT SERVER_PID [CONCURRENT] [ROUNDS]

Each round opens CONCURRENT connections at once, each sending one Login with
a wrong password (user names vary, all from this one address), and samples
the server's resident memory (VmRSS) every 20 ms. Prints, per round, the
answers by status and RSS before, at its peak and after.
"""
import collections
import http.client
import json
import sys
import threading
import time


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def one_login(addr, user, statuses, lock, start):
    host, port = addr.rsplit(":", 1)
    start.wait()
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        body = json.dumps({"UserName": user, "UserPassword": "wrong"})
        conn.request("POST", "/ServiceModel/AuthService.svc/Login", body, {"Content-Type": "application/json"})
        status = conn.getresponse().status
        conn.close()
    except Exception as e:  # a refused or reset connection counts too
        status = type(e).__name__
    with lock:
        statuses[status] += 1


def main():
    addr, pid = sys.argv[1], int(sys.argv[2])
    concurrent = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    print(f"server RSS at start: {rss_kib(pid) / 1024:.1f} MiB")
    for r in range(1, rounds + 1):
        before = rss_kib(pid)
        statuses, lock, start = collections.Counter(), threading.Lock(), threading.Event()
        threads = [threading.Thread(target=one_login, args=(addr, f"user{r}-{i % 50}", statuses, lock, start))
                   for i in range(concurrent)]
        for t in threads:
            t.start()
        peak, began = before, time.monotonic()
        start.set()
        while any(t.is_alive() for t in threads):
            peak = max(peak, rss_kib(pid))
            time.sleep(0.02)
        took = time.monotonic() - began
        time.sleep(1)
        after = rss_kib(pid)
        print(f"round {r}: {concurrent} wrong sign-ins in {took:.1f} s, answers {dict(statuses)}; "
              f"RSS before {before / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, after {after / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
