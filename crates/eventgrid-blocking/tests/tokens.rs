//! The token rules as the blocking client runs them: a credential call that never answers is
//! given up at the token time-out, and every caller waiting for it gets that failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use azure_core::credentials::{AccessToken, TokenRequestOptions};
use bytes::Bytes;
use eventgrid_blocking::{
    Credential, Error, EventGridClient, EventGridConfig, EventGridTopicConfig, TokenCredential,
    Transport, TransportError,
};

/// A credential whose calls never finish.
#[derive(Debug, Default)]
struct Unanswered(AtomicUsize);

#[async_trait::async_trait]
impl TokenCredential for Unanswered {
    async fn get_token(
        &self,
        _: &[&str],
        _: Option<TokenRequestOptions<'_>>,
    ) -> azure_core::Result<AccessToken> {
        self.0.fetch_add(1, Ordering::SeqCst);
        futures::future::pending().await
    }
}

/// Counts the requests that reach it.
struct Counting(Arc<AtomicUsize>);

impl Transport for Counting {
    fn send(&self, _: http::Request<Bytes>) -> Result<http::Response<Bytes>, TransportError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(http::Response::new(Bytes::new()))
    }
}

#[test]
fn an_unanswered_credential_times_out_once_for_every_waiting_caller() {
    let credential = Arc::new(Unanswered::default());
    let sent = Arc::new(AtomicUsize::new(0));
    let topic = EventGridTopicConfig::new("orders", "https://orders.example.com").unwrap();
    let client = EventGridClient::builder(EventGridConfig::new([topic]).unwrap())
        .credential(Credential::token(credential.clone()))
        .token_timeout(Duration::from_millis(300))
        .transport(Counting(sent.clone()))
        .build()
        .unwrap();
    let errors: Vec<Error> = std::thread::scope(|scope| {
        let callers: Vec<_> = (0..4)
            .map(|n| {
                let client = &client;
                scope.spawn(move || client.emit_event("orders", "t", format!("s/{n}"), n))
            })
            .collect();
        callers
            .into_iter()
            .map(|caller| caller.join().unwrap().unwrap_err())
            .collect()
    });
    for error in &errors {
        assert!(matches!(error, Error::Credential(_)), "{error}");
    }
    assert!(
        errors
            .iter()
            .any(|e| e.to_string().contains("token time-out of 300ms")),
        "{errors:?}"
    );
    assert!(
        credential.0.load(Ordering::SeqCst) < 4,
        "callers overlapping a fetch wait for it"
    );
    assert_eq!(
        sent.load(Ordering::SeqCst),
        0,
        "nothing sent without a token"
    );
    assert_eq!(client.metrics()["orders"].events_failed, 4);
}
