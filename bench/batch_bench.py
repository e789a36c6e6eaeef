# Batch benchmark (issue 11; run via scripts/bench-batch): N accounts x M
# messages (default 50 x 200, text messages from bench/corpus.py, those over
# 64 KB left out so the corpus stays small), one mbox per account, uploaded
# into a private Dovecot (bench.py's: tmpfs store, static passdb, plaintext
# on 127.0.0.1) by:
#   mailhaul batch --accounts 1 / 4 / 8 (one accounts list, one process),
#   a shell loop of single `mailhaul upload` runs (one process per account),
#   a shell loop of the python3 imaplib script (bench/imaplib_loop.py), the
#   per-account loop people write around a per-message uploader (imapsync
#   itself copies IMAP to IMAP and is not packaged in this Debian).
# Every run uses fresh users and fresh journals; each account's stored count
# is checked with doveadm. Prints wall time, peak RSS (the largest process:
# GNU time's %M) and messages/s per run, as a Markdown table.
import argparse
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import corpus  # noqa: E402
from bench import MAILHAUL, PASSWORD, Dovecot, log, timed  # noqa: E402

MAX_MESSAGE = 64 * 1024


def write_accounts(cdir, accounts, per):
    """One mbox of `per` messages per account; returns paths and bytes."""
    paths, total = [], 0
    for a in range(accounts):
        path = os.path.join(cdir, f"acct{a:03d}.mbox")
        paths.append(path)
        with open(path, "wb") as mbox:
            i = n = 0
            while n < per:
                data, t, _ = corpus.message(1000 + a, i, 10**9)
                i += 1
                if len(data) > MAX_MESSAGE:
                    continue
                mbox.write(corpus.from_line(t).encode())
                mbox.write(corpus.mboxrd_quote(data))
                mbox.write(b"\n")
                total += len(data)
                n += 1
    return paths, total


def check(dovecot, users, per):
    bad = [(u, c) for u in users if (c := dovecot.count(u)) != per]
    if bad:
        sys.exit(f"stored counts wrong: {bad[:5]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=50)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--parallel", default="1,4,8", help="--accounts values for mailhaul batch")
    ap.add_argument("--skip-imaplib", action="store_true")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="mailhaul-batch-bench-")
    store_root = "/dev/shm" if os.path.isdir("/dev/shm") else work
    store = tempfile.mkdtemp(prefix="mailhaul-batch-store-", dir=store_root)
    paths, total = write_accounts(work, args.accounts, args.messages)
    pw = os.path.join(work, "password")
    with open(pw, "w") as f:
        f.write(PASSWORD + "\n")
    dovecot = Dovecot(os.path.join(work, "dovecot"), store)
    n = args.accounts * args.messages
    log(f"{args.accounts} accounts x {args.messages} messages, {total / 2**20:.1f} MiB, store {store_root}")
    rows = []
    try:
        def run(label, argv, users, env=None):
            r = timed(argv, env=env)
            if r["rc"] != 0:
                sys.exit(f"{label} failed ({r['rc']}):\n{r['stdout'][-2000:]}\n{r['stderr'][-2000:]}")
            check(dovecot, users, args.messages)
            rows.append((label, r["wall"], r["rss_kb"], n / r["wall"]))
            log(f"{label}: {r['wall']:.2f} s, {r['rss_kb'] / 1024:.1f} MiB, {n / r['wall']:.0f} msg/s")

        for k in [int(x) for x in args.parallel.split(",")]:
            users = [f"b{k}u{a:03d}" for a in range(args.accounts)]
            csv = os.path.join(work, f"accounts-{k}.csv")
            with open(csv, "w") as f:
                f.write("source,server,password_file,mailbox\n")
                for u, p in zip(users, paths):
                    f.write(f"{p},imap://{u}@127.0.0.1:{dovecot.port},{pw},INBOX\n")
            env = dict(os.environ, XDG_STATE_HOME=os.path.join(work, f"state-b{k}"))
            run(f"mailhaul batch --accounts {k}",
                [MAILHAUL, "batch", csv, "--accounts", str(k), "--quiet", "--allow-plaintext"],
                users, env)

        users = [f"loopu{a:03d}" for a in range(args.accounts)]
        script = "set -e\n" + "".join(
            f"{MAILHAUL} upload {p} --server imap://{u}@127.0.0.1:{dovecot.port} "
            f"--password-file {pw} --mailbox INBOX --allow-plaintext --quiet\n" for u, p in zip(users, paths))
        env = dict(os.environ, XDG_STATE_HOME=os.path.join(work, "state-loop"))
        run("shell loop of mailhaul upload", ["bash", "-c", script], users, env)

        if not args.skip_imaplib:
            users = [f"pyu{a:03d}" for a in range(args.accounts)]
            script = "set -e\n" + "".join(
                f"python3 {HERE}/imaplib_loop.py {p} {dovecot.port} {u} {PASSWORD} >/dev/null\n"
                for u, p in zip(users, paths))
            run("shell loop of python3 imaplib (one APPEND per message)", ["bash", "-c", script], users)
    finally:
        dovecot.stop()
        subprocess.run(["rm", "-rf", work, store])
    print(f"| run ({args.accounts} accounts x {args.messages} messages) | wall s | peak RSS MiB | msg/s |")
    print("|---|---:|---:|---:|")
    for label, wall, rss, rate in rows:
        print(f"| {label} | {wall:.2f} | {rss / 1024:.1f} | {rate:.0f} |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})")


if __name__ == "__main__":
    main()
