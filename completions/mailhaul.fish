# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_mailhaul_global_optspecs
    string join \n h/help V/version
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

complete -c mailhaul -n "__fish_mailhaul_needs_command" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -s V -l version -d 'Print version'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "upload" -d 'Upload messages from SOURCE paths into the server'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "scan" -d 'Show what upload would do, without any network access'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "check" -d 'Connect, authenticate and show the capabilities and the upload mode'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "generate" -d 'Write shell completions and the man page into DIR (for packagers)'
complete -c mailhaul -n "__fish_mailhaul_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l format -d 'Source format; detected from the files by default' -r -f -a "auto\t'Detect from the files'
mbox\t'A single mbox file'
mbox-tree\t'A directory tree of mbox files: each file a mailbox, directories are hierarchy'
maildir\t'A single Maildir (cur/ and new/)'
maildir++\t'A Maildir++ tree: the root is INBOX, `.A.B` is A/B'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l mailbox -d 'Put every message into this one mailbox instead of mirroring folders' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l prefix -d 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l map -d 'Rename a source folder (and its subfolders): `--map \'Old Mail=Archive/Old\'`. Paths use `/`; repeatable; the longest matching SOURCE wins' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l flatten -d 'Put every folder at the top level, joining its path with SEP (default `_`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l include -d 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l exclude -d 'Leave out source folders whose path (with `/`) matches GLOB; repeatable' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l server -d 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l password-file -d 'Read the password from this file (first line; trailing newline removed)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l password-command -d 'Run this shell command and use its output as the password' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l ca-file -d 'Trust this PEM certificate (a private CA or a self-signed server certificate)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l timeout -d 'Network read/write timeout in seconds' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l batch-size -d 'Most messages in one MULTIAPPEND command' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l batch-bytes -d 'Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l keep-status-headers -d 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-special-use -d 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server\'s special-use mailboxes'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l insecure -d 'Do not verify the server\'s certificate (prints a warning)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l allow-plaintext -d 'With imap://, log in even if the server offers no STARTTLS'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-compress -d 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l no-multiappend -d 'Send one APPEND per message even when the server has MULTIAPPEND'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s n -l dry-run -d 'Connect and print the full plan with the server\'s names, but send nothing'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -l json -d 'Print the report as one JSON document on stdout instead of the summary'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s q -l quiet -d 'No progress bar and no summary; errors are still printed'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand upload" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l format -d 'Source format; detected from the files by default' -r -f -a "auto\t'Detect from the files'
mbox\t'A single mbox file'
mbox-tree\t'A directory tree of mbox files: each file a mailbox, directories are hierarchy'
maildir\t'A single Maildir (cur/ and new/)'
maildir++\t'A Maildir++ tree: the root is INBOX, `.A.B` is A/B'"
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l mailbox -d 'Put every message into this one mailbox instead of mirroring folders' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l prefix -d 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l map -d 'Rename a source folder (and its subfolders): `--map \'Old Mail=Archive/Old\'`. Paths use `/`; repeatable; the longest matching SOURCE wins' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l flatten -d 'Put every folder at the top level, joining its path with SEP (default `_`)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l include -d 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l exclude -d 'Leave out source folders whose path (with `/`) matches GLOB; repeatable' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l keep-status-headers -d 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l no-special-use -d 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server\'s special-use mailboxes'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -l json -d 'Print the scan as one JSON document on stdout'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand scan" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l server -d 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l password-file -d 'Read the password from this file (first line; trailing newline removed)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l password-command -d 'Run this shell command and use its output as the password' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l ca-file -d 'Trust this PEM certificate (a private CA or a self-signed server certificate)' -r -F
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l timeout -d 'Network read/write timeout in seconds' -r
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l insecure -d 'Do not verify the server\'s certificate (prints a warning)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l allow-plaintext -d 'With imap://, log in even if the server offers no STARTTLS'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -l no-compress -d 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand check" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand generate" -s h -l help -d 'Print help'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check generate help" -f -a "upload" -d 'Upload messages from SOURCE paths into the server'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check generate help" -f -a "scan" -d 'Show what upload would do, without any network access'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check generate help" -f -a "check" -d 'Connect, authenticate and show the capabilities and the upload mode'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check generate help" -f -a "generate" -d 'Write shell completions and the man page into DIR (for packagers)'
complete -c mailhaul -n "__fish_mailhaul_using_subcommand help; and not __fish_seen_subcommand_from upload scan check generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
