//! The private Dovecot's configuration file, written from [`DovecotOptions`]:
//! listeners on 127.0.0.1, TLS with the generated certificate, a passwd-file
//! user, Maildir storage, rawlog, and the options' variations (hidden
//! MULTIAPPEND, size limit, COMPRESS, special-use, an oauth2 passdb).

use super::*;

impl Dovecot {
    pub(super) fn config(&self, uid: u32, gid: u32) -> Result<String> {
        let root = self.dir.path().display();
        let name = self
            .dir
            .path()
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut c = String::new();
        writeln!(
            c,
            "# Private test instance written by tests/util/dovecot.rs"
        )?;
        writeln!(c, "base_dir = {root}/run")?;
        writeln!(c, "state_dir = {root}/state")?;
        writeln!(c, "log_path = {root}/dovecot.log")?;
        writeln!(c, "instance_name = {name}")?;
        // Readiness checks the greeting names this instance, not another
        // test's server that got the same port.
        writeln!(c, "login_greeting = Dovecot {name} ready.")?;
        writeln!(c, "listen = 127.0.0.1")?;
        writeln!(c, "protocols = imap")?;
        writeln!(c, "ssl = yes")?;
        writeln!(c, "ssl_cert = <{root}/cert.pem")?;
        writeln!(c, "ssl_key = <{root}/key.pem")?;
        writeln!(c, "disable_plaintext_auth = no")?;
        writeln!(c, "auth_verbose = yes")?;
        writeln!(c, "mail_location = maildir:~/Maildir")?;
        if let Some(sent) = self.options.special_use_sent {
            writeln!(c, "namespace inbox {{")?;
            writeln!(c, "  inbox = yes")?;
            writeln!(c, "  mailbox \"{sent}\" {{")?;
            writeln!(c, "    special_use = \\Sent")?;
            writeln!(c, "    auto = create")?;
            writeln!(c, "  }}")?;
            if let Some(trash) = self.options.special_use_trash {
                writeln!(c, "  mailbox \"{trash}\" {{")?;
                writeln!(c, "    special_use = \\Trash")?;
                writeln!(c, "    auto = create")?;
                writeln!(c, "  }}")?;
            }
            writeln!(c, "}}")?;
        }
        writeln!(c, "mail_uid = {uid}")?;
        writeln!(c, "mail_gid = {gid}")?;
        writeln!(c, "first_valid_uid = {uid}")?;
        writeln!(c, "last_valid_uid = {uid}")?;
        writeln!(c, "first_valid_gid = {gid}")?;
        writeln!(c, "last_valid_gid = {gid}")?;
        if !is_root()? {
            // Untested path: run everything as ourselves, no chroot.
            let me = current_user_name()?;
            writeln!(c, "default_login_user = {me}")?;
            writeln!(c, "default_internal_user = {me}")?;
            writeln!(c, "service imap-login {{\n  chroot =\n}}")?;
            writeln!(c, "service anvil {{\n  chroot =\n}}")?;
        }
        let mut mail_plugins = String::new();
        let mut imap_plugins = String::new();
        if self.options.max_mail_size.is_some() {
            mail_plugins.push_str(" quota");
        }
        if self.options.compress {
            mail_plugins.push_str(" zlib");
            imap_plugins.push_str(" imap_zlib");
        }
        writeln!(c, "mail_plugins = $mail_plugins{mail_plugins}")?;
        if let Some(max) = self.options.max_mail_size {
            writeln!(c, "plugin {{")?;
            writeln!(c, "  quota = count:User quota")?;
            writeln!(c, "  quota_rule = *:storage=0")?; // no overall limit
            writeln!(c, "  quota_vsizes = yes")?;
            writeln!(c, "  quota_max_mail_size = {max}")?;
            writeln!(c, "}}")?;
        }
        if let Some(port) = self.options.oauth2_introspection {
            // doc.dovecot.org/2.3/configuration_manual/authentication/oauth2:
            // no tokeninfo_url, so every login introspects; no auth cache
            // (auth_cache_size = 0 by default), so every login asks again.
            writeln!(c, "auth_mechanisms = plain login oauthbearer xoauth2")?;
            writeln!(
                c,
                "passdb {{\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = {root}/dovecot-oauth2.conf.ext\n}}"
            )?;
            std::fs::write(
                self.dir.path().join("dovecot-oauth2.conf.ext"),
                format!(
                    "introspection_mode = post\nintrospection_url = http://127.0.0.1:{port}/introspect\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n"
                ),
            )?;
        }
        // With the oauth2 passdb, the password one answers PLAIN and LOGIN only.
        let password_mechanisms = match self.options.oauth2_introspection {
            Some(_) => "\n  mechanisms = plain login",
            None => "",
        };
        writeln!(
            c,
            "passdb {{\n  driver = passwd-file{password_mechanisms}\n  args = scheme=PLAIN username_format=%u {root}/passwd\n}}"
        )?;
        writeln!(
            c,
            "userdb {{\n  driver = passwd-file\n  args = username_format=%u {root}/passwd\n}}"
        )?;
        writeln!(c, "service imap-login {{")?;
        writeln!(
            c,
            "  inet_listener imap {{\n    address = 127.0.0.1\n    port = {}\n  }}",
            self.plain_port
        )?;
        writeln!(
            c,
            "  inet_listener imaps {{\n    address = 127.0.0.1\n    port = {}\n    ssl = yes\n  }}",
            self.tls_port
        )?;
        writeln!(c, "}}")?;
        writeln!(c, "protocol imap {{")?;
        writeln!(c, "  mail_plugins = $mail_plugins{imap_plugins}")?;
        writeln!(c, "  rawlog_dir = {root}/rawlog/%u")?;
        if let Some(n) = self.options.max_userip_connections {
            writeln!(c, "  mail_max_userip_connections = {n}")?;
        }
        if self.options.hide_multiappend {
            let mut caps: Vec<&str> = DEFAULT_CAPABILITIES
                .iter()
                .copied()
                .filter(|c| *c != "MULTIAPPEND")
                .collect();
            if self.options.compress {
                caps.push("COMPRESS=DEFLATE");
            }
            writeln!(c, "  imap_capability = {}", caps.join(" "))?;
        }
        writeln!(c, "}}")?;
        Ok(c)
    }
}
