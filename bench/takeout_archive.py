#!/usr/bin/env python3
"""Generates a large Google Takeout export for measuring mailhaul's
archive reading (BENCHMARKS.md): an mbox of many labelled messages at
OUT/Takeout/Mail/All mail Including Spam and Trash.mbox, a few files of
other products, and the same tree packed as
  OUT/takeout-stored.zip    (stored: the zip is as large as the mbox)
  OUT/takeout-deflated.zip  (deflate, level 1)
  OUT/takeout.tgz           (tar + gzip, level 1)
Deterministic (seeded). Usage: takeout_archive.py OUT [GIB]  (default 2)."""

import os
import random
import sys
import tarfile
import zipfile

MBOX = "Takeout/Mail/All mail Including Spam and Trash.mbox"
LABELS = [
    "Inbox", "Sent", "Work/Projects", "Travel, 2019", "Starred", "Unread",
    "Opened", "Important", "Category Updates", "Archived",
]


def paragraphs(rng, n):
    words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz")
                     for _ in range(rng.randint(2, 10))) for _ in range(4000)]
    out = []
    for _ in range(n):
        lines = []
        for _ in range(rng.randint(3, 12)):
            lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(8, 14))))
        out.append("\n".join(lines) + "\n\n")
    return out


def write_mbox(path, size, rng):
    paras = paragraphs(rng, 2000)
    written, n = 0, 0
    with open(path, "w", buffering=1 << 20) as f:
        while written < size:
            n += 1
            labels = ",".join(rng.sample(LABELS, rng.randint(1, 4)))
            day = 1 + n % 28
            body = "".join(rng.choice(paras) for _ in range(rng.randint(2, 10)))
            body = body.replace("\nFrom ", "\n>From ")
            msg = (
                f"From 17{n:08d}@xxx Mon Mar {day:02d} 10:{n % 60:02d}:00 +0000 2021\n"
                f"X-GM-THRID: 17{n:08d}\nX-Gmail-Labels: {labels}\n"
                f"From: Sender {n % 97} <s{n % 97}@example.org>\nTo: me@example.org\n"
                f"Subject: message {n}\nMessage-ID: <bench-{n}@example.org>\n"
                f"Date: Mon, {day} Mar 2021 10:{n % 60:02d}:00 +0000\n\n{body}\n"
            )
            f.write(msg)
            written += len(msg)
    return n


def main():
    out = sys.argv[1]
    size = int(float(sys.argv[2] if len(sys.argv) > 2 else 2) * (1 << 30))
    rng = random.Random(12)
    os.makedirs(os.path.join(out, "Takeout/Mail"), exist_ok=True)
    os.makedirs(os.path.join(out, "Takeout/Drive"), exist_ok=True)
    for i in range(20):
        with open(os.path.join(out, f"Takeout/Drive/file{i}.bin"), "wb") as f:
            f.write(rng.randbytes(256 * 1024))
    n = write_mbox(os.path.join(out, MBOX), size, rng)
    members = [f"Takeout/Drive/file{i}.bin" for i in range(20)] + [MBOX]
    for name, method, level in [
        ("takeout-stored.zip", zipfile.ZIP_STORED, None),
        ("takeout-deflated.zip", zipfile.ZIP_DEFLATED, 1),
    ]:
        with zipfile.ZipFile(os.path.join(out, name), "w", method,
                             allowZip64=True, compresslevel=level) as z:
            for m in members:
                z.write(os.path.join(out, m), m)
    with tarfile.open(os.path.join(out, "takeout.tgz"), "w:gz", compresslevel=1) as t:
        for m in members:
            t.add(os.path.join(out, m), m)
    print(f"{n} messages, {os.path.getsize(os.path.join(out, MBOX))} bytes of mbox")


if __name__ == "__main__":
    main()
