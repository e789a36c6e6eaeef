
use builtin;
use str;

set edit:completion:arg-completer[mailhaul] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'mailhaul'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'mailhaul'= {
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand upload 'Upload messages from SOURCE paths into the server'
            cand scan 'Show what upload would do, without any network access'
            cand check 'Connect, authenticate and show the capabilities and the upload mode'
            cand verify 'Compare SOURCE with the server: list messages missing, present more than once, or on the server but not in the source (journal first, else Message-ID and size, else Message-ID and text where the server rewrote headers). Exit 0 only when every message is there exactly once and every mailbox could be read, 1 otherwise'
            cand batch 'Upload many accounts listed in a CSV file, several at a time, with a report per account; rerunning the same command retries exactly the accounts not complete'
            cand config 'Work with the config file'
            cand generate 'Write shell completions and the man page into DIR (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailhaul;upload'= {
            cand --format 'Source format; detected from the files by default'
            cand --date 'Which date becomes each message''s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time'
            cand --mbox-variant 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting'
            cand --takeout-archive 'Mailbox for Takeout messages that have no folder label'
            cand --mailbox 'Put every message into this one mailbox instead of mirroring folders'
            cand --prefix 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)'
            cand --map 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins'
            cand --flatten 'Put every folder at the top level, joining its path with SEP (default `_`)'
            cand --include 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels'
            cand --exclude 'Leave out source folders whose path (with `/`) matches GLOB; repeatable'
            cand --server 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)'
            cand --account 'Use this account from the config file (server, credentials, options)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]'
            cand --password-file 'Read the password from this file (first line; trailing newline removed)'
            cand --password-command 'Run this shell command and use its output as the password'
            cand --oauth2-token-command 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)'
            cand --ca-file 'Trust this PEM certificate (a private CA or a self-signed server certificate)'
            cand --trace 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted'
            cand --timeout 'Network read/write timeout in seconds [default: 120]'
            cand --provider 'Apply this provider''s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them'
            cand --batch-size 'Most messages in one MULTIAPPEND command'
            cand --batch-bytes 'Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted)'
            cand -j 'Upload over N connections in parallel; mailboxes are shared out among them (largest first), each mailbox''s order kept'
            cand --jobs 'Upload over N connections in parallel; mailboxes are shared out among them (largest first), each mailbox''s order kept'
            cand --max-rate 'Send at most this many messages per second, over all connections (decimals accepted), evenly spaced (no bursts); batches are cut to one second''s worth. Throttles are waited out without it too (the rate adapts to the provider''s); see --max-bytes-rate'
            cand --max-bytes-rate 'Send at most this many message bytes per second, over all connections (suffixes K, M, G accepted). Gmail: about 500 MB per day via IMAP as documented by Google (check current limits), i.e. --max-bytes-rate 5K for a long upload; Microsoft 365 throttles per user too'
            cand --max-bytes-per-day 'Upload at most this many message bytes to this account in any 24 hours (suffixes K, M, G accepted): what landed in the last 24 hours, as the journal says, counts, so the same command may run as often as you like (README: an hourly systemd timer or cron job). When no room is left the run stops cleanly with exit code 4, as when the provider''s daily quota is hit (Gmail: about 500 MB of IMAP upload per day, the default for Gmail), and says from when the 24 hours have room again; the journal continues where the run stopped. With --no-journal only this run''s bytes count'
            cand --max-throttle-wait 'The longest the run waits out the server''s throttles in all (seconds); what the server still throttles after that is reported as not sent. Throttled messages are never failed before'
            cand --journal 'The journal of what was uploaded (default: one per server and user under $XDG_STATE_HOME/mailhaul/, else ~/.local/state/mailhaul/)'
            cand --retries 'Reconnections tried after a lost connection, BYE or timeout (with backoff)'
            cand --failed-out 'Write every message that could not be uploaded into DIR (one .eml each, plus index.tsv with the reason)'
            cand --keep-status-headers 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
            cand --include-deleted 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \Deleted instead of skipping them'
            cand --takeout 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default'
            cand --no-takeout 'Never treat mbox files as Gmail Takeout'
            cand --apple-imap-caches 'Also read Apple Mail''s .imapmbox directories (old Mail versions'' caches of IMAP accounts), which are reported and skipped by default'
            cand --takeout-chats 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them'
            cand --no-special-use 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes'
            cand --insecure 'Do not verify the server''s certificate (prints a warning)'
            cand --allow-plaintext 'With imap://, log in even if the server offers no STARTTLS'
            cand --no-compress 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
            cand --no-multiappend 'Send one APPEND per message even when the server has MULTIAPPEND'
            cand --unordered 'With --jobs: a mailbox larger than a fair share may be split across connections; its messages then land in any order (each still once)'
            cand --no-journal 'Keep no journal: a rerun then finds what is already there by reading the target mailboxes (slower than the journal, never doubled unless --allow-duplicates), and --max-bytes-per-day counts this run''s bytes only (earlier runs are unknown). The last of --journal and --no-journal wins'
            cand --wait-lock 'Wait while another run holds the journal, instead of exiting with code 2'
            cand --allow-duplicates 'Send messages even when the target mailbox already holds them. By default every existing target mailbox is checked before anything is sent into it: what the journal cannot account for is read (size and Message-ID, else internal date; the body hash where a Message-ID is missing or not unique in the source or the mailbox) and messages already there are skipped. The journal''s own entries are still spot-checked against the server, never trusted blindly'
            cand --skip-existing 'The default, kept as a no-op alias: what is already on the server is skipped without it (it only cancels an earlier --allow-duplicates)'
            cand -n 'Connect and print the full plan with the server''s names, the messages it would refuse (empty, over APPENDLIMIT, NUL bytes without BINARY), and how many are already there (journal, server check) and would not be sent; send, create and write nothing (the journal is only read)'
            cand --dry-run 'Connect and print the full plan with the server''s names, the messages it would refuse (empty, over APPENDLIMIT, NUL bytes without BINARY), and how many are already there (journal, server check) and would not be sent; send, create and write nothing (the journal is only read)'
            cand --json 'Print the report as one JSON document on stdout instead of the summary'
            cand --json-progress 'Write progress as newline-delimited JSON events on stderr'
            cand -q 'No progress bar and no summary; errors are still printed'
            cand --quiet 'No progress bar and no summary; errors are still printed'
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mailhaul;scan'= {
            cand --format 'Source format; detected from the files by default'
            cand --date 'Which date becomes each message''s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time'
            cand --mbox-variant 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting'
            cand --takeout-archive 'Mailbox for Takeout messages that have no folder label'
            cand --mailbox 'Put every message into this one mailbox instead of mirroring folders'
            cand --prefix 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)'
            cand --map 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins'
            cand --flatten 'Put every folder at the top level, joining its path with SEP (default `_`)'
            cand --include 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels'
            cand --exclude 'Leave out source folders whose path (with `/`) matches GLOB; repeatable'
            cand --provider 'Refuse what this provider would refuse (its message size cap), as upload does; no provider by default (scan knows no server)'
            cand --keep-status-headers 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
            cand --include-deleted 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \Deleted instead of skipping them'
            cand --takeout 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default'
            cand --no-takeout 'Never treat mbox files as Gmail Takeout'
            cand --apple-imap-caches 'Also read Apple Mail''s .imapmbox directories (old Mail versions'' caches of IMAP accounts), which are reported and skipped by default'
            cand --takeout-chats 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them'
            cand --no-special-use 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes'
            cand --json 'Print the scan as one JSON document on stdout'
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mailhaul;check'= {
            cand --server 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)'
            cand --account 'Use this account from the config file (server, credentials, options)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]'
            cand --password-file 'Read the password from this file (first line; trailing newline removed)'
            cand --password-command 'Run this shell command and use its output as the password'
            cand --oauth2-token-command 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)'
            cand --ca-file 'Trust this PEM certificate (a private CA or a self-signed server certificate)'
            cand --trace 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted'
            cand --timeout 'Network read/write timeout in seconds [default: 120]'
            cand --provider 'Apply this provider''s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them'
            cand --insecure 'Do not verify the server''s certificate (prints a warning)'
            cand --allow-plaintext 'With imap://, log in even if the server offers no STARTTLS'
            cand --no-compress 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
            cand --json 'Print what was found as one JSON document on stdout (the same schema conventions as upload''s report: "schema", "kind", "exit_code")'
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mailhaul;verify'= {
            cand --format 'Source format; detected from the files by default'
            cand --date 'Which date becomes each message''s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time'
            cand --mbox-variant 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting'
            cand --takeout-archive 'Mailbox for Takeout messages that have no folder label'
            cand --mailbox 'Put every message into this one mailbox instead of mirroring folders'
            cand --prefix 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)'
            cand --map 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins'
            cand --flatten 'Put every folder at the top level, joining its path with SEP (default `_`)'
            cand --include 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels'
            cand --exclude 'Leave out source folders whose path (with `/`) matches GLOB; repeatable'
            cand --server 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)'
            cand --account 'Use this account from the config file (server, credentials, options)'
            cand --config 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]'
            cand --password-file 'Read the password from this file (first line; trailing newline removed)'
            cand --password-command 'Run this shell command and use its output as the password'
            cand --oauth2-token-command 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)'
            cand --ca-file 'Trust this PEM certificate (a private CA or a self-signed server certificate)'
            cand --trace 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted'
            cand --timeout 'Network read/write timeout in seconds [default: 120]'
            cand --provider 'Apply this provider''s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them'
            cand --journal 'The journal written by upload (default: the one for this server and user)'
            cand --keep-status-headers 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
            cand --include-deleted 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \Deleted instead of skipping them'
            cand --takeout 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default'
            cand --no-takeout 'Never treat mbox files as Gmail Takeout'
            cand --apple-imap-caches 'Also read Apple Mail''s .imapmbox directories (old Mail versions'' caches of IMAP accounts), which are reported and skipped by default'
            cand --takeout-chats 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them'
            cand --no-special-use 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes'
            cand --insecure 'Do not verify the server''s certificate (prints a warning)'
            cand --allow-plaintext 'With imap://, log in even if the server offers no STARTTLS'
            cand --no-compress 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
            cand --no-journal 'Ignore the journal: match by Message-ID and size only'
            cand --json 'Print the findings as one JSON document on stdout (the schema of upload''s and scan''s JSON: "schema", "kind", totals, "exit_code")'
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mailhaul;batch'= {
            cand --accounts 'Accounts uploaded at the same time'
            cand --max-connections-per-server 'Most connections to one server (host:port) over all running accounts (each account opens --jobs); providers limit this, e.g. Gmail to 15'
            cand --ca-file 'Trust this PEM certificate for accounts without a ca_file column'
            cand --state 'Where the batch keeps which accounts are complete [default: $XDG_STATE_HOME/mailhaul/batch-HASH.state, beside the journals]'
            cand --merge-reports 'Merge the JSON reports of several shards into one (no upload)'
            cand --check 'Check the list and the options without connecting; exit 2 on mistakes'
            cand -n 'Connect and print per account what `mailhaul upload --dry-run` finds: how many messages are already there (journal, server check) and how many would be sent; send, create and write nothing (the journals are only read, the batch state is left as it is)'
            cand --dry-run 'Connect and print per account what `mailhaul upload --dry-run` finds: how many messages are already there (journal, server check) and how many would be sent; send, create and write nothing (the journals are only read, the batch state is left as it is)'
            cand --json 'Print the report as one JSON document on stdout'
            cand --json-progress 'Write progress as newline-delimited JSON events on stderr, each carrying its account'
            cand -q 'No progress and no table; errors are still printed'
            cand --quiet 'No progress and no table; errors are still printed'
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mailhaul;config'= {
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help'
            cand --help 'Print help'
            cand check 'Validate the config file: syntax (with the line), accounts, the files they name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailhaul;config;check'= {
            cand --config 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]'
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mailhaul;config;help'= {
            cand check 'Validate the config file: syntax (with the line), accounts, the files they name'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailhaul;config;help;check'= {
        }
        &'mailhaul;config;help;help'= {
        }
        &'mailhaul;generate'= {
            cand -v 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand --verbose 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mailhaul;help'= {
            cand upload 'Upload messages from SOURCE paths into the server'
            cand scan 'Show what upload would do, without any network access'
            cand check 'Connect, authenticate and show the capabilities and the upload mode'
            cand verify 'Compare SOURCE with the server: list messages missing, present more than once, or on the server but not in the source (journal first, else Message-ID and size, else Message-ID and text where the server rewrote headers). Exit 0 only when every message is there exactly once and every mailbox could be read, 1 otherwise'
            cand batch 'Upload many accounts listed in a CSV file, several at a time, with a report per account; rerunning the same command retries exactly the accounts not complete'
            cand config 'Work with the config file'
            cand generate 'Write shell completions and the man page into DIR (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailhaul;help;upload'= {
        }
        &'mailhaul;help;scan'= {
        }
        &'mailhaul;help;check'= {
        }
        &'mailhaul;help;verify'= {
        }
        &'mailhaul;help;batch'= {
        }
        &'mailhaul;help;config'= {
            cand check 'Validate the config file: syntax (with the line), accounts, the files they name'
        }
        &'mailhaul;help;config;check'= {
        }
        &'mailhaul;help;generate'= {
        }
        &'mailhaul;help;help'= {
        }
    ]
    $completions[$command]
}
