//! Writes a deterministic Apple Mail store of N messages (default 20,000)
//! under OUT, laid out as Mail 16 does (`V10/MailData/`, an account's UUID
//! directory, `INBOX.mbox` and `Archive.mbox/2020.mbox` bundles, messages
//! in `<uuid>/Data/<d>/<d>/Messages/N.emlx` with the byte count line and
//! the flags/date-received plist), for `scripts/bench-emlx`. Every 50th
//! message is a `.partial.emlx` whose 40 KB attachment is in
//! `Data/<d>/<d>/Attachments/N/2/`.
//! Usage: `cargo run --release --example gen_emlx_store -- OUT [N]`.

use std::fs;
use std::io::Write;
use std::path::Path;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: gen_emlx_store OUT [N]");
    let count: u64 = args.next().map_or(20_000, |s| s.parse().expect("N"));
    let v10 = Path::new(&out).join("V10");
    fs::create_dir_all(v10.join("MailData"))?;
    fs::write(v10.join("MailData/Envelope Index"), b"SQLite format 3\0")?;
    let account = v10.join("3F2504E0-4F89-41D3-9A0C-0305E82C3301");
    let text = "The quick brown fox jumps over the lazy dog while mailhaul reads emlx.\n";
    let attachment: Vec<u8> = (0..40_000u32).map(|i| (i * 31 % 251) as u8).collect();
    for n in 1..=count {
        let bundle = if n % 4 == 0 {
            "Archive.mbox/2020.mbox"
        } else {
            "INBOX.mbox"
        };
        // Mail shards messages by the digits of their number.
        let data = account
            .join(bundle)
            .join("8C2D51A0-3B7E-4F4C-9D55-0A9A1C5D2E11/Data");
        let messages = data.join(format!("{}/{}/Messages", n / 10_000 % 10, n / 1_000 % 10));
        fs::create_dir_all(&messages)?;
        let received = 1_577_836_800 + n as i64 * 600;
        let at = |secs: i64| {
            chrono::DateTime::from_timestamp(secs, 0)
                .expect("in range")
                .format("%a, %-d %b %Y %H:%M:%S +0000")
        };
        let mut msg = format!(
            "Return-Path: <sender{s}@example.com>\n\
             Received: from mx.example.com by mail.example.org; {}\n\
             From: Sender {s} <sender{s}@example.com>\nTo: user@example.org\n\
             Subject: message {n}\nDate: {}\n\
             Message-Id: <{n}@example.com>\nMime-Version: 1.0 (Mac OS X Mail 16.0)\n",
            at(received - 1),
            at(received - 60),
            s = n % 97,
        );
        let body: String = text.repeat(20 + (n % 80) as usize);
        let partial = n % 50 == 0;
        if partial {
            msg += "Content-Type: multipart/mixed;\n\tboundary=\"Apple-Mail=_B\"\n\n\n\
                    --Apple-Mail=_B\nContent-Type: text/plain; charset=us-ascii\n\n";
            msg += &body;
            msg += "\n--Apple-Mail=_B\nContent-Transfer-Encoding: base64\n\
                    Content-Disposition: attachment;\n\tfilename=data.bin\n\
                    Content-Type: application/octet-stream;\n\tname=data.bin\n\
                    X-Apple-Content-Length: 54054\n\n\n--Apple-Mail=_B--\n";
            // Beside Messages/, in the same shard directory.
            let part = messages.with_file_name(format!("Attachments/{n}/2"));
            fs::create_dir_all(&part)?;
            fs::write(part.join("data.bin"), &attachment)?;
        } else {
            msg += "Content-Type: text/plain; charset=us-ascii\n\n";
            msg += &body;
        }
        let flags = [0u64, 1, 1 | 4, 1 | 16, 1 | 256][(n % 5) as usize] | (1 << 33);
        let name = if partial {
            format!("{n}.partial.emlx")
        } else {
            format!("{n}.emlx")
        };
        let mut f = fs::File::create(messages.join(name))?;
        write!(f, "{:<10}\n{msg}", msg.len())?;
        write!(
            f,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<plist version=\"1.0\">\n<dict>\n\
             \t<key>date-received</key>\n\t<integer>{}</integer>\n\
             \t<key>flags</key>\n\t<integer>{flags}</integer>\n</dict>\n</plist>\n",
            received
        )?;
    }
    Ok(())
}
