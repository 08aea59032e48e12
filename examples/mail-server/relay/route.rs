//! Where mail for a domain goes: a static `--route`, or the domain's MX records (RFC 5321
//! section 5.1), looked up through the [`Resolver`] trait (hickory-resolver for real, a
//! fake in the tests).
//!
//! The rules:
//! - `--route DOMAIN=HOST:PORT`: the exact domain (case-insensitive) first, then `*`.
//! - Otherwise MX records, lowest preference first, records of equal preference in random
//!   order (RFC 5321 5.1 asks for it, to spread the load); each exchange's A/AAAA records
//!   on port 25.
//! - A domain with no MX records (but that exists) is its own mail exchanger: its A/AAAA
//!   records ("implicit MX").
//! - A null MX (RFC 7505: one record, preference 0, exchange `.`), a domain that does not
//!   exist, or routes that could only lead back to this server are permanent failures;
//!   a DNS failure is a transient one.
//! - Loops: an MX list holding our own hostname is cut at that preference (RFC 5321 5.1:
//!   records of equal or higher preference than ours are dropped), and addresses from DNS
//!   that are loopback or unspecified, or our own listening address, are dropped (a
//!   misconfigured zone must not make us deliver to ourselves forever). A static route is
//!   trusted, loopback included (tests route to loopback), unless it names our own SMTP
//!   listener.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;

/// The future a [`Resolver`] method returns.
pub(crate) type Lookup<'a, T> = Pin<Box<dyn Future<Output = Result<T, DnsError>> + Send + 'a>>;

/// What an MX query said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MxAnswer {
    /// The records: (preference, exchange). The exchange `.` (or empty) is the root.
    Records(Vec<(u16, String)>),
    /// The domain exists but has no MX record.
    NoRecords,
}

/// Why a lookup failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum DnsError {
    /// The name does not exist (NXDOMAIN): permanent.
    NoDomain,
    /// Anything else (timeouts, SERVFAIL): try again later.
    Temporary(String),
}

/// DNS as routing needs it.
pub(crate) trait Resolver: Send + Sync {
    /// The MX records of `domain`.
    fn mx<'a>(&'a self, domain: &'a str) -> Lookup<'a, MxAnswer>;
    /// The A and AAAA records of `host` (empty when it has none).
    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>>;
}

/// A host to connect to: its name (for TLS and the logs) and its addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Target {
    pub(crate) name: String,
    pub(crate) addrs: Vec<SocketAddr>,
}

/// How routing failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RouteError {
    /// For good: (enhanced status, text).
    Permanent((u8, u16, u16), String),
    /// For now: try again later.
    Temporary(String),
}

/// A static route: `DOMAIN=HOST:PORT[,HOST:PORT...]`, the hosts tried in order (like
/// MX hosts of increasing preference).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    pub(crate) domain: String,
    /// `(HOST, PORT)`, at least one.
    pub(crate) hosts: Vec<(String, u16)>,
}

impl Route {
    /// Parses `DOMAIN=HOST:PORT[,HOST:PORT...]` (a `HOST` may be `[v6]`).
    pub(crate) fn parse(text: &str) -> Result<Route, String> {
        let bad = || format!("--route {text:?}: write DOMAIN=HOST:PORT[,HOST:PORT...]");
        let (domain, list) = text.split_once('=').ok_or_else(bad)?;
        let mut hosts = Vec::new();
        for hostport in list.split(',') {
            let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
            let host = host
                .strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .unwrap_or(host);
            let port: u16 = port.parse().map_err(|_| bad())?;
            if host.is_empty() || port == 0 {
                return Err(bad());
            }
            hosts.push((host.to_owned(), port));
        }
        if domain.is_empty() {
            return Err(bad());
        }
        Ok(Route {
            domain: domain.to_ascii_lowercase(),
            hosts,
        })
    }

    /// The destination key (sessions are shared by everything routed the same way).
    pub(crate) fn key(&self) -> String {
        let hosts: Vec<String> = self
            .hosts
            .iter()
            .map(|(host, port)| format!("{host}:{port}"))
            .collect();
        hosts.join(",")
    }
}

/// The static route for `domain`, if any: exact first, then `*`.
pub(crate) fn static_route<'r>(routes: &'r [Route], domain: &str) -> Option<&'r Route> {
    routes
        .iter()
        .find(|r| r.domain.eq_ignore_ascii_case(domain))
        .or_else(|| routes.iter().find(|r| r.domain == "*"))
}

/// The destination key of a domain: the static route's `HOST:PORT`, else `mx:DOMAIN`.
pub(crate) fn destination_key(routes: &[Route], domain: &str) -> String {
    match static_route(routes, domain) {
        Some(route) => route.key(),
        None => format!("mx:{}", domain.to_ascii_lowercase()),
    }
}

/// What routing needs to know about this server.
#[derive(Clone, Debug, Default)]
pub(crate) struct Myself {
    /// Our hostname (as in EHLO), lowercased.
    pub(crate) hostname: String,
    /// Our SMTP listening addresses.
    pub(crate) listening: Vec<SocketAddr>,
}

impl Myself {
    fn is_self(&self, addr: SocketAddr) -> bool {
        self.listening
            .iter()
            .any(|l| l.port() == addr.port() && (l.ip() == addr.ip() || l.ip().is_unspecified()))
    }
}

/// A small xorshift generator for shuffling equal preferences (no cryptographic need).
pub(crate) struct Shuffle(u64);

impl Shuffle {
    pub(crate) fn new(seed: u64) -> Shuffle {
        Shuffle(seed | 1)
    }

    pub(crate) fn from_clock() -> Shuffle {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        Shuffle::new(nanos ^ u64::from(std::process::id()).rotate_left(32))
    }

    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n.max(1) as u64) as usize
    }

    /// Fisher-Yates.
    fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// The hosts to try for `domain`, in order.
pub(crate) async fn resolve(
    routes: &[Route],
    resolver: &dyn Resolver,
    myself: &Myself,
    domain: &str,
    shuffle: &mut Shuffle,
) -> Result<Vec<Target>, RouteError> {
    if let Some(route) = static_route(routes, domain) {
        let mut targets = Vec::with_capacity(route.hosts.len());
        let mut missing = Vec::new();
        for (host, port) in &route.hosts {
            let addrs: Vec<SocketAddr> = match host.parse::<IpAddr>() {
                Ok(ip) => vec![SocketAddr::new(ip, *port)],
                // A host whose lookup fails is skipped while another can be tried.
                Err(_) => match ips(resolver, host).await {
                    Ok(ips) => ips
                        .into_iter()
                        .map(|ip| SocketAddr::new(ip, *port))
                        .collect(),
                    Err(RouteError::Temporary(e) | RouteError::Permanent(_, e)) => {
                        missing.push(e);
                        continue;
                    }
                },
            };
            if addrs.is_empty() {
                missing.push(format!("the route's host {host} has no address"));
                continue;
            }
            targets.push(Target {
                name: host.clone(),
                addrs,
            });
        }
        if targets.is_empty() {
            return Err(RouteError::Temporary(missing.join("; ")));
        }
        if targets
            .iter()
            .all(|t| t.addrs.iter().all(|a| myself.is_self(*a)))
        {
            return Err(RouteError::Permanent(
                (5, 4, 6),
                format!("the route for {domain} leads back to this server"),
            ));
        }
        return Ok(targets);
    }
    // An address literal: user@[192.0.2.1].
    if let Some(literal) = domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        let literal = literal.strip_prefix("IPv6:").unwrap_or(literal);
        let ip: IpAddr = literal.parse().map_err(|_| {
            RouteError::Permanent((5, 1, 2), format!("bad address literal {domain}"))
        })?;
        return dns_targets(vec![(literal.to_owned(), vec![ip])], myself, domain);
    }
    let exchanges = match resolver.mx(domain).await {
        Ok(MxAnswer::Records(mut records)) => {
            let null = |(_, host): &(u16, String)| host.is_empty() || host == ".";
            if records.iter().any(null) {
                // RFC 7505: a null MX says the domain takes no mail. (More records
                // besides it are a broken zone; refusing is the safe reading.)
                return Err(RouteError::Permanent(
                    (5, 1, 10),
                    format!("{domain} does not accept mail (null MX)"),
                ));
            }
            records.sort_by_key(|(preference, _)| *preference);
            let mut ordered: Vec<(u16, String)> = Vec::with_capacity(records.len());
            let mut start = 0;
            while start < records.len() {
                let preference = records.get(start).map(|r| r.0).unwrap_or(0);
                let end = records
                    .iter()
                    .skip(start)
                    .position(|r| r.0 != preference)
                    .map_or(records.len(), |n| start + n);
                let mut group: Vec<(u16, String)> =
                    records.get(start..end).unwrap_or_default().to_vec();
                shuffle.shuffle(&mut group);
                ordered.extend(group);
                start = end;
            }
            let own = ordered.iter().find(|(_, host)| {
                host.trim_end_matches('.')
                    .eq_ignore_ascii_case(&myself.hostname)
            });
            if let Some(&(own_preference, _)) = own {
                ordered.retain(|(p, _)| *p < own_preference);
                if ordered.is_empty() {
                    return Err(RouteError::Permanent(
                        (5, 4, 6),
                        format!("mail for {domain} loops back to myself (MX)"),
                    ));
                }
            }
            ordered
                .into_iter()
                .map(|(_, host)| host.trim_end_matches('.').to_owned())
                .collect()
        }
        Ok(MxAnswer::NoRecords) => vec![domain.to_owned()],
        Err(DnsError::NoDomain) => {
            return Err(RouteError::Permanent(
                (5, 1, 2),
                format!("the domain {domain} does not exist"),
            ));
        }
        Err(DnsError::Temporary(e)) => {
            return Err(RouteError::Temporary(format!(
                "MX lookup for {domain}: {e}"
            )));
        }
    };
    let mut hosts = Vec::new();
    let mut last_error = None;
    for exchange in exchanges {
        match ips(resolver, &exchange).await {
            Ok(found) => hosts.push((exchange, found)),
            Err(e) => last_error = Some(e),
        }
    }
    if hosts.iter().all(|(_, ips)| ips.is_empty())
        && let Some(error) = last_error
    {
        return Err(error);
    }
    dns_targets(hosts, myself, domain)
}

/// Port 25 targets from DNS answers, without loopback, unspecified or our own addresses.
fn dns_targets(
    hosts: Vec<(String, Vec<IpAddr>)>,
    myself: &Myself,
    domain: &str,
) -> Result<Vec<Target>, RouteError> {
    let mut any_address = false;
    let mut targets = Vec::new();
    for (name, ips) in hosts {
        any_address |= !ips.is_empty();
        let addrs: Vec<SocketAddr> = ips
            .into_iter()
            .map(|ip| SocketAddr::new(ip, 25))
            .filter(|a| !a.ip().is_loopback() && !a.ip().is_unspecified() && !myself.is_self(*a))
            .collect();
        if !addrs.is_empty() {
            targets.push(Target { name, addrs });
        }
    }
    if targets.is_empty() {
        return Err(if any_address {
            RouteError::Permanent(
                (5, 4, 6),
                format!("mail for {domain} loops back to myself (loopback address)"),
            )
        } else {
            RouteError::Temporary(format!("no address found for the mail hosts of {domain}"))
        });
    }
    Ok(targets)
}

async fn ips(resolver: &dyn Resolver, host: &str) -> Result<Vec<IpAddr>, RouteError> {
    match resolver.ips(host).await {
        Ok(ips) => Ok(ips),
        Err(DnsError::NoDomain) => Ok(Vec::new()),
        Err(DnsError::Temporary(e)) => Err(RouteError::Temporary(format!(
            "address lookup for {host}: {e}"
        ))),
    }
}

/// The real resolver: hickory-resolver with the system's configuration
/// (`/etc/resolv.conf`), made on first use so that a server that never relays by MX does
/// not need a working DNS configuration.
pub(crate) struct HickoryResolver {
    inner: tokio::sync::OnceCell<Result<hickory_resolver::TokioResolver, String>>,
}

impl HickoryResolver {
    pub(crate) fn new() -> Arc<HickoryResolver> {
        Arc::new(HickoryResolver {
            inner: tokio::sync::OnceCell::new(),
        })
    }

    async fn get(&self) -> Result<&hickory_resolver::TokioResolver, DnsError> {
        let made = self
            .inner
            .get_or_init(|| async {
                hickory_resolver::TokioResolver::builder_tokio()
                    .map_err(|e| e.to_string())
                    .and_then(|b| b.build().map_err(|e| e.to_string()))
            })
            .await;
        made.as_ref()
            .map_err(|e| DnsError::Temporary(format!("no DNS resolver: {e}")))
    }
}

fn dns_error(e: hickory_resolver::net::NetError) -> DnsError {
    if e.is_nx_domain() {
        DnsError::NoDomain
    } else {
        DnsError::Temporary(e.to_string())
    }
}

/// A fully qualified name, so that no search domain is appended.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

impl Resolver for HickoryResolver {
    fn mx<'a>(&'a self, domain: &'a str) -> Lookup<'a, MxAnswer> {
        Box::pin(async move {
            use hickory_resolver::proto::rr::RData;
            let resolver = self.get().await?;
            match resolver.mx_lookup(fqdn(domain)).await {
                Ok(lookup) => {
                    let records: Vec<(u16, String)> = lookup
                        .answers()
                        .iter()
                        .filter_map(|record| match &record.data {
                            RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                            _ => None,
                        })
                        .collect();
                    Ok(if records.is_empty() {
                        MxAnswer::NoRecords
                    } else {
                        MxAnswer::Records(records)
                    })
                }
                Err(e) if e.is_no_records_found() && !e.is_nx_domain() => Ok(MxAnswer::NoRecords),
                Err(e) => Err(dns_error(e)),
            }
        })
    }

    fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>> {
        Box::pin(async move {
            let answer = match self.get().await {
                Ok(resolver) => match resolver.lookup_ip(fqdn(host)).await {
                    Ok(lookup) => Ok(lookup.iter().collect()),
                    Err(e) if e.is_no_records_found() && !e.is_nx_domain() => Ok(Vec::new()),
                    Err(e) => Err(dns_error(e)),
                },
                Err(e) => Err(e),
            };
            match answer {
                Ok(ips) if !ips.is_empty() => Ok(ips),
                // Names the DNS does not know may still be in /etc/hosts (a smart host
                // named in --route): ask the system's resolver too.
                other => match tokio::net::lookup_host((host, 0)).await {
                    Ok(found) => {
                        let ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
                        if ips.is_empty() { other } else { Ok(ips) }
                    }
                    Err(_) => other,
                },
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A resolver answering from tables.
    #[derive(Default)]
    pub(crate) struct FakeResolver {
        pub(crate) mx: HashMap<String, Result<MxAnswer, DnsError>>,
        pub(crate) ips: HashMap<String, Vec<IpAddr>>,
    }

    impl Resolver for FakeResolver {
        fn mx<'a>(&'a self, domain: &'a str) -> Lookup<'a, MxAnswer> {
            let answer = self
                .mx
                .get(domain)
                .cloned()
                .unwrap_or(Err(DnsError::NoDomain));
            Box::pin(async move { answer })
        }
        fn ips<'a>(&'a self, host: &'a str) -> Lookup<'a, Vec<IpAddr>> {
            let answer = self.ips.get(host).cloned().ok_or(DnsError::NoDomain);
            Box::pin(async move { answer })
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn me() -> Myself {
        Myself {
            hostname: "mx.self.test".into(),
            listening: vec!["127.0.0.1:2525".parse().unwrap()],
        }
    }

    fn names(targets: &[Target]) -> Vec<&str> {
        targets.iter().map(|t| t.name.as_str()).collect()
    }

    fn mx(records: &[(u16, &str)]) -> Result<MxAnswer, DnsError> {
        Ok(MxAnswer::Records(
            records.iter().map(|(p, h)| (*p, h.to_string())).collect(),
        ))
    }

    #[test]
    fn routes_parse_and_match_exact_then_star() {
        let routes = vec![
            Route::parse("*=smart.test:2526").unwrap(),
            Route::parse("Example.ORG=127.0.0.1:2600").unwrap(),
            Route::parse("v6.test=[::1]:25").unwrap(),
        ];
        let hosts = |domain: &str| static_route(&routes, domain).unwrap().hosts.clone();
        assert_eq!(hosts("example.org"), [("127.0.0.1".to_owned(), 2600)]);
        assert_eq!(hosts("other.test"), [("smart.test".to_owned(), 2526)]);
        assert_eq!(hosts("v6.test"), [("::1".to_owned(), 25)]);
        assert_eq!(destination_key(&routes[1..2], "x.test"), "mx:x.test");
        let two = Route::parse("b.test=10.0.0.1:25,[::1]:2525").unwrap();
        assert_eq!(
            two.hosts,
            [("10.0.0.1".to_owned(), 25), ("::1".to_owned(), 2525)]
        );
        assert_eq!(two.key(), "10.0.0.1:25,::1:2525");
        for bad in [
            "x.test",
            "x=y",
            "x=y:0",
            "=h:1",
            "x=:25",
            "x=h:port",
            "x=h:25,",
            "x=h:25,:26",
        ] {
            assert!(Route::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn static_routes_use_ips_as_given_and_resolve_names() {
        let fake = FakeResolver {
            ips: HashMap::from([("smart.test".to_string(), vec![ip("192.0.2.7")])]),
            ..FakeResolver::default()
        };
        let mut rng = Shuffle::new(1);
        let routes = vec![Route::parse("a.test=127.0.0.1:2600").unwrap()];
        let t = block_on(resolve(&routes, &fake, &me(), "a.test", &mut rng)).unwrap();
        assert_eq!(t[0].addrs, vec!["127.0.0.1:2600".parse().unwrap()]);
        let routes = vec![Route::parse("*=smart.test:587").unwrap()];
        let t = block_on(resolve(&routes, &fake, &me(), "b.test", &mut rng)).unwrap();
        assert_eq!(t[0].addrs, vec!["192.0.2.7:587".parse().unwrap()]);
        // A route to our own listener is a loop.
        let routes = vec![Route::parse("*=127.0.0.1:2525").unwrap()];
        assert!(matches!(
            block_on(resolve(&routes, &fake, &me(), "c.test", &mut rng)),
            Err(RouteError::Permanent((5, 4, 6), _))
        ));
        // Several hosts: in the order given; one without an address is left out while
        // another remains; none at all is a transient failure.
        let routes =
            vec![Route::parse("d.test=nowhere.test:25,smart.test:26,192.0.2.9:27").unwrap()];
        let t = block_on(resolve(&routes, &fake, &me(), "d.test", &mut rng)).unwrap();
        let addrs: Vec<SocketAddr> = t.iter().flat_map(|t| t.addrs.clone()).collect();
        assert_eq!(
            addrs,
            [
                "192.0.2.7:26".parse().unwrap(),
                "192.0.2.9:27".parse().unwrap()
            ]
        );
        let routes = vec![Route::parse("e.test=nowhere.test:25,gone.test:25").unwrap()];
        assert!(matches!(
            block_on(resolve(&routes, &fake, &me(), "e.test", &mut rng)),
            Err(RouteError::Temporary(_))
        ));
        // A loop only when every host is ourselves.
        let routes = vec![Route::parse("f.test=127.0.0.1:2525,192.0.2.9:25").unwrap()];
        assert!(block_on(resolve(&routes, &fake, &me(), "f.test", &mut rng)).is_ok());
    }

    #[test]
    fn mx_in_preference_order_with_equal_preferences_shuffled() {
        let mut fake = FakeResolver::default();
        fake.mx.insert(
            "d.test".into(),
            mx(&[
                (20, "c.d.test."),
                (10, "a.d.test."),
                (10, "b.d.test."),
                (30, "z.d.test."),
            ]),
        );
        for host in ["a.d.test", "b.d.test", "c.d.test", "z.d.test"] {
            fake.ips
                .insert(host.into(), vec![ip("192.0.2.1"), ip("2001:db8::1")]);
        }
        let mut orders = std::collections::HashSet::new();
        let mut rng = Shuffle::new(7);
        for _ in 0..64 {
            let t = block_on(resolve(&[], &fake, &me(), "d.test", &mut rng)).unwrap();
            let n = names(&t);
            assert_eq!(&n[2..], ["c.d.test", "z.d.test"]);
            orders.insert(n[0].to_owned());
            assert_eq!(t[0].addrs[0], "192.0.2.1:25".parse().unwrap());
            assert_eq!(t[0].addrs[1], "[2001:db8::1]:25".parse().unwrap());
        }
        assert_eq!(
            orders.len(),
            2,
            "both preference-10 hosts come first sometimes"
        );
    }

    #[test]
    fn no_mx_falls_back_to_the_domain_itself() {
        let mut fake = FakeResolver::default();
        fake.mx.insert("e.test".into(), Ok(MxAnswer::NoRecords));
        fake.ips.insert("e.test".into(), vec![ip("198.51.100.4")]);
        let t = block_on(resolve(&[], &fake, &me(), "e.test", &mut Shuffle::new(1))).unwrap();
        assert_eq!(names(&t), ["e.test"]);
        assert_eq!(t[0].addrs, vec!["198.51.100.4:25".parse().unwrap()]);
    }

    #[test]
    fn null_mx_and_missing_domains_are_permanent_dns_trouble_is_not() {
        let mut fake = FakeResolver::default();
        fake.mx.insert("null.test".into(), mx(&[(0, ".")]));
        fake.mx.insert(
            "flaky.test".into(),
            Err(DnsError::Temporary("SERVFAIL".into())),
        );
        fake.mx
            .insert("noaddr.test".into(), mx(&[(10, "gone.noaddr.test")]));
        let mut rng = Shuffle::new(1);
        let run = |d: &str, rng: &mut Shuffle| block_on(resolve(&[], &fake, &me(), d, rng));
        assert!(matches!(
            run("null.test", &mut rng),
            Err(RouteError::Permanent((5, 1, 10), _))
        ));
        assert!(matches!(
            run("nx.test", &mut rng),
            Err(RouteError::Permanent((5, 1, 2), _))
        ));
        assert!(matches!(
            run("flaky.test", &mut rng),
            Err(RouteError::Temporary(_))
        ));
        assert!(matches!(
            run("noaddr.test", &mut rng),
            Err(RouteError::Temporary(_))
        ));
    }

    #[test]
    fn loops_to_ourselves_are_cut() {
        let mut fake = FakeResolver::default();
        fake.mx.insert(
            "f.test".into(),
            mx(&[
                (10, "backup.f.test"),
                (20, "MX.self.test."),
                (30, "later.f.test"),
            ]),
        );
        fake.mx.insert("g.test".into(), mx(&[(10, "mx.self.test")]));
        fake.mx.insert("h.test".into(), mx(&[(10, "lo.h.test")]));
        fake.ips
            .insert("backup.f.test".into(), vec![ip("192.0.2.9")]);
        fake.ips
            .insert("later.f.test".into(), vec![ip("192.0.2.10")]);
        fake.ips
            .insert("lo.h.test".into(), vec![ip("127.0.0.1"), ip("::1")]);
        let mut rng = Shuffle::new(1);
        let t = block_on(resolve(&[], &fake, &me(), "f.test", &mut rng)).unwrap();
        assert_eq!(names(&t), ["backup.f.test"]);
        assert!(matches!(
            block_on(resolve(&[], &fake, &me(), "g.test", &mut rng)),
            Err(RouteError::Permanent((5, 4, 6), _))
        ));
        assert!(matches!(
            block_on(resolve(&[], &fake, &me(), "h.test", &mut rng)),
            Err(RouteError::Permanent((5, 4, 6), _))
        ));
    }

    #[test]
    fn address_literals_go_straight_to_the_address() {
        let fake = FakeResolver::default();
        let t = block_on(resolve(
            &[],
            &fake,
            &me(),
            "[192.0.2.44]",
            &mut Shuffle::new(1),
        ))
        .unwrap();
        assert_eq!(t[0].addrs, vec!["192.0.2.44:25".parse().unwrap()]);
        assert!(
            block_on(resolve(
                &[],
                &fake,
                &me(),
                "[nonsense]",
                &mut Shuffle::new(1)
            ))
            .is_err()
        );
    }
}
