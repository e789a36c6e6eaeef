
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
            cand -h 'Print help'
            cand --help 'Print help'
            cand -V 'Print version'
            cand --version 'Print version'
            cand upload 'Upload messages from SOURCE paths into the server'
            cand scan 'Show what upload would do, without any network access'
            cand check 'Connect, authenticate and show the capabilities and the upload mode'
            cand generate 'Write shell completions and the man page into DIR (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailhaul;upload'= {
            cand --format 'Source format; detected from the files by default'
            cand --mailbox 'Put every message into this one mailbox instead of mirroring folders'
            cand --prefix 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)'
            cand --map 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins'
            cand --flatten 'Put every folder at the top level, joining its path with SEP (default `_`)'
            cand --include 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels'
            cand --exclude 'Leave out source folders whose path (with `/`) matches GLOB; repeatable'
            cand --server 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)'
            cand --password-file 'Read the password from this file (first line; trailing newline removed)'
            cand --password-command 'Run this shell command and use its output as the password'
            cand --ca-file 'Trust this PEM certificate (a private CA or a self-signed server certificate)'
            cand --timeout 'Network read/write timeout in seconds'
            cand --batch-size 'Most messages in one MULTIAPPEND command'
            cand --batch-bytes 'Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted)'
            cand --keep-status-headers 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
            cand --no-special-use 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes'
            cand --insecure 'Do not verify the server''s certificate (prints a warning)'
            cand --allow-plaintext 'With imap://, log in even if the server offers no STARTTLS'
            cand --no-compress 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
            cand --no-multiappend 'Send one APPEND per message even when the server has MULTIAPPEND'
            cand -n 'Connect and print the full plan with the server''s names, but send nothing'
            cand --dry-run 'Connect and print the full plan with the server''s names, but send nothing'
            cand --json 'Print the report as one JSON document on stdout instead of the summary'
            cand -q 'No progress bar and no summary; errors are still printed'
            cand --quiet 'No progress bar and no summary; errors are still printed'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mailhaul;scan'= {
            cand --format 'Source format; detected from the files by default'
            cand --mailbox 'Put every message into this one mailbox instead of mirroring folders'
            cand --prefix 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)'
            cand --map 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins'
            cand --flatten 'Put every folder at the top level, joining its path with SEP (default `_`)'
            cand --include 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels'
            cand --exclude 'Leave out source folders whose path (with `/`) matches GLOB; repeatable'
            cand --keep-status-headers 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
            cand --no-special-use 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes'
            cand --json 'Print the scan as one JSON document on stdout'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'mailhaul;check'= {
            cand --server 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)'
            cand --password-file 'Read the password from this file (first line; trailing newline removed)'
            cand --password-command 'Run this shell command and use its output as the password'
            cand --ca-file 'Trust this PEM certificate (a private CA or a self-signed server certificate)'
            cand --timeout 'Network read/write timeout in seconds'
            cand --insecure 'Do not verify the server''s certificate (prints a warning)'
            cand --allow-plaintext 'With imap://, log in even if the server offers no STARTTLS'
            cand --no-compress 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mailhaul;generate'= {
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'mailhaul;help'= {
            cand upload 'Upload messages from SOURCE paths into the server'
            cand scan 'Show what upload would do, without any network access'
            cand check 'Connect, authenticate and show the capabilities and the upload mode'
            cand generate 'Write shell completions and the man page into DIR (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'mailhaul;help;upload'= {
        }
        &'mailhaul;help;scan'= {
        }
        &'mailhaul;help;check'= {
        }
        &'mailhaul;help;generate'= {
        }
        &'mailhaul;help;help'= {
        }
    ]
    $completions[$command]
}
