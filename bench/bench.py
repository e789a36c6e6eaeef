# Benchmark driver (run via scripts/bench): generates the deterministic
# corpus (bench/corpus.py), starts a private Dovecot (its own config and
# store in a temp dir, 127.0.0.1, plaintext LOGIN, MULTIAPPEND + LITERAL+ as
# shipped) with the store on disk and on /dev/shm, and times one after
# another on the same corpus and server: mailhaul (default, --no-multiappend,
# --jobs 4, --jobs 4 --unordered), a python3 imaplib loop, mbsync pushing the Maildir, the raw
# MULTIAPPEND+LITERAL+ bound (bench/raw_multiappend.py) and doveadm import.
# RTT > 0 goes through bench/latency_proxy.rs, which with `--profile` also
# presents a provider's capabilities (sync: iCloud/Courier, literal-minus:
# Gmail; no MULTIAPPEND in either). Every run gets a fresh user
# (an empty INBOX); the stored count is checked with doveadm after each run.
# Prints messages/s, MB/s, peak RSS, CPU seconds, ratios against mailhaul
# default and the issue-5/9 targets with PASS/FAIL. `--memory` uploads a ~2 GB
# mbox and reports peak RSS against the largest message. `--rerun-check`
# uploads the corpus once, then reruns it with its journal and without
# (the server check reads what is there) and reports what each rerun cost.
import argparse
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import corpus  # noqa: E402

MAILHAUL = os.path.join(ROOT, "target/release/mailhaul")
PROXY = os.path.join(ROOT, "target/release/examples/latency_proxy")
MAIL_USER = "mailhaul-test"
PASSWORD = "bench"
MiB = 1 << 20


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- Dovecot
class Dovecot:
    """A private Dovecot: config, base_dir and logs in `conf_dir`, users'
    homes in `store` (disk or tmpfs). Static passdb (any user, password
    `bench`), so each run logs in as a new user with an empty INBOX."""

    def __init__(self, conf_dir, store, compress=False):
        self.dir, self.store = conf_dir, store
        pw = pwd.getpwnam(MAIL_USER)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        for sub in ("run", "state"):
            os.makedirs(os.path.join(conf_dir, sub), exist_ok=True)
        os.makedirs(store, exist_ok=True)
        os.chown(store, self.uid, self.gid)
        os.chmod(conf_dir, 0o755)
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.conf = os.path.join(conf_dir, "dovecot.conf")
        plugins = " zlib" if compress else ""
        imap_plugins = " imap_zlib" if compress else ""
        with open(self.conf, "w") as f:
            f.write(f"""# Private benchmark instance written by bench/bench.py
base_dir = {conf_dir}/run
state_dir = {conf_dir}/state
log_path = {conf_dir}/dovecot.log
instance_name = mailhaul-bench-{os.getpid()}-{os.path.basename(conf_dir)}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:~/Maildir
mail_uid = {self.uid}
mail_gid = {self.gid}
first_valid_uid = {self.uid}
last_valid_uid = {self.uid}
first_valid_gid = {self.gid}
last_valid_gid = {self.gid}
mail_max_userip_connections = 50
mail_plugins = $mail_plugins{plugins}
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={store}/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
protocol imap {{
  mail_plugins = $mail_plugins{imap_plugins}
}}
""")
        subprocess.run(["dovecot", "-c", self.conf], check=True)
        self.wait_ready()

    def wait_ready(self):
        import socket
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        sys.exit("Dovecot did not start; log:\n" + self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log")) as f:
                return f.read()
        except OSError:
            return ""

    def doveadm(self, *args, **kw):
        return subprocess.run(["doveadm", "-c", self.conf, *args], **kw)

    def count(self, user):
        p = self.doveadm("mailbox", "status", "-u", user, "messages", "INBOX",
                         capture_output=True, text=True)
        try:
            return int(p.stdout.strip().split("=")[1])
        except (IndexError, ValueError):
            return -1

    def drop_user(self, user):
        self.doveadm("kick", user, capture_output=True)
        shutil.rmtree(os.path.join(self.store, user), ignore_errors=True)

    def stop(self):
        try:
            with open(os.path.join(self.dir, "run/master.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return
        os.kill(pid, 15)
        for _ in range(200):
            if not os.path.exists(f"/proc/{pid}"):
                break
            time.sleep(0.025)


# Capabilities the latency proxy rewrites to present a provider with Dovecot
# behind (same length; see bench/latency_proxy.rs). `--profile` picks one.
PROFILES = {
    "dovecot": [],
    # iCloud, Courier: no MULTIAPPEND, synchronizing literals only.
    "sync": ["MULTIAPPEND=XXXXXXXXXXX", "LITERAL+=XXXXXXXX"],
    # Gmail: no MULTIAPPEND, RFC 7888 LITERAL- (non-synchronizing up to 4096 bytes).
    "literal-minus": ["MULTIAPPEND=XXXXXXXXXXX", "LITERAL+=LITERAL-"],
}


class Proxy:
    def __init__(self, target_port, rtt_ms, rewrites=()):
        self.p = subprocess.Popen([PROXY, str(target_port), str(rtt_ms / 2), *rewrites],
                                  stdout=subprocess.PIPE, text=True)
        self.port = int(self.p.stdout.readline())

    def stop(self):
        self.p.terminate()
        self.p.wait()


# ---------------------------------------------------------------- timing
def timed(argv, env=None):
    """Runs argv under /usr/bin/time: wall, user+sys CPU, peak RSS (KiB)."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        t0 = time.monotonic()
        p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *argv],
                           capture_output=True, env=env)
        wall = time.monotonic() - t0
        fields = tf.read().strip().splitlines()[-1].split()
    return {"wall": wall, "cpu": float(fields[1]) + float(fields[2]),
            "rss_kb": int(fields[3]), "rc": p.returncode,
            "stdout": p.stdout.decode(errors="replace"),
            "stderr": p.stderr.decode(errors="replace")}


class Bench:
    def __init__(self, args, cdir, stats):
        self.args, self.cdir, self.stats = args, cdir, stats
        self.mbox = os.path.join(cdir, "corpus.mbox")
        self.maildir = os.path.join(cdir, "maildir")
        names = sorted(os.listdir(os.path.join(self.maildir, "cur")))
        self.names = names
        self.sizes = [os.path.getsize(os.path.join(self.maildir, "cur", n)) for n in names]
        self.pwfile = os.path.join(cdir, "password")
        with open(self.pwfile, "w") as f:
            f.write(PASSWORD + "\n")
        self.seq = 0
        self.has_jobs = "--jobs" in subprocess.run(
            [args.mailhaul_bin, "upload", "--help"], capture_output=True, text=True).stdout

    def user(self, tag):
        self.seq += 1
        return f"r{self.seq:03d}{tag}"

    def bytes_of(self, n):
        # CRLF on the wire: one more byte per line than the LF files.
        return sum(self.sizes[:n])

    def maildir_copy(self, work, limit=None):
        """A hard-linked copy of the Maildir (mbsync and doveadm write state
        into it), optionally only the first `limit` messages."""
        dst = os.path.join(work, "maildir")
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(dst, sub))
        for name in self.names[:limit] if limit else self.names:
            os.link(os.path.join(self.maildir, "cur", name), os.path.join(dst, "cur", name))
        subprocess.run(["chown", "-R", f"{MAIL_USER}:{MAIL_USER}", work], check=True)
        return dst

    # Each runner returns (result dict or None, messages sent, note).
    def mailhaul(self, port, user, extra):
        if "--jobs" in extra and not self.has_jobs:
            return None, 0, "not implemented"
        r = timed([self.args.mailhaul_bin, "upload", "--server", f"imap://{user}@127.0.0.1:{port}",
                   "--allow-plaintext", "--password-file", self.pwfile,
                   "--mailbox", "INBOX", "-q", *extra, self.mbox])
        if r["rc"] != 0:
            return None, 0, "exit %d: %s" % (r["rc"], r["stderr"][-300:])
        return r, len(self.names), ""

    def imaplib(self, port, user, limit):
        argv = [sys.executable, os.path.join(HERE, "imaplib_loop.py"), self.mbox,
                str(port), user, PASSWORD]
        if limit and limit < len(self.names):
            argv.append(str(limit))
        else:
            limit = len(self.names)
        r = timed(argv)
        if r["rc"] != 0:
            return None, 0, r["stderr"][-300:]
        note = f"first {limit} messages, extrapolated" if limit < len(self.names) else ""
        return r, limit, note

    def mbsync(self, port, user, limit):
        limit = min(limit or len(self.names), len(self.names))
        work = tempfile.mkdtemp(prefix="mbsync-", dir=self.args.workdir)
        try:
            md = self.maildir_copy(work, limit)
            os.makedirs(os.path.join(work, "state"))
            conf = os.path.join(work, "mbsyncrc")
            with open(conf, "w") as f:
                f.write(f"""IMAPAccount bench
Host 127.0.0.1
Port {port}
User {user}
Pass {PASSWORD}
SSLType None
AuthMechs LOGIN

IMAPStore remote
Account bench

MaildirStore local
Path {work}/
Inbox {md}

Channel bench
Far :remote:
Near :local:
Patterns INBOX
Sync Push
Create Far
SyncState {work}/state/
""")
            r = timed(["mbsync", "-q", "-c", conf, "bench"])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if r["rc"] != 0:
            return None, 0, r["stderr"][-300:]
        note = f"first {limit} messages, extrapolated" if limit < len(self.names) else ""
        return r, limit, note

    def raw(self, port, user, window=4, batch=100):
        r = timed([sys.executable, os.path.join(HERE, "raw_multiappend.py"), self.maildir,
                   str(port), user, PASSWORD, str(window), str(batch)])
        if r["rc"] != 0:
            return None, 0, r["stderr"][-300:]
        # Wall time is the script's own (login to last OK): the commands
        # were built from disk before the clock started.
        r["wall"] = float(r["stdout"].split()[1])
        return r, len(self.names), "send phase only (commands pre-built)"

    def doveadm_import(self, dovecot, user):
        work = tempfile.mkdtemp(prefix="import-", dir=self.args.workdir)
        try:
            md = self.maildir_copy(work)
            r = timed(["doveadm", "-c", dovecot.conf, "import", "-u", user,
                       f"maildir:{md}", "", "all"])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if r["rc"] != 0:
            return None, 0, r["stderr"][-300:]
        return r, len(self.names), "no network"


ROWS = ["mailhaul", "mailhaul --no-multiappend", "mailhaul --jobs 4",
        "mailhaul --jobs 4 --unordered", "imaplib loop", "mbsync", "raw MULTIAPPEND+LITERAL+ x4",
        "raw serial APPEND+LITERAL+ x64"]


def parse_caps(s):
    out = {}
    for part in s.split(","):
        if part:
            k, v = part.split(":")
            out[int(k)] = int(v)
    return out


def run_store(b, store_kind, results):
    args = b.args
    base = "/dev/shm" if store_kind == "tmpfs" else args.workdir
    top = tempfile.mkdtemp(prefix="mailhaul-bench-", dir=base)
    os.chmod(top, 0o755)
    dovecot = Dovecot(os.path.join(top, "server"), os.path.join(top, "store"),
                      compress=args.server_compress)
    imaplib_caps, mbsync_caps = parse_caps(args.imaplib_cap), parse_caps(args.mbsync_cap)
    try:
        for rtt in args.rtts:
            rewrites = PROFILES[args.profile]
            proxy = Proxy(dovecot.port, rtt, rewrites) if rtt > 0 or rewrites else None
            port = proxy.port if proxy else dovecot.port
            try:
                for row in ROWS:
                    if args.only and not any(o in row for o in args.only):
                        continue
                    if any(o in row for o in args.skip):
                        continue
                    # Repeat the short RTT-0 runs (disk timings vary a lot
                    # here) and keep the median run by wall time.
                    runs = []
                    for _ in range(args.repeat if rtt == 0 else 1):
                        user = b.user(row.split()[0][:4])
                        log(f"[{store_kind} rtt {rtt} ms] {row} ...")
                        if row == "mailhaul":
                            r, n, note = b.mailhaul(port, user, args.mailhaul_args)
                        elif row.startswith("mailhaul "):
                            r, n, note = b.mailhaul(port, user,
                                                    row.split()[1:] + args.mailhaul_args)
                        elif row == "imaplib loop":
                            r, n, note = b.imaplib(port, user, imaplib_caps.get(rtt))
                        elif row == "mbsync":
                            r, n, note = b.mbsync(port, user, mbsync_caps.get(rtt))
                        elif row.startswith("raw serial"):
                            r, n, note = b.raw(port, user, window=64, batch=1)
                        else:
                            r, n, note = b.raw(port, user)
                        runs.append(record(b, dovecot, store_kind, rtt, row, user, r, n, note))
                        if r is None:
                            break
                    results.append(median(runs))
            finally:
                if proxy:
                    proxy.stop()
        if (not args.only or any(o in "doveadm import" for o in args.only)) and not any(
                o in "doveadm import" for o in args.skip):
            user = b.user("dove")
            log(f"[{store_kind}] doveadm import ...")
            r, n, note = b.doveadm_import(dovecot, user)
            results.append(record(b, dovecot, store_kind, None, "doveadm import", user, r, n,
                                  note))
    finally:
        dovecot.stop()
        shutil.rmtree(top, ignore_errors=True)


def median(runs):
    timed_runs = sorted((e for e in runs if "wall" in e), key=lambda e: e["wall"])
    if not timed_runs:
        return runs[-1]
    m = timed_runs[len(timed_runs) // 2]
    if len(timed_runs) > 1:
        walls = ", ".join(f"{e['wall']:.2f}" for e in runs if "wall" in e)
        m["note"] = (m["note"] + "; " if m["note"] else "") + f"median of {walls} s"
    return m


def record(b, dovecot, store, rtt, row, user, r, n, note):
    entry = {"store": store, "rtt": rtt, "row": row, "note": note}
    if r is not None:
        stored = dovecot.count(user)
        if stored != n:
            entry["note"] = (note + "; " if note else "") + f"STORED {stored} of {n}"
        nbytes = b.bytes_of(n)
        entry.update(messages=n, bytes=nbytes, wall=r["wall"], cpu=r["cpu"],
                     rss_mib=r["rss_kb"] / 1024, rate=n / r["wall"],
                     mbps=nbytes / MiB / r["wall"],
                     full_time=len(b.names) / (n / r["wall"]))
        log(f"    {n} msgs in {r['wall']:.2f} s, cpu {r['cpu']:.2f} s, "
            f"rss {r['rss_kb'] / 1024:.1f} MiB {entry['note']}")
    else:
        log(f"    {note}")
    dovecot.drop_user(user)
    return entry


# ---------------------------------------------------------------- report
def find(results, store, rtt, row):
    for e in results:
        if e["store"] == store and e["rtt"] == rtt and e["row"] == row and "rate" in e:
            return e
    return None


def report(b, results):
    out = []
    n = len(b.names)
    big = sum(1 for size in b.sizes if size > 4096)
    out.append(f"Corpus: {n} messages, {b.stats['bytes'] / MiB:.1f} MiB "
               f"(largest {b.stats['largest'] / MiB:.2f} MiB, {big} over 4096 bytes), "
               f"seed {b.args.seed}; server profile {b.args.profile}.")
    out.append("time = full corpus (extrapolated from the rate where a subset ran, marked ~); "
               "'x mailhaul' = this row's time / mailhaul default's time (same store, same RTT).")
    for store in b.args.stores:
        for rtt in b.args.rtts + [None]:
            rows = [e for e in results if e["store"] == store and e["rtt"] == rtt]
            if not rows:
                continue
            label = f"RTT {rtt} ms" if rtt is not None else "no network"
            out.append("")
            out.append(f"### {store}, {label}")
            out.append("")
            out.append("| client | msgs/s | MB/s | time s | CPU s | peak RSS MiB | x mailhaul | note |")
            out.append("|---|---:|---:|---:|---:|---:|---:|---|")
            ref = find(results, store, rtt if rtt is not None else 0, "mailhaul")
            for e in rows:
                if "rate" not in e:
                    out.append(f"| {e['row']} | – | – | – | – | – | – | {e['note']} |")
                    continue
                sub = e["messages"] < n
                t = ("~" if sub else "") + f"{e['full_time']:.2f}"
                ratio = f"{e['full_time'] / ref['full_time']:.2f}" if ref else "–"
                out.append(f"| {e['row']} | {e['rate']:.0f} | {e['mbps']:.1f} | {t} | "
                           f"{e['cpu']:.2f} | {e['rss_mib']:.1f} | {ratio} | {e['note']} |")
    out.append("")
    out.append("### Targets (issues 5 and 9)")
    out.append("")
    out.append("| target | store | measured | result |")
    out.append("|---|---|---|---|")

    def t(name, store, ok, measured):
        out.append(f"| {name} | {store} | {measured} | {'PASS' if ok else 'FAIL'} |")

    for store in b.args.stores:
        mh0 = find(results, store, 0, "mailhaul")
        raw0 = find(results, store, 0, "raw MULTIAPPEND+LITERAL+ x4")
        for rtt in b.args.rtts:
            mh = find(results, store, rtt, "mailhaul")
            rw = find(results, store, rtt, "raw MULTIAPPEND+LITERAL+ x4")
            if mh and rw and rtt:
                x = mh["rate"] / rw["rate"]
                t(f"(info) RTT {rtt}: mailhaul vs raw bound", store, x >= 0.9, f"{x:.2f}×")
        if mh0 and raw0:
            x = mh0["rate"] / raw0["rate"]
            t("RTT 0: mailhaul ≥ 0.9× raw bound", store, x >= 0.9, f"{x:.2f}×")
        mh20 = find(results, store, 20, "mailhaul")
        if mh20:
            il = find(results, store, 20, "imaplib loop")
            if il:
                x = mh20["rate"] / il["rate"]
                t("RTT 20: ≥ 30× imaplib loop", store, x >= 30, f"{x:.1f}×")
            mb = find(results, store, 20, "mbsync")
            if mb:
                x = mh20["rate"] / mb["rate"]
                t("RTT 20: ≥ 3× mbsync", store, x >= 3, f"{x:.2f}×")
            if mh0:
                x = mh20["wall"] / mh0["wall"]
                t("RTT 20: ≤ 1.2× own RTT-0 time", store, x <= 1.2, f"{x:.2f}×")
        for rtt in b.args.rtts:
            mh = find(results, store, rtt, "mailhaul")
            nm = find(results, store, rtt, "mailhaul --no-multiappend")
            if mh and nm:
                x = nm["rate"] / mh["rate"]
                t(f"RTT {rtt}: --no-multiappend ≥ 0.7× MULTIAPPEND", store, x >= 0.7, f"{x:.2f}×")
            rs = find(results, store, rtt, "raw serial APPEND+LITERAL+ x64")
            if nm and rs:
                x = nm["rate"] / rs["rate"]
                t(f"RTT {rtt}: --no-multiappend ≥ 0.9× raw serial bound", store, x >= 0.9,
                  f"{x:.2f}×")
        if store == "tmpfs" and mh0:
            mb = find(results, store, 0, "mbsync")
            if mb:
                x = mh0["rate"] / mb["rate"]
                t("tmpfs RTT 0: ≥ 2× mbsync", store, x >= 2, f"{x:.2f}×")
            dv = find(results, store, None, "doveadm import")
            if dv:
                x = mh0["wall"] / dv["wall"]
                t("tmpfs RTT 0: within 2× of doveadm import", store, x <= 2, f"{x:.2f}× its time")
    return "\n".join(out)


def tmpfs_dovecot(cdir, tag):
    """A private Dovecot with its store on /dev/shm, and the password file:
    (top dir to remove, Dovecot, password file)."""
    top = tempfile.mkdtemp(prefix=f"mailhaul-bench-{tag}-", dir="/dev/shm")
    os.chmod(top, 0o755)
    dovecot = Dovecot(os.path.join(top, "server"), os.path.join(top, "store"))
    pwfile = os.path.join(cdir, "password")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    return top, dovecot, pwfile


def memory_mode(args, cdir, stats):
    path, reps = corpus.write_memory_mbox(cdir, args.memory_bytes)
    size = os.path.getsize(path)
    top, dovecot, pwfile = tmpfs_dovecot(cdir, "mem")
    try:
        user = "memory"
        log(f"memory: uploading {size / MiB:.0f} MiB ({reps}× the corpus) ...")
        r = timed([args.mailhaul_bin, "upload", "--server",
                   f"imap://{user}@127.0.0.1:{dovecot.port}",
                   "--allow-plaintext", "--password-file", pwfile, "--mailbox", "INBOX",
                   "-q", *args.mailhaul_args, path])
        stored = dovecot.count(user)
    finally:
        dovecot.stop()
        shutil.rmtree(top, ignore_errors=True)
    rss = r["rss_kb"] / 1024
    limit = 64 + stats["largest"] / MiB
    n = stats["messages"] * reps
    return "\n".join([
        "### Memory (store on tmpfs, RTT 0)",
        "",
        "| mbox | messages | stored | time s | CPU s | peak RSS MiB | largest message MiB | limit (64 MiB + largest) | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {size / MiB:.0f} MiB ({reps}× corpus) | {n} | {stored} | {r['wall']:.1f} | "
        f"{r['cpu']:.1f} | {rss:.1f} | {stats['largest'] / MiB:.2f} | {limit:.1f} MiB | "
        f"{'PASS' if rss <= limit and r['rc'] == 0 else 'FAIL'} (exit {r['rc']}) |",
    ])


def rerun_check_mode(args, cdir, stats):
    """A completed upload rerun: with its journal (spot checks only) and
    without (the server check reads every message's size and Message-ID).
    Store on tmpfs, RTT 0 (or the first of --rtts through the proxy)."""
    top, dovecot, pwfile = tmpfs_dovecot(cdir, "rerun")
    journal = os.path.join(top, "bench.journal")
    rtt = args.rtts[0] if args.rtts else 0
    proxy = Proxy(dovecot.port, rtt) if rtt else None
    port = proxy.port if proxy else dovecot.port
    user = "rerun"
    rows = []
    try:
        def run(name, extra):
            r = timed([args.mailhaul_bin, "upload", "--server", f"imap://{user}@127.0.0.1:{port}",
                       "--allow-plaintext", "--password-file", pwfile, "--mailbox", "INBOX",
                       "--json", *args.mailhaul_args, *extra, cdir + "/corpus.mbox"])
            if r["rc"] != 0:
                raise SystemExit(f"{name}: exit {r['rc']}: {r['stderr'][-500:]}")
            doc = json.loads(r["stdout"])
            rows.append((name, r, doc))
            log(f"{name}: {r['wall']:.2f} s, uploaded {doc['totals']['uploaded']}")
        run("first upload (journal)", ["--journal", journal])
        run("rerun with the journal", ["--journal", journal])
        run("rerun without journal", ["--no-journal"])
        stored = dovecot.count(user)
    finally:
        if proxy:
            proxy.stop()
        dovecot.stop()
        shutil.rmtree(top, ignore_errors=True)
    out = [
        f"### Rerun of a completed upload ({stats['messages']} messages, "
        f"{stats['bytes'] / MiB:.1f} MiB; store on tmpfs, RTT {rtt} ms)",
        "",
        "| run | uploaded | found by the server check | messages read | bodies hashed "
        "| UIDs spot-checked | bytes read by the check | check time s "
        "| source keys read | key pre-pass s | wall s | CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r, doc in rows:
        c = doc.get("server_check", {})
        out.append(
            f"| {name} | {doc['totals']['uploaded']} | {c.get('found', 0)} | "
            f"{c.get('messages_read', 0)} | {c.get('bodies_hashed', 0)} | "
            f"{c.get('spot_checked', 0)} | {c.get('bytes_read', 0) / MiB:.2f} MiB | "
            f"{c.get('seconds', 0):.2f} | {c.get('source_keys_read', 0)} | "
            f"{c.get('source_keys_seconds', 0):.2f} | {r['wall']:.2f} | {r['cpu']:.2f} |")
    out += ["", f"stored after the three runs: {stored} (want {stats['messages']})"]
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description="mailhaul benchmark (see BENCHMARKS.md)")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rtts", default="0,20,100",
                    help="comma-separated RTTs in ms (100 is the slow one: drop it to skip)")
    ap.add_argument("--stores", default="disk,tmpfs")
    ap.add_argument("--only", action="append",
                    help="run only rows whose name contains this (repeatable)")
    ap.add_argument("--imaplib-cap", default="20:300,100:60",
                    help="RTT:N — imaplib sends only the first N messages at that RTT "
                         "(rate extrapolated)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="runs per row at RTT 0 (the median is reported)")
    ap.add_argument("--mbsync-cap", default="100:1000", help="RTT:N, as --imaplib-cap")
    ap.add_argument("--skip", action="append", default=[],
                    help="leave out rows whose name contains this (repeatable)")
    ap.add_argument("--mailhaul-bin", default=MAILHAUL,
                    help="the mailhaul binary to time (e.g. a saved build, to compare two)")
    ap.add_argument("--mailhaul-args", default="",
                    help="extra arguments for every mailhaul run")
    ap.add_argument("--server-compress", action="store_true",
                    help="let Dovecot offer COMPRESS=DEFLATE (imap_zlib)")
    ap.add_argument("--workdir", default="/var/tmp/mailhaul-bench",
                    help="corpus cache and disk-backed server stores")
    ap.add_argument("--memory", action="store_true",
                    help="only the memory run: upload a ~2 GB mbox, report peak RSS")
    ap.add_argument("--memory-bytes", type=int, default=2 << 30)
    ap.add_argument("--rerun-check", action="store_true",
                    help="only the rerun runs: upload once, rerun with the journal and "
                         "without it; report the server check's cost")
    ap.add_argument("--profile", choices=sorted(PROFILES), default="dovecot",
                    help="capabilities the proxy presents: dovecot (as shipped), sync "
                         "(iCloud/Courier: no MULTIAPPEND, no LITERAL+), literal-minus "
                         "(Gmail: no MULTIAPPEND, LITERAL-)")
    ap.add_argument("--json", help="also write the raw results here")
    args = ap.parse_args()
    args.rtts = [int(x) for x in args.rtts.split(",") if x != ""]
    args.stores = [s for s in args.stores.split(",") if s]
    args.mailhaul_args = args.mailhaul_args.split()
    os.makedirs(args.workdir, exist_ok=True)
    os.chmod(args.workdir, 0o755)

    cdir = os.path.join(args.workdir, f"corpus-{args.messages}-{args.seed}")
    stats_path = os.path.join(cdir, "stats.json")
    if not os.path.exists(stats_path):
        log(f"generating corpus in {cdir} ...")
        shutil.rmtree(cdir, ignore_errors=True)
        stats = corpus.write(cdir, args.messages, args.seed)
        for dirpath, dirs, files in os.walk(cdir):
            os.chmod(dirpath, 0o755)
            for fn in files:
                os.chmod(os.path.join(dirpath, fn), 0o644)
        with open(stats_path, "w") as f:
            json.dump(stats, f)
    with open(stats_path) as f:
        stats = json.load(f)

    if args.memory:
        print(memory_mode(args, cdir, stats))
        return
    if args.rerun_check:
        print(rerun_check_mode(args, cdir, stats))
        return
    b = Bench(args, cdir, stats)
    results = []
    for store in args.stores:
        run_store(b, store, results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    print(report(b, results))


if __name__ == "__main__":
    main()
