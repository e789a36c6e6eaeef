//! TODO
/// The process exit status (documented in --help, README and the man page).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything uploaded.
    Success,
    /// 1: some messages failed.
    Partial,
    /// 2: usage or configuration error.
    Usage,
    /// 3: connection, TLS or authentication failure.
    Connection,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Partial => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Connection => 3,
        }
    }
}
