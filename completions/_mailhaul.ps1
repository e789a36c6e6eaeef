
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
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload messages from SOURCE paths into the server')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Show what upload would do, without any network access')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect, authenticate and show the capabilities and the upload mode')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write shell completions and the man page into DIR (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'mailhaul;upload' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Source format; detected from the files by default')
            [CompletionResult]::new('--mailbox', '--mailbox', [CompletionResultType]::ParameterName, 'Put every message into this one mailbox instead of mirroring folders')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins')
            [CompletionResult]::new('--flatten', '--flatten', [CompletionResultType]::ParameterName, 'Put every folder at the top level, joining its path with SEP (default `_`)')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out source folders whose path (with `/`) matches GLOB; repeatable')
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from this file (first line; trailing newline removed)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run this shell command and use its output as the password')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust this PEM certificate (a private CA or a self-signed server certificate)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Network read/write timeout in seconds')
            [CompletionResult]::new('--batch-size', '--batch-size', [CompletionResultType]::ParameterName, 'Most messages in one MULTIAPPEND command')
            [CompletionResult]::new('--batch-bytes', '--batch-bytes', [CompletionResultType]::ParameterName, 'Most bytes in one MULTIAPPEND command (suffixes K, M, G accepted)')
            [CompletionResult]::new('--keep-status-headers', '--keep-status-headers', [CompletionResultType]::ParameterName, 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags')
            [CompletionResult]::new('--no-special-use', '--no-special-use', [CompletionResultType]::ParameterName, 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (prints a warning)')
            [CompletionResult]::new('--allow-plaintext', '--allow-plaintext', [CompletionResultType]::ParameterName, 'With imap://, log in even if the server offers no STARTTLS')
            [CompletionResult]::new('--no-compress', '--no-compress', [CompletionResultType]::ParameterName, 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it')
            [CompletionResult]::new('--no-multiappend', '--no-multiappend', [CompletionResultType]::ParameterName, 'Send one APPEND per message even when the server has MULTIAPPEND')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Connect and print the full plan with the server''s names, but send nothing')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'Connect and print the full plan with the server''s names, but send nothing')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the report as one JSON document on stdout instead of the summary')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No progress bar and no summary; errors are still printed')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No progress bar and no summary; errors are still printed')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mailhaul;scan' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'Source format; detected from the files by default')
            [CompletionResult]::new('--mailbox', '--mailbox', [CompletionResultType]::ParameterName, 'Put every message into this one mailbox instead of mirroring folders')
            [CompletionResult]::new('--prefix', '--prefix', [CompletionResultType]::ParameterName, 'Put the mirrored folder tree under this mailbox (hierarchy with `/`)')
            [CompletionResult]::new('--map', '--map', [CompletionResultType]::ParameterName, 'Rename a source folder (and its subfolders): `--map ''Old Mail=Archive/Old''`. Paths use `/`; repeatable; the longest matching SOURCE wins')
            [CompletionResult]::new('--flatten', '--flatten', [CompletionResultType]::ParameterName, 'Put every folder at the top level, joining its path with SEP (default `_`)')
            [CompletionResult]::new('--include', '--include', [CompletionResultType]::ParameterName, 'Upload only source folders whose path (with `/`) matches GLOB; repeatable. `*` stays within one level, `**` crosses levels')
            [CompletionResult]::new('--exclude', '--exclude', [CompletionResultType]::ParameterName, 'Leave out source folders whose path (with `/`) matches GLOB; repeatable')
            [CompletionResult]::new('--keep-status-headers', '--keep-status-headers', [CompletionResultType]::ParameterName, 'Keep mbox client-state headers (Status, X-Status, X-Mozilla-Status, ...) instead of removing them once their meaning is carried by IMAP flags')
            [CompletionResult]::new('--no-special-use', '--no-special-use', [CompletionResultType]::ParameterName, 'Keep Sent, Drafts, Trash, Junk and Archive folders under their own names instead of uploading into the server''s special-use mailboxes')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'Print the scan as one JSON document on stdout')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'mailhaul;check' {
            [CompletionResult]::new('--server', '--server', [CompletionResultType]::ParameterName, 'imaps://user@host[:port] (implicit TLS, default port 993) or imap://user@host[:port] (STARTTLS, default port 143)')
            [CompletionResult]::new('--password-file', '--password-file', [CompletionResultType]::ParameterName, 'Read the password from this file (first line; trailing newline removed)')
            [CompletionResult]::new('--password-command', '--password-command', [CompletionResultType]::ParameterName, 'Run this shell command and use its output as the password')
            [CompletionResult]::new('--ca-file', '--ca-file', [CompletionResultType]::ParameterName, 'Trust this PEM certificate (a private CA or a self-signed server certificate)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Network read/write timeout in seconds')
            [CompletionResult]::new('--insecure', '--insecure', [CompletionResultType]::ParameterName, 'Do not verify the server''s certificate (prints a warning)')
            [CompletionResult]::new('--allow-plaintext', '--allow-plaintext', [CompletionResultType]::ParameterName, 'With imap://, log in even if the server offers no STARTTLS')
            [CompletionResult]::new('--no-compress', '--no-compress', [CompletionResultType]::ParameterName, 'Do not use COMPRESS=DEFLATE (RFC 4978) even when the server offers it')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mailhaul;generate' {
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help')
            break
        }
        'mailhaul;help' {
            [CompletionResult]::new('upload', 'upload', [CompletionResultType]::ParameterValue, 'Upload messages from SOURCE paths into the server')
            [CompletionResult]::new('scan', 'scan', [CompletionResultType]::ParameterValue, 'Show what upload would do, without any network access')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Connect, authenticate and show the capabilities and the upload mode')
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
