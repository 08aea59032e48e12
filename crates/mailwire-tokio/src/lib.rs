//! # mailwire-tokio
//!
//! The thin tokio adapter of mailwire: one generic loop, [`drive`], that runs any sans-IO
//! [`Session`](mailwire_core::Session) (SMTP, POP3 or IMAP; server or client) over a tokio
//! stream. It knows no protocol: the session says what to write, when to upgrade to TLS,
//! when its next deadline is and when to close; the adapter does the I/O.
//!
//! - [`drive`] reads and writes at once, follows `poll_timeout`, bounds its buffers, cuts
//!   off a peer that does not read ([`DriveOptions::write_timeout`]), performs the TLS
//!   upgrade when the session emits `Transmit::StartTls`, and hands events to a
//!   [`Handler`], the application's side of the session.
//! - [`serve`] is an accept loop: a connection limit (connections over it get the
//!   [`Service::busy`] session, for SMTP a `421`), implicit-TLS listeners, a tracing span
//!   per connection, and graceful shutdown that lets open sessions finish.
//! - [`connect`] is the client side: plaintext, STARTTLS or implicit TLS, trusting the
//!   Mozilla roots, a CA file, or (explicitly, for tests) anything.
//! - [`tls`] builds rustls configurations with the `ring` provider, from PEM files.
//!
//! ## Driving a session
//!
//! A toy line protocol, written as a sans-IO session, served over an in-memory stream:
//! every line is an event, the application answers it through a verb of the session.
//!
//! ```
//! use std::collections::VecDeque;
//! use std::time::Instant;
//!
//! use bytes::Bytes;
//! use mailwire_core::{Session, Transmit};
//! use mailwire_tokio::{Connection, DriveOptions, Handler, drive};
//! use tokio::io::{AsyncReadExt, AsyncWriteExt};
//!
//! /// The state machine: no I/O, no clock.
//! #[derive(Default)]
//! struct Lines {
//!     input: Vec<u8>,
//!     events: VecDeque<String>,
//!     out: VecDeque<Transmit>,
//!     closed: bool,
//! }
//!
//! impl Lines {
//!     /// The application's verb: answer a line.
//!     fn reply(&mut self, text: &str) {
//!         if !self.closed {
//!             self.out.push_back(Transmit::Data(Bytes::from(format!("{text}\r\n"))));
//!         }
//!     }
//!
//!     /// The application's other verb: end the session.
//!     fn close(&mut self) {
//!         if !self.closed {
//!             self.closed = true;
//!             self.out.push_back(Transmit::Close);
//!         }
//!     }
//! }
//!
//! impl Session for Lines {
//!     type Event = String;
//!     fn handle_input(&mut self, input: &[u8], _now: Instant) {
//!         self.input.extend_from_slice(input);
//!         while let Some(end) = self.input.windows(2).position(|pair| pair == b"\r\n") {
//!             let line: Vec<u8> = self.input.drain(..end + 2).take(end).collect();
//!             self.events.push_back(String::from_utf8_lossy(&line).into_owned());
//!         }
//!     }
//!     fn handle_eof(&mut self, _now: Instant) { self.close() }
//!     fn handle_timeout(&mut self, _now: Instant) {}
//!     fn poll_event(&mut self) -> Option<String> { self.events.pop_front() }
//!     fn poll_transmit(&mut self) -> Option<Transmit> { self.out.pop_front() }
//!     fn poll_timeout(&self) -> Option<Instant> { None }
//!     fn is_closed(&self) -> bool { self.closed }
//! }
//!
//! /// The application: decides what each line gets.
//! struct Shout;
//!
//! impl Handler<Lines> for Shout {
//!     async fn on_event(&mut self, session: &mut Lines, line: String) {
//!         if line == "QUIT" {
//!             session.reply("BYE");
//!             session.close();
//!         } else {
//!             session.reply(&line.to_uppercase());
//!         }
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! runtime.block_on(async {
//!     let (mut client, server) = tokio::io::duplex(1024);
//!     let server = tokio::spawn(async move {
//!         let mut connection = Connection::new(server);
//!         let options = DriveOptions::default();
//!         let mut session = Lines::default();
//!         // No shutdown signal: `pending()` never completes.
//!         drive(&mut connection, &mut session, &mut Shout, &options, std::future::pending())
//!             .await
//!     });
//!     client.write_all(b"hello\r\nworld\r\nQUIT\r\n").await?;
//!     let mut answer = String::new();
//!     client.read_to_string(&mut answer).await?; // the driver shuts the stream down
//!     assert_eq!(answer, "HELLO\r\nWORLD\r\nBYE\r\n");
//!     server.await??;
//!     Ok(())
//! })
//! # }
//! ```
//!
//! Over TCP, [`serve`] does the accepting and spawning, and [`connect`] the connecting;
//! both end up in [`drive`].
//!
//! ## Time
//!
//! Sessions get `now` from tokio's clock (`tokio::time::Instant::now().into_std()`), so
//! that tests can pause and advance it (`#[tokio::test(start_paused = true)]`).

mod client;
mod driver;
mod server;
mod shutdown;
mod stream;
pub mod tls;

pub use client::{ConnectError, TlsMode, connect};
pub use driver::{DriveError, DriveOptions, Handler, drive};
pub use server::{ConnectionInfo, ServeOptions, Service, serve};
pub use shutdown::Shutdown;
pub use stream::{Connection, MaybeTlsStream, TlsUpgrade};
pub use tls::{ClientTlsOptions, TlsConfigError};

/// The TLS crates this adapter uses, for their configuration types.
pub use tokio_rustls::{self, rustls};
