//! Serving HTTP: starting and stopping the emulator, accepting connections (plain or TLS),
//! reading bodies, routing each request and writing the service's answers.

pub(crate) mod background;
pub(crate) mod body;
pub(crate) mod connection;
pub(crate) mod in_process;
pub(crate) mod publish;
pub(crate) mod response;
pub(crate) mod router;
pub(crate) mod server;
pub(crate) mod start;
pub(crate) mod tls;
