# Deterministic benchmark corpus: N messages (default 5,000) with a realistic
# size mix (most 2-20 KB of text, ~3% with a 100 KB-2 MB base64 attachment),
# written as one mbox (LF line ends, mboxrd quoting) and as a Maildir
# (cur/, one file per message, same bytes). Seeded: same bytes every run.
# Also writes the "memory" mbox (~2 GB: the corpus repeated). Owns nothing
# else; bench.py drives it.
import os
import random
import sys

WORDS_SEED = 7


def _words():
    r = random.Random(WORDS_SEED)
    letters = "etaoinshrdlcumwfgypbvkjxqz"
    weights = [12, 9, 8, 7, 7, 6, 6, 6, 4, 4, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1]
    out = ["the", "and", "of", "to", "in", "we", "release", "patch", "build",
           "meeting", "server", "mail", "thanks", "please", "review", "update"]
    while len(out) < 800:
        n = r.choice([2, 3, 4, 5, 5, 6, 7, 8, 9, 11])
        out.append("".join(r.choices(letters, weights, k=n)))
    return out


WORDS = _words()
NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi",
         "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
BASE_TIME = 1420070400  # 2015-01-01
SPAN = 10 * 365 * 86400


def _paragraphs(r, size):
    lines, total = [], 0
    while total < size:
        words = r.choices(WORDS, k=r.randint(6, 12))
        line = " ".join(words)
        line = line[0].upper() + line[1:] + "."
        lines.append(line)
        total += len(line) + 1
        if r.random() < 0.15:
            lines.append("")
            total += 1
    return "\n".join(lines) + "\n"


def _b64_lines(data):
    import base64
    enc = base64.b64encode(data).decode()
    return "\n".join(enc[i:i + 76] for i in range(0, len(enc), 76)) + "\n"


def _date(t):
    import time
    tm = time.gmtime(t)
    return tm, "%s, %d %s %d %02d:%02d:%02d +0000" % (
        DAYS[tm.tm_wday], tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year,
        tm.tm_hour, tm.tm_min, tm.tm_sec)


def message(seed, i, n):
    """Message i of n: (bytes with LF line ends, unix time, seen flag)."""
    r = random.Random(seed * 1_000_003 + i)
    t = BASE_TIME + (SPAN * i) // n + r.randint(0, 3600)
    _, date = _date(t)
    frm, to = r.sample(NAMES, 2)
    subject = " ".join(r.choices(WORDS, k=r.randint(3, 8)))
    head = (
        f"Return-Path: <{frm}@example.org>\n"
        f"Received: from mx.example.org by mail.example.net; {date}\n"
        f"From: {frm.title()} <{frm}@example.org>\n"
        f"To: {to.title()} <{to}@example.net>\n"
        f"Subject: {subject}\n"
        f"Date: {date}\n"
        f"Message-ID: <bench.{seed}.{i}@example.org>\n"
        "MIME-Version: 1.0\n"
    )
    # Size mix: ~3% carry an attachment of 100 KB-2 MB (log-uniform); the
    # last message is always a 2 MB one (the largest). The rest: 2-20 KB.
    if i == n - 1:
        attach = 2_000_000
    elif r.random() < 0.03:
        attach = int(100_000 * (20 ** r.random()))
    else:
        attach = 0
    if attach:
        body_text = _paragraphs(r, r.randint(500, 3000))
        raw = r.randbytes(attach * 3 // 4)
        b = f"b{seed}x{i}"
        text = head + (
            f'Content-Type: multipart/mixed; boundary="{b}"\n\n'
            f"--{b}\nContent-Type: text/plain; charset=us-ascii\n\n{body_text}\n"
            f"--{b}\nContent-Type: application/octet-stream; name=\"file{i}.bin\"\n"
            f"Content-Transfer-Encoding: base64\n"
            f"Content-Disposition: attachment; filename=\"file{i}.bin\"\n\n"
            + _b64_lines(raw) + f"--{b}--\n"
        )
    else:
        size = int(2048 * (10 ** r.random())) - len(head) - 60
        text = head + "Content-Type: text/plain; charset=us-ascii\n\n" + _paragraphs(r, max(size, 200))
    return text.encode(), t, r.random() < 0.7


def from_line(t):
    import time
    tm = time.gmtime(t)
    return "From bench@example.org %s %s %2d %02d:%02d:%02d %d\n" % (
        DAYS[tm.tm_wday], MONTHS[tm.tm_mon - 1], tm.tm_mday,
        tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year)


def mboxrd_quote(body):
    out = []
    for line in body.split(b"\n"):
        s = line.lstrip(b">")
        out.append(b">" + line if s.startswith(b"From ") else line)
    return b"\n".join(out)


def write(out_dir, n, seed):
    """Writes corpus.mbox and maildir/ into out_dir; returns stats."""
    md = os.path.join(out_dir, "maildir")
    for sub in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, sub), exist_ok=True)
    total, largest = 0, 0
    with open(os.path.join(out_dir, "corpus.mbox"), "wb") as mbox:
        for i in range(n):
            data, t, seen = message(seed, i, n)
            total += len(data)
            largest = max(largest, len(data))
            mbox.write(from_line(t).encode())
            if seen:
                # mailhaul turns this into \Seen and strips it (DESIGN.md),
                # so the stored bytes equal the Maildir file's.
                mbox.write(b"Status: RO\n")
            mbox.write(mboxrd_quote(data))
            mbox.write(b"\n")
            name = "%d.M%06dP1.bench:2,%s" % (t, i, "S" if seen else "")
            p = os.path.join(md, "cur", name)
            with open(p, "wb") as f:
                f.write(data)
            os.utime(p, (t, t))
    return {"messages": n, "bytes": total, "largest": largest}


def write_memory_mbox(out_dir, target_bytes):
    """~target_bytes of mbox: corpus.mbox repeated (distinct Message-IDs are
    not needed: the server stores duplicates)."""
    src = os.path.join(out_dir, "corpus.mbox")
    dst = os.path.join(out_dir, "memory.mbox")
    size = os.path.getsize(src)
    reps = max(1, -(-target_bytes // size))
    if os.path.exists(dst) and os.path.getsize(dst) == size * reps:
        return dst, reps
    with open(src, "rb") as f:
        data = f.read()
    with open(dst + ".tmp", "wb") as out:
        for _ in range(reps):
            out.write(data)
    os.replace(dst + ".tmp", dst)
    return dst, reps


if __name__ == "__main__":
    d, n, s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(write(d, n, s))
