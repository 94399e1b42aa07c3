//! Response bodies are read up to 4 MiB: a longer or endless one fails the attempt with an
//! error that says so, instead of growing memory until the request time-out.

use std::time::Duration;

use bytes::Bytes;
use eventgrid_async::{AsyncTransport, ClientOptions, HyperTransport, TransportErrorKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

const MIB: usize = 1024 * 1024;

/// How a test server sends its 200 response's body.
#[derive(Clone, Copy)]
enum Body {
    /// `content-length` bytes.
    Sized(usize),
    /// Chunks for as long as the client reads.
    Endless,
}

/// A server on loopback that answers every request with `body`; its URL.
async fn server(body: Body) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/events", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request).await;
                let chunk = vec![b'x'; 64 * 1024];
                match body {
                    Body::Sized(len) => {
                        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {len}\r\n\r\n");
                        stream.write_all(head.as_bytes()).await?;
                        for start in (0..len).step_by(chunk.len()) {
                            let end = (start + chunk.len()).min(len);
                            stream.write_all(&chunk[..end - start]).await?;
                        }
                    }
                    Body::Endless => {
                        stream
                            .write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
                            .await?;
                        loop {
                            stream.write_all(b"10000\r\n").await?;
                            stream.write_all(&chunk).await?;
                            stream.write_all(b"\r\n").await?;
                        }
                    }
                }
                Ok::<_, std::io::Error>(())
            });
        }
    });
    url
}

async fn send(url: &str) -> Result<http::Response<Bytes>, eventgrid_async::TransportError> {
    let options = ClientOptions::default().with_request_timeout(Duration::from_secs(120));
    let transport = HyperTransport::new(&options).unwrap();
    let request = http::Request::post(url)
        .header("content-type", "application/json")
        .body(Bytes::from_static(b"[]"))
        .unwrap();
    transport.send(request).await
}

#[tokio::test]
async fn a_body_of_exactly_4_mib_is_read() {
    let response = send(&server(Body::Sized(4 * MIB)).await).await.unwrap();
    assert_eq!(response.body().len(), 4 * MIB);
}

#[tokio::test]
async fn a_longer_body_is_refused_with_the_limit_named() {
    let error = send(&server(Body::Sized(4 * MIB + 1)).await)
        .await
        .unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Other, "{error}");
    assert!(
        error.to_string().contains("larger than the limit of 4 MiB"),
        "{error}"
    );
}

#[tokio::test]
async fn an_endless_body_is_cut_off_at_the_limit_not_at_the_time_out() {
    let error = send(&server(Body::Endless).await).await.unwrap_err();
    assert_eq!(error.kind(), TransportErrorKind::Other, "{error}");
    assert!(
        error.to_string().contains("larger than the limit of 4 MiB"),
        "{error}"
    );
}
