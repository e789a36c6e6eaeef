//! Special-use mailboxes (RFC 6154): recognizes the source folders that play
//! a role (Sent, Drafts, Trash, Junk, Archive) by their names in the
//! languages and clients people migrate from, so they can land in the
//! server's mailbox carrying that attribute instead of beside it.

/// A special-use role (RFC 6154 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    Sent,
    Drafts,
    Trash,
    Junk,
    Archive,
}

impl Role {
    /// The LIST attribute naming this role.
    pub fn attribute(self) -> &'static str {
        match self {
            Role::Sent => "\\Sent",
            Role::Drafts => "\\Drafts",
            Role::Trash => "\\Trash",
            Role::Junk => "\\Junk",
            Role::Archive => "\\Archive",
        }
    }

    pub fn from_attribute(attr: &str) -> Option<Role> {
        [
            Role::Sent,
            Role::Drafts,
            Role::Trash,
            Role::Junk,
            Role::Archive,
        ]
        .into_iter()
        .find(|r| r.attribute().eq_ignore_ascii_case(attr))
    }

    /// The role a folder name conventionally plays, compared case-insensitively.
    pub fn of_folder_name(name: &str) -> Option<Role> {
        let lower = name.to_lowercase();
        let is = |names: &[&str]| names.contains(&lower.as_str());
        if is(&[
            "sent",
            "sent items",
            "sent messages",
            "sent mail",
            "sent-mail",
            "gesendet",
            "gesendete objekte",
            "gesendete elemente",
            "envoyés",
            "éléments envoyés",
            "messages envoyés",
            "enviados",
            "elementos enviados",
            "inviati",
            "posta inviata",
            "verzonden",
            "verzonden items",
            "skickat",
            "wysłane",
            // Outlook's Sent Items in its other languages.
            "itens enviados",
            "skickade objekt",
            "sendte elementer",
            "sendt post",
            "lähetetyt",
            "elementy wysłane",
        ]) {
            Some(Role::Sent)
        } else if is(&[
            "drafts",
            "draft",
            "entwürfe",
            "brouillons",
            "borradores",
            "bozze",
            "concepten",
            "rascunhos",
            "utkast",
            "kladder",
            "luonnokset",
            "wersje robocze",
        ]) {
            Some(Role::Drafts)
        } else if is(&[
            "trash",
            "deleted items",
            "deleted messages",
            "deleted",
            "bin",
            "papierkorb",
            "gelöschte objekte",
            "gelöschte elemente",
            "corbeille",
            "éléments supprimés",
            "papelera",
            "cestino",
            "prullenbak",
            // Outlook's Deleted Items in its other languages.
            "elementos eliminados",
            "posta eliminata",
            "verwijderde items",
            "itens excluídos",
            "borttagna objekt",
            "slettet post",
            "slettede elementer",
            "poistetut",
            "elementy usunięte",
        ]) {
            Some(Role::Trash)
        } else if is(&[
            "junk",
            "spam",
            "junk e-mail",
            "junk email",
            "junk mail",
            "bulk mail",
            "spamverdacht",
            "unerwünscht",
            "courrier indésirable",
            "indésirables",
            "correo no deseado",
            // Outlook's Junk E-mail in its other languages.
            "junk-e-mail",
            "posta indesiderata",
            "ongewenste e-mail",
            "lixo eletrônico",
            "skräppost",
            "uønsket e-post",
            "wiadomości-śmieci",
            "roskaposti",
        ]) {
            Some(Role::Junk)
        } else if is(&["archive", "archives", "archiv", "archivo", "archivio"]) {
            Some(Role::Archive)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_attributes() {
        assert_eq!(Role::of_folder_name("Sent Items"), Some(Role::Sent));
        assert_eq!(Role::of_folder_name("GESENDET"), Some(Role::Sent));
        assert_eq!(Role::of_folder_name("Entwürfe"), Some(Role::Drafts));
        assert_eq!(Role::of_folder_name("Deleted Items"), Some(Role::Trash));
        assert_eq!(Role::of_folder_name("Spam"), Some(Role::Junk));
        assert_eq!(Role::of_folder_name("Archives"), Some(Role::Archive));
        assert_eq!(Role::of_folder_name("Sentinel"), None);
        // Outlook's special folders in a few of its languages.
        assert_eq!(Role::of_folder_name("Junk-E-Mail"), Some(Role::Junk));
        assert_eq!(Role::of_folder_name("Éléments envoyés"), Some(Role::Sent));
        assert_eq!(Role::of_folder_name("Posta eliminata"), Some(Role::Trash));
        assert_eq!(Role::of_folder_name("Itens Enviados"), Some(Role::Sent));
        assert_eq!(Role::from_attribute("\\sent"), Some(Role::Sent));
        assert_eq!(Role::from_attribute("\\HasNoChildren"), None);
    }
}
