//! `mail-server`: takes mail by SMTP, keeps it in a Maildir per user, and serves it by
//! POP3.
//!
//! ```text
//! cargo run --release --example mail-server
//! ```
//!
//! With no flags: SMTP on 127.0.0.1:2525, POP3 on 127.0.0.1:1110, a Maildir++ per user
//! under `./mail-data`, the domain `localhost`, and a user `demo` with password `demo`
//! (with a warning; the server refuses to bind a non-loopback address while that default
//! user exists). See `--help`.
//!
//! A message answered with `250` is on disk, fsynced, before the `250` is sent. Ctrl-C
//! or SIGTERM stops accepting connections and lets open sessions finish (outbound
//! sessions end with `QUIT`).
//!
//! ## Relaying
//!
//! Mail for other domains is accepted from authenticated clients and from `--relay-net`
//! networks, kept in a durable queue under `DATA/queue/`, and delivered by SMTP: through
//! `--route DOMAIN=HOST:PORT[,HOST:PORT...]` (`*` for every domain: a smart host), or to
//! the domain's MX hosts; each host in turn until one takes the message (RFC 5321
//! section 5.1). Failures are retried with back-off (`--retry-initial`, `--retry-max`) until
//! `--queue-lifetime`; permanent ones, and expiry, send the sender an RFC 3464 DSN.
//! Outbound STARTTLS is opportunistic (`--require-tls` makes it mandatory) and **never
//! verifies certificates** (RFC 7435 opportunistic security, as MTAs do). See the
//! `relay` module.
//!
//! ```text
//! mail-server queue list [--data DIR]    the pending messages and recipients
//! mail-server queue flush [--data DIR]   every pending recipient due now (a running
//!                                        server notices within a second)
//! ```
//!
//! **Test hook**: the environment variable `MAILWIRE_FAILPOINT` (read once at start)
//! makes the process abort at a named point, as a crash would: `queue-before-commit`,
//! `queue-after-commit`, `deliver-after-remote-250`, `deliver-after-bookkeeping`. Never
//! set it in production.

mod pop3;
mod received;
mod relay;
mod smtp;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use mailwire_core::Secret;
use mailwire_core::sasl::Mechanism;
use mailwire_maildir::MailStore;
use mailwire_smtp::server::ServerConfig;
use mailwire_smtp::types::EhloDomain;
use mailwire_tokio::rustls;
use mailwire_tokio::{ServeOptions, Service, Shutdown, serve};
use tokio::net::TcpListener;
use tracing::{error, info, warn};

/// Command-line flags.
#[derive(Parser, Debug)]
#[command(
    name = "mail-server",
    about = "Takes mail by SMTP, keeps it in a Maildir per user, relays the rest"
)]
struct Args {
    /// Without a subcommand the server runs.
    #[command(subcommand)]
    command: Option<Command>,
    /// The data directory: one Maildir++ per user, DATA/<user>/, and the outbound queue,
    /// DATA/queue/.
    #[arg(long, value_name = "DIR", default_value = "./mail-data", global = true)]
    data: PathBuf,
    /// The SMTP listener (STARTTLS offered).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:2525")]
    smtp: SocketAddr,
    /// An SMTP listener with implicit TLS (port 465 style).
    #[arg(long, value_name = "ADDR")]
    smtps: Option<SocketAddr>,
    /// The POP3 listener (STLS offered), serving the same Maildirs.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:1110")]
    pop3: SocketAddr,
    /// A POP3 listener with implicit TLS (port 995 style).
    #[arg(long, value_name = "ADDR")]
    pop3s: Option<SocketAddr>,
    /// The mail domain: recipients user@DOMAIN are local.
    #[arg(long, value_name = "NAME", default_value = "localhost")]
    domain: String,
    /// The name this server gives in greetings and Received: headers (default: the domain).
    #[arg(long, value_name = "NAME")]
    hostname: Option<String>,
    /// A user and password (repeatable). Without any, a user demo:demo is made.
    #[arg(long = "user", value_name = "NAME:PASSWORD")]
    users: Vec<String>,
    /// A PEM certificate chain for STARTTLS and implicit TLS (otherwise a self-signed
    /// certificate is made at start).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// The largest message accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 50 * 1024 * 1024)]
    max_message_size: u64,
    /// The most connections served at once per listener; more get 421.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    max_connections: usize,
    /// The most recipients per message; more get 452.
    #[arg(long, value_name = "N", default_value_t = 100)]
    max_recipients: usize,
    /// Bad commands tolerated before 421 and close.
    #[arg(long, value_name = "N", default_value_t = 10)]
    max_errors: u32,
    /// The longest command line in bytes (CRLF not counted).
    #[arg(long, value_name = "BYTES", default_value_t = 4094)]
    max_line_length: usize,
    /// How long to wait for a command (e.g. 300s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    command_timeout: Duration,
    /// How long to wait for more message data.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    data_timeout: Duration,
    /// The slowest message data accepted, in bytes per second averaged over the message
    /// (after --data-timeout of grace); slower clients are cut off. 0 turns it off.
    #[arg(long, value_name = "BYTES", default_value_t = 512)]
    min_data_rate: u32,
    /// Accept messages and throw them away instead of storing them (for benchmarks).
    #[arg(long)]
    discard: bool,
    /// Relay mail for DOMAIN through HOST:PORT instead of its MX hosts (repeatable;
    /// DOMAIN `*` is every other domain: a smart host). Several hosts, comma-separated,
    /// are tried in order, as MX hosts are.
    #[arg(long = "route", value_name = "DOMAIN=HOST:PORT[,HOST:PORT...]", value_parser = relay::route::Route::parse)]
    routes: Vec<relay::route::Route>,
    /// A client network allowed to relay without authenticating (repeatable, CIDR).
    #[arg(long = "relay-net", value_name = "CIDR", value_parser = relay::Cidr::parse)]
    relay_nets: Vec<relay::Cidr>,
    /// Relay only over STARTTLS (certificates are not verified either way).
    #[arg(long)]
    require_tls: bool,
    /// The first retry after a transient delivery failure; it doubles each time.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration)]
    retry_initial: Duration,
    /// The longest wait between retries.
    #[arg(long, value_name = "DURATION", default_value = "1h", value_parser = parse_duration)]
    retry_max: Duration,
    /// How long a message may stay queued before it bounces.
    #[arg(long, value_name = "DURATION", default_value = "5d", value_parser = parse_duration)]
    queue_lifetime: Duration,
    /// After how long in the queue a sender who asked (NOTIFY=DELAY) gets a delay notice.
    #[arg(long, value_name = "DURATION", default_value = "4h", value_parser = parse_duration)]
    delay_warning: Duration,
    /// The most outbound SMTP sessions at once.
    #[arg(long, value_name = "N", default_value_t = 20)]
    max_deliveries: usize,
    /// The most outbound SMTP sessions at once to one destination.
    #[arg(long, value_name = "N", default_value_t = 4)]
    max_per_destination: usize,
    /// How long an outbound connection may take.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    connect_timeout: Duration,
}

/// Subcommands.
#[derive(clap::Subcommand, Debug)]
enum Command {
    /// The outbound queue.
    Queue {
        #[command(subcommand)]
        action: QueueAction,
    },
}

/// What to do with the queue.
#[derive(clap::Subcommand, Debug)]
enum QueueAction {
    /// Lists the pending messages: id, arrival, sender, and per pending recipient its
    /// attempts, next attempt and last error.
    List,
    /// Makes every pending recipient due now (a running server notices within a second;
    /// otherwise the next start delivers at once).
    Flush,
}

/// Parses `300`, `300s`, `5m`, `2h`, `1d`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("not a duration: {text:?}"))?;
    let secs = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86400,
        _ => return Err(format!("unknown unit in {text:?}: use s, m, h or d")),
    };
    Ok(Duration::from_secs(secs))
}

/// Values for challenges that must differ for every connection and be hard to guess
/// (the CRAM-MD5 challenge, the APOP timestamp): a scrambled counter seeded from the
/// clock and the pid.
pub(crate) struct ChallengeSeed(std::sync::atomic::AtomicU64);

impl ChallengeSeed {
    pub(crate) fn new() -> ChallengeSeed {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        ChallengeSeed(std::sync::atomic::AtomicU64::new(
            nanos ^ (u64::from(std::process::id()) << 32),
        ))
    }

    /// A fresh unique value, and the clock in seconds since the Unix epoch.
    pub(crate) fn next(&self) -> (u64, u64) {
        let unique = self
            .0
            .fetch_add(0x9e37_79b9_7f4a_7c15, std::sync::atomic::Ordering::Relaxed)
            .rotate_left(17);
        let clock = std::time::SystemTime::now()
            .duration_since(std::time::SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        (unique, clock)
    }
}

/// What every session shares.
pub(crate) struct App {
    pub(crate) store: MailStore,
    pub(crate) users: HashMap<String, Secret<String>>,
    pub(crate) domain: String,
    pub(crate) hostname: String,
    pub(crate) discard: bool,
    /// The outbound queue and its settings.
    pub(crate) relay: Arc<relay::Relay>,
}

impl App {
    /// The user a local part names (case-insensitively), if any.
    pub(crate) fn user(&self, local_part: &str) -> Option<&str> {
        self.users
            .keys()
            .find(|u| u.eq_ignore_ascii_case(local_part))
            .map(String::as_str)
    }

    /// Where mail for `<postmaster>` goes: a user called postmaster, else the first user.
    pub(crate) fn postmaster(&self) -> Option<&str> {
        self.user("postmaster")
            .or_else(|| self.users.keys().min().map(String::as_str))
    }

    pub(crate) fn password_of(&self, user: &str) -> Option<&str> {
        self.users.get(user).map(|p| p.expose().as_str())
    }
}

fn main() {
    let args = Args::parse();
    if let Some(Command::Queue { action }) = &args.command {
        let result = match action {
            QueueAction::List => relay::print_queue(&args.data),
            QueueAction::Flush => relay::flush_queue(&args.data),
        };
        if let Err(e) = result {
            eprintln!("mail-server queue: {e}");
            std::process::exit(1);
        }
        return;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    relay::init_failpoint();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            error!("cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    if let Err(message) = runtime.block_on(run(args)) {
        error!("{message}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let mut users = HashMap::new();
    for spec in &args.users {
        let (name, password) = spec
            .split_once(':')
            .ok_or_else(|| format!("--user {spec:?}: write NAME:PASSWORD"))?;
        mailwire_maildir::validate_user_name(name).map_err(|e| format!("--user {name:?}: {e}"))?;
        // DATA/queue/ holds the outbound queue, not a Maildir.
        if name.eq_ignore_ascii_case("queue") {
            return Err(format!(
                "--user {name:?}: the name is reserved (DATA/queue/ is the outbound queue)"
            ));
        }
        users.insert(name.to_owned(), Secret::new(password.to_owned()));
    }
    let default_user = users.is_empty();
    let listeners: Vec<SocketAddr> = [args.smtp, args.pop3]
        .into_iter()
        .chain(args.smtps)
        .chain(args.pop3s)
        .collect();
    if default_user {
        warn!("no --user given: made the user demo with password demo; do not expose this server");
        if let Some(addr) = listeners.iter().find(|a| !a.ip().is_loopback()) {
            return Err(format!(
                "refusing to listen on {addr} while the default user demo:demo exists; give --user"
            ));
        }
        users.insert("demo".into(), Secret::new("demo".into()));
    }
    let hostname = args.hostname.clone().unwrap_or_else(|| args.domain.clone());
    let ehlo_name = EhloDomain::new(&hostname).map_err(|e| format!("--hostname: {e}"))?;

    let store = MailStore::open(&args.data).map_err(|e| {
        format!(
            "cannot open the data directory {}: {e}",
            args.data.display()
        )
    })?;
    match store.clean_tmp(std::time::SystemTime::now()) {
        Ok(0) => {}
        Ok(n) => info!(removed = n, "removed stale files from tmp/"),
        Err(e) => warn!("cleaning tmp/ failed: {e}"),
    }
    let tls = tls_config(&args, &hostname)?;
    let queue = relay::queue::Queue::open(&args.data)
        .map_err(|e| format!("cannot open the queue in {}: {e}", args.data.display()))?;
    // Held for the life of the process: one server per queue.
    let _queue_lock = queue
        .lock()
        .map_err(|e| format!("{}: {e}", queue.root().display()))?;
    let relay_config = relay::RelayConfig {
        routes: args.routes.clone(),
        relay_nets: args.relay_nets.clone(),
        require_tls: args.require_tls,
        retry_initial: args.retry_initial.max(Duration::from_secs(1)),
        retry_max: args.retry_max.max(args.retry_initial),
        queue_lifetime: args.queue_lifetime,
        delay_warning: args.delay_warning,
        max_deliveries: args.max_deliveries.max(1),
        max_per_destination: args.max_per_destination.max(1),
        connect_timeout: args.connect_timeout.max(Duration::from_secs(1)),
        idle_timeout: relay::deliver::DEFAULT_IDLE,
    };
    // Before any listener: the start-up cleaning must not meet a message being queued.
    let startup = relay::schedule::load(&queue)
        .map_err(|e| format!("cannot read the queue in {}: {e}", queue.root().display()))?;
    let relay = Arc::new(relay::Relay::new(queue, relay_config));

    let mut config = ServerConfig::new(ehlo_name);
    config.max_message_size = Some(args.max_message_size);
    config.max_recipients = args.max_recipients;
    config.max_errors = args.max_errors;
    config.max_line_len = args.max_line_length;
    config.command_timeout = args.command_timeout;
    config.data_timeout = args.data_timeout;
    config.min_data_rate = args.min_data_rate;
    config.starttls = true;
    config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5];
    // Passwords in the clear only where nobody can listen in: a loopback-only server.
    config.allow_plaintext_auth = listeners.iter().all(|a| a.ip().is_loopback());
    let config = Arc::new(config);

    let mut pop3_config = mailwire_pop3::server::ServerConfig::new();
    pop3_config.hostname = hostname.clone();
    pop3_config.max_errors = args.max_errors;
    pop3_config.idle_timeout = args.command_timeout.max(Duration::from_secs(600));
    pop3_config.stls = true;
    pop3_config.auth_mechanisms = vec![Mechanism::Plain, Mechanism::Login, Mechanism::CramMd5];
    pop3_config.allow_plaintext_auth = config.allow_plaintext_auth;
    let pop3_config = Arc::new(pop3_config);
    let pop3_locks = Arc::new(std::sync::Mutex::new(std::collections::HashSet::new()));

    let app = Arc::new(App {
        store,
        users,
        domain: args.domain.clone(),
        hostname,
        discard: args.discard,
        relay,
    });
    if args.discard {
        warn!("--discard: messages are accepted and thrown away");
    }

    let shutdown = Shutdown::new();
    {
        let shutdown = shutdown.clone();
        // Ctrl-C (SIGINT) and SIGTERM (what service managers send) both drain: no new
        // connections, open sessions may finish, outbound sessions end with QUIT.
        let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
        tokio::spawn(async move {
            let mut terminate = terminate;
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            info!("shutting down: no new connections; open sessions may finish");
            shutdown.trigger();
        });
    }

    let mut tasks = Vec::new();
    let mut options = ServeOptions::default();
    options.max_connections = args.max_connections;
    options.shutdown_grace = Duration::from_secs(5);
    let smtp_service = Arc::new(smtp::SmtpService::new(app.clone(), config.clone()));
    let pop3_service = Arc::new(pop3::Pop3Service::new(app.clone(), pop3_config, pop3_locks));
    tasks.push(
        listen(
            args.smtp,
            "SMTP",
            false,
            &tls,
            &options,
            smtp_service.clone(),
            &shutdown,
        )
        .await?,
    );
    if let Some(addr) = args.smtps {
        tasks.push(listen(addr, "SMTPS", true, &tls, &options, smtp_service, &shutdown).await?);
    }
    tasks.push(
        listen(
            args.pop3,
            "POP3",
            false,
            &tls,
            &options,
            pop3_service.clone(),
            &shutdown,
        )
        .await?,
    );
    if let Some(addr) = args.pop3s {
        tasks.push(listen(addr, "POP3S", true, &tls, &options, pop3_service, &shutdown).await?);
    }
    let smtp_addrs: Vec<SocketAddr> = [args.smtp].into_iter().chain(args.smtps).collect();
    let myself = relay::route::Myself {
        hostname: app.hostname.to_ascii_lowercase(),
        listening: smtp_addrs,
    };
    let scheduler = tokio::spawn(relay::schedule::run(
        app.clone(),
        relay::route::HickoryResolver::new(),
        myself,
        shutdown.clone(),
        startup,
    ));
    for task in tasks {
        let _ = task.await;
    }
    let _ = scheduler.await;
    info!("stopped");
    Ok(())
}

/// Binds `addr` and serves `service` there until shutdown: implicit TLS, or plaintext with
/// the STARTTLS/STLS upgrade available. Logs "LABEL listening on ADDR" (tests read it).
async fn listen<S: Service>(
    addr: SocketAddr,
    label: &str,
    implicit_tls: bool,
    tls: &Arc<rustls::ServerConfig>,
    options: &ServeOptions,
    service: Arc<S>,
    shutdown: &Shutdown,
) -> Result<tokio::task::JoinHandle<()>, String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let mut options = options.clone();
    options.name = label.to_ascii_lowercase();
    if implicit_tls {
        info!("{label} listening on {bound} (implicit TLS)");
        options.implicit_tls = Some(tls.clone());
    } else {
        info!("{label} listening on {bound} (STARTTLS offered)");
        options.starttls = Some(tls.clone());
    }
    Ok(tokio::spawn(serve(
        listener,
        service,
        options,
        shutdown.triggered(),
    )))
}

/// The TLS configuration from --tls-cert/--tls-key, or a self-signed certificate made now
/// (its PEM is written to DATA/selfsigned-cert.pem so that clients can be told to trust it).
fn tls_config(args: &Args, hostname: &str) -> Result<Arc<rustls::ServerConfig>, String> {
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        return mailwire_tokio::tls::server_config_from_pem_files(cert, key)
            .map_err(|e| format!("--tls-cert/--tls-key: {e}"));
    }
    let mut names = vec![hostname.to_owned(), "localhost".to_owned()];
    names.push("127.0.0.1".to_owned());
    names.dedup();
    let made = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
    let pem_path = args.data.join("selfsigned-cert.pem");
    if let Err(e) = std::fs::write(&pem_path, made.cert.pem()) {
        warn!("cannot write {}: {e}", pem_path.display());
    }
    info!(
        cert = %pem_path.display(),
        "made a self-signed certificate for STARTTLS and implicit TLS"
    );
    let key = rustls_pki_types::PrivateKeyDer::Pkcs8(rustls_pki_types::PrivatePkcs8KeyDer::from(
        made.key_pair.serialize_der(),
    ));
    mailwire_tokio::tls::server_config(vec![made.cert.der().clone()], key)
        .map_err(|e| format!("TLS configuration: {e}"))
}
