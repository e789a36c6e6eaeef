//! Access to a PST/OST through Microsoft's `outlook-pst` crate: opens the
//! store (an OST of Outlook 2013+ through the crate's `ost4k` view, else
//! Unicode, else ANSI), walks the folder tree below the IPM subtree
//! ("Top of Personal Folders", itself not a mailbox), lists a folder's
//! message node ids, and reads one message at a time into an [`Item`]: its
//! properties, recipients and attachments (by value, or an embedded message).
//! This is the only module that sees the crate's types.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::rc::Rc;

use outlook_pst::ltp::prop_context::PropertyValue;
use outlook_pst::ltp::table_context::TableContext;
use outlook_pst::messaging::attachment::{
    AnsiAttachment, Attachment, AttachmentData, UnicodeAttachment,
};
use outlook_pst::messaging::folder::Folder;
use outlook_pst::messaging::message::{AnsiMessage, Message, UnicodeMessage};
use outlook_pst::messaging::store::{AnsiStore, Store, UnicodeStore};
use outlook_pst::ndb::node_id::{NID_ROOT_FOLDER, NodeId, NodeIdType};
use outlook_pst::ost4k::is_ost_4k;
use outlook_pst::{AnsiPstFile, UnicodePstFile};

use super::props::{self, Props, Value};

/// A message (or embedded message) as read from the PST.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Item {
    pub props: Props,
    /// One property set per row of the recipient table.
    pub recipients: Vec<Props>,
    pub attachments: Vec<ItemAttachment>,
    /// What could not be read (kept as message warnings).
    pub warnings: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ItemAttachment {
    pub props: Props,
    pub content: AttachmentContent,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttachmentContent {
    /// Bytes of a file (by value) or an OLE object (storage).
    Bytes(Vec<u8>),
    Message(Box<Item>),
    /// A link (by reference, web reference) or nothing: no bytes in the PST.
    None,
}

/// An open PST or OST.
pub enum PstStore {
    Unicode(Rc<UnicodeStore>),
    Ansi(Rc<AnsiStore>),
}

/// The display names of an OST's mailbox root (a child of the root folder)
/// and of the IPM subtree in it, where the store does not name the subtree.
const OST_MAILBOX_ROOT: &str = "Root - Mailbox";
const OST_IPM_SUBTREE: &str = "IPM_SUBTREE";

/// A folder below the IPM subtree: its path of display names and node id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PstFolder {
    pub names: Vec<String>,
    pub node: u32,
    /// `PidTagContainerClass` (`IPF.Note`, `IPF.Contact`, …) when set.
    pub class: Option<String>,
    /// Rows in its contents table.
    pub count: usize,
    /// The sum of its messages' `PidTagMessageSize` where the contents
    /// table has that column (an estimate of what it uploads).
    pub bytes: u64,
}

impl PstStore {
    pub fn open(path: &Path) -> io::Result<PstStore> {
        let mut head = [0u8; 12];
        let mut file = File::open(path)?;
        if file.read_exact(&mut head).is_ok() && is_ost_4k(&head) {
            let file = UnicodePstFile::read_from_ost_4k(Box::new(BufReader::new(file)))?;
            return Ok(PstStore::Unicode(UnicodeStore::read(Rc::new(file))?));
        }
        if let Ok(file) = UnicodePstFile::open(path) {
            return Ok(PstStore::Unicode(UnicodeStore::read(Rc::new(file))?));
        }
        let file = AnsiPstFile::open(path)?;
        Ok(PstStore::Ansi(AnsiStore::read(Rc::new(file))?))
    }

    fn store(&self) -> Rc<dyn Store> {
        match self {
            PstStore::Unicode(s) => s.clone(),
            PstStore::Ansi(s) => s.clone(),
        }
    }

    fn open_folder(&self, node: u32) -> io::Result<Rc<dyn Folder>> {
        let store = self.store();
        let entry = store.properties().make_entry_id(NodeId::from(node))?;
        store.open_folder(&entry)
    }

    /// Every folder below the IPM subtree, parents before children, in the
    /// order of the hierarchy tables; and the folders that could not be
    /// opened (their path so far, node and reason), left out with their
    /// subfolders.
    pub fn folders(&self) -> io::Result<(Vec<PstFolder>, Vec<String>)> {
        let top = self.ipm_subtree()?;
        let (mut out, mut problems) = (Vec::new(), Vec::new());
        self.walk(top.as_ref(), &[], &mut out, &mut problems);
        Ok((out, problems))
    }

    /// The IPM subtree, as the store's `PidTagIpmSubTreeEntryId` names it.
    /// OSTs of Outlook 2013+ have no such property: there the root folder
    /// holds "Root - Mailbox" (and "Root - Public"), and the mailbox's
    /// folder "IPM_SUBTREE" is the IPM subtree (as pst-extractor and libpff
    /// show these OSTs).
    fn ipm_subtree(&self) -> io::Result<Rc<dyn Folder>> {
        let store = self.store();
        let missing = match store.properties().ipm_sub_tree_entry_id() {
            Ok(top) => return store.open_folder(&top),
            Err(e) => e,
        };
        let children = |folder: &dyn Folder| -> Vec<(String, Rc<dyn Folder>)> {
            let Some(table) = folder.hierarchy_table() else {
                return Vec::new();
            };
            row_ids(table.as_ref())
                .into_iter()
                .filter_map(|node| self.open_folder(node).ok())
                .map(|f| (f.properties().display_name().unwrap_or_default(), f))
                .collect()
        };
        let root = self.open_folder(u32::from(NID_ROOT_FOLDER))?;
        let mut mailboxes = children(root.as_ref());
        // "Root - Mailbox" first: "Root - Public" has an empty IPM_SUBTREE.
        mailboxes.sort_by_key(|(name, _)| name != OST_MAILBOX_ROOT);
        mailboxes
            .iter()
            .flat_map(|(_, mailbox)| children(mailbox.as_ref()))
            .find(|(name, _)| name == OST_IPM_SUBTREE)
            .map(|(_, folder)| folder)
            .ok_or(missing)
    }

    fn walk(
        &self,
        folder: &dyn Folder,
        names: &[String],
        out: &mut Vec<PstFolder>,
        problems: &mut Vec<String>,
    ) {
        let Some(table) = folder.hierarchy_table() else {
            return;
        };
        for node in row_ids(table.as_ref()) {
            if NodeId::from(node).id_type().ok() != Some(NodeIdType::NormalFolder) {
                continue;
            }
            let child = match self.open_folder(node) {
                Ok(c) => c,
                Err(e) => {
                    problems.push(format!(
                        "a folder below {:?} (node {node:#x}) is unreadable, left out with its subfolders: {e}",
                        names.join("/")
                    ));
                    continue;
                }
            };
            let p = child.properties();
            let name = p.display_name().unwrap_or_default();
            let class = p
                .get(props::CONTAINER_CLASS)
                .and_then(Value::from_pst)
                .and_then(|v| match v {
                    Value::Text(s) => Some(s),
                    Value::Text8(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    _ => None,
                })
                .filter(|s| !s.is_empty());
            let (count, bytes) = child.contents_table().map_or((0, 0), |t| {
                (t.rows_matrix().count(), message_sizes(t.as_ref()))
            });
            let mut path = names.to_vec();
            path.push(name);
            out.push(PstFolder {
                names: path.clone(),
                node,
                class,
                count,
                bytes,
            });
            self.walk(child.as_ref(), &path, out, problems);
        }
    }

    /// The node ids of a folder's messages, in contents-table order.
    pub fn message_ids(&self, folder: u32) -> io::Result<Vec<u32>> {
        let folder = self.open_folder(folder)?;
        Ok(folder
            .contents_table()
            .map(|t| row_ids(t.as_ref()))
            .unwrap_or_default())
    }

    /// Reads one message with its recipients and attachments.
    pub fn read_item(&self, node: u32) -> io::Result<Item> {
        match self {
            PstStore::Unicode(store) => {
                let entry = store.properties().make_entry_id(NodeId::from(node))?;
                Ok(unicode_item(&UnicodeMessage::read(
                    store.clone(),
                    &entry,
                    None,
                )?))
            }
            PstStore::Ansi(store) => {
                let entry = store.properties().make_entry_id(NodeId::from(node))?;
                Ok(ansi_item(&AnsiMessage::read(store.clone(), &entry, None)?))
            }
        }
    }
}

/// An attachment opened, with its embedded message already read.
type Opened = (Rc<dyn Attachment>, Option<Item>);

fn unicode_item(message: &Rc<UnicodeMessage>) -> Item {
    item(message.as_ref(), &|sub| {
        let a = UnicodeAttachment::read(message.clone(), sub, None)?;
        let embedded = a.embedded_message().map(|m| unicode_item(&m));
        Ok((a as Rc<dyn Attachment>, embedded))
    })
}

fn ansi_item(message: &Rc<AnsiMessage>) -> Item {
    item(message.as_ref(), &|sub| {
        let a = AnsiAttachment::read(message.clone(), sub, None)?;
        let embedded = a.embedded_message().map(|m| ansi_item(&m));
        Ok((a as Rc<dyn Attachment>, embedded))
    })
}

/// The sum of the `PidTagMessageSize` column of a contents table.
fn message_sizes(table: &dyn TableContext) -> u64 {
    let context = table.context();
    let Some(column) = context
        .columns()
        .iter()
        .position(|c| c.prop_id() == props::MESSAGE_SIZE)
    else {
        return 0;
    };
    let prop_type = context.columns()[column].prop_type();
    table
        .rows_matrix()
        .filter_map(|row| {
            let value = row.columns(context).ok()?.into_iter().nth(column)??;
            match table.read_column(&value, prop_type).ok()? {
                PropertyValue::Integer32(n) => u64::try_from(n).ok(),
                PropertyValue::Integer64(n) => u64::try_from(n).ok(),
                _ => None,
            }
        })
        .sum()
}

fn row_ids(table: &dyn TableContext) -> Vec<u32> {
    table.rows_matrix().map(|r| u32::from(r.id())).collect()
}

fn props_of<'a>(values: impl Iterator<Item = (&'a u16, &'a PropertyValue)>) -> Props {
    values
        .filter_map(|(id, v)| Some((*id, Value::from_pst(v)?)))
        .collect()
}

/// Each row of a table (recipients) as properties.
fn table_rows(table: &dyn TableContext, warnings: &mut Vec<String>) -> Vec<Props> {
    let context = table.context();
    let mut rows = Vec::new();
    for row in table.rows_matrix() {
        let columns = match row.columns(context) {
            Ok(c) => c,
            Err(e) => {
                warnings.push(format!("recipient row unreadable: {e}"));
                continue;
            }
        };
        let mut props = Props::new();
        for (col, value) in context.columns().iter().zip(columns) {
            let Some(value) = value else { continue };
            let read = table.read_column(&value, col.prop_type());
            if let Some(v) = read.ok().as_ref().and_then(Value::from_pst) {
                props.insert(col.prop_id(), v);
            }
        }
        rows.push(props);
    }
    rows
}

/// Copies what the rebuild needs out of a message. `read_attachment` opens
/// an attachment sub-node and reads its embedded message, if any (with its
/// own attachments: `embedded_message` is a patch to the vendored crate,
/// whose `AttachmentData::Message` hides the type needed to open them).
fn item(message: &dyn Message, read_attachment: &dyn Fn(NodeId) -> io::Result<Opened>) -> Item {
    let mut out = Item {
        props: props_of(message.properties().iter()),
        ..Default::default()
    };
    if let Some(table) = message.recipient_table() {
        out.recipients = table_rows(table.as_ref(), &mut out.warnings);
    }
    let Some(table) = message.attachment_table() else {
        return out;
    };
    for sub in row_ids(table.as_ref()) {
        let (attachment, embedded) = match read_attachment(NodeId::from(sub)) {
            Ok(a) => a,
            Err(e) => {
                out.warnings
                    .push(format!("attachment {sub:#x} unreadable, left out: {e}"));
                continue;
            }
        };
        let props = props_of(attachment.properties().iter());
        let content = match (attachment.data(), embedded) {
            (_, Some(inner)) => AttachmentContent::Message(Box::new(inner)),
            (Some(AttachmentData::Binary(b)), None) => {
                AttachmentContent::Bytes(b.buffer().to_vec())
            }
            (Some(AttachmentData::Message(_)) | None, None) => AttachmentContent::None,
        };
        out.attachments.push(ItemAttachment { props, content });
    }
    out
}
