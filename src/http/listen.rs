//! Accepting connections: HTTP/1.1 with a time limit on receiving each request's headers, so
//! that clients trickling bytes cannot hold connections for ever, at most as many connections
//! as [`ConnectionLimit`] has places (the longest idle closed for a newcomer), and a graceful
//! shutdown that lets requests in flight finish. (`axum::serve` sets no timer, which disables
//! hyper's header-read timeout.)

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower::ServiceExt;

use super::connections::{Connection, ConnectionLimit};

/// Serves `router` on `listener`, holding at most `limit`'s connections, until `shutdown`
/// completes, then waits for open requests.
pub async fn serve_http(
    listener: TcpListener,
    router: Router,
    header_timeout: Duration,
    limit: Arc<ConnectionLimit>,
    shutdown: impl Future<Output = ()>,
) {
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = pin!(shutdown);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    // Answers go out as soon as they are written (as `axum::serve` does), not
                    // held back by Nagle's algorithm waiting for an acknowledgement.
                    if let Err(err) = stream.set_nodelay(true) {
                        tracing::debug!(error = %err, "cannot set TCP_NODELAY");
                    }
                    stream
                }
                Err(err) => {
                    // Out of file descriptors, for example: wait instead of spinning.
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(connection) = limit.admit().await else {
            // Every connection stayed busy: this client is turned away rather than queued.
            drop(stream);
            continue;
        };
        connections.spawn(serve_connection(
            stream,
            connection,
            router.clone(),
            header_timeout,
            stopping.clone(),
        ));
        while connections.try_join_next().is_some() {}
    }
    // Closing the socket at once refuses new connections while open requests finish.
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
}

/// One connection, closed gracefully (after its request in flight) once `stopping` changes or
/// the server needs its place. Each request carries the connection (a WebSocket upgrade keeps
/// it, and its place, for the socket's life) and marks it busy while it is handled.
async fn serve_connection(
    stream: TcpStream,
    connection: Arc<Connection>,
    router: Router,
    header_timeout: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    let held = Arc::clone(&connection);
    let service = TowerToHyperService::new(tower::service_fn(move |req: Request<Incoming>| {
        let (router, connection) = (router.clone(), Arc::clone(&held));
        async move {
            let _busy = connection.busy();
            let mut req = req.map(Body::new);
            req.extensions_mut().insert(connection);
            router.oneshot(req).await
        }
    }));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(header_timeout);
    // Upgrades: subscription clients switch the connection to WebSocket.
    let mut served = pin!(
        builder
            .serve_connection(TokioIo::new(stream), service)
            .with_upgrades()
    );
    tokio::select! {
        _ = served.as_mut() => {}
        _ = stopping.changed() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
        () = connection.close_requested() => {
            served.as_mut().graceful_shutdown();
            let _ = served.await;
        }
    }
}
