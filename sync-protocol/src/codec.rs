//! The versioned JSON codec: [`encode`] an [`Envelope`], [`decode`] one from bytes.
//!
//! On the wire an envelope is one JSON object:
//!
//! ```json
//! {"schema":3,"event_id":"…","origin":"ST0001","seq":42,
//!  "stream":{"id":"…","from":0},
//!  "occurred_at":"2026-11-24T01:02:03Z","kind":"sale_settled","payload":{…}}
//! ```
//!
//! Schema 2 added `stream`, `price_changed`'s `base_version` and parts, `day_closed`'s parts and
//! the `order_restored` kind. A schema 1 message reads as a message of the sender's first stream.
//! Schema 3 added the `audit_recorded` kind.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::{Envelope, Event, EventKind, MAX_MESSAGE_BYTES, SCHEMA_VERSION, StreamId};

/// Why a message could not be decoded. Each variant has a stable [`code`](DecodeError::code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("message is not valid JSON: {0}")]
    NotJson(String),
    #[error("message envelope is malformed: {0}")]
    MalformedEnvelope(String),
    #[error("schema version {found} is newer than {supported}, the newest this receiver reads")]
    UnsupportedSchema { found: u64, supported: u16 },
    #[error("unknown event kind `{0}`")]
    UnknownKind(String),
    #[error("payload of `{kind}` is invalid: {detail}")]
    InvalidPayload { kind: EventKind, detail: String },
}

/// An event whose message would be larger than [`MAX_MESSAGE_BYTES`]: the sender refuses to
/// make it (no receiver or broker on the way would take it).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a `{kind}` message of {bytes} bytes is over the limit of {limit} bytes")]
pub struct TooLarge {
    pub kind: EventKind,
    pub bytes: usize,
    pub limit: usize,
}

impl DecodeError {
    /// Whether the receiver may be able to read the message later, once it is upgraded: such a
    /// message is held (not acknowledged, its sequence not consumed), never dead-lettered.
    pub fn is_transient(&self) -> bool {
        matches!(self, DecodeError::UnsupportedSchema { .. })
    }

    /// A short, stable code for logs, dead-letter tables and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::NotJson(_) => "not_json",
            DecodeError::MalformedEnvelope(_) => "malformed_envelope",
            DecodeError::UnsupportedSchema { .. } => "unsupported_schema",
            DecodeError::UnknownKind(_) => "unknown_kind",
            DecodeError::InvalidPayload { .. } => "invalid_payload",
        }
    }
}

/// Encodes an envelope as compact JSON.
pub fn encode(envelope: &Envelope) -> Vec<u8> {
    let wire = WireEnvelope {
        schema: envelope.schema_version,
        event_id: envelope.event_id,
        origin: envelope.origin.clone(),
        seq: envelope.sequence,
        stream: envelope.stream,
        occurred_at: envelope.occurred_at,
        kind: envelope.event.kind().as_str().to_owned(),
        payload: payload_to_value(&envelope.event),
    };
    serde_json::to_vec(&wire).expect("wire types serialise to JSON without fail")
}

/// Encodes an envelope, refusing one over [`MAX_MESSAGE_BYTES`]. Every sender encodes through
/// this, so the limit is held where messages are made.
pub fn encode_checked(envelope: &Envelope) -> Result<Vec<u8>, TooLarge> {
    let bytes = encode(envelope);
    if bytes.len() > MAX_MESSAGE_BYTES {
        return Err(TooLarge {
            kind: envelope.event.kind(),
            bytes: bytes.len(),
            limit: MAX_MESSAGE_BYTES,
        });
    }
    Ok(bytes)
}

/// Decodes one message. Never panics, whatever the bytes.
pub fn decode(bytes: &[u8]) -> Result<Envelope, DecodeError> {
    decode_up_to(bytes, SCHEMA_VERSION)
}

/// Decodes one message as a receiver that reads schema versions up to `newest` would: lets a
/// receiver be run as an older version of itself (to try a staggered upgrade).
pub fn decode_up_to(bytes: &[u8], newest: u16) -> Result<Envelope, DecodeError> {
    let newest = newest.min(SCHEMA_VERSION);
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| DecodeError::NotJson(e.to_string()))?;
    let Some(object) = value.as_object() else {
        return Err(DecodeError::MalformedEnvelope(
            "expected a JSON object".to_owned(),
        ));
    };
    // The schema version is read first: a newer sender may have changed anything else.
    match object.get("schema").map(Value::as_u64) {
        None => {
            return Err(DecodeError::MalformedEnvelope(
                "missing field `schema`".into(),
            ));
        }
        Some(None | Some(0)) => {
            return Err(DecodeError::MalformedEnvelope(
                "`schema` must be a positive integer".into(),
            ));
        }
        Some(Some(found)) if found > u64::from(newest) => {
            return Err(DecodeError::UnsupportedSchema {
                found,
                supported: newest,
            });
        }
        Some(Some(_)) => {}
    }
    let wire: WireEnvelope =
        serde_json::from_value(value).map_err(|e| DecodeError::MalformedEnvelope(e.to_string()))?;
    if !is_origin(&wire.origin) {
        return Err(DecodeError::MalformedEnvelope(format!(
            "`origin` {:?} is not 1 to 32 letters, digits, '-' or '_'",
            wire.origin
        )));
    }
    if wire.seq == 0 {
        return Err(DecodeError::MalformedEnvelope("`seq` starts at 1".into()));
    }
    let kind = EventKind::from_wire(&wire.kind).ok_or(DecodeError::UnknownKind(wire.kind))?;
    if !wire.payload.is_object() {
        return Err(DecodeError::InvalidPayload {
            kind,
            detail: "the payload must be a JSON object".into(),
        });
    }
    let event = payload_from_value(kind, wire.payload).map_err(|e| {
        let path = e.path().to_string();
        DecodeError::InvalidPayload {
            kind,
            detail: if path == "." {
                e.inner().to_string()
            } else {
                format!("`{path}`: {}", e.inner())
            },
        }
    })?;
    Ok(Envelope {
        event_id: wire.event_id,
        origin: wire.origin,
        sequence: wire.seq,
        occurred_at: wire.occurred_at,
        schema_version: wire.schema,
        stream: wire.stream,
        event,
    })
}

/// Reads the origin and sequence of a message that may not decode in full, so that a receiver
/// can dead-letter it in its place in the sequence and still acknowledge it.
pub fn peek_origin_sequence(bytes: &[u8]) -> Option<(String, u64)> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    let origin = value.get("origin")?.as_str()?.to_owned();
    let seq = value.get("seq")?.as_u64()?;
    (!origin.is_empty() && seq > 0).then_some((origin, seq))
}

/// Reads the stream a message that may not decode in full names, if it names one.
pub fn peek_stream(bytes: &[u8]) -> Option<StreamId> {
    let value: Value = serde_json::from_slice(bytes).ok()?;
    serde_json::from_value(value.get("stream")?.clone()).ok()
}

/// Origins are station ids (`ST0001`) or the hub's; exact bytes, since they key the inbox.
fn is_origin(origin: &str) -> bool {
    (1..=32).contains(&origin.len())
        && origin
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

#[derive(Serialize, Deserialize)]
struct WireEnvelope {
    schema: u16,
    event_id: Uuid,
    origin: String,
    seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stream: Option<StreamId>,
    occurred_at: Timestamp,
    kind: String,
    payload: Value,
}

/// Maps each event variant to its payload type, once, for both directions of the codec.
macro_rules! payload_codec {
    ($($variant:ident),* $(,)?) => {
        fn payload_to_value(event: &Event) -> Value {
            match event {
                $(Event::$variant(payload) => serde_json::to_value(payload),)*
            }
            .expect("wire types serialise to JSON without fail")
        }

        /// Decodes a payload object, naming the field at fault when it fails.
        fn payload_from_value(
            kind: EventKind,
            payload: Value,
        ) -> Result<Event, serde_path_to_error::Error<serde_json::Error>> {
            Ok(match kind {
                $(EventKind::$variant => Event::$variant(serde_path_to_error::deserialize(payload)?),)*
            })
        }
    };
}

payload_codec!(
    TankRegistered,
    OrderPlaced,
    OrderCanceled,
    DeliveryConfirmed,
    SaleSettled,
    SaleCanceled,
    StockAdjusted,
    ShiftClosed,
    DayClosed,
    PriceVersionApplied,
    CreditAccountOpened,
    CreditPaymentReceived,
    WetStockReconciled,
    AuditRecorded,
    PriceChanged,
    ShipmentDispatched,
    OrderRejected,
    OrderRestored,
);
