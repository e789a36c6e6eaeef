# The upload script people write: python3 imaplib, mailbox.mbox, one APPEND
# per message (imaplib sends synchronizing literals and waits for each
# tagged response). Optional LIMIT: stop after that many messages (the
# benchmark extrapolates at high RTT, and says so).
import email.utils
import imaplib
import mailbox
import sys


def main():
    path, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    limit = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(user, password)
    box = mailbox.mbox(path, create=False)
    n = 0
    for key in box.iterkeys():
        msg = box[key]
        flags = "(\\Seen)" if "R" in msg.get_flags() else None
        date = imaplib.Time2Internaldate(email.utils.parsedate_to_datetime(msg["Date"]))
        typ, _ = m.append("INBOX", flags, date, box.get_bytes(key))
        if typ != "OK":
            sys.exit("APPEND failed")
        n += 1
        if limit and n >= limit:
            break
    m.logout()
    print("MESSAGES %d" % n)


if __name__ == "__main__":
    main()
