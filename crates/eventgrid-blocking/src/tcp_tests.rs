use super::*;
use std::cell::RefCell;
use std::net::{Shutdown, TcpListener};
use std::thread;

use ureq::unversioned::transport::time;

/// A connected pair: our transport on one end, the plain server socket on the other.
fn pair() -> (WarmTcpTransport, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (
        WarmTcpTransport::new(client, LazyBuffers::new(4096, 16_384)),
        server,
    )
}

fn within(duration: Duration) -> NextTimeout {
    NextTimeout {
        after: time::Duration::Exact(duration),
        reason: Timeout::RecvResponse,
        ..NextTimeout::default()
    }
}

/// Waits (without a deadline of its own) until the peer's bytes or close reached the client.
fn until_something_to_read(transport: &WarmTcpTransport) {
    while nothing_to_read(&transport.stream) {
        thread::yield_now();
    }
}

fn transmit(transport: &mut WarmTcpTransport, bytes: &[u8]) {
    transport.buffers().output()[..bytes.len()].copy_from_slice(bytes);
    transport
        .transmit_output(bytes.len(), within(Duration::from_secs(5)))
        .unwrap();
}

#[test]
fn a_head_leaves_with_its_body_or_when_the_answer_is_awaited() {
    let (mut transport, mut server) = pair();
    transmit(&mut transport, b"HEAD ");
    server.set_nonblocking(true).unwrap();
    let held = server.read(&mut [0; 16]).map_err(|error| error.kind());
    assert_eq!(held, Err(io::ErrorKind::WouldBlock), "held back");
    server.set_nonblocking(false).unwrap();
    transmit(&mut transport, b"body");
    let mut both = [0; 9];
    server.read_exact(&mut both).unwrap();
    assert_eq!(&both, b"HEAD body");

    // A request with no body: its head leaves when the answer is awaited.
    transmit(&mut transport, b"GET");
    let answer = thread::spawn(move || {
        let mut get = [0; 3];
        server.read_exact(&mut get).unwrap();
        assert_eq!(&get, b"GET");
        server.write_all(b"ok").unwrap();
        server
    });
    assert!(
        transport
            .await_input(within(Duration::from_secs(5)))
            .unwrap()
    );
    assert_eq!(transport.buffers().input(), b"ok");
    drop(answer.join().unwrap());

    // A large transmission is not held.
    let (mut transport, mut server) = pair();
    let large = vec![b'x'; HOLD_AT_MOST + 1];
    transmit(&mut transport, &large);
    let mut received = vec![0; large.len()];
    server.read_exact(&mut received).unwrap();
    assert_eq!(received, large);
}

#[test]
fn an_idle_connection_is_open_and_one_the_server_closed_is_not() {
    let (mut idle, _server) = pair();
    assert!(idle.is_open());
    assert!(idle.is_open(), "asking again changes nothing");

    let (mut closed, server) = pair();
    server.shutdown(Shutdown::Both).unwrap();
    until_something_to_read(&closed);
    assert!(!closed.is_open());
}

#[test]
fn bytes_nobody_asked_for_make_a_connection_unusable() {
    let (mut transport, mut server) = pair();
    server.write_all(b"HTTP/1.1 200 OK\r\n").unwrap();
    until_something_to_read(&transport);
    assert!(!transport.is_open());
    // The probe only peeked: the bytes are still there for a reader.
    assert!(
        transport
            .await_input(within(Duration::from_secs(5)))
            .unwrap()
    );
    assert_eq!(transport.buffers().input(), b"HTTP/1.1 200 OK\r\n");
}

#[test]
fn a_probe_is_reused_only_until_the_next_io() {
    let (mut transport, mut server) = pair();
    assert!(transport.is_open());
    transmit(&mut transport, b"ping");
    transmit(&mut transport, &[b'!'; HOLD_AT_MOST + 1]);
    let mut ping = [0; 4];
    server.read_exact(&mut ping).unwrap();
    assert_eq!(&ping, b"ping");
    // The write forgot the earlier probe: this one looks at the socket and sees the close.
    server.shutdown(Shutdown::Both).unwrap();
    until_something_to_read(&transport);
    assert!(!transport.is_open());
}

#[test]
fn a_socket_time_out_shorter_than_the_request_does_not_fail_it() {
    let (mut transport, mut server) = pair();
    // As after an earlier request with less time left: the socket's time-out is short.
    transport
        .read_timeout
        .set_exactly(Duration::from_millis(5), |wanted| {
            transport.stream.set_read_timeout(wanted)
        })
        .unwrap();
    let answer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(100));
        server.write_all(b"late").unwrap();
        server
    });
    assert!(
        transport
            .await_input(within(Duration::from_secs(30)))
            .unwrap()
    );
    assert_eq!(transport.buffers().input(), b"late");
    drop(answer.join().unwrap());
}

#[test]
fn a_read_past_its_time_is_a_time_out_naming_the_phase() {
    let (mut transport, _server) = pair();
    let error = transport
        .await_input(within(Duration::from_millis(30)))
        .unwrap_err();
    assert!(
        matches!(error, ureq::Error::Timeout(Timeout::RecvResponse)),
        "{error:?}"
    );
    let error = transport.await_input(within(Duration::ZERO)).unwrap_err();
    assert!(matches!(error, ureq::Error::Timeout(_)), "{error:?}");
}

#[test]
fn socket_time_outs_change_only_when_too_long() {
    let calls = RefCell::new(Vec::new());
    let record = |wanted| {
        calls.borrow_mut().push(wanted);
        Ok(())
    };
    let mut timeout = SocketTimeout::default();
    let secs = Duration::from_secs;
    timeout.cover(Some(secs(30)), record).unwrap();
    // Each later request has a little less time left than the first: nothing to change.
    timeout.cover(Some(secs(29)), record).unwrap();
    timeout.cover(Some(secs(16)), record).unwrap();
    assert_eq!(*calls.borrow(), [Some(secs(15))]);
    // Less time left than the socket's time-out: shortened.
    timeout.cover(Some(secs(10)), record).unwrap();
    // No time-out wanted any more: removed, once.
    timeout.cover(None, record).unwrap();
    timeout.cover(None, record).unwrap();
    assert_eq!(*calls.borrow(), [Some(secs(15)), Some(secs(5)), None]);
}

#[test]
fn connecting_skips_refusing_addresses_and_reports_the_last_failure() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let open = listener.local_addr().unwrap();
    // A port nothing listens on (bound, then closed).
    let refused = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let stream = connect_any(&[refused, open], within(Duration::from_secs(5))).unwrap();
    assert_eq!(stream.peer_addr().unwrap(), open);

    let error = connect_any(&[refused], within(Duration::from_secs(5))).unwrap_err();
    assert!(
        matches!(&error, ureq::Error::Io(io) if io.kind() == io::ErrorKind::ConnectionRefused),
        "{error:?}"
    );
    let error = connect_any(&[], NextTimeout::default()).unwrap_err();
    assert!(matches!(error, ureq::Error::Io(_)), "{error:?}");
}
