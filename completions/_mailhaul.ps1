
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'mailhaul' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'mailhaul'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'mailhaul' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload messages from SOURCE paths into the server')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Show what upload would do, without any network access')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect, authenticate and show the capabilities and the upload mode')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Compare SOURCE with the server: list messages missing, present more than once, or on the server but not in the source (journal first, else Message-ID and size, else Message-ID and text where the server rewrote headers). Exit 0 only when every message is there exactly once and every mailbox could be read, 1 otherwise')
            [CompletionResult]::new('batch', 'batch', [CompletionResultType]::ParameterValue, 'Upload many accounts listed in a CSV file, several at a time, with a report per account; rerunning the same command retries exactly the accounts not complete')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Work with the config file')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and the man page into DIR (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailhaul;upload' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Source format; detected from the files by default')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'Which date becomes each message''s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time')
            [CompletionResult]::new('--mbox-variant', '--mbox-variant', [CompletionResultType]::ParameterName, 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting')
            [CompletionResult]::new('--takeout-archive', '--takeout-archive', [CompletionResultType]::ParameterName, 'Mailbox for Takeout messages that have no folder label')
            [CompletionResult]::new('--mailbox', '--mailbox', [CompletionResultType]::ParameterName, 'Put every message into this one mailbox instead of mirroring folders')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins')
            [CompletionResult]::new('--flatten', '--flatten', [CompletionResultType]::ParameterName, 'Put every folder at the top level, joining its path with SEP (default `_`)')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out source folders whose path (with `/`) matches GLOB; repeatable')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Use this account from the config file (server, credentials, options)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from this file (first line; trailing newline removed)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run this shell command and use its output as the password')
            [CompletionResult]::new('--oauth2-token-command', '--oauth2-token-command', [CompletionResultType]::ParameterName, 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust this PEM certificate (a private CA or a self-signed server certificate)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Network read/write timeout in seconds [default: 120]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Apply this provider''s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Most messages in one MULTIAPPEND command')
            [CompletionResult]::new('--batch-bytes', '--batch-bytes', [CompletionResultType]::ParameterName, 'Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted)')
            [CompletionResult]::new('-j', '-j', [CompletionResultType]::ParameterName, 'Upload over N connections in parallel; mailboxes are shared out among them (largest first), each mailbox''s order kept')
            [CompletionResult]::new('--jobs', '--jobs', [CompletionResultType]::ParameterName, 'Upload over N connections in parallel; mailboxes are shared out among them (largest first), each mailbox''s order kept')
            [CompletionResult]::new('--max-rate', '--max-rate', [CompletionResultType]::ParameterName, 'Send at most this many messages per second, over all connections (decimals accepted), evenly spaced (no bursts); batches are cut to one second''s worth. Throttles are waited out without it too (the rate adapts to the provider''s); see --max-bytes-rate')
            [CompletionResult]::new('--max-bytes-rate', '--max-bytes-rate', [CompletionResultType]::ParameterName, 'Send at most this many message bytes per second, over all connections (suffixes K, M, G accepted). Gmail: about 500 MB per day via IMAP as documented by Google (check current limits), i.e. --max-bytes-rate 5K for a long upload; Microsoft 365 throttles per user too')
            [CompletionResult]::new('--max-bytes-per-day', '--max-bytes-per-day', [CompletionResultType]::ParameterName, 'Upload at most this many message bytes to this account in any 24 hours (suffixes K, M, G accepted): what landed in the last 24 hours, as the journal says, counts, so the same command may run as often as you like (README: an hourly systemd timer or cron job). When no room is left the run stops cleanly with exit code 4, as when the provider''s daily quota is hit (Gmail: about 500 MB of IMAP upload per day, the default for Gmail), and says from when the 24 hours have room again; the journal continues where the run stopped. With --no-journal only this run''s bytes count')
            [CompletionResult]::new('--max-throttle-wait', '--max-throttle-wait', [CompletionResultType]::ParameterName, 'The longest the run waits out the server''s throttles in all (seconds); what the server still throttles after that is reported as not sent. Throttled messages are never failed before')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'The journal of what was uploaded (default: one per server and user under $XDG_STATE_HOME/mailhaul/, else ~/.local/state/mailhaul/)')
            [CompletionResult]::new('--retries', '--retries', [CompletionResultType]::ParameterName, 'Reconnections tried after a lost connection, BYE or timeout (with backoff)')
            [CompletionResult]::new('--failed-out', '--failed-out', [CompletionResultType]::ParameterName, 'Write every message that could not be uploaded into DIR (one .eml each, plus index.tsv with the reason)')
            [CompletionResult]::new('--keep-status-headers', '--keep-status-headers', [CompletionResultType]::ParameterName, 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \Deleted instead of skipping them')
            [CompletionResult]::new('--takeout', '--takeout', [CompletionResultType]::ParameterName, 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default')
            [CompletionResult]::new('--no-takeout', '--no-takeout', [CompletionResultType]::ParameterName, 'Never treat mbox files as Gmail Takeout')
            [CompletionResult]::new('--apple-imap-caches', '--apple-imap-caches', [CompletionResultType]::ParameterName, 'Also read Apple Mail''s .imapmbox directories (old Mail versions'' caches of IMAP accounts), which are reported and skipped by default')
            [CompletionResult]::new('--takeout-chats', '--takeout-chats', [CompletionResultType]::ParameterName, 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them')
            [CompletionResult]::new('--no-special-use', '--no-special-use', [CompletionResultType]::ParameterName, 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (prints a warning)')
            [CompletionResult]::new('--allow-plaintext', '--allow-plaintext', [CompletionResultType]::ParameterName, 'With imap://, log in even if the server offers no STARTTLS')
            [CompletionResult]::new('--no-compress', '--no-compress', [CompletionResultType]::ParameterName, 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it')
            [CompletionResult]::new('--no-multiappend', '--no-multiappend', [CompletionResultType]::ParameterName, 'Send one APPEND per message even when the server has MULTIAPPEND')
            [CompletionResult]::new('--unordered', '--unordered', [CompletionResultType]::ParameterName, 'With --jobs: a mailbox larger than a fair share may be split across connections; its messages then land in any order (each still once)')
            [CompletionResult]::new('--no-journal', '--no-journal', [CompletionResultType]::ParameterName, 'Keep no journal: a rerun then finds what is already there by reading the target mailboxes (slower than the journal, never doubled unless --allow-duplicates), and --max-bytes-per-day counts this run''s bytes only (earlier runs are unknown). The last of --journal and --no-journal wins')
            [CompletionResult]::new('--wait-lock', '--wait-lock', [CompletionResultType]::ParameterName, 'Wait while another run holds the journal, instead of exiting with code 2')
            [CompletionResult]::new('--allow-duplicates', '--allow-duplicates', [CompletionResultType]::ParameterName, 'Send messages even when the target mailbox already holds them. By default every existing target mailbox is checked before anything is sent into it: what the journal cannot account for is read (size and Message-ID, else internal date; the body hash where a Message-ID is missing or not unique in the source or the mailbox) and messages already there are skipped. The journal''s own entries are still spot-checked against the server, never trusted blindly')
            [CompletionResult]::new('--skip-existing', '--skip-existing', [CompletionResultType]::ParameterName, 'The default, kept as a no-op alias: what is already on the server is skipped without it (it only cancels an earlier --allow-duplicates)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Connect and print the full plan with the server''s names, the messages it would refuse (empty, over APPENDLIMIT, NUL bytes without BINARY), and how many are already there (journal, server check) and would not be sent; send, create and write nothing (the journal is only read)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Connect and print the full plan with the server''s names, the messages it would refuse (empty, over APPENDLIMIT, NUL bytes without BINARY), and how many are already there (journal, server check) and would not be sent; send, create and write nothing (the journal is only read)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as one JSON document on stdout instead of the summary')
            [CompletionResult]::new('--json-progress', '--json-progress', [CompletionResultType]::ParameterName, 'Write progress as newline-delimited JSON events on stderr')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar and no summary; errors are still printed')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar and no summary; errors are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mailhaul;scan' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Source format; detected from the files by default')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'Which date becomes each message''s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time')
            [CompletionResult]::new('--mbox-variant', '--mbox-variant', [CompletionResultType]::ParameterName, 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting')
            [CompletionResult]::new('--takeout-archive', '--takeout-archive', [CompletionResultType]::ParameterName, 'Mailbox for Takeout messages that have no folder label')
            [CompletionResult]::new('--mailbox', '--mailbox', [CompletionResultType]::ParameterName, 'Put every message into this one mailbox instead of mirroring folders')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins')
            [CompletionResult]::new('--flatten', '--flatten', [CompletionResultType]::ParameterName, 'Put every folder at the top level, joining its path with SEP (default `_`)')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out source folders whose path (with `/`) matches GLOB; repeatable')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Refuse what this provider would refuse (its message size cap), as upload does; no provider by default (scan knows no server)')
            [CompletionResult]::new('--keep-status-headers', '--keep-status-headers', [CompletionResultType]::ParameterName, 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \Deleted instead of skipping them')
            [CompletionResult]::new('--takeout', '--takeout', [CompletionResultType]::ParameterName, 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default')
            [CompletionResult]::new('--no-takeout', '--no-takeout', [CompletionResultType]::ParameterName, 'Never treat mbox files as Gmail Takeout')
            [CompletionResult]::new('--apple-imap-caches', '--apple-imap-caches', [CompletionResultType]::ParameterName, 'Also read Apple Mail''s .imapmbox directories (old Mail versions'' caches of IMAP accounts), which are reported and skipped by default')
            [CompletionResult]::new('--takeout-chats', '--takeout-chats', [CompletionResultType]::ParameterName, 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them')
            [CompletionResult]::new('--no-special-use', '--no-special-use', [CompletionResultType]::ParameterName, 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the scan as one JSON document on stdout')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mailhaul;check' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Use this account from the config file (server, credentials, options)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from this file (first line; trailing newline removed)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run this shell command and use its output as the password')
            [CompletionResult]::new('--oauth2-token-command', '--oauth2-token-command', [CompletionResultType]::ParameterName, 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust this PEM certificate (a private CA or a self-signed server certificate)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Network read/write timeout in seconds [default: 120]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Apply this provider''s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (prints a warning)')
            [CompletionResult]::new('--allow-plaintext', '--allow-plaintext', [CompletionResultType]::ParameterName, 'With imap://, log in even if the server offers no STARTTLS')
            [CompletionResult]::new('--no-compress', '--no-compress', [CompletionResultType]::ParameterName, 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print what was found as one JSON document on stdout (the same schema conventions as upload''s report: "schema", "kind", "exit_code")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mailhaul;verify' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Source format; detected from the files by default')
            [CompletionResult]::new('--date', '--date', [CompletionResultType]::ParameterName, 'Which date becomes each message''s internal date: auto (delivery time from the From_ line or Received, then Date header, file name, mtime), or one of those first; now lets the server stamp the upload time')
            [CompletionResult]::new('--mbox-variant', '--mbox-variant', [CompletionResultType]::ParameterName, 'How mbox files are split: auto trusts a Content-Length that ends at a From_ line and otherwise undoes mboxrd quoting')
            [CompletionResult]::new('--takeout-archive', '--takeout-archive', [CompletionResultType]::ParameterName, 'Mailbox for Takeout messages that have no folder label')
            [CompletionResult]::new('--mailbox', '--mailbox', [CompletionResultType]::ParameterName, 'Put every message into this one mailbox instead of mirroring folders')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins')
            [CompletionResult]::new('--flatten', '--flatten', [CompletionResultType]::ParameterName, 'Put every folder at the top level, joining its path with SEP (default `_`)')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out source folders whose path (with `/`) matches GLOB; repeatable')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)')
            [CompletionResult]::new('--account', '--account', [CompletionResultType]::ParameterName, 'Use this account from the config file (server, credentials, options)')
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from this file (first line; trailing newline removed)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run this shell command and use its output as the password')
            [CompletionResult]::new('--oauth2-token-command', '--oauth2-token-command', [CompletionResultType]::ParameterName, 'Run this shell command for an OAuth2 access token (SASL OAUTHBEARER or XOAUTH2, for Gmail and Microsoft 365); run again whenever the server refuses the token (an expired one, at a reconnection)')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust this PEM certificate (a private CA or a self-signed server certificate)')
            [CompletionResult]::new('--trace', '--trace', [CompletionResultType]::ParameterName, 'Write the IMAP exchange to FILE: commands, responses and literal sizes, with credentials and message bodies redacted')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Network read/write timeout in seconds [default: 120]')
            [CompletionResult]::new('--provider', '--provider', [CompletionResultType]::ParameterName, 'Apply this provider''s limits (sessions, bytes per day, message size); recognised from the host name by default (imap.gmail.com, ...); `none` applies no profile. `mailhaul check` shows them')
            [CompletionResult]::new('--journal', '--journal', [CompletionResultType]::ParameterName, 'The journal written by upload (default: the one for this server and user)')
            [CompletionResult]::new('--keep-status-headers', '--keep-status-headers', [CompletionResultType]::ParameterName, 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Upload messages a client marked expunged (X-Mozilla-Status 0x0008) with \Deleted instead of skipping them')
            [CompletionResult]::new('--takeout', '--takeout', [CompletionResultType]::ParameterName, 'Treat mbox files as Gmail Takeout (X-Gmail-Labels route each message); detected from the first message by default')
            [CompletionResult]::new('--no-takeout', '--no-takeout', [CompletionResultType]::ParameterName, 'Never treat mbox files as Gmail Takeout')
            [CompletionResult]::new('--apple-imap-caches', '--apple-imap-caches', [CompletionResultType]::ParameterName, 'Also read Apple Mail''s .imapmbox directories (old Mail versions'' caches of IMAP accounts), which are reported and skipped by default')
            [CompletionResult]::new('--takeout-chats', '--takeout-chats', [CompletionResultType]::ParameterName, 'Upload Gmail chat transcripts (label Chat) into Chats instead of skipping them')
            [CompletionResult]::new('--no-special-use', '--no-special-use', [CompletionResultType]::ParameterName, 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (prints a warning)')
            [CompletionResult]::new('--allow-plaintext', '--allow-plaintext', [CompletionResultType]::ParameterName, 'With imap://, log in even if the server offers no STARTTLS')
            [CompletionResult]::new('--no-compress', '--no-compress', [CompletionResultType]::ParameterName, 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it')
            [CompletionResult]::new('--no-journal', '--no-journal', [CompletionResultType]::ParameterName, 'Ignore the journal: match by Message-ID and size only')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the findings as one JSON document on stdout (the schema of upload''s and scan''s JSON: "schema", "kind", totals, "exit_code")')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mailhaul;batch' {
            [CompletionResult]::new('--accounts', '--accounts', [CompletionResultType]::ParameterName, 'Accounts uploaded at the same time')
            [CompletionResult]::new('--max-connections-per-server', '--max-connections-per-server', [CompletionResultType]::ParameterName, 'Most connections to one server (host:port) over all running accounts (each account opens --jobs); providers limit this, e.g. Gmail to 15')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust this PEM certificate for accounts without a ca_file column')
            [CompletionResult]::new('--state', '--state', [CompletionResultType]::ParameterName, 'Where the batch keeps which accounts are complete [default: $XDG_STATE_HOME/mailhaul/batch-HASH.state, beside the journals]')
            [CompletionResult]::new('--merge-reports', '--merge-reports', [CompletionResultType]::ParameterName, 'Merge the JSON reports of several shards into one (no upload)')
            [CompletionResult]::new('--check', '--check', [CompletionResultType]::ParameterName, 'Check the list and the options without connecting; exit 2 on mistakes')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Connect and print per account what `mailhaul upload --dry-run` finds: how many messages are already there (journal, server check) and how many would be sent; send, create and write nothing (the journals are only read, the batch state is left as it is)')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Connect and print per account what `mailhaul upload --dry-run` finds: how many messages are already there (journal, server check) and how many would be sent; send, create and write nothing (the journals are only read, the batch state is left as it is)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as one JSON document on stdout')
            [CompletionResult]::new('--json-progress', '--json-progress', [CompletionResultType]::ParameterName, 'Write progress as newline-delimited JSON events on stderr, each carrying its account')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress and no table; errors are still printed')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress and no table; errors are still printed')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mailhaul;config' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config file: syntax (with the line), accounts, the files they name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailhaul;config;check' {
            [CompletionResult]::new('--config', '--config', [CompletionResultType]::ParameterName, 'Config file [default: $XDG_CONFIG_HOME/mailhaul/config.toml]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mailhaul;config;help' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config file: syntax (with the line), accounts, the files they name')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailhaul;config;help;check' {
            break
        }
        'mailhaul;config;help;help' {
            break
        }
        'mailhaul;generate' {
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More output on stderr: -v says what mailhaul decides (connection, capabilities, mode, mailboxes, batches); -vv also shows the IMAP exchange with credentials and message bodies redacted')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mailhaul;help' {
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload messages from SOURCE paths into the server')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Show what upload would do, without any network access')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect, authenticate and show the capabilities and the upload mode')
            [CompletionResult]::new('verify', 'verify', [CompletionResultType]::ParameterValue, 'Compare SOURCE with the server: list messages missing, present more than once, or on the server but not in the source (journal first, else Message-ID and size, else Message-ID and text where the server rewrote headers). Exit 0 only when every message is there exactly once and every mailbox could be read, 1 otherwise')
            [CompletionResult]::new('batch', 'batch', [CompletionResultType]::ParameterValue, 'Upload many accounts listed in a CSV file, several at a time, with a report per account; rerunning the same command retries exactly the accounts not complete')
            [CompletionResult]::new('config', 'config', [CompletionResultType]::ParameterValue, 'Work with the config file')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and the man page into DIR (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailhaul;help;upload' {
            break
        }
        'mailhaul;help;scan' {
            break
        }
        'mailhaul;help;check' {
            break
        }
        'mailhaul;help;verify' {
            break
        }
        'mailhaul;help;batch' {
            break
        }
        'mailhaul;help;config' {
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Validate the config file: syntax (with the line), accounts, the files they name')
            break
        }
        'mailhaul;help;config;check' {
            break
        }
        'mailhaul;help;generate' {
            break
        }
        'mailhaul;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
