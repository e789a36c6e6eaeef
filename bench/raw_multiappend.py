# The raw protocol bound: reads the corpus Maildir and builds every
# MULTIAPPEND command (LITERAL+, batches like mailhaul's defaults: 100
# messages or 16 MiB) before the clock starts; then logs in and sends them
# with up to 4 commands in flight, reading only for tagged OK lines. No
# parsing beyond that, no disk reading while timed. Prints
# "ELAPSED seconds" (login to last OK) on stdout. Optional arguments WINDOW
# (commands in flight, default 4) and BATCH (messages per command, default
# 100): BATCH 1 gives the bound for pipelined serial APPENDs.
import os
import socket
import sys
import time

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def build(maildir, batch_n=100, batch_bytes=16 << 20):
    cur = os.path.join(maildir, "cur")
    items = []
    for name in sorted(os.listdir(cur)):
        with open(os.path.join(cur, name), "rb") as f:
            data = f.read().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        t = int(name.split(".")[0])
        tm = time.gmtime(t)
        date = '"%02d-%s-%d %02d:%02d:%02d +0000"' % (
            tm.tm_mday, MONTHS[tm.tm_mon - 1], tm.tm_year, tm.tm_hour, tm.tm_min, tm.tm_sec)
        flags = "(\\Seen)" if name.endswith(",S") else "()"
        items.append((flags, date, data))
    cmds, cur_items, size = [], [], 0

    def flush():
        if not cur_items:
            return
        tag = b"B%05d" % (len(cmds) + 1)
        parts = [tag + b" APPEND INBOX"]
        for fl, d, data in cur_items:
            parts.append(b" %s %s {%d+}\r\n" % (fl.encode(), d.encode(), len(data)))
            parts.append(data)
        parts.append(b"\r\n")
        cmds.append((tag, b"".join(parts)))

    for it in items:
        if cur_items and (len(cur_items) >= batch_n or size + len(it[2]) > batch_bytes):
            flush()
            cur_items, size = [], 0
        cur_items.append(it)
        size += len(it[2])
    flush()
    return cmds, len(items)


def main():
    maildir, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    window = int(sys.argv[5]) if len(sys.argv) > 5 else 4
    batch = int(sys.argv[6]) if len(sys.argv) > 6 else 100
    cmds, n = build(maildir, batch_n=batch)
    start = time.monotonic()
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    f = s.makefile("rb", buffering=1 << 16)
    f.readline()
    s.sendall(b"L1 LOGIN %s %s\r\n" % (user.encode(), password.encode()))
    while not f.readline().startswith(b"L1 "):
        pass
    sent = done = 0
    while done < len(cmds):
        while sent < len(cmds) and sent - done < window:
            s.sendall(cmds[sent][1])
            sent += 1
        line = f.readline()
        if not line:
            sys.exit("connection closed")
        if line.startswith(b"B"):
            if b" OK " not in line:
                sys.exit("refused: %r" % line)
            done += 1
    s.sendall(b"L2 LOGOUT\r\n")
    elapsed = time.monotonic() - start
    print("ELAPSED %.4f MESSAGES %d COMMANDS %d" % (elapsed, n, len(cmds)))


if __name__ == "__main__":
    main()
