//! Not a test: `cargo test --release --test tests bench_journal -- --ignored
//! --nocapture` prints the cost of the journal (upload with and without).

use crate::util::{Dovecot, MailhaulCommand};

#[test]
#[ignore]
fn bench_journal() {
    let d = Dovecot::start().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("big");
    let mut mbox = String::new();
    for i in 0..2000 {
        mbox.push_str(&format!(
            "From a@b Sat Feb  1 10:00:00 2020\nMessage-ID: <{i}@b>\nSubject: {i}\n\n{}\n\n",
            "some body text of a typical line length, give or take a few\n".repeat(30)
        ));
    }
    std::fs::write(&src, mbox).unwrap();
    for (name, extra) in [
        ("nojournal", vec!["--no-journal"]),
        ("journal", vec![]),
        ("rerun", vec![]),
    ] {
        let prefix = if name == "rerun" { "journal" } else { name };
        let t = std::time::Instant::now();
        let mut c = MailhaulCommand::upload(&d, &[&src]);
        c.args(["--prefix", prefix, "--quiet", "--journal"])
            .arg(tmp.path().join("j"))
            .args(extra);
        c.assert_success();
        eprintln!("{name}: {:.2} s", t.elapsed().as_secs_f64());
    }
}
