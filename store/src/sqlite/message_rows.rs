//! The stored form of a chat message. A `messages` row's columns already hold the session,
//! the position and the time, so its `view` leaves them out, and the fields that are empty:
//! about a third less to write for every message of a busy server. Rows written before
//! this form carry the whole message and read back the same.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use switchboard_core::Timestamp;
use switchboard_core::ids::{MessageId, SessionId};
use switchboard_core::protocol::model::{Attachment, MessageKind, MessageView, Sender};

/// What a `messages` row's `view` holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredMessage {
    pub message_id: MessageId,
    pub sender: Sender,
    pub kind: MessageKind,
    pub body: Arc<str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Arc<Attachment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_message_id: Option<Arc<str>>,
}

/// The columns a message read selects, in the order [`read_view`] takes them.
pub(crate) const MESSAGE_COLUMNS: &str = "session_no, seq, created_at, view";
/// [`MESSAGE_COLUMNS`] of a table aliased `m`.
pub(crate) const JOINED_MESSAGE_COLUMNS: &str = "m.session_no, m.seq, m.created_at, m.view";

/// One row as read: its columns and its `view` text.
pub(crate) type MessageColumns = (i64, i64, i64, String);

impl StoredMessage {
    /// The stored form of `message` (shares its text).
    pub fn of(message: &MessageView) -> Self {
        StoredMessage {
            message_id: message.message_id,
            sender: message.sender.clone(),
            kind: message.kind,
            body: message.body.clone(),
            attachment: message.attachment.clone(),
            client_message_id: message.client_message_id.clone(),
        }
    }

    /// The whole message again, with what the row's columns hold.
    pub fn into_view(self, session_no: i64, seq: i64, created_at: i64) -> MessageView {
        MessageView {
            message_id: self.message_id,
            session_id: SessionId(session_no as u64),
            seq: seq as u64,
            sender: self.sender,
            kind: self.kind,
            body: self.body,
            attachment: self.attachment,
            client_message_id: self.client_message_id,
            created_at: Timestamp(created_at),
        }
    }
}

/// A row read with [`MESSAGE_COLUMNS`], as the message it stores.
pub(crate) fn read_view(
    (session_no, seq, created_at, view): MessageColumns,
) -> Result<MessageView, serde_json::Error> {
    let stored: StoredMessage = serde_json::from_str(&view)?;
    Ok(stored.into_view(session_no, seq, created_at))
}

#[cfg(test)]
mod tests {
    use switchboard_core::protocol::model::SenderKind;

    use super::*;

    fn message(attachment: bool) -> MessageView {
        MessageView {
            message_id: MessageId(41),
            session_id: SessionId(7),
            seq: 3,
            sender: Sender {
                kind: SenderKind::Visitor,
                id: Some("v1".into()),
                name: Some("Ada".into()),
            },
            kind: if attachment {
                MessageKind::Attachment
            } else {
                MessageKind::Text
            },
            body: "where is my parcel?".into(),
            attachment: attachment.then(|| {
                Arc::new(Attachment {
                    name: "receipt.pdf".into(),
                    mime_type: "application/pdf".into(),
                    size_bytes: 1_024,
                    url: "https://files.example/receipt.pdf".into(),
                })
            }),
            client_message_id: attachment.then(|| "c-9".into()),
            created_at: Timestamp(1_700_000_000_123),
        }
    }

    fn store_and_read(message: &MessageView) -> (String, MessageView) {
        let view = serde_json::to_string(&StoredMessage::of(message)).unwrap();
        let read = read_view((
            message.session_id.0 as i64,
            message.seq as i64,
            message.created_at.0,
            view.clone(),
        ))
        .unwrap();
        (view, read)
    }

    #[test]
    fn a_message_reads_back_whole_from_its_columns_and_its_shorter_view() {
        for full in [false, true] {
            let original = message(full);
            let (view, read) = store_and_read(&original);
            assert_eq!(read, original);
            for held_in_columns in ["session_id", "\"seq\"", "created_at"] {
                assert!(!view.contains(held_in_columns), "{view}");
            }
            let whole = serde_json::to_string(&original).unwrap();
            assert!(view.len() < whole.len(), "{view} against {whole}");
            assert_eq!(view.contains("attachment"), full, "{view}");
            assert_eq!(view.contains("client_message_id"), full, "{view}");
        }
    }

    #[test]
    fn a_row_written_whole_by_an_older_build_reads_the_same() {
        let original = message(true);
        let whole = serde_json::to_string(&original).unwrap();
        assert_eq!(
            read_view((7, 3, original.created_at.0, whole.clone())).unwrap(),
            original
        );
        // Where the old fields and the columns disagree, the columns win: they are what
        // the indexes and the queries use.
        let read = read_view((8, 4, original.created_at.0 + 1, whole)).unwrap();
        assert_eq!(
            (read.session_id, read.seq, read.created_at),
            (SessionId(8), 4, Timestamp(original.created_at.0 + 1))
        );
        assert_eq!(read.body, original.body);
    }
}
