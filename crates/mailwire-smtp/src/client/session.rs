//! [`ClientSession`]: the state machine.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use mailwire_core::dot::scan_message;
use mailwire_core::sasl::{
    CANCEL, ClientExchange, Mechanism, Transport, choose_mechanism, decode_challenge,
    encode_response,
};
use mailwire_core::{Secret, Session, Transmit};

use super::body::{BodyKind, BodyStream, Piece, bdat_header, measure};
use super::config::{ClientConfig, TlsPolicy};
use super::envelope::Envelope;
use super::event::{
    ClientApiError, ClientError, ClientEvent, LocalRefusal, MessageFailure, TimeoutStage,
    TransactionId,
};
use super::input::ReplyReader;
use crate::encode::{encode_host, encode_mail, encode_rcpt};
use crate::types::{BodyType, Capabilities, Command, EhloReply, Reply, ReplyCode};

/// RFC 5321 4.5.3.1.4: a command line, CRLF included, is at most 512 octets. An `AUTH`
/// whose initial response would exceed it is sent without one (RFC 4954 section 4).
const MAX_COMMAND_LINE: usize = 512;

/// What a reply the client waits for answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    Greeting,
    Ehlo,
    Helo,
    StartTls,
    /// `AUTH` or a response to a `334` challenge.
    Auth,
    Rset,
    Mail,
    /// `RCPT` for the recipient at this index of the envelope.
    Rcpt(usize),
    Data,
    /// A `BDAT` chunk before the last.
    Bdat,
    /// The reply after the end of the message (`.` or `BDAT ... LAST`). With LMTP, the
    /// reply for the accepted recipient at `index` of the accepted list; the next is
    /// expected when this one arrives.
    Final {
        index: usize,
        bdat: bool,
    },
    /// The reply to a lone `.` sent because a pipelined `DATA` got `354` although the
    /// transaction had already failed (RFC 2920 3.1).
    LoneDot,
    Quit,
}

impl Expect {
    /// Whether this reply belongs to the message transaction in progress.
    fn is_transaction(self) -> bool {
        !matches!(
            self,
            Expect::Greeting
                | Expect::Ehlo
                | Expect::Helo
                | Expect::StartTls
                | Expect::Auth
                | Expect::Quit
        )
    }
}

#[derive(Clone, Copy, Debug)]
struct Pending {
    expect: Expect,
    /// Unique per pending reply, so that the deadline restarts when the front changes.
    seq: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Greeting, hello, STARTTLS, AUTH.
    Opening,
    /// Sending mail.
    Ready,
    /// `QUIT` sent.
    Quitting,
    /// `Transmit::Close` queued.
    Closed,
}

/// The next command of a transaction to send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Rset,
    Mail,
    Rcpt(usize),
    Body,
    Sent,
}

#[derive(Debug)]
struct Queued {
    id: TransactionId,
    envelope: Envelope,
    message: Bytes,
}

/// How a transaction ended.
#[derive(Debug)]
enum Outcome {
    Delivered(Reply),
    Failed(MessageFailure),
}

#[derive(Debug)]
struct Transaction {
    id: TransactionId,
    envelope: Envelope,
    message: Bytes,
    body: BodyKind,
    /// The message holds no bare CR or bare LF (see `body::measure`).
    clean: bool,
    step: Step,
    mail_accepted: bool,
    rcpt_replies: usize,
    /// A recipient was accepted.
    any_accepted: bool,
    /// LMTP only (the final replies follow them): indices (in the envelope) of the
    /// accepted recipients, in order. SMTP needs only `any_accepted`, and allocates
    /// nothing here.
    accepted: Vec<usize>,
    last_refusal: Option<Reply>,
    /// LMTP: the first positive and the last negative per-recipient final reply.
    lmtp_delivered: Option<Reply>,
    lmtp_refused: Option<Reply>,
    outcome: Option<Outcome>,
}

/// The SMTP / LMTP client state machine: greets, upgrades to TLS, authenticates, then
/// sends every message given to [`send_mail`](ClientSession::send_mail), one after
/// another, and finally `QUIT` once [`quit`](ClientSession::quit) was called.
///
/// See the [module documentation](super) for the driving loop and the behaviour.
///
/// `Debug` shows the state, never the bytes waiting to be sent (they may hold an `AUTH`
/// response).
pub struct ClientSession {
    config: ClientConfig,
    reader: ReplyReader,
    phase: Phase,
    expects: VecDeque<Pending>,
    seq: u64,
    /// Transmits ready for the driver, before `pending`.
    out: VecDeque<Transmit>,
    /// Command bytes not yet handed out, after `out`.
    pending: Vec<u8>,
    events: VecDeque<ClientEvent>,
    queue: VecDeque<Queued>,
    current: Option<Transaction>,
    stream: Option<(u64, BodyStream)>,
    capabilities: Capabilities,
    encrypted: bool,
    tls_tried: bool,
    auth: Option<ClientExchange>,
    authenticated: Option<Mechanism>,
    pipelining: bool,
    needs_rset: bool,
    quit_requested: bool,
    next_id: u64,
    /// The latest time the session was told.
    now: Instant,
    deadline: Option<Instant>,
    /// What `deadline` was armed for: the `seq` of the front pending reply or stream.
    armed: Option<u64>,
    /// `deadline` was armed without a clock reading, or bytes were produced since it was
    /// armed: the next `handle_*` call restarts it from its `now`.
    deadline_stale: bool,
}

impl fmt::Debug for ClientSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSession")
            .field("phase", &self.phase)
            .field("expects", &self.expects)
            .field("queued", &self.queue.len())
            .field("current", &self.current.as_ref().map(|t| t.id))
            .field("capabilities", &self.capabilities)
            .field("encrypted", &self.encrypted)
            .field("authenticated", &self.authenticated)
            .field("pipelining", &self.pipelining)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl ClientSession {
    /// A session on a freshly opened connection; `now` starts the greeting timeout.
    pub fn new(config: ClientConfig, now: Instant) -> ClientSession {
        let encrypted = config.tls == TlsPolicy::Implicit;
        // Room for the greeting and a pipelined transaction (MAIL, a few RCPT, DATA) at
        // once, so that the queue is allocated once rather than grown and copied.
        let mut expects = VecDeque::with_capacity(8);
        // What `expect(Expect::Greeting)` and `update_deadline(Some(now))` do on a new
        // session, done before the session is built so that it is built where it is
        // returned, not built and then moved (a unit test compares the two).
        expects.push_back(Pending {
            expect: Expect::Greeting,
            seq: 1,
        });
        let deadline = now.checked_add(config.timeouts.greeting);
        ClientSession {
            reader: ReplyReader::new(config.reply_limits),
            config,
            phase: Phase::Opening,
            expects,
            seq: 1,
            out: VecDeque::new(),
            // Room for a pipelined group of commands, so that encoding them does not
            // grow the buffer step by step.
            pending: Vec::with_capacity(1024),
            events: VecDeque::new(),
            queue: VecDeque::new(),
            current: None,
            stream: None,
            capabilities: Capabilities::new(),
            encrypted,
            tls_tried: false,
            auth: None,
            authenticated: None,
            pipelining: false,
            needs_rset: false,
            quit_requested: false,
            next_id: 1,
            now,
            deadline,
            armed: Some(1),
            deadline_stale: false,
        }
    }

    /// Queues a message for `envelope`. Messages are sent in the order given, once the
    /// session is ready; each ends with one [`ClientEvent::Delivered`] or
    /// [`ClientEvent::Failed`] carrying the returned id.
    ///
    /// The client fills in `MAIL` parameters from what the server offers: `SIZE=` (the
    /// message's size; the message is refused locally if the server's `SIZE` limit is
    /// smaller), `SMTPUTF8` when an address needs it (refused locally if not offered),
    /// `BODY=8BITMIME` when the message has 8-bit octets and the server offers it (if it
    /// does not, the message is sent as is, as most clients do). `BODY=BINARYMIME`, set
    /// by the caller, sends the message untouched with `BDAT` (refused locally unless
    /// `BINARYMIME` and `CHUNKING` are offered and [`ClientConfig::chunking`] is on).
    /// Other content has stray CR and LF turned into CRLF.
    pub fn send_mail(
        &mut self,
        envelope: Envelope,
        message: Bytes,
    ) -> Result<TransactionId, ClientApiError> {
        if self.quit_requested || self.phase == Phase::Closed {
            return Err(ClientApiError::Closing);
        }
        if envelope.recipients.is_empty() {
            return Err(ClientApiError::NoRecipients);
        }
        let id = TransactionId(self.next_id);
        self.next_id += 1;
        self.queue.push_back(Queued {
            id,
            envelope,
            message,
        });
        self.pump();
        self.update_deadline(None);
        Ok(id)
    }

    /// Ends the session once every queued message is done: sends `QUIT`, and closes after
    /// its reply. Messages cannot be queued afterwards. Calling it again does nothing.
    pub fn quit(&mut self) {
        if self.phase == Phase::Closed {
            return;
        }
        self.quit_requested = true;
        self.pump();
        self.update_deadline(None);
    }

    /// The server's capabilities from its last `EHLO` / `LHLO` reply (empty before it, after
    /// `HELO`, and between `STARTTLS` and the next `EHLO`).
    pub fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Whether the session is ready for mail ([`ClientEvent::Ready`] was sent and the
    /// session is not closing).
    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready
    }

    /// Whether the connection is encrypted (implicit TLS, or after `STARTTLS`).
    pub fn is_encrypted(&self) -> bool {
        self.encrypted
    }

    /// The SASL mechanism the client authenticated with, if it did.
    pub fn authenticated(&self) -> Option<&Mechanism> {
        self.authenticated.as_ref()
    }

    /// How many messages are queued or in progress.
    pub fn queued(&self) -> usize {
        self.queue.len() + usize::from(self.current.is_some())
    }

    /// How many replies the client is waiting for (commands sent, or queued to be sent,
    /// and not yet answered). Without pipelining it is never more than one.
    pub fn outstanding(&self) -> usize {
        self.expects.len()
    }

    // -----------------------------------------------------------------------------------
    // Output helpers.

    fn expect(&mut self, expect: Expect) {
        self.seq += 1;
        self.expects.push_back(Pending {
            expect,
            seq: self.seq,
        });
    }

    fn send(&mut self, command: &Command, expect: Expect) {
        command.encode(&mut self.pending);
        self.expect(expect);
    }

    fn flush_pending(&mut self) {
        if let Some(bytes) = self.take_pending() {
            self.out.push_back(Transmit::Data(bytes));
        }
    }

    /// The command bytes not yet handed out, if any.
    fn take_pending(&mut self) -> Option<Bytes> {
        if self.pending.is_empty() {
            return None;
        }
        // A command sent on its own that is always the same bytes (`QUIT` at the end of
        // every session) goes out as a static `Bytes`: no allocation, no copy.
        const FIXED: [&[u8]; 3] = [b"QUIT\r\n", b"DATA\r\n", b"RSET\r\n"];
        if let Some(fixed) = FIXED
            .into_iter()
            .find(|fixed| *fixed == self.pending.as_slice())
        {
            self.pending.clear();
            return Some(Bytes::from_static(fixed));
        }
        // Copied out (one exact allocation) rather than handed over: the buffer keeps its
        // capacity for the next commands, and a `Bytes` made from a `Vec` with spare
        // capacity would cost a second allocation for its shared header.
        let bytes = Bytes::copy_from_slice(&self.pending);
        self.pending.clear();
        Some(bytes)
    }

    fn push_transmit(&mut self, transmit: Transmit) {
        self.flush_pending();
        self.out.push_back(transmit);
    }

    // -----------------------------------------------------------------------------------
    // Deadlines.

    fn timeout_for(&self, expect: Expect) -> (Duration, TimeoutStage) {
        let t = &self.config.timeouts;
        match expect {
            Expect::Greeting => (t.greeting, TimeoutStage::Greeting),
            Expect::Mail => (t.mail, TimeoutStage::Mail),
            Expect::Rcpt(_) => (t.rcpt, TimeoutStage::Rcpt),
            Expect::Data => (t.data_init, TimeoutStage::DataInit),
            Expect::Bdat => (t.data_block, TimeoutStage::DataBlock),
            Expect::Final { .. } | Expect::LoneDot => (t.data_final, TimeoutStage::DataFinal),
            Expect::Ehlo
            | Expect::Helo
            | Expect::StartTls
            | Expect::Auth
            | Expect::Rset
            | Expect::Quit => (t.command, TimeoutStage::Command),
        }
    }

    /// What the client waits for now: a key, its timeout and stage.
    fn waiting_for(&self) -> Option<(u64, Duration, TimeoutStage)> {
        if self.phase == Phase::Closed {
            return None;
        }
        if let Some(front) = self.expects.front() {
            let (duration, stage) = self.timeout_for(front.expect);
            return Some((front.seq, duration, stage));
        }
        self.stream.as_ref().map(|(seq, _)| {
            (
                *seq,
                self.config.timeouts.data_block,
                TimeoutStage::DataBlock,
            )
        })
    }

    /// Re-arms the deadline when what the client waits for changed, or when it was stale
    /// and a clock reading is at hand.
    fn update_deadline(&mut self, now: Option<Instant>) {
        let Some((key, duration, _)) = self.waiting_for() else {
            self.deadline = None;
            self.armed = None;
            self.deadline_stale = false;
            return;
        };
        if self.armed != Some(key) {
            let base = now.unwrap_or(self.now);
            self.deadline = base.checked_add(duration);
            self.armed = Some(key);
            self.deadline_stale = now.is_none();
        } else if let (true, Some(now)) = (self.deadline_stale, now) {
            self.deadline = now.checked_add(duration);
            self.deadline_stale = false;
        }
    }

    // -----------------------------------------------------------------------------------
    // Ending.

    /// Ends the session: every message not done fails, `Closed` is the last event.
    fn close(&mut self, error: Option<ClientError>, send_quit: bool) {
        if self.phase == Phase::Closed {
            return;
        }
        // Nothing queued but not yet handed out is worth sending now.
        self.out.clear();
        self.pending.clear();
        self.stream = None;
        self.expects.clear();
        self.auth = None;
        if send_quit {
            Command::Quit.encode(&mut self.pending);
        }
        self.push_transmit(Transmit::Close);
        if let Some(txn) = self.current.take() {
            let event = match txn.outcome {
                Some(Outcome::Delivered(reply)) => ClientEvent::Delivered { id: txn.id, reply },
                Some(Outcome::Failed(failure)) => ClientEvent::Failed {
                    id: txn.id,
                    failure,
                },
                None => match txn.lmtp_delivered {
                    Some(reply) => ClientEvent::Delivered { id: txn.id, reply },
                    None => ClientEvent::Failed {
                        id: txn.id,
                        failure: MessageFailure::SessionEnded,
                    },
                },
            };
            self.events.push_back(event);
        }
        for queued in std::mem::take(&mut self.queue) {
            self.events.push_back(ClientEvent::Failed {
                id: queued.id,
                failure: MessageFailure::SessionEnded,
            });
        }
        self.events.push_back(ClientEvent::Closed { error });
        self.phase = Phase::Closed;
        self.deadline = None;
        self.armed = None;
    }

    // -----------------------------------------------------------------------------------
    // Opening: greeting, hello, STARTTLS, AUTH.

    fn send_hello(&mut self) {
        // The bytes of `Command::Ehlo` (or `Lhlo`) of the hostname, written from the
        // borrowed name instead of a copy of it.
        let verb: &[u8] = if self.config.lmtp { b"LHLO " } else { b"EHLO " };
        self.pending.extend_from_slice(verb);
        encode_host(&self.config.hostname, &mut self.pending);
        self.pending.extend_from_slice(b"\r\n");
        self.expect(Expect::Ehlo);
    }

    fn after_hello(&mut self) {
        if !self.encrypted && !self.tls_tried {
            let offered = self.capabilities.supports_starttls();
            match self.config.tls {
                TlsPolicy::Opportunistic | TlsPolicy::Required if offered => {
                    self.tls_tried = true;
                    self.send(&Command::StartTls, Expect::StartTls);
                    return;
                }
                TlsPolicy::Required => {
                    self.close(Some(ClientError::TlsNotOffered), true);
                    return;
                }
                TlsPolicy::Opportunistic | TlsPolicy::Never | TlsPolicy::Implicit => {}
            }
        }
        self.authenticate_or_ready();
    }

    fn authenticate_or_ready(&mut self) {
        let Some(credentials) = self.config.credentials.clone() else {
            self.ready();
            return;
        };
        let transport = if self.encrypted {
            Transport::Encrypted
        } else if self.config.allow_plaintext_auth {
            Transport::UnencryptedAllowCleartext
        } else {
            Transport::Unencrypted
        };
        let offered: Vec<Mechanism> = self
            .capabilities
            .auth_mechanisms()
            .into_iter()
            .cloned()
            .collect();
        let Some(mechanism) = choose_mechanism(&offered, credentials.kind(), transport) else {
            self.close(Some(ClientError::AuthUnavailable), true);
            return;
        };
        let exchange = match ClientExchange::new(mechanism.clone(), credentials) {
            Ok(exchange) => exchange,
            Err(e) => {
                self.close(Some(ClientError::Credentials(e)), true);
                return;
            }
        };
        let mut command = Command::Auth {
            mechanism: mechanism.clone(),
            initial_response: exchange.initial_response().map(Secret::new),
        };
        let mut line = Vec::new();
        command.encode(&mut line);
        if line.len() > MAX_COMMAND_LINE {
            // The server will ask with an empty challenge, answered with the message.
            command = Command::Auth {
                mechanism,
                initial_response: None,
            };
            line.clear();
            command.encode(&mut line);
        }
        self.pending.extend_from_slice(&line);
        self.expect(Expect::Auth);
        self.auth = Some(exchange);
    }

    fn ready(&mut self) {
        self.phase = Phase::Ready;
        self.pipelining = self.config.pipelining && self.capabilities.supports_pipelining();
        self.events.push_back(ClientEvent::Ready {
            capabilities: self.capabilities.clone(),
            encrypted: self.encrypted,
            authenticated: self.authenticated.clone(),
        });
        self.pump();
    }

    // -----------------------------------------------------------------------------------
    // Transactions.

    /// Checks a queued message against what the server offers and sets the parameters the
    /// client manages.
    fn prepare(&self, queued: Queued) -> Result<Transaction, (TransactionId, LocalRefusal)> {
        let Queued {
            id,
            mut envelope,
            message,
        } = queued;
        let caps = &self.capabilities;
        let refuse = |what: &'static str| (id, LocalRefusal::NotOffered(what));
        let chunking = self.config.chunking && caps.supports_chunking();
        // What the content needs to know (bare line endings for `SIZE=`, 8-bit octets for
        // `BODY=`), in one pass; `BINARYMIME` content is sent as is, unread.
        let mut scan = None;
        let body = match envelope.params.body {
            Some(BodyType::BinaryMime) => {
                if !caps.supports_binary_mime() {
                    return Err(refuse("BINARYMIME"));
                }
                if !chunking {
                    return Err(refuse("CHUNKING"));
                }
                BodyKind::Bdat { binary: true }
            }
            declared => {
                let found = scan_message(&message);
                scan = Some(found);
                match declared {
                    Some(BodyType::EightBitMime) if !caps.supports_8bitmime() => {
                        return Err(refuse("8BITMIME"));
                    }
                    // `BODY=` exists only with 8BITMIME; 7-bit is the default without it.
                    Some(BodyType::SevenBit) if !caps.supports_8bitmime() => {
                        envelope.params.body = None;
                    }
                    None if caps.supports_8bitmime() && !found.ascii => {
                        envelope.params.body = Some(BodyType::EightBitMime);
                    }
                    _ => {}
                }
                if chunking {
                    BodyKind::Bdat { binary: false }
                } else {
                    BodyKind::Data
                }
            }
        };
        if envelope.needs_smtputf8() {
            if !caps.supports_smtputf8() {
                return Err(refuse("SMTPUTF8"));
            }
            envelope.params.smtputf8 = true;
        }
        if envelope.uses_dsn() && !caps.supports_dsn() {
            return Err(refuse("DSN"));
        }
        if envelope.params.requiretls && !caps.supports_requiretls() {
            return Err(refuse("REQUIRETLS"));
        }
        if envelope.params.auth.is_some() && !caps.supports_auth() {
            return Err(refuse("AUTH"));
        }
        let (size, clean) = measure(body, &message, scan);
        envelope.params.size = match caps.size() {
            None => None,
            Some(Some(limit)) if limit > 0 && size > limit => {
                return Err((id, LocalRefusal::TooLarge { size, limit }));
            }
            Some(_) => Some(size),
        };
        Ok(Transaction {
            id,
            envelope,
            message,
            body,
            clean,
            step: if self.needs_rset {
                Step::Rset
            } else {
                Step::Mail
            },
            mail_accepted: false,
            rcpt_replies: 0,
            any_accepted: false,
            accepted: Vec::new(),
            last_refusal: None,
            lmtp_delivered: None,
            lmtp_refused: None,
            outcome: None,
        })
    }

    /// Sends whatever can be sent now: the next transaction's commands (all of them in
    /// one group when pipelining, else one at a time), or `QUIT`.
    fn pump(&mut self) {
        while self.phase == Phase::Ready {
            if self.current.is_none() {
                let Some(queued) = self.queue.pop_front() else {
                    if self.quit_requested && self.expects.is_empty() {
                        self.send(&Command::Quit, Expect::Quit);
                        self.phase = Phase::Quitting;
                    }
                    return;
                };
                match self.prepare(queued) {
                    Ok(txn) => self.current = Some(txn),
                    Err((id, refusal)) => {
                        self.events.push_back(ClientEvent::Failed {
                            id,
                            failure: MessageFailure::Local(refusal),
                        });
                        continue;
                    }
                }
            }
            if (!self.pipelining && !self.expects.is_empty()) || self.stream.is_some() {
                return;
            }
            let Some(txn) = self.current.as_mut() else {
                return;
            };
            match txn.step {
                Step::Rset => {
                    txn.step = Step::Mail;
                    self.needs_rset = false;
                    self.send(&Command::Rset, Expect::Rset);
                }
                Step::Mail => {
                    txn.step = Step::Rcpt(0);
                    // The bytes of `Command::Mail`, from the envelope without copying it.
                    encode_mail(&txn.envelope.from, &txn.envelope.params, &mut self.pending);
                    self.expect(Expect::Mail);
                }
                Step::Rcpt(index) => match txn.envelope.recipients.get(index) {
                    Some(rcpt) => {
                        txn.step = Step::Rcpt(index + 1);
                        encode_rcpt(&rcpt.to, &rcpt.params, &mut self.pending);
                        self.expect(Expect::Rcpt(index));
                    }
                    None => txn.step = Step::Body,
                },
                Step::Body => {
                    txn.step = Step::Sent;
                    match txn.body {
                        BodyKind::Data => self.send(&Command::Data, Expect::Data),
                        BodyKind::Bdat { binary } => {
                            self.seq += 1;
                            let stream = BodyStream::bdat(txn.message.clone(), binary);
                            self.stream = Some((self.seq, stream));
                            // The first chunk goes with the group (RFC 3030 4.2).
                            self.next_chunk();
                        }
                    }
                }
                Step::Sent => return,
            }
        }
    }

    /// Produces the next `BDAT` chunk into `out`, if one may be sent now.
    fn next_chunk(&mut self) -> bool {
        let Some((_, stream)) = self.stream.as_mut() else {
            return false;
        };
        let Some(Piece::Chunk { payload, last }) = stream.next_piece(self.config.chunk_size) else {
            self.stream = None;
            return false;
        };
        if last {
            self.stream = None;
        }
        bdat_header(payload.len(), last, &mut self.pending);
        self.flush_pending();
        if !payload.is_empty() {
            self.out.push_back(Transmit::Data(payload));
        }
        self.expect(if last {
            Expect::Final {
                index: 0,
                bdat: true,
            }
        } else {
            Expect::Bdat
        });
        true
    }

    /// Produces more content for the driver: a `DATA` piece, or a `BDAT` chunk when the
    /// replies so far allow one. Called with nothing else waiting to go out: a `DATA`
    /// piece is returned to be handed out directly, a chunk is queued (`true`).
    fn produce(&mut self) -> (bool, Option<Bytes>) {
        let Some((_, stream)) = self.stream.as_mut() else {
            return (false, None);
        };
        let mut piece = None;
        let produced = if stream.is_data() {
            match stream.next_piece(self.config.data_piece_size) {
                Some(Piece::Data { bytes, last }) => {
                    piece = Some(bytes);
                    if last {
                        self.stream = None;
                        self.expect(Expect::Final {
                            index: 0,
                            bdat: false,
                        });
                    }
                    true
                }
                _ => {
                    self.stream = None;
                    false
                }
            }
        } else {
            // Without pipelining, one chunk at a time; with it, further chunks once MAIL
            // and every RCPT are answered (a transaction that failed has no stream).
            let may_send = if self.pipelining {
                self.expects
                    .iter()
                    .all(|p| !matches!(p.expect, Expect::Mail | Expect::Rcpt(_) | Expect::Rset))
            } else {
                self.expects.is_empty()
            };
            may_send && self.next_chunk()
        };
        if produced {
            self.deadline_stale = true;
            self.update_deadline(None);
        }
        (produced && piece.is_none(), piece)
    }

    /// Records the failure of the transaction in progress, stops its content.
    fn fail_transaction(&mut self, failure: MessageFailure, needs_rset: bool) {
        if let Some(txn) = self.current.as_mut() {
            txn.outcome = Some(Outcome::Failed(failure));
            self.stream = None;
            if needs_rset {
                self.needs_rset = true;
            }
        }
    }

    /// Reports the transaction in progress once it has an outcome and nothing more of it
    /// is awaited.
    fn try_finish(&mut self) {
        let done = self.current.as_ref().is_some_and(|t| t.outcome.is_some())
            && self.stream.is_none()
            && !self.expects.iter().any(|p| p.expect.is_transaction());
        if !done {
            return;
        }
        if let Some(Transaction {
            id,
            outcome: Some(outcome),
            ..
        }) = self.current.take()
        {
            self.events.push_back(match outcome {
                Outcome::Delivered(reply) => ClientEvent::Delivered { id, reply },
                Outcome::Failed(failure) => ClientEvent::Failed { id, failure },
            });
        }
    }

    // -----------------------------------------------------------------------------------
    // Replies.

    fn on_reply(&mut self, reply: Reply) {
        let code = reply.code();
        let Some(front) = self.expects.pop_front() else {
            let error = if code == ReplyCode::SERVICE_NOT_AVAILABLE {
                ClientError::ServiceClosing(reply)
            } else {
                ClientError::UnexpectedReply(reply)
            };
            self.close(Some(error), false);
            return;
        };
        if front.expect == Expect::Quit {
            self.close(None, false);
            return;
        }
        if code == ReplyCode::SERVICE_NOT_AVAILABLE {
            self.close(Some(ClientError::ServiceClosing(reply)), false);
            return;
        }
        match front.expect {
            Expect::Greeting => self.on_greeting(reply),
            Expect::Ehlo => self.on_ehlo(reply),
            Expect::Helo => {
                if reply.is_positive_completion() {
                    self.capabilities = Capabilities::new();
                    self.after_hello();
                } else {
                    self.close(Some(ClientError::HelloRefused(reply)), false);
                }
            }
            Expect::StartTls => self.on_starttls(reply),
            Expect::Auth => self.on_auth(reply),
            Expect::Quit => {}
            Expect::Rset => {
                if !reply.is_positive_completion() {
                    self.close(Some(ClientError::UnexpectedReply(reply)), true);
                }
            }
            Expect::Mail
            | Expect::Rcpt(_)
            | Expect::Data
            | Expect::Bdat
            | Expect::Final { .. }
            | Expect::LoneDot => self.on_transaction_reply(front.expect, reply),
        }
        self.try_finish();
        self.pump();
    }

    fn on_greeting(&mut self, reply: Reply) {
        if reply.code() == ReplyCode::SERVICE_READY {
            self.events.push_back(ClientEvent::Greeting(reply));
            self.send_hello();
        } else {
            // RFC 5321 3.1: after a 554 greeting the client should send QUIT.
            self.close(Some(ClientError::GreetingRefused(reply)), true);
        }
    }

    fn on_ehlo(&mut self, reply: Reply) {
        let code = reply.code();
        if code == ReplyCode::OK {
            match EhloReply::capabilities_from_reply(&reply) {
                Ok(capabilities) => {
                    self.capabilities = capabilities;
                    self.after_hello();
                }
                Err(e) => self.close(Some(ClientError::MalformedEhlo(e)), true),
            }
        } else if !self.config.lmtp
            && (code == ReplyCode::SYNTAX_ERROR || code == ReplyCode::NOT_IMPLEMENTED)
        {
            // RFC 5321 3.2: an old server; fall back to HELO.
            let host = self.config.hostname.clone();
            self.send(&Command::Helo(host), Expect::Helo);
        } else {
            self.close(Some(ClientError::HelloRefused(reply)), true);
        }
    }

    fn on_starttls(&mut self, reply: Reply) {
        if reply.code() == ReplyCode::SERVICE_READY {
            // RFC 3207 4.2: forget what the server said, drop what it sent before the
            // handshake, and start over with EHLO.
            self.push_transmit(Transmit::StartTls);
            self.reader.clear();
            self.capabilities = Capabilities::new();
            self.encrypted = true;
            self.send_hello();
        } else if self.config.tls == TlsPolicy::Required {
            self.close(Some(ClientError::TlsRefused(reply)), true);
        } else {
            self.authenticate_or_ready();
        }
    }

    fn on_auth(&mut self, reply: Reply) {
        let Some(exchange) = self.auth.as_mut() else {
            self.close(Some(ClientError::UnexpectedReply(reply)), false);
            return;
        };
        if reply.is_positive_completion() {
            self.authenticated = Some(exchange.mechanism().clone());
            self.auth = None;
            self.ready();
        } else if reply.code() == ReplyCode::AUTH_CHALLENGE {
            let answer = decode_challenge(reply.text().as_bytes(), self.config.max_sasl_challenge)
                .and_then(|challenge| exchange.respond(&challenge));
            match answer {
                Ok(answer) => self
                    .pending
                    .extend_from_slice(encode_response(&answer).as_bytes()),
                Err(_) => self.pending.extend_from_slice(CANCEL),
            }
            self.pending.extend_from_slice(b"\r\n");
            self.expect(Expect::Auth);
        } else if reply.is_intermediate() {
            self.close(Some(ClientError::UnexpectedReply(reply)), false);
        } else {
            self.auth = None;
            self.close(Some(ClientError::AuthFailed(reply)), true);
        }
    }

    fn on_transaction_reply(&mut self, expect: Expect, reply: Reply) {
        let lmtp = self.config.lmtp;
        let Some(txn) = self.current.as_mut() else {
            self.close(Some(ClientError::UnexpectedReply(reply)), false);
            return;
        };
        let failed = txn.outcome.is_some();
        let positive = reply.is_positive_completion();
        // Only DATA gets an intermediate reply, 354, and it never gets a 2xx.
        let intermediate_ok = expect == Expect::Data && reply.code() == ReplyCode::START_MAIL_INPUT;
        let nonsense = if expect == Expect::Data {
            positive || (reply.is_intermediate() && !intermediate_ok)
        } else {
            reply.is_intermediate()
        };
        if nonsense {
            self.close(Some(ClientError::UnexpectedReply(reply)), false);
            return;
        }
        match expect {
            Expect::Mail if !failed => {
                if positive {
                    txn.mail_accepted = true;
                } else {
                    self.fail_transaction(MessageFailure::Mail(reply), true);
                }
            }
            Expect::Rcpt(index) if !failed => {
                let id = txn.id;
                txn.rcpt_replies += 1;
                if positive {
                    txn.any_accepted = true;
                    if lmtp {
                        txn.accepted.push(index);
                    }
                } else {
                    txn.last_refusal = Some(reply.clone());
                }
                let all_in = txn.rcpt_replies == txn.envelope.recipients.len();
                let none = !txn.any_accepted;
                // The reply is cloned only when the failure needs it too.
                let refused_all = (all_in && none).then(|| reply.clone());
                self.events.push_back(ClientEvent::Recipient {
                    id,
                    index,
                    accepted: positive,
                    reply,
                });
                if let Some(reply) = refused_all {
                    self.fail_transaction(MessageFailure::AllRecipientsRefused(reply), true);
                }
            }
            Expect::Data => {
                if intermediate_ok {
                    if failed {
                        // RFC 2920 3.1: the transaction failed but the server wants
                        // content: send an empty message, which it must not deliver.
                        self.pending.extend_from_slice(b".\r\n");
                        self.expect(Expect::LoneDot);
                    } else {
                        let message = txn.message.clone();
                        let stream = if txn.clean {
                            BodyStream::data_clean(message)
                        } else {
                            BodyStream::data(message)
                        };
                        self.seq += 1;
                        self.stream = Some((self.seq, stream));
                    }
                } else if !failed {
                    self.fail_transaction(MessageFailure::Data(reply), true);
                }
            }
            Expect::Bdat if !failed && !positive => {
                // RFC 3030 2: no more chunks, and RSET before anything else.
                self.fail_transaction(MessageFailure::Data(reply), true);
            }
            Expect::Final { index, bdat } if !failed => {
                if !lmtp {
                    if positive {
                        txn.outcome = Some(Outcome::Delivered(reply));
                    } else {
                        // RFC 3030 2: the state after a failed BDAT is indeterminate.
                        self.fail_transaction(MessageFailure::Final(reply), bdat);
                    }
                    return;
                }
                let id = txn.id;
                let rcpt = txn.accepted.get(index).copied().unwrap_or(index);
                if positive {
                    txn.lmtp_delivered.get_or_insert_with(|| reply.clone());
                } else {
                    txn.lmtp_refused = Some(reply.clone());
                }
                let more = index + 1 < txn.accepted.len();
                if !more {
                    txn.outcome =
                        Some(match (txn.lmtp_delivered.take(), txn.lmtp_refused.take()) {
                            (Some(first), _) => Outcome::Delivered(first),
                            (None, Some(last)) => Outcome::Failed(MessageFailure::Final(last)),
                            (None, None) => Outcome::Failed(MessageFailure::Final(reply.clone())),
                        });
                }
                self.events.push_back(ClientEvent::RecipientDelivery {
                    id,
                    index: rcpt,
                    delivered: positive,
                    reply,
                });
                if more {
                    self.seq += 1;
                    self.expects.push_front(Pending {
                        expect: Expect::Final {
                            index: index + 1,
                            bdat,
                        },
                        seq: self.seq,
                    });
                }
            }
            // Replies to commands of a transaction that already failed (pipelined behind
            // a refused MAIL, or after every recipient was refused), and to a lone dot.
            _ => {}
        }
    }
}

impl Session for ClientSession {
    type Event = ClientEvent;

    fn handle_input(&mut self, input: &[u8], now: Instant) {
        self.now = now;
        if self.phase == Phase::Closed {
            return;
        }
        let mut rest = input;
        if self.reader.is_empty() {
            // Usually an input holds whole replies: they are read from it where it lies,
            // and only what is left (an incomplete reply) is buffered, as a whole input
            // would have been.
            let clears = self.reader.clears();
            while self.phase != Phase::Closed && !rest.is_empty() {
                match self.reader.parse(rest) {
                    Ok(Some((reply, used))) => {
                        rest = rest.get(used..).unwrap_or_default();
                        self.on_reply(reply);
                        if self.reader.clears() != clears {
                            // After STARTTLS's 220: the bytes that followed are dropped,
                            // as `clear` drops buffered ones.
                            rest = &[];
                        }
                    }
                    Ok(None) => break,
                    Err(e) => self.close(Some(ClientError::MalformedReply(e)), false),
                }
            }
        }
        if self.phase != Phase::Closed && !rest.is_empty() {
            self.reader.push(rest);
            while self.phase != Phase::Closed {
                match self.reader.next_reply() {
                    None => break,
                    Some(Ok(reply)) => self.on_reply(reply),
                    Some(Err(e)) => self.close(Some(ClientError::MalformedReply(e)), false),
                }
            }
        }
        self.update_deadline(Some(now));
    }

    fn handle_eof(&mut self, now: Instant) {
        self.now = now;
        match self.phase {
            Phase::Closed => {}
            Phase::Quitting => self.close(None, false),
            Phase::Opening | Phase::Ready => {
                self.close(Some(ClientError::ConnectionClosed), false);
            }
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.phase == Phase::Closed {
            return;
        }
        if self.deadline_stale {
            self.update_deadline(Some(now));
            return;
        }
        if let (Some(deadline), Some((_, _, stage))) = (self.deadline, self.waiting_for())
            && now >= deadline
        {
            self.close(Some(ClientError::Timeout(stage)), false);
        }
    }

    fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }

    fn poll_transmit(&mut self) -> Option<Transmit> {
        if let Some(transmit) = self.out.pop_front() {
            return Some(transmit);
        }
        // `out` is empty: the pending command bytes are next.
        if let Some(bytes) = self.take_pending() {
            return Some(Transmit::Data(bytes));
        }
        if self.phase != Phase::Closed {
            match self.produce() {
                (_, Some(piece)) => return Some(Transmit::Data(piece)),
                (true, None) => {
                    self.flush_pending();
                    return self.out.pop_front();
                }
                (false, None) => {}
            }
        }
        None
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Host;

    /// `new` sets up what expecting the greeting and arming its deadline would.
    #[test]
    fn new_is_expecting_the_greeting_with_its_deadline() {
        let now = Instant::now();
        let config = ClientConfig::new(Host::try_from("client.example").unwrap());
        let built = ClientSession::new(config.clone(), now);
        let mut stepped = ClientSession::new(config, now);
        stepped.expects.clear();
        stepped.seq = 0;
        stepped.deadline = None;
        stepped.armed = None;
        stepped.expect(Expect::Greeting);
        stepped.update_deadline(Some(now));
        assert_eq!(built.seq, stepped.seq);
        assert_eq!(built.expects.len(), 1);
        assert_eq!(
            (built.expects[0].expect, built.expects[0].seq),
            (stepped.expects[0].expect, stepped.expects[0].seq)
        );
        assert_eq!(
            (built.deadline, built.armed, built.deadline_stale),
            (stepped.deadline, stepped.armed, stepped.deadline_stale)
        );
        assert!(built.deadline.is_some());
    }
}
