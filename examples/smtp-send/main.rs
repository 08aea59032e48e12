//! `smtp-send`: sends one message over SMTP (or LMTP), built from flags or read from an
//! `.eml` file, and says what the server answered.
//!
//! ```text
//! cargo run --example smtp-send -- --server mail.example.org:587 --starttls \
//!     --user alice --password secret --from alice@example.org --to bob@example.com \
//!     --subject "Report" --text "See attached." --attach report.pdf
//! ```
//!
//! The sans-IO [`ClientSession`] of mailwire-smtp does the protocol (pipelining and
//! CHUNKING when offered, STARTTLS, AUTH, dot-stuffing); the tokio adapter of
//! mailwire-tokio drives it over the socket; mailwire-mime builds the message. Only this
//! example reads the clock (for the Date field). See `--help` for the flags and exit codes.

mod message;
mod send;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use mailwire_core::sasl::ClientCredentials;
use mailwire_smtp::client::{ClientConfig, Envelope, MessageFailure, TlsPolicy};
use mailwire_smtp::types::{ForwardPath, Host, Mailbox, ReversePath};
use mailwire_tokio::{ClientTlsOptions, TlsMode};

use message::{AddressSpec, Parts};
use send::{Outcome, Target, one_line};

/// The message was delivered to every recipient.
const EXIT_DELIVERED: u8 = 0;
/// The server refused the message, the sender or at least one recipient.
const EXIT_REFUSED: u8 = 1;
/// No answer about the message: connection, TLS, authentication or protocol failure.
const EXIT_FAILED: u8 = 2;
/// Bad flags or unreadable input (EX_USAGE of sysexits.h).
const EXIT_USAGE: u8 = 64;

const AFTER_HELP: &str = "\
Exit status:
  0   the server accepted every recipient and took the message
  1   the server refused the message, the sender, or at least one recipient
      (each refusal is printed with the server's reply; with some recipients
      refused the message may still have gone to the others)
  2   connection, TLS, authentication or protocol failure: nothing is known
      about the message (it was most likely not delivered)
  64  bad flags or unreadable files

The server's final reply is printed on standard output; refusals and errors on
standard error. Without --starttls, --starttls-if-offered or --tls everything
goes in plaintext.";

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(
    name = "smtp-send",
    about = "Sends one message by SMTP or LMTP and prints the server's reply",
    after_help = AFTER_HELP
)]
struct Args {
    /// The server, HOST:PORT (IPv6: [ADDR]:PORT). Without a port: 25, or 465 with --tls.
    #[arg(long, value_name = "HOST:PORT")]
    server: String,
    /// Require STARTTLS: stop before anything else is sent unless the server offers it
    /// and the handshake succeeds.
    #[arg(long, group = "tls_mode")]
    starttls: bool,
    /// Use STARTTLS when the server offers it, carry on in plaintext when it does not
    /// (protects against eavesdroppers only, not against an active attacker).
    #[arg(long, group = "tls_mode")]
    starttls_if_offered: bool,
    /// Implicit TLS from the first byte (SMTPS, usually port 465).
    #[arg(long, group = "tls_mode")]
    tls: bool,
    /// Do not check the server's certificate at all. For tests only: anyone on the path
    /// can read and change the mail.
    #[arg(long, conflicts_with = "ca_file")]
    insecure: bool,
    /// Trust the CA certificates (or the self-signed server certificate) in this PEM file
    /// instead of the built-in Mozilla roots.
    #[arg(long, value_name = "FILE")]
    ca_file: Option<PathBuf>,
    /// The name the server's certificate must be valid for (default: HOST of --server).
    #[arg(long, value_name = "NAME")]
    tls_name: Option<String>,
    /// Authenticate as this user (with the best mechanism the server offers).
    #[arg(long, value_name = "NAME", requires = "password")]
    user: Option<String>,
    /// The password for --user (visible to other local users in the process list).
    #[arg(long, value_name = "PASSWORD", requires = "user")]
    password: Option<String>,
    /// Allow PLAIN and LOGIN without TLS (the password crosses the network readable).
    #[arg(long)]
    plaintext_auth: bool,
    /// The sender: ADDR or "Name <ADDR>" (the name goes into the From field only).
    #[arg(long, value_name = "ADDR")]
    from: String,
    /// A recipient (repeatable): ADDR or "Name <ADDR>".
    #[arg(long = "to", value_name = "ADDR", required = true)]
    to: Vec<String>,
    /// The subject.
    #[arg(long, value_name = "TEXT", conflicts_with = "eml")]
    subject: Option<String>,
    /// The text of the message.
    #[arg(long, value_name = "TEXT", conflicts_with_all = ["text_file", "eml"])]
    text: Option<String>,
    /// The text of the message, from a UTF-8 file (`-`: standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "eml")]
    text_file: Option<PathBuf>,
    /// Attach a file (repeatable); its content type is guessed from the extension.
    #[arg(long = "attach", value_name = "FILE", conflicts_with = "eml")]
    attach: Vec<PathBuf>,
    /// Send this message file as it is (`-`: standard input) instead of building one;
    /// --from and --to still make the envelope. On the wire, stray CR or LF become CRLF
    /// and a missing final line break is added.
    #[arg(long, value_name = "FILE")]
    eml: Option<PathBuf>,
    /// Speak LMTP (LHLO, one reply per recipient after the message).
    #[arg(long)]
    lmtp: bool,
    /// The name to give in EHLO/LHLO (default: the local address, as [ADDR]).
    #[arg(long, value_name = "NAME")]
    helo: Option<String>,
    /// Also write the message to this file (as built, or as read with --eml): a sent copy.
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
    /// How long connecting (and an implicit-TLS handshake) may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    connect_timeout: u64,
    /// Tell what happens on the way (RUST_LOG=debug shows the adapter's log too).
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) if e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(EXIT_USAGE);
        }
        // --help and --version.
        Err(e) => e.exit(),
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();

    let prepared = match prepare(&args) {
        Ok(prepared) => prepared,
        Err(message) => {
            eprintln!("smtp-send: {message}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(path) = &args.save
        && let Err(e) = std::fs::write(path, &prepared.message)
    {
        eprintln!("smtp-send: --save {}: {e}", path.display());
        return ExitCode::from(EXIT_USAGE);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("smtp-send: cannot start the runtime: {e}");
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let Prepared {
        target,
        config,
        envelope,
        message,
        recipients,
    } = prepared;
    let outcome = runtime.block_on(send::send(&target, config, envelope, message, args.verbose));
    ExitCode::from(report(&outcome, &recipients, args.lmtp))
}

/// Everything checked and read before connecting.
struct Prepared {
    target: Target,
    config: ClientConfig,
    envelope: Envelope,
    message: Vec<u8>,
    /// The recipients' addresses, in `--to` order, for the report.
    recipients: Vec<String>,
}

/// Checks the flags, builds or reads the message and the envelope.
fn prepare(args: &Args) -> Result<Prepared, String> {
    let tls_wanted = args.starttls || args.starttls_if_offered || args.tls;
    if !tls_wanted && (args.insecure || args.ca_file.is_some() || args.tls_name.is_some()) {
        return Err(String::from(
            "--insecure, --ca-file and --tls-name need --starttls, --starttls-if-offered or --tls",
        ));
    }
    let (host, address) = split_server(&args.server, if args.tls { 465 } else { 25 })?;
    let (mode, policy) = if args.tls {
        (TlsMode::Implicit, TlsPolicy::Implicit)
    } else if args.starttls {
        (TlsMode::StartTls, TlsPolicy::Required)
    } else if args.starttls_if_offered {
        (TlsMode::StartTls, TlsPolicy::Opportunistic)
    } else {
        (TlsMode::Plain, TlsPolicy::Never)
    };
    let trust = if args.insecure {
        ClientTlsOptions::Insecure
    } else if let Some(path) = &args.ca_file {
        // Read now, so that a wrong path is a usage error and not a connection failure.
        let certificates =
            mailwire_tokio::tls::load_certificates(path).map_err(|e| format!("--ca-file: {e}"))?;
        ClientTlsOptions::CaCertificates(certificates)
    } else {
        ClientTlsOptions::WebPkiRoots
    };
    let helo = match &args.helo {
        Some(name) => {
            Some(Host::try_from(name.as_str()).map_err(|e| format!("--helo {name:?}: {e}"))?)
        }
        None => None,
    };

    let from = AddressSpec::parse(&args.from).map_err(|e| format!("--from: {e}"))?;
    let to = args
        .to
        .iter()
        .map(|spec| AddressSpec::parse(spec).map_err(|e| format!("--to: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let sender = Mailbox::try_from(from.address.as_str())
        .map_err(|e| format!("--from {:?}: {e}", from.address))?;
    let mut envelope = Envelope::new(ReversePath::Mailbox(sender));
    for recipient in &to {
        let mailbox = Mailbox::try_from(recipient.address.as_str())
            .map_err(|e| format!("--to {:?}: {e}", recipient.address))?;
        envelope = envelope.to(ForwardPath::Mailbox(mailbox));
    }

    let message = match &args.eml {
        Some(path) => {
            message::read_input(path).map_err(|e| format!("--eml {}: {e}", path.display()))?
        }
        None => {
            let text = match (&args.text, &args.text_file) {
                (Some(text), _) => text.clone(),
                (None, Some(path)) => {
                    let bytes = message::read_input(path)
                        .map_err(|e| format!("--text-file {}: {e}", path.display()))?;
                    String::from_utf8(bytes)
                        .map_err(|_| format!("--text-file {}: not UTF-8 text", path.display()))?
                }
                (None, None) => String::new(),
            };
            message::build(&Parts {
                from: &from,
                to: &to,
                subject: args.subject.as_deref(),
                text,
                attachments: &args.attach,
                utf8_headers: envelope.needs_smtputf8(),
            })?
        }
    };

    // Replaced by the local address literal once connected, unless --helo is given.
    let placeholder = Host::try_from("localhost").map_err(|e| e.to_string())?;
    let mut config = if args.lmtp {
        ClientConfig::lmtp(placeholder)
    } else {
        ClientConfig::new(placeholder)
    };
    config.tls = policy;
    // Both are the client's defaults; spelled out because this tool promises them.
    config.pipelining = true;
    config.chunking = true;
    config.allow_plaintext_auth = args.plaintext_auth;
    if let (Some(user), Some(password)) = (&args.user, &args.password) {
        config.credentials = Some(ClientCredentials::password(user.clone(), password.clone()));
    }

    Ok(Prepared {
        target: Target {
            address,
            tls_name: args.tls_name.clone().unwrap_or(host),
            mode,
            trust,
            connect_timeout: Duration::from_secs(args.connect_timeout.max(1)),
            helo,
        },
        config,
        envelope,
        message,
        recipients: to.into_iter().map(|r| r.address).collect(),
    })
}

/// Splits `host:port`, `[v6]:port`, `host` or `[v6]` into the host (for the certificate
/// check) and an address for the resolver.
fn split_server(server: &str, default_port: u16) -> Result<(String, String), String> {
    let bad = || format!("--server {server:?}: write HOST:PORT");
    let (host, port) = if let Some(rest) = server.strip_prefix('[') {
        let (host, after) = rest.split_once(']').ok_or_else(bad)?;
        match after {
            "" => (host, None),
            _ => (host, Some(after.strip_prefix(':').ok_or_else(bad)?)),
        }
    } else {
        match server.rsplit_once(':') {
            Some((host, _)) if host.contains(':') => return Err(bad()),
            Some((host, port)) => (host, Some(port)),
            None => (server, None),
        }
    };
    if host.is_empty() {
        return Err(bad());
    }
    let port = match port {
        Some(port) => port.parse::<u16>().map_err(|_| bad())?,
        None => default_port,
    };
    let address = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok((host.to_owned(), address))
}

/// Prints what happened and picks the exit status.
fn report(outcome: &Outcome, recipients: &[String], lmtp: bool) -> u8 {
    let mut refused = 0;
    for (address, result) in recipients.iter().zip(&outcome.recipients) {
        if let Some((false, reply)) = &result.rcpt {
            refused += 1;
            eprintln!(
                "smtp-send: recipient <{address}> refused: {}",
                one_line(reply)
            );
        }
        if let Some((delivered, reply)) = &result.delivery {
            if *delivered {
                println!("<{address}>: {}", one_line(reply));
            } else {
                refused += 1;
                eprintln!(
                    "smtp-send: not delivered to <{address}>: {}",
                    one_line(reply)
                );
            }
        }
    }
    let code = match &outcome.message {
        Some(Ok(reply)) => {
            if !lmtp {
                for line in reply.to_string().lines() {
                    println!("{}", line.trim_end());
                }
            }
            if refused == 0 {
                EXIT_DELIVERED
            } else {
                eprintln!(
                    "smtp-send: the message went to {} of {} recipients",
                    recipients.len() - refused,
                    recipients.len()
                );
                EXIT_REFUSED
            }
        }
        Some(Err(MessageFailure::SessionEnded)) | None => {
            eprintln!(
                "smtp-send: the message was not sent: {}",
                session_failure(outcome)
            );
            return EXIT_FAILED;
        }
        Some(Err(failure)) => {
            let what = match failure {
                MessageFailure::Local(refusal) => format!("not sent: {refusal}"),
                MessageFailure::Mail(reply) => format!("sender refused: {}", one_line(reply)),
                MessageFailure::AllRecipientsRefused(_) => String::from("every recipient refused"),
                MessageFailure::Data(reply) | MessageFailure::Final(reply) => {
                    format!("message refused: {}", one_line(reply))
                }
                other => format!("not delivered: {other:?}"),
            };
            let later = if failure.is_transient() {
                " (a temporary failure: trying again later may work)"
            } else {
                ""
            };
            eprintln!("smtp-send: {what}{later}");
            EXIT_REFUSED
        }
    };
    if outcome.message.as_ref().is_some_and(Result::is_ok)
        && (outcome.session_error.is_some() || outcome.transport_error.is_some())
    {
        eprintln!(
            "smtp-send: warning: after the message was taken: {}",
            session_failure(outcome)
        );
    }
    code
}

/// Why the session ended early, in words.
fn session_failure(outcome: &Outcome) -> String {
    match (&outcome.transport_error, &outcome.session_error) {
        (Some(transport), _) => transport.clone(),
        (None, Some(session)) => session
            .to_string()
            .replace("\r\n", " ")
            .trim_end()
            .to_owned(),
        (None, None) => String::from("the session ended without an answer"),
    }
}
