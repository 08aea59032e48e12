//! `pop3-fetch`: downloads new messages from a POP3 server into a local Maildir.
//!
//! ```text
//! cargo run --example pop3-fetch -- --server pop.example.org:995 --tls \
//!     --user alice --password secret --out ~/Maildir [--delete]
//! ```
//!
//! Every message whose `UIDL` has not been seen before is stored in the Maildir `--out`
//! (each one fsynced before it counts as fetched), and its unique-id is remembered in
//! `OUT/.pop3-fetch-uidl`. With `--delete` the messages fetched now or before are deleted
//! on the server, never before their local copy is durable. On any failure the exit
//! status is non-zero and the server's words are printed.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mailwire_maildir::{Delivery, Maildir};
use mailwire_pop3::client::{
    AuthMethod, ClientConfig, ClientError, ClientEvent, ClientSession, Login, RequestId, TlsPolicy,
};
use mailwire_pop3::types::Response;
use mailwire_tokio::{ClientTlsOptions, DriveOptions, Handler, TlsMode, connect, drive};

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(
    name = "pop3-fetch",
    about = "Downloads new messages from a POP3 server into a Maildir"
)]
struct Args {
    /// The server, HOST:PORT.
    #[arg(long, value_name = "HOST:PORT")]
    server: String,
    /// Upgrade with STLS before logging in (required: fail if the server cannot).
    #[arg(long, conflicts_with = "tls")]
    stls: bool,
    /// Implicit TLS from the first byte (port 995 style).
    #[arg(long)]
    tls: bool,
    /// Accept any certificate (for tests and self-signed servers only).
    #[arg(long)]
    insecure: bool,
    /// The user name.
    #[arg(long, value_name = "NAME")]
    user: String,
    /// The password.
    #[arg(long, value_name = "PASSWORD")]
    password: String,
    /// The local Maildir (made if missing).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Delete the fetched messages on the server (after they are safe locally).
    #[arg(long)]
    delete: bool,
    /// Never send the password itself, even on a plaintext connection: log in with APOP
    /// (or SASL CRAM-MD5 when the server offers it, which the session prefers).
    #[arg(long)]
    apop: bool,
    /// How long connecting may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    connect_timeout: u64,
}

/// The file of seen unique-ids, one per line, inside the Maildir.
const SEEN_FILE: &str = ".pop3-fetch-uidl";

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("pop3-fetch: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(summary) => {
            eprintln!("pop3-fetch: {summary}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("pop3-fetch: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<String, String> {
    let maildir = Maildir::open(&args.out)
        .map_err(|e| format!("cannot open the Maildir {}: {e}", args.out.display()))?;
    let seen = read_seen(&args.out.join(SEEN_FILE))?;

    let host = args
        .server
        .rsplit_once(':')
        .map(|(host, _)| host.trim_start_matches('[').trim_end_matches(']'))
        .ok_or_else(|| format!("--server {:?}: write HOST:PORT", args.server))?
        .to_owned();
    let (mode, policy) = match (args.tls, args.stls) {
        (true, _) => (TlsMode::Implicit, TlsPolicy::Implicit),
        (false, true) => (TlsMode::StartTls, TlsPolicy::Required),
        (false, false) => (TlsMode::Plain, TlsPolicy::Never),
    };
    let trust = if args.insecure {
        ClientTlsOptions::Insecure
    } else {
        ClientTlsOptions::WebPkiRoots
    };
    let connecting = connect(args.server.as_str(), &host, mode, &trust);
    let mut connection =
        match tokio::time::timeout(Duration::from_secs(args.connect_timeout), connecting).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(e)) => return Err(format!("{}: {e}", args.server)),
            Err(_) => return Err(format!("{}: no connection in time", args.server)),
        };

    let mut config = ClientConfig::new(Login::password(args.user.clone(), args.password.clone()));
    config.tls = policy;
    config.apop = true;
    // Without TLS the password goes in the clear (USER/PASS, PLAIN) unless --apop asks
    // for a method that never sends it.
    config.allow_plaintext_auth = !args.apop;
    let now = tokio::time::Instant::now().into_std();
    let mut session = ClientSession::new(config, now);
    let mut fetcher = Fetcher {
        maildir,
        seen_path: args.out.join(SEEN_FILE),
        seen,
        delete: args.delete,
        uidl: None,
        retrieving: Vec::new(),
        current: None,
        fetched: 0,
        deleted: 0,
        failure: None,
        closed_ok: false,
        method: None,
    };
    fetcher.uidl = match session.uidl(None) {
        Ok(id) => Some(id),
        Err(e) => return Err(format!("cannot ask for UIDL: {e}")),
    };
    let result = drive(
        &mut connection,
        &mut session,
        &mut fetcher,
        &DriveOptions::default(),
        std::future::pending(),
    )
    .await;
    if let Some(current) = fetcher.current.take() {
        let _ = current.delivery.abort();
    }
    if let Some(failure) = fetcher.failure {
        return Err(failure);
    }
    if let Err(e) = result {
        return Err(format!("{}: {e}", args.server));
    }
    if !fetcher.closed_ok {
        return Err(format!("{}: the session ended early", args.server));
    }
    let method = match &fetcher.method {
        Some(AuthMethod::Apop) => String::from("APOP"),
        Some(AuthMethod::UserPass) => String::from("USER/PASS"),
        Some(AuthMethod::Sasl(mechanism)) => format!("AUTH {}", mechanism.as_str()),
        _ => String::from("no login"),
    };
    Ok(format!(
        "{} new message(s) fetched, {} deleted on the server (logged in with {method})",
        fetcher.fetched, fetcher.deleted
    ))
}

/// A message being written into the local Maildir.
struct Current {
    msg: u32,
    uid: String,
    id: RequestId,
    delivery: Delivery,
}

/// The handler: asks for the listing, retrieves what is new, and deletes what is safe.
struct Fetcher {
    maildir: Maildir,
    seen_path: PathBuf,
    seen: HashSet<String>,
    delete: bool,
    uidl: Option<RequestId>,
    /// The `RETR` requests still outstanding: (request, message number, unique-id).
    retrieving: Vec<(RequestId, u32, String)>,
    current: Option<Current>,
    fetched: usize,
    deleted: usize,
    /// The first failure, in words (with the server's).
    failure: Option<String>,
    /// The session ended with `QUIT` answered `+OK` (deletions committed).
    closed_ok: bool,
    /// How the session logged in.
    method: Option<AuthMethod>,
}

impl Fetcher {
    fn fail(&mut self, message: String) {
        if self.failure.is_none() {
            self.failure = Some(message);
        }
    }

    fn listing(&mut self, session: &mut ClientSession, entries: Vec<(u32, String)>) {
        for (msg, uid) in entries {
            if self.seen.contains(&uid) {
                // Stored safely by an earlier run.
                if self.delete && session.dele(msg).is_ok() {
                    self.deleted += 1;
                }
                continue;
            }
            match session.retr(msg) {
                Ok(id) => self.retrieving.push((id, msg, uid)),
                Err(e) => self.fail(format!("cannot ask for message {msg}: {e}")),
            }
        }
        self.quit_when_done(session);
    }

    fn quit_when_done(&mut self, session: &mut ClientSession) {
        if self.retrieving.is_empty() && self.current.is_none() {
            let _ = session.quit();
        }
    }

    fn start(&mut self, id: RequestId) {
        let Some(at) = self.retrieving.iter().position(|(r, _, _)| *r == id) else {
            return;
        };
        let (_, msg, uid) = self.retrieving.remove(at);
        match self.maildir.begin_delivery() {
            Ok(delivery) => {
                self.current = Some(Current {
                    msg,
                    uid,
                    id,
                    delivery,
                })
            }
            Err(e) => self.fail(format!("cannot store message {msg}: {e}")),
        }
    }

    fn data(&mut self, id: RequestId, data: &[u8]) {
        let failed = match self.current.as_mut() {
            Some(current) if current.id == id => current
                .delivery
                .write_all(data)
                .err()
                .map(|e| format!("cannot write message {}: {e}", current.msg)),
            _ => None,
        };
        if let Some(failure) = failed {
            if let Some(current) = self.current.take() {
                let _ = current.delivery.abort();
            }
            self.fail(failure);
        }
    }

    fn end(&mut self, session: &mut ClientSession, id: RequestId) {
        let Some(current) = self.current.take_if(|c| c.id == id) else {
            self.quit_when_done(session);
            return;
        };
        // commit() fsyncs the file and its directory entry: after this the message is
        // safe, and only then is it remembered (and maybe deleted on the server).
        match current.delivery.commit() {
            Ok(_) => {
                self.fetched += 1;
                self.seen.insert(current.uid.clone());
                match write_seen(&self.seen_path, &self.seen) {
                    Ok(()) => {
                        if self.delete && session.dele(current.msg).is_ok() {
                            self.deleted += 1;
                        }
                    }
                    Err(e) => self.fail(e),
                }
            }
            Err(e) => self.fail(format!("cannot store message {}: {e}", current.msg)),
        }
        self.quit_when_done(session);
    }
}

impl Handler<ClientSession> for Fetcher {
    async fn on_event(&mut self, session: &mut ClientSession, event: ClientEvent) {
        match event {
            ClientEvent::UniqueIds { id, entries } if Some(id) == self.uidl => {
                let entries = entries
                    .into_iter()
                    .map(|e| (e.msg, e.uid.as_str().to_owned()))
                    .collect();
                self.listing(session, entries);
            }
            ClientEvent::Ready { authenticated, .. } => self.method = authenticated,
            ClientEvent::MessageStart { id, .. } => self.start(id),
            ClientEvent::MessageData { id, data } => self.data(id, &data),
            ClientEvent::MessageEnd { id } => self.end(session, id),
            ClientEvent::Failed { id, response } => {
                if Some(id) == self.uidl {
                    self.fail(format!("UIDL refused: {}", words(&response)));
                    let _ = session.quit();
                } else if let Some(at) = self.retrieving.iter().position(|(r, _, _)| *r == id) {
                    let (_, msg, _) = self.retrieving.remove(at);
                    self.fail(format!(
                        "message {msg} could not be retrieved: {}",
                        words(&response)
                    ));
                    self.quit_when_done(session);
                } else {
                    self.fail(format!("the server refused: {}", words(&response)));
                    self.quit_when_done(session);
                }
            }
            ClientEvent::Closed { error } => match error {
                None => self.closed_ok = true,
                Some(error) => self.fail(describe(&error)),
            },
            _ => {}
        }
    }
}

/// A response as the server wrote it: `-ERR [CODE] text`.
fn words(response: &Response) -> String {
    let status = if response.is_ok() { "+OK" } else { "-ERR" };
    match response.code() {
        Some(code) => format!("{status} [{}] {}", code.as_str(), response.text()),
        None => format!("{status} {}", response.text()),
    }
}

/// A session error, with the server's words when it gave some.
fn describe(error: &ClientError) -> String {
    match error {
        ClientError::GreetingRefused(r)
        | ClientError::TlsRefused(r)
        | ClientError::AuthFailed(r)
        | ClientError::QuitRefused(r) => format!("{error}: {}", words(r)),
        other => other.to_string(),
    }
}

/// The seen unique-ids (none when the file does not exist yet).
fn read_seen(path: &Path) -> Result<HashSet<String>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(text
            .lines()
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Replaces the seen file durably: a temporary file, fsynced, renamed over it, and the
/// directory fsynced.
fn write_seen(path: &Path, seen: &HashSet<String>) -> Result<(), String> {
    let mut lines: Vec<&str> = seen.iter().map(String::as_str).collect();
    lines.sort_unstable();
    let mut text = lines.join("\n");
    text.push('\n');
    let tmp = path.with_extension("tmp");
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    result.map_err(|e| format!("cannot write {}: {e}", path.display()))
}
