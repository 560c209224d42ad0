//! GraphQL subscriptions over WebSocket at `/graphql` (`graphql-transport-ws`, and the legacy
//! `graphql-ws`), served by async-graphql-axum. The bearer token comes in `connection_init`'s
//! payload, is verified as for HTTP, and the socket closes when it expires; connections per
//! token and subscriptions per connection are bounded, and so is every message: to the body
//! limit, and to 64 KiB until `connection_init` is accepted (a larger one closes the socket).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_graphql::Data;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use futures::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::watch;

use super::AppState;
use super::caller::Caller;
use crate::auth::bearer::bearer_token;
use crate::error::ApiError;
use crate::graphql::subscription::ConnectionSlots;

/// Most WebSocket connections one token may hold at once.
pub const MAX_CONNECTIONS_PER_TOKEN: usize = 10;
/// A connection that sends nothing, not even a ping, for this long is closed.
const KEEPALIVE_TIMEOUT: Duration = Duration::from_secs(120);
/// Largest message before `connection_init` is accepted.
pub const MAX_MESSAGE_BEFORE_INIT: usize = 64 * 1024;

/// Open WebSocket connections per token (by the token's SHA-256, never the token itself).
#[derive(Default)]
pub struct TokenConnections(Arc<Mutex<HashMap<[u8; 32], usize>>>);

/// One connection's place among its token's; freed when the connection ends.
struct ConnectionPermit {
    counts: Arc<Mutex<HashMap<[u8; 32], usize>>>,
    key: [u8; 32],
}

impl TokenConnections {
    /// Takes a place for a new connection of `token`, or refuses one past the limit.
    fn acquire(&self, token: &str) -> Result<ConnectionPermit, ApiError> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut counts = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let open = counts.entry(key).or_default();
        if *open >= MAX_CONNECTIONS_PER_TOKEN {
            return Err(ApiError::Unauthenticated(format!(
                "this token already holds {MAX_CONNECTIONS_PER_TOKEN} subscription connections"
            )));
        }
        *open += 1;
        Ok(ConnectionPermit {
            counts: self.0.clone(),
            key,
        })
    }
}

impl Drop for ConnectionPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(open) = counts.get_mut(&self.key) {
            *open -= 1;
            if *open == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

/// Accepts the WebSocket upgrade of a subscription client; the socket keeps the HTTP
/// connection's place (and marks it busy) for as long as it is open.
pub fn upgrade(
    app: AppState,
    upgrade: WebSocketUpgrade,
    protocol: GraphQLProtocol,
    connection: Option<Arc<super::connections::Connection>>,
) -> Response {
    let max_message = app.limits.max_body_bytes;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(max_message)
        .max_frame_size(max_message)
        .on_upgrade(move |socket| async move {
            let _busy = connection.as_ref().map(|c| c.busy());
            serve_socket(app, socket, protocol).await;
        })
}

/// The `Authorization` value in `connection_init`'s payload: `{"Authorization": "Bearer …"}`
/// (any case).
fn payload_authorization(payload: &serde_json::Value) -> Result<String, ApiError> {
    let value = payload
        .as_object()
        .and_then(|fields| {
            fields
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("authorization"))
        })
        .and_then(|(_, value)| value.as_str())
        .ok_or_else(|| {
            ApiError::Unauthenticated(
                "connection_init must carry {\"Authorization\": \"Bearer <token>\"}".into(),
            )
        })?;
    Ok(value.to_owned())
}

/// Serves one connection until the client leaves or its token expires.
async fn serve_socket(app: AppState, socket: WebSocket, protocol: GraphQLProtocol) {
    let (expiry, mut expires) = watch::channel::<Option<u64>>(None);
    let authenticating = app.clone();
    let accepted = Arc::new(AtomicBool::new(false));
    let (sink, stream) = socket.split();
    let stream = held_to_init_limit(stream, accepted.clone());
    let connection = GraphQLWebSocket::new_with_pair(sink, stream, app.schema.clone(), protocol)
        .keepalive_timeout(KEEPALIVE_TIMEOUT)
        .on_connection_init(move |payload| async move {
            let authorization = payload_authorization(&payload)?;
            let caller = Caller::from_authorization(&authenticating, &authorization).await?;
            let permit = authenticating
                .subscribers
                .acquire(bearer_token(&authorization)?)?;
            accepted.store(true, Ordering::SeqCst);
            let _ = expiry.send(Some(caller.expires_at));
            let mut data = Data::default();
            // Each subscribe message is charged once to the caller's budget.
            if let Some(account) = caller.account {
                data.insert(account);
            }
            data.insert(caller.viewer);
            data.insert(ConnectionSlots::default());
            data.insert(Arc::new(permit));
            Ok(data)
        });
    let token_expired = async {
        let exp = loop {
            if let Some(exp) = *expires.borrow_and_update() {
                break exp;
            }
            if expires.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        tokio::time::sleep(Duration::from_secs(exp.saturating_sub(now))).await;
    };
    tokio::select! {
        () = connection.serve() => {}
        () = token_expired => tracing::info!("a subscription connection closed: its token expired"),
    }
}

/// The client's messages, ended (closing the socket) by one over [`MAX_MESSAGE_BEFORE_INIT`]
/// while `accepted` is false; the socket itself holds every message to the body limit.
fn held_to_init_limit(
    stream: impl futures::Stream<Item = Result<Message, axum::Error>>,
    accepted: Arc<AtomicBool>,
) -> impl futures::Stream<Item = Result<Message, axum::Error>> {
    stream.map(move |message| {
        let size = match &message {
            Ok(Message::Text(text)) => text.len(),
            Ok(Message::Binary(bytes)) => bytes.len(),
            _ => 0,
        };
        if size > MAX_MESSAGE_BEFORE_INIT && !accepted.load(Ordering::SeqCst) {
            tracing::info!(
                size,
                "a subscription client sent too large a message before connection_init was accepted"
            );
            return Err(axum::Error::new(format!(
                "a message before connection_init may hold at most {MAX_MESSAGE_BEFORE_INIT} bytes"
            )));
        }
        message
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_comes_from_the_authorization_field_in_any_case() {
        let payload = serde_json::json!({"authorization": "Bearer abc.def.ghi"});
        let value = payload_authorization(&payload).unwrap();
        assert_eq!(bearer_token(&value).unwrap(), "abc.def.ghi");
        assert!(payload_authorization(&serde_json::json!({})).is_err());
        let basic = payload_authorization(&serde_json::json!({"Authorization": "Basic x"}));
        assert!(bearer_token(&basic.unwrap()).is_err());
    }

    #[test]
    fn a_token_holds_at_most_its_share_of_connections() {
        let connections = TokenConnections::default();
        let held: Vec<_> = (0..MAX_CONNECTIONS_PER_TOKEN)
            .map(|_| connections.acquire("t").unwrap())
            .collect();
        assert!(connections.acquire("t").is_err());
        assert!(connections.acquire("other").is_ok());
        drop(held);
        assert!(connections.acquire("t").is_ok());
    }
}
