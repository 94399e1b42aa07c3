//! Plain TCP connections for the ureq agent that stay warm without per-request system calls.
//!
//! ureq's own `TcpTransport` probes a pooled connection twice per request (when it returns to
//! the pool and again, under the pool's lock, when it is taken out) by switching the socket to
//! non-blocking, reading, and switching back: three system calls each time. It also sets the
//! socket's read and write time-outs whenever the time left changes, which with a per-request
//! time-out is every request. Here a probe is one non-blocking peek, a probe repeated with no
//! I/O in between and within a millisecond is answered from the first, and a socket time-out
//! is only changed when the time left is shorter than the one set: a socket time-out that
//! expires before the request's does not fail the request, the read or write is resumed with
//! the time truly left.
//!
//! ureq also transmits a request's head and its body separately: two system calls and, with
//! `TCP_NODELAY`, two segments for the server to take in. Here a small transmission (a head)
//! is held until the next one (the body) or until the answer is awaited, and the two leave in
//! one vectored write.

use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use ureq::Timeout;
use ureq::unversioned::transport::{
    Buffers, ConnectionDetails, Connector, Either, LazyBuffers, NextTimeout, ShutdownHandle,
    Transport,
};

/// A probe answer reused by a second probe with no I/O in between: ureq probes a connection
/// when it is returned to the pool and again when a request takes it out, most often
/// microseconds later.
const PROBE_REUSED_FOR: Duration = Duration::from_millis(1);

/// The largest transmission held back to leave with the next one: a request's head (ours are
/// a few hundred bytes), not the chunks of a large body.
const HOLD_AT_MOST: usize = 4096;

/// The shortest connect attempt given to one of several addresses (as ureq's connector).
const MIN_CONNECT_PER_ADDRESS: Duration = Duration::from_millis(10);

/// Opens plain TCP connections (when no connector before it in the chain, a proxy's, did).
#[derive(Debug, Default)]
pub(crate) struct WarmTcpConnector;

impl<In: Transport> Connector<In> for WarmTcpConnector {
    type Out = Either<In, WarmTcpTransport>;

    fn connect(
        &self,
        details: &ConnectionDetails<'_>,
        chained: Option<In>,
    ) -> Result<Option<Self::Out>, ureq::Error> {
        if chained.is_some() {
            return Ok(chained.map(Either::A));
        }
        let stream = connect_any(&details.addrs, details.timeout)?;
        if details.config.no_delay() {
            stream.set_nodelay(true)?;
        }
        let buffers = LazyBuffers::new(
            details.config.input_buffer_size(),
            details.config.output_buffer_size(),
        );
        let transport = WarmTcpTransport::new(stream, buffers);
        // Lets `Agent::shutdown` interrupt I/O blocked on this socket in another thread.
        let handle: Weak<dyn ShutdownHandle> = Arc::downgrade(&transport.stream) as _;
        (details.register_shutdown)(handle)?;
        Ok(Some(Either::B(transport)))
    }
}

/// Connects to the first of `addresses` that accepts within its share of `timeout`: each
/// address but the last gets half the time left, so a host whose first address black-holes
/// still leaves time for the others. Addresses that refuse at once are skipped.
fn connect_any(addresses: &[SocketAddr], timeout: NextTimeout) -> Result<TcpStream, ureq::Error> {
    let started = Instant::now();
    let total = (!timeout.after.is_not_happening()).then(|| *timeout.after);
    let mut last_error = None;
    for (position, address) in addresses.iter().enumerate() {
        let attempt = match total {
            None => TcpStream::connect(address),
            Some(total) => {
                let left = total.saturating_sub(started.elapsed());
                if left.is_zero() {
                    return Err(ureq::Error::Timeout(timeout.reason));
                }
                let share = if position + 1 == addresses.len() {
                    left
                } else {
                    (left / 2).max(MIN_CONNECT_PER_ADDRESS).min(left)
                };
                TcpStream::connect_timeout(address, share)
            }
        };
        match attempt {
            Ok(stream) => return Ok(stream),
            Err(error) if is_timeout(&error) => {
                last_error = Some(ureq::Error::Timeout(Timeout::Connect));
            }
            Err(error) if concerns_this_address(&error) => last_error = Some(error.into()),
            Err(error) => return Err(error.into()),
        }
    }
    if total.is_some_and(|total| started.elapsed() >= total) {
        return Err(ureq::Error::Timeout(timeout.reason));
    }
    Err(last_error.unwrap_or_else(|| io::Error::from(io::ErrorKind::ConnectionRefused).into()))
}

/// A failed connect that says nothing about the host's other addresses (as ureq's connector).
fn concerns_this_address(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::HostUnreachable
            | io::ErrorKind::NetworkUnreachable
            | io::ErrorKind::NetworkDown
            | io::ErrorKind::AddrNotAvailable
    )
}

/// A socket time-out expired: `WouldBlock` on Unix, `TimedOut` on Windows.
fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// One plain TCP connection as ureq's pool holds it.
pub(crate) struct WarmTcpTransport {
    /// Shared (weakly) with the agent's shutdown handle; all I/O goes through `&TcpStream`.
    stream: Arc<TcpStream>,
    buffers: LazyBuffers,
    read_timeout: SocketTimeout,
    write_timeout: SocketTimeout,
    /// When a probe last found the connection open, if no I/O happened since.
    probed_open: Option<Instant>,
    /// A transmission held back to leave with the next one (see the module's docs).
    held: Vec<u8>,
}

impl WarmTcpTransport {
    fn new(stream: TcpStream, buffers: LazyBuffers) -> Self {
        Self {
            stream: Arc::new(stream),
            buffers,
            read_timeout: SocketTimeout::default(),
            write_timeout: SocketTimeout::default(),
            probed_open: None,
            held: Vec::new(),
        }
    }
}

impl std::fmt::Debug for WarmTcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WarmTcpTransport")
            .field("peer", &self.stream.peer_addr().ok())
            .finish_non_exhaustive()
    }
}

impl Transport for WarmTcpTransport {
    fn buffers(&mut self) -> &mut dyn Buffers {
        &mut self.buffers
    }

    fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), ureq::Error> {
        self.probed_open = None;
        let output = &self.buffers.output()[..amount];
        if self.held.is_empty() && amount <= HOLD_AT_MOST {
            self.held.extend_from_slice(output);
            return Ok(());
        }
        let mut parts = [IoSlice::new(&self.held), IoSlice::new(output)];
        write_all(&self.stream, &mut self.write_timeout, timeout, &mut parts)?;
        self.held.clear();
        Ok(())
    }

    fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, ureq::Error> {
        self.probed_open = None;
        if !self.held.is_empty() {
            let mut parts = [IoSlice::new(&self.held)];
            write_all(&self.stream, &mut self.write_timeout, timeout, &mut parts)?;
            self.held.clear();
        }
        let within = Within::new(timeout.for_read())?;
        let stream = &*self.stream;
        let set = |wanted| stream.set_read_timeout(wanted);
        self.read_timeout.cover(within.left(), set)?;
        let input = self.buffers.input_append_buf();
        let amount = loop {
            match (&*self.stream).read(input) {
                Ok(amount) => break amount,
                Err(error) if is_timeout(&error) || error.kind() == io::ErrorKind::Interrupted => {
                    let left = within.left_after(error)?;
                    self.read_timeout.set_exactly(left, set)?;
                }
                Err(error) => return Err(error.into()),
            }
        };
        self.buffers.input_appended(amount);
        Ok(amount > 0)
    }

    fn is_open(&mut self) -> bool {
        let now = Instant::now();
        if self
            .probed_open
            .is_some_and(|at| now.saturating_duration_since(at) < PROBE_REUSED_FOR)
        {
            return true;
        }
        let open = nothing_to_read(&self.stream);
        self.probed_open = open.then_some(now);
        open
    }
}

/// Writes all of `parts` within the write time-out of `timeout`, resuming after a socket
/// time-out that expired early or an interruption.
fn write_all(
    stream: &TcpStream,
    write_timeout: &mut SocketTimeout,
    timeout: NextTimeout,
    mut parts: &mut [IoSlice<'_>],
) -> Result<(), ureq::Error> {
    let within = Within::new(timeout.for_write())?;
    let set = |wanted| stream.set_write_timeout(wanted);
    write_timeout.cover(within.left(), set)?;
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        match (&*stream).write_vectored(parts) {
            Ok(0) => return Err(io::Error::from(io::ErrorKind::WriteZero).into()),
            Ok(written) => IoSlice::advance_slices(&mut parts, written),
            Err(error) if is_timeout(&error) || error.kind() == io::ErrorKind::Interrupted => {
                let left = within.left_after(error)?;
                write_timeout.set_exactly(left, set)?;
            }
            Err(error) => return Err(error.into()),
        }
    }
    Ok(())
}

/// Whether the idle connection has nothing to read: not closed by the peer, no error, and no
/// bytes it was not asked for (which would mean the previous answer was not read to its end).
#[cfg(unix)]
fn nothing_to_read(stream: &TcpStream) -> bool {
    use std::mem::MaybeUninit;
    let mut byte = [MaybeUninit::<u8>::uninit()];
    let socket = socket2::SockRef::from(stream);
    loop {
        match socket.recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT) {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => return true,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            // Bytes nobody asked for, the peer's close (0), or an error.
            _ => return false,
        }
    }
}

/// Whether the idle connection has nothing to read (see the Unix version); elsewhere the
/// socket is switched to non-blocking for the read.
#[cfg(not(unix))]
fn nothing_to_read(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let idle = matches!(
        (&*stream).read(&mut [0]),
        Err(error) if error.kind() == io::ErrorKind::WouldBlock
    );
    stream.set_nonblocking(false).is_ok() && idle
}

/// The time one read or write may take, from when it was asked for.
struct Within {
    started: Instant,
    /// `None`: no time-out.
    limit: Option<Duration>,
    reason: Timeout,
}

impl Within {
    /// Fails at once when no time is left, as ureq's transports do.
    fn new(timeout: NextTimeout) -> Result<Self, ureq::Error> {
        let limit = (!timeout.after.is_not_happening()).then(|| *timeout.after);
        if limit.is_some_and(|limit| limit.is_zero()) {
            return Err(ureq::Error::Timeout(timeout.reason));
        }
        Ok(Self {
            started: Instant::now(),
            limit,
            reason: timeout.reason,
        })
    }

    fn left(&self) -> Option<Duration> {
        self.limit
            .map(|limit| limit.saturating_sub(self.started.elapsed()))
    }

    /// The time left after the socket's time-out expired or a signal interrupted it: an
    /// error once none is left; an interruption with no time-out is the caller's to see.
    fn left_after(&self, error: io::Error) -> Result<Duration, ureq::Error> {
        match self.left() {
            None if error.kind() == io::ErrorKind::Interrupted => Err(error.into()),
            // No time-out is set, yet the socket timed out: report it as it is.
            None => Err(error.into()),
            Some(left) if left.is_zero() => Err(ureq::Error::Timeout(self.reason)),
            Some(left) => Ok(left),
        }
    }
}

/// What one direction of a socket has as its time-out, changed only when it must be.
#[derive(Debug, Default)]
struct SocketTimeout {
    /// The socket's time-out now; `None` for none.
    set: Option<Duration>,
}

impl SocketTimeout {
    /// Makes sure the socket times out no later than `wanted`. A shorter time-out already set
    /// stays (an early expiry is resumed by the caller); a longer one is replaced by half of
    /// `wanted`, so the next requests' slightly shorter time left finds it short enough.
    fn cover(
        &mut self,
        wanted: Option<Duration>,
        set: impl Fn(Option<Duration>) -> io::Result<()>,
    ) -> io::Result<()> {
        let new = match (wanted, self.set) {
            (None, None) => return Ok(()),
            (Some(wanted), Some(now)) if now <= wanted => return Ok(()),
            (None, Some(_)) => None,
            (Some(wanted), _) => Some(
                (wanted / 2)
                    .max(Duration::from_millis(1))
                    .min(wanted)
                    // A zero time-out means none to the OS: the smallest instead, which
                    // expires at once and is then reported as the time-out it is.
                    .max(Duration::from_micros(1)),
            ),
        };
        set(new)?;
        self.set = new;
        Ok(())
    }

    /// Sets the socket's time-out to exactly `left` (after an early expiry).
    fn set_exactly(
        &mut self,
        left: Duration,
        set: impl Fn(Option<Duration>) -> io::Result<()>,
    ) -> io::Result<()> {
        if self.set != Some(left) {
            set(Some(left))?;
            self.set = Some(left);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
