//! The sans-IO contract shared by every mailwire state machine.
//!
//! A protocol crate never reads a socket, spawns a task or looks at a clock. Its state
//! machines take bytes, end-of-stream and the current time as inputs, and hand back what
//! the application must see or decide ([`Session::poll_event`]), bytes to write
//! ([`Session::poll_transmit`]) and the next deadline ([`Session::poll_timeout`]). The
//! application's decisions (accept a recipient, answer a FETCH, send a mail) are plain
//! methods of each concrete machine.
//!
//! ## Call order
//!
//! 1. Feed input: [`handle_input`](Session::handle_input) with whatever bytes arrived (any
//!    chunking gives the same events), [`handle_eof`](Session::handle_eof) when the peer
//!    closed, [`handle_timeout`](Session::handle_timeout) when the deadline from
//!    `poll_timeout` has passed.
//! 2. Drain outputs: call `poll_event` and `poll_transmit` until both return `None`. Events
//!    may lead the application to call verbs on the machine, which can queue more output,
//!    so loop until neither yields anything.
//! 3. Wait for input or for the deadline of `poll_timeout`, whichever comes first.
//!
//! Bytes queued in `poll_transmit` must be written in order. [`Transmit::StartTls`] means:
//! write everything returned before it, then perform the TLS handshake on the same stream,
//! then carry on feeding decrypted bytes. The machine has already discarded every byte it
//! had buffered before the upgrade. [`Transmit::Close`] means: write everything returned
//! before it, then close the connection; the machine produces nothing more after it.
//!
//! After a protocol error the machine answers the peer itself (a reply, a `BAD`, an
//! `-ERR`) and goes on, or closes with `Transmit::Close`; it never panics on input.

use std::time::Instant;

use std::collections::VecDeque;

use bytes::Bytes;

/// Queued output up to this many bytes is copied out of an [`Outbox`] rather than handed
/// over (see `Outbox::take_buf`).
const COPY_OUT_MAX: usize = 4096;

/// The first allocation of an [`Outbox`]'s buffer when constant bytes move into it.
const FIRST_CAPACITY: usize = 256;

/// An output of [`Session::poll_transmit`]: what the transport must do next, in order.
/// The set is closed on purpose: a driver must handle every case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transmit {
    /// Write these bytes to the peer.
    Data(Bytes),
    /// Everything before this has been written: perform the TLS handshake now (STARTTLS,
    /// STLS). Input read before the handshake has been discarded by the session.
    StartTls,
    /// Everything before this has been written: close the connection.
    Close,
}

/// The output half of a state machine, written once for every protocol: bytes queued to
/// send (replies or commands are encoded straight into [`buf`](Outbox::buf)) and transport
/// actions in order. [`start_tls`](Outbox::start_tls) and [`close`](Outbox::close) first
/// hand out the bytes queued before them, so that a driver writes them before it acts.
///
/// ```
/// use mailwire_core::session::Outbox;
/// use mailwire_core::Transmit;
///
/// let mut outbox = Outbox::new();
/// outbox.buf().extend_from_slice(b"220 Ready to start TLS\r\n");
/// outbox.start_tls();
/// assert_eq!(outbox.poll_transmit(), Some(Transmit::Data("220 Ready to start TLS\r\n".into())));
/// assert_eq!(outbox.poll_transmit(), Some(Transmit::StartTls));
/// assert_eq!(outbox.poll_transmit(), None);
/// ```
#[derive(Debug, Default)]
pub struct Outbox {
    /// Bytes not yet handed out.
    buf: Vec<u8>,
    /// Constant bytes queued by [`push_static`](Outbox::push_static) while `buf` was
    /// empty: they come before `buf`, which stays empty while this is set.
    fixed: Option<&'static [u8]>,
    /// Actions (and the bytes before them), in order.
    queue: VecDeque<Transmit>,
    /// [`Transmit::Close`] comes after `queue` and `buf`: the usual end of a session,
    /// kept out of `queue` so that a session that never upgrades to TLS allocates none.
    close_last: bool,
}

impl Outbox {
    /// An empty outbox.
    pub fn new() -> Outbox {
        Outbox::default()
    }

    /// The buffer to append bytes to send.
    #[inline]
    pub fn buf(&mut self) -> &mut Vec<u8> {
        // Bytes written after `close` go after the close.
        self.queue_close();
        if let Some(fixed) = self.fixed.take() {
            // Bytes written after constant bytes go after them, in one write.
            if self.buf.capacity() == 0 {
                self.buf.reserve(fixed.len().max(FIRST_CAPACITY));
            }
            self.buf.extend_from_slice(fixed);
        }
        &mut self.buf
    }

    /// Queues constant bytes to send (a reply that never changes): the same as appending
    /// them to [`buf`](Outbox::buf), but when nothing else is waiting they are handed out
    /// as they are, as a static [`Bytes`], without an allocation or a copy.
    ///
    /// ```
    /// use mailwire_core::session::Outbox;
    /// use mailwire_core::Transmit;
    ///
    /// static OK: &[u8] = b"250 OK\r\n";
    /// let mut outbox = Outbox::new();
    /// outbox.push_static(OK);
    /// let Some(Transmit::Data(bytes)) = outbox.poll_transmit() else { panic!() };
    /// assert_eq!(bytes.as_ptr(), OK.as_ptr()); // not a copy
    ///
    /// outbox.push_static(OK);
    /// outbox.buf().extend_from_slice(b"354 Go ahead\r\n"); // in order, in one write
    /// assert_eq!(outbox.poll_transmit(), Some(Transmit::Data("250 OK\r\n354 Go ahead\r\n".into())));
    /// ```
    #[inline]
    pub fn push_static(&mut self, bytes: &'static [u8]) {
        self.queue_close();
        if self.buf.is_empty() && self.fixed.is_none() {
            self.fixed = Some(bytes);
        } else {
            self.buf().extend_from_slice(bytes);
        }
    }

    /// Queues [`Transmit::StartTls`] after everything queued so far.
    pub fn start_tls(&mut self) {
        self.queue_close();
        self.flush();
        self.queue.push_back(Transmit::StartTls);
    }

    /// Queues [`Transmit::Close`] after everything queued so far.
    pub fn close(&mut self) {
        self.queue_close();
        self.close_last = true;
    }

    /// Puts a `close_last` close into `queue`, after the bytes queued before it, so that
    /// what comes next goes after it.
    #[inline]
    fn queue_close(&mut self) {
        if self.close_last {
            self.close_last = false;
            self.flush();
            self.queue.push_back(Transmit::Close);
        }
    }

    /// How many bytes are queued and not yet handed out (for a machine that streams a large
    /// body and wants to wait until the driver has taken what is there).
    pub fn pending_len(&self) -> usize {
        self.buf.len()
            + self.fixed.map_or(0, <[u8]>::len)
            + self
                .queue
                .iter()
                .map(|t| match t {
                    Transmit::Data(bytes) => bytes.len(),
                    _ => 0,
                })
                .sum::<usize>()
    }

    /// The next thing for the transport to do: what [`Session::poll_transmit`] returns.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(transmit) = self.queue.pop_front() {
            return Some(transmit);
        }
        if let Some(bytes) = self.take_out() {
            return Some(Transmit::Data(bytes));
        }
        if self.close_last {
            self.close_last = false;
            return Some(Transmit::Close);
        }
        None
    }

    fn flush(&mut self) {
        if let Some(bytes) = self.take_out() {
            self.queue.push_back(Transmit::Data(bytes));
        }
    }

    /// The bytes waiting (constant ones, or those of `buf`), if any.
    fn take_out(&mut self) -> Option<Bytes> {
        if let Some(fixed) = self.fixed.take() {
            // `buf` is empty while `fixed` is set.
            return Some(Bytes::from_static(fixed));
        }
        if self.buf.is_empty() {
            return None;
        }
        Some(self.take_buf())
    }

    /// Hands out the queued bytes. Up to [`COPY_OUT_MAX`] they are copied out (one exact
    /// allocation) and the buffer keeps its capacity for the next replies: a `Bytes` made
    /// from a `Vec` with spare capacity costs a second allocation for its shared header, and
    /// the next reply would grow a new `Vec` step by step. Larger buffers (a streamed body)
    /// are handed over whole, so that an idle session does not keep a large buffer.
    fn take_buf(&mut self) -> Bytes {
        if self.buf.len() <= COPY_OUT_MAX {
            let bytes = Bytes::copy_from_slice(&self.buf);
            self.buf.clear();
            bytes
        } else {
            Bytes::from(std::mem::take(&mut self.buf))
        }
    }
}

/// The sans-IO contract of every mailwire state machine (SMTP, POP3 and IMAP, server and
/// client). See the [module documentation](self) for the call order.
pub trait Session {
    /// What the application must see or decide.
    type Event;

    /// Bytes from the peer, in any chunking. `now` is the current time, used for idle and
    /// per-command deadlines.
    fn handle_input(&mut self, input: &[u8], now: Instant);

    /// The peer closed its side of the connection.
    fn handle_eof(&mut self, now: Instant);

    /// The deadline returned by [`poll_timeout`](Session::poll_timeout) has passed (calling
    /// it early is harmless: the machine compares `now` with its deadlines).
    fn handle_timeout(&mut self, now: Instant);

    /// The next event for the application, if any.
    fn poll_event(&mut self) -> Option<Self::Event>;

    /// The next thing for the transport to do, if any.
    fn poll_transmit(&mut self) -> Option<Transmit>;

    /// When [`handle_timeout`](Session::handle_timeout) must be called next; `None` when no
    /// deadline is pending. Always advances once the deadline has been handled.
    fn poll_timeout(&self) -> Option<Instant>;

    /// Whether the session is finished (it has returned [`Transmit::Close`] or will accept no
    /// more input). A driver stops reading once this is true and outputs are drained.
    fn is_closed(&self) -> bool;

    /// Whether the session wants more input now. A machine waiting on an application
    /// decision may say `false` to apply back-pressure; the driver then stops reading until
    /// the decision is made. The default is `true`.
    fn wants_input(&self) -> bool {
        true
    }
}

#[doc(hidden)]
pub mod tests {
    //! A minimal session used by documentation examples.
    use super::*;

    /// Echoes every input back, for doc tests of drivers.
    #[derive(Debug, Default)]
    pub struct Echo {
        out: std::collections::VecDeque<Transmit>,
        closed: bool,
    }

    impl Session for Echo {
        type Event = ();
        fn handle_input(&mut self, input: &[u8], _now: Instant) {
            self.out
                .push_back(Transmit::Data(Bytes::copy_from_slice(input)));
        }
        fn handle_eof(&mut self, _now: Instant) {
            self.closed = true;
            self.out.push_back(Transmit::Close);
        }
        fn handle_timeout(&mut self, _now: Instant) {}
        fn poll_event(&mut self) -> Option<()> {
            None
        }
        fn poll_transmit(&mut self) -> Option<Transmit> {
            self.out.pop_front()
        }
        fn poll_timeout(&self) -> Option<Instant> {
            None
        }
        fn is_closed(&self) -> bool {
            self.closed
        }
    }
}

#[cfg(test)]
mod outbox_tests {
    use super::*;

    fn drain(outbox: &mut Outbox) -> Vec<Transmit> {
        std::iter::from_fn(|| outbox.poll_transmit()).collect()
    }

    fn data(s: &str) -> Transmit {
        Transmit::Data(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn close_comes_after_everything_before_it() {
        let mut outbox = Outbox::new();
        outbox.buf().extend_from_slice(b"221 bye\r\n");
        outbox.close();
        assert_eq!(outbox.pending_len(), 9);
        assert_eq!(drain(&mut outbox), [data("221 bye\r\n"), Transmit::Close]);
        assert_eq!(outbox.poll_transmit(), None);

        // Nothing but the close.
        outbox.close();
        assert_eq!(drain(&mut outbox), [Transmit::Close]);

        // Bytes written after the close come after it; each close is handed out.
        outbox.buf().extend_from_slice(b"a");
        outbox.close();
        outbox.buf().extend_from_slice(b"b");
        outbox.close();
        outbox.close();
        assert_eq!(
            drain(&mut outbox),
            [
                data("a"),
                Transmit::Close,
                data("b"),
                Transmit::Close,
                Transmit::Close
            ]
        );

        // A STARTTLS after a close comes after it.
        outbox.buf().extend_from_slice(b"x");
        outbox.close();
        outbox.start_tls();
        assert_eq!(
            drain(&mut outbox),
            [data("x"), Transmit::Close, Transmit::StartTls]
        );
    }

    #[test]
    fn static_bytes_keep_their_place() {
        static A: &[u8] = b"250 a\r\n";
        static B: &[u8] = b"250 b\r\n";
        let mut outbox = Outbox::new();
        // Alone: handed out as they are.
        outbox.push_static(A);
        assert_eq!(outbox.pending_len(), A.len());
        let out = drain(&mut outbox);
        assert_eq!(out, [data("250 a\r\n")]);
        assert!(matches!(&out[0], Transmit::Data(bytes) if bytes.as_ptr() == A.as_ptr()));

        // Before, between and after other bytes: in order, in one write.
        outbox.push_static(A);
        outbox.push_static(B);
        outbox.buf().extend_from_slice(b"x");
        outbox.push_static(A);
        assert_eq!(outbox.pending_len(), 2 * A.len() + B.len() + 1);
        assert_eq!(drain(&mut outbox), [data("250 a\r\n250 b\r\nx250 a\r\n")]);
        outbox.buf().extend_from_slice(b"y");
        outbox.push_static(B);
        assert_eq!(drain(&mut outbox), [data("y250 b\r\n")]);

        // Around a close and a STARTTLS: the order of the calls.
        outbox.push_static(A);
        outbox.close();
        outbox.push_static(B);
        outbox.start_tls();
        outbox.push_static(A);
        outbox.close();
        assert_eq!(
            drain(&mut outbox),
            [
                data("250 a\r\n"),
                Transmit::Close,
                data("250 b\r\n"),
                Transmit::StartTls,
                data("250 a\r\n"),
                Transmit::Close
            ]
        );
        assert_eq!(outbox.poll_transmit(), None);
        assert_eq!(outbox.pending_len(), 0);
    }

    #[test]
    fn large_output_is_handed_over_whole() {
        let mut outbox = Outbox::new();
        let big = vec![b'x'; COPY_OUT_MAX + 1];
        outbox.buf().extend_from_slice(&big);
        outbox.start_tls();
        outbox.buf().extend_from_slice(b"small");
        assert_eq!(outbox.pending_len(), big.len() + 5);
        assert_eq!(
            drain(&mut outbox),
            [
                Transmit::Data(Bytes::from(big)),
                Transmit::StartTls,
                data("small")
            ]
        );
    }
}
