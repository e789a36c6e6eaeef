# Client CPU per thread, independent of the machine's load (run via
# scripts/bench-callgrind): uploads the benchmark corpus's mbox once per
# given mailhaul binary under `valgrind --tool=callgrind --separate-threads=yes`
# into a private Dovecot on tmpfs (bench.py's), and prints the instructions
# each thread executed. Thread 1 is the connection's (the send loop); with
# the reader of issue 9, reading, parsing and hashing run on the others.
# Instruction counts, unlike seconds, do not move with the other jobs on a
# shared machine, so two builds can be compared on a busy one.
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402


def thread_totals(outdir):
    """{thread number: instructions} from callgrind's per-thread files."""
    totals = {}
    for path in glob.glob(os.path.join(outdir, "callgrind.out*")):
        m = re.search(r"-(\d+)$", path)
        thread = int(m.group(1)) if m else 1
        with open(path) as f:
            for line in f:
                if line.startswith("totals:") or line.startswith("summary:"):
                    totals[thread] = int(line.split()[1])
                    break
    return totals


def main():
    ap = argparse.ArgumentParser(description="mailhaul client instructions per thread")
    ap.add_argument("binaries", nargs="+", help="mailhaul binaries to compare")
    ap.add_argument("--messages", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workdir", default="/var/tmp/mailhaul-bench")
    ap.add_argument("--mailhaul-args", default="", help="extra arguments for every run")
    args = ap.parse_args()
    cdir = os.path.join(args.workdir, f"corpus-{args.messages}-{args.seed}")
    mbox = os.path.join(cdir, "corpus.mbox")
    if not os.path.exists(mbox):
        sys.exit(f"no corpus in {cdir}: run scripts/bench once with --messages {args.messages}")
    top, dovecot, pwfile = bench.tmpfs_dovecot(cdir, "callgrind")
    rows = []
    try:
        for i, binary in enumerate(args.binaries):
            user = f"cg{i}"
            outdir = os.path.join(top, f"cg{i}")
            os.makedirs(outdir)
            bench.log(f"callgrind: {binary} ...")
            p = subprocess.run(
                ["valgrind", "--tool=callgrind", "--separate-threads=yes",
                 f"--callgrind-out-file={outdir}/callgrind.out", binary, "upload",
                 "--server", f"imap://{user}@127.0.0.1:{dovecot.port}", "--allow-plaintext",
                 "--password-file", pwfile, "--mailbox", "INBOX", "-q",
                 *args.mailhaul_args.split(), mbox],
                capture_output=True, text=True)
            stored = dovecot.count(user)
            dovecot.drop_user(user)
            if p.returncode != 0:
                sys.exit(f"{binary}: exit {p.returncode}\n{p.stderr[-2000:]}")
            rows.append((binary, thread_totals(outdir), stored))
    finally:
        dovecot.stop()
        shutil.rmtree(top, ignore_errors=True)
    print("| binary | stored | thread 1 (connection) Minstr | other threads Minstr | total Minstr |")
    print("|---|---:|---:|---:|---:|")
    for binary, totals, stored in rows:
        main_thread = totals.get(1, 0)
        others = sum(v for k, v in totals.items() if k != 1)
        print(f"| {binary} | {stored} | {main_thread / 1e6:.0f} | {others / 1e6:.0f} | "
              f"{(main_thread + others) / 1e6:.0f} |")


if __name__ == "__main__":
    main()
