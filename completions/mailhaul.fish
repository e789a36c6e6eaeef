# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mailhaul_global_optspecs
    string join \n v/verbose h/help V/version
end

function __fish_mailhaul_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_mailhaul_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_mailhaul_using_subcommand
    set -l cmd (__fish_mailhaul_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c mailhaul -n "__fish_mailhaul_needs_command" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -s V -l version -d 'Print version'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "upload" -d 'Upload messages from SOURCE paths into the server'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "scan" -d 'Show what upload would do, without any network access'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "check" -d 'Connect, authenticate and show the capabilities and the upload mode'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "verify" -d 'Compare SOURCE with the server: list messages missing, present more than once, or on the server but not in the source (journal first, else Message-ID and size, else Message-ID and text where the server rewrote headers). Exit 0 only when every message is there exactly once and every mailbox could be read, 1 otherwise'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "batch" -d 'Upload many accounts listed in a CSV file, several at a time, with a report per account; rerunning the same command retries exactly the accounts not complete'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "config" -d 'Work with the config file'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "generate" -d 'Write shell completions and the man page into DIR (for packagers)'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l format -d 'Source format; detected from the files by default' -r -f -a "auto\t'Detect from the files'
mbox\t'A single mbox file'
mbox-tree\t'A directory tree of mbox files: each file a mailbox, directories are hierarchy'
maildir\t'A single Maildir (cur/ and new/)'
maildir++\t'A Maildir++ tree: the root is INBOX, `.A.B` is A/B'
eml\t'A directory of single-message files (.eml, .msg), or one such file'
pst\t'An Outlook .pst (Unicode or ANSI) or .ost file; its folders are the mailboxes'
apple\t'Apple Mail: exported `X.mbox` bundles, or Mail\'s own store (`~/Library/Mail/V*`, `.emlx` files), or one `.emlx` file'
takeout-zip\t'A Google Takeout .zip or .tgz (or its split parts, or a directory of them): the mbox inside read in place, never unpacked. Either name reads either packing (told by the magic bytes)'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l date -d 'Which date becomes each message\'s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time' -r -f -a "auto\t'Delivery time (a mail store\'s received date, From_ line, top-most Received), then Date header, then Maildir file name, then file mtime; insane dates fall through'
delivery\t'Delivery time first (mail store\'s received date, From_ line, Received), then as `auto`'
header\t'The Date header first, then as `auto`'
mtime\t'The file\'s modification time first, then as `auto`'
now\t'No date: the server stamps the time of upload'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l mbox-variant -d 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting' -r -f -a "auto\t'Detect per message: a Content-Length that points exactly at the next From_ line (or the end) is trusted, as mboxcl2 writes it; otherwise split at From_ lines and undo mboxrd quoting'
mboxo\t'From_ lines split; `>From ` quoting is ambiguous, so nothing is unquoted'
mboxrd\t'From_ lines split; `>From `, `>>From ` … lose one `>`'
mboxcl\t'Content-Length delimits bodies; `>From ` quoting is left as it is'
mboxcl2\t'Content-Length delimits bodies; nothing is quoted'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l takeout-archive -d 'Mailbox for Takeout messages that have no folder label' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l mailbox -d 'Put every message into this one mailbox instead of mirroring folders' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l prefix -d 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l map -d 'Rename a source folder (and its subfolders): `--map \'Old Mail=Archive/Old\'`. Paths use `/`; repeatable; the longest matching SOURCE wins' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l flatten -d 'Put every folder at the top level, joining its path with SEP (default `_`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l include -d 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l exclude -d 'Leave out source folders whose path (with `/`) matches GLOB; repeatable' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l server -d 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l account -d 'Use this account from the config file (server, credentials, options)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l password-file -d 'Read the password from this file (first line; trailing newline removed)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l password-command -d 'Run this shell command and use its output as the password' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l oauth2-token-command -d 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l ca-file -d 'Trust this PEM certificate (a private CA or a self-signed server certificate)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l trace -d 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l timeout -d 'Network read/write timeout in seconds [default: 120]' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l provider -d 'Apply this provider\'s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them' -r -f -a "gmail\t''
microsoft365\t''
yahoo\t''
icloud\t''
fastmail\t''
none\t'No profile, whatever the host name'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l batch-size -d 'Most messages in one MULTIAPPEND command' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l batch-bytes -d 'Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s j -l jobs -d 'Upload over N connections in parallel; mailboxes are shared out among them (largest first), each mailbox\'s order kept' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l max-rate -d 'Send at most this many messages per second, over all connections (decimals accepted), evenly spaced (no bursts); batches are cut to one second\'s worth. Throttles are waited out without it too (the rate adapts to the provider\'s); see --max-bytes-rate' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l max-bytes-rate -d 'Send at most this many message bytes per second, over all connections (suffixes K, M, G accepted). Gmail: about 500 MB per day via IMAP as documented by Google (check current limits), i.e. --max-bytes-rate 5K for a long upload; Microsoft 365 throttles per user too' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l max-bytes-per-day -d 'Upload at most this many message bytes to this account in any 24 hours (suffixes K, M, G accepted): what landed in the last 24 hours, as the journal says, counts, so the same command may run as often as you like (README: an hourly systemd timer or cron job). When no room is left the run stops cleanly with exit code 4, as when the provider\'s daily quota is hit (Gmail: about 500 MB of IMAP upload per day, the default for Gmail), and says from when the 24 hours have room again; the journal continues where the run stopped. With --no-journal only this run\'s bytes count' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l max-throttle-wait -d 'The longest the run waits out the server\'s throttles in all (seconds); what the server still throttles after that is reported as not sent. Throttled messages are never failed before' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l journal -d 'The journal of what was uploaded (default: one per server and user under $XDG_STATE_HOME/mailhaul/, else ~/.local/state/mailhaul/)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l retries -d 'Reconnections tried after a lost connection, BYE or timeout (with backoff)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l failed-out -d 'Write every message that could not be uploaded into DIR (one .eml each, plus index.tsv with the reason)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l keep-status-headers -d 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l include-deleted -d 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \\Deleted instead of skipping them'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l takeout -d 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-takeout -d 'Never treat mbox files as Gmail Takeout'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l apple-imap-caches -d 'Also read Apple Mail\'s .imapmbox directories (old Mail versions\' caches of IMAP accounts), which are reported and skipped by default'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l takeout-chats -d 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-special-use -d 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server\'s special-use mailboxes'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l insecure -d 'Do not verify the server\'s certificate (prints a warning)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l allow-plaintext -d 'With imap://, log in even if the server offers no STARTTLS'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-compress -d 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-multiappend -d 'Send one APPEND per message even when the server has MULTIAPPEND'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l unordered -d 'With --jobs: a mailbox larger than a fair share may be split across connections; its messages then land in any order (each still once)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-journal -d 'Keep no journal: a rerun then finds what is already there by reading the target mailboxes (slower than the journal, never doubled unless --allow-duplicates), and --max-bytes-per-day counts this run\'s bytes only (earlier runs are unknown). The last of --journal and --no-journal wins'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l wait-lock -d 'Wait while another run holds the journal, instead of exiting with code 2'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l allow-duplicates -d 'Send messages even when the target mailbox already holds them. By default every existing target mailbox is checked before anything is sent into it: what the journal cannot account for is read (size and Message-ID, else internal date; the body hash where a Message-ID is missing or not unique in the source or the mailbox) and messages already there are skipped. The journal\'s own entries are still spot-checked against the server, never trusted blindly'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l skip-existing -d 'The default, kept as a no-op alias: what is already on the server is skipped without it (it only cancels an earlier --allow-duplicates)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s n -l dry-run -d 'Connect and print the full plan with the server\'s names, the messages it would refuse (empty, over APPENDLIMIT, NUL bytes without BINARY), and how many are already there (journal, server check) and would not be sent; send, create and write nothing (the journal is only read)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l json -d 'Print the report as one JSON document on stdout instead of the summary'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l json-progress -d 'Write progress as newline-delimited JSON events on stderr'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s q -l quiet -d 'No progress bar and no summary; errors are still printed'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l format -d 'Source format; detected from the files by default' -r -f -a "auto\t'Detect from the files'
mbox\t'A single mbox file'
mbox-tree\t'A directory tree of mbox files: each file a mailbox, directories are hierarchy'
maildir\t'A single Maildir (cur/ and new/)'
maildir++\t'A Maildir++ tree: the root is INBOX, `.A.B` is A/B'
eml\t'A directory of single-message files (.eml, .msg), or one such file'
pst\t'An Outlook .pst (Unicode or ANSI) or .ost file; its folders are the mailboxes'
apple\t'Apple Mail: exported `X.mbox` bundles, or Mail\'s own store (`~/Library/Mail/V*`, `.emlx` files), or one `.emlx` file'
takeout-zip\t'A Google Takeout .zip or .tgz (or its split parts, or a directory of them): the mbox inside read in place, never unpacked. Either name reads either packing (told by the magic bytes)'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l date -d 'Which date becomes each message\'s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time' -r -f -a "auto\t'Delivery time (a mail store\'s received date, From_ line, top-most Received), then Date header, then Maildir file name, then file mtime; insane dates fall through'
delivery\t'Delivery time first (mail store\'s received date, From_ line, Received), then as `auto`'
header\t'The Date header first, then as `auto`'
mtime\t'The file\'s modification time first, then as `auto`'
now\t'No date: the server stamps the time of upload'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l mbox-variant -d 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting' -r -f -a "auto\t'Detect per message: a Content-Length that points exactly at the next From_ line (or the end) is trusted, as mboxcl2 writes it; otherwise split at From_ lines and undo mboxrd quoting'
mboxo\t'From_ lines split; `>From ` quoting is ambiguous, so nothing is unquoted'
mboxrd\t'From_ lines split; `>From `, `>>From ` … lose one `>`'
mboxcl\t'Content-Length delimits bodies; `>From ` quoting is left as it is'
mboxcl2\t'Content-Length delimits bodies; nothing is quoted'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l takeout-archive -d 'Mailbox for Takeout messages that have no folder label' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l mailbox -d 'Put every message into this one mailbox instead of mirroring folders' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l prefix -d 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l map -d 'Rename a source folder (and its subfolders): `--map \'Old Mail=Archive/Old\'`. Paths use `/`; repeatable; the longest matching SOURCE wins' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l flatten -d 'Put every folder at the top level, joining its path with SEP (default `_`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l include -d 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l exclude -d 'Leave out source folders whose path (with `/`) matches GLOB; repeatable' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l provider -d 'Refuse what this provider would refuse (its message size cap), as upload does; no provider by default (scan knows no server)' -r -f -a "gmail\t''
microsoft365\t''
yahoo\t''
icloud\t''
fastmail\t''
none\t'No profile, whatever the host name'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l keep-status-headers -d 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l include-deleted -d 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \\Deleted instead of skipping them'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l takeout -d 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l no-takeout -d 'Never treat mbox files as Gmail Takeout'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l apple-imap-caches -d 'Also read Apple Mail\'s .imapmbox directories (old Mail versions\' caches of IMAP accounts), which are reported and skipped by default'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l takeout-chats -d 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l no-special-use -d 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server\'s special-use mailboxes'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l json -d 'Print the scan as one JSON document on stdout'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l server -d 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l account -d 'Use this account from the config file (server, credentials, options)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l password-file -d 'Read the password from this file (first line; trailing newline removed)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l password-command -d 'Run this shell command and use its output as the password' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l oauth2-token-command -d 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l ca-file -d 'Trust this PEM certificate (a private CA or a self-signed server certificate)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l trace -d 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l timeout -d 'Network read/write timeout in seconds [default: 120]' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l provider -d 'Apply this provider\'s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them' -r -f -a "gmail\t''
microsoft365\t''
yahoo\t''
icloud\t''
fastmail\t''
none\t'No profile, whatever the host name'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l insecure -d 'Do not verify the server\'s certificate (prints a warning)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l allow-plaintext -d 'With imap://, log in even if the server offers no STARTTLS'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l no-compress -d 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l json -d 'Print what was found as one JSON document on stdout (the same schema conventions as upload\'s report: "schema", "kind", "exit_code")'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l format -d 'Source format; detected from the files by default' -r -f -a "auto\t'Detect from the files'
mbox\t'A single mbox file'
mbox-tree\t'A directory tree of mbox files: each file a mailbox, directories are hierarchy'
maildir\t'A single Maildir (cur/ and new/)'
maildir++\t'A Maildir++ tree: the root is INBOX, `.A.B` is A/B'
eml\t'A directory of single-message files (.eml, .msg), or one such file'
pst\t'An Outlook .pst (Unicode or ANSI) or .ost file; its folders are the mailboxes'
apple\t'Apple Mail: exported `X.mbox` bundles, or Mail\'s own store (`~/Library/Mail/V*`, `.emlx` files), or one `.emlx` file'
takeout-zip\t'A Google Takeout .zip or .tgz (or its split parts, or a directory of them): the mbox inside read in place, never unpacked. Either name reads either packing (told by the magic bytes)'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l date -d 'Which date becomes each message\'s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time' -r -f -a "auto\t'Delivery time (a mail store\'s received date, From_ line, top-most Received), then Date header, then Maildir file name, then file mtime; insane dates fall through'
delivery\t'Delivery time first (mail store\'s received date, From_ line, Received), then as `auto`'
header\t'The Date header first, then as `auto`'
mtime\t'The file\'s modification time first, then as `auto`'
now\t'No date: the server stamps the time of upload'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l mbox-variant -d 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting' -r -f -a "auto\t'Detect per message: a Content-Length that points exactly at the next From_ line (or the end) is trusted, as mboxcl2 writes it; otherwise split at From_ lines and undo mboxrd quoting'
mboxo\t'From_ lines split; `>From ` quoting is ambiguous, so nothing is unquoted'
mboxrd\t'From_ lines split; `>From `, `>>From ` … lose one `>`'
mboxcl\t'Content-Length delimits bodies; `>From ` quoting is left as it is'
mboxcl2\t'Content-Length delimits bodies; nothing is quoted'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l takeout-archive -d 'Mailbox for Takeout messages that have no folder label' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l mailbox -d 'Put every message into this one mailbox instead of mirroring folders' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l prefix -d 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l map -d 'Rename a source folder (and its subfolders): `--map \'Old Mail=Archive/Old\'`. Paths use `/`; repeatable; the longest matching SOURCE wins' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l flatten -d 'Put every folder at the top level, joining its path with SEP (default `_`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l include -d 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l exclude -d 'Leave out source folders whose path (with `/`) matches GLOB; repeatable' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l server -d 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l account -d 'Use this account from the config file (server, credentials, options)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l password-file -d 'Read the password from this file (first line; trailing newline removed)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l password-command -d 'Run this shell command and use its output as the password' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l oauth2-token-command -d 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l ca-file -d 'Trust this PEM certificate (a private CA or a self-signed server certificate)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l trace -d 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l timeout -d 'Network read/write timeout in seconds [default: 120]' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l provider -d 'Apply this provider\'s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them' -r -f -a "gmail\t''
microsoft365\t''
yahoo\t''
icloud\t''
fastmail\t''
none\t'No profile, whatever the host name'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l journal -d 'The journal written by upload (default: the one for this server and user)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l keep-status-headers -d 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l include-deleted -d 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \\Deleted instead of skipping them'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l takeout -d 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l no-takeout -d 'Never treat mbox files as Gmail Takeout'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l apple-imap-caches -d 'Also read Apple Mail\'s .imapmbox directories (old Mail versions\' caches of IMAP accounts), which are reported and skipped by default'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l takeout-chats -d 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l no-special-use -d 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server\'s special-use mailboxes'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l insecure -d 'Do not verify the server\'s certificate (prints a warning)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l allow-plaintext -d 'With imap://, log in even if the server offers no STARTTLS'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l no-compress -d 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l no-journal -d 'Ignore the journal: match by Message-ID and size only'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -l json -d 'Print the findings as one JSON document on stdout (the schema of upload\'s and scan\'s JSON: "schema", "kind", totals, "exit_code")'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand verify" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l accounts -d 'Accounts uploaded at the same time' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l max-connections-per-server -d 'Most connections to one server (host:port) over all running accounts (each account opens --jobs); providers limit this, e.g. Gmail to 15' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l ca-file -d 'Trust this PEM certificate for accounts without a ca_file column' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l state -d 'Where the batch keeps which accounts are complete [default: $XDG_STATE_HOME/mailhaul/batch-HASH.state, beside the journals]' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l merge-reports -d 'Merge the JSON reports of several shards into one (no upload)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l check -d 'Check the list and the options without connecting; exit 2 on mistakes'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -s n -l dry-run -d 'Connect and print per account what `mailhaul upload --dry-run` finds: how many messages are already there (journal, server check) and how many would be sent; send, create and write nothing (the journals are only read, the batch state is left as it is)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l json -d 'Print the report as one JSON document on stdout'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -l json-progress -d 'Write progress as newline-delimited JSON events on stderr, each carrying its account'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -s q -l quiet -d 'No progress and no table; errors are still printed'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand batch" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and not __fish_seen_subcommand_from check help" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and not __fish_seen_subcommand_from check help" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "check" -d 'Validate the config file: syntax (with the line), accounts, the files they name'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and not __fish_seen_subcommand_from check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and __fish_seen_subcommand_from check" -l config -d 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and __fish_seen_subcommand_from check" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "check" -d 'Validate the config file: syntax (with the line), accounts, the files they name'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand config; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand generate" -s v -l verbose -d 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand generate" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "upload" -d 'Upload messages from SOURCE paths into the server'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "scan" -d 'Show what upload would do, without any network access'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "check" -d 'Connect, authenticate and show the capabilities and the upload mode'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "verify" -d 'Compare SOURCE with the server: list messages missing, present more than once, or on the server but not in the source (journal first, else Message-ID and size, else Message-ID and text where the server rewrote headers). Exit 0 only when every message is there exactly once and every mailbox could be read, 1 otherwise'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "batch" -d 'Upload many accounts listed in a CSV file, several at a time, with a report per account; rerunning the same command retries exactly the accounts not complete'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "config" -d 'Work with the config file'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "generate" -d 'Write shell completions and the man page into DIR (for packagers)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check verify batch config generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and __fish_seen_subcommand_from config" -f -a "check" -d 'Validate the config file: syntax (with the line), accounts, the files they name'
