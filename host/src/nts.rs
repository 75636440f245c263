//! NTS (RFC 8915) through the SNTP client component's `netkit:diag/nts-client`,
//! one instance per step, each granted exactly what that step needs:
//!
//! 1. the key exchange, granted `tcp-connect://KE-IP:PORT`;
//! 2. the negotiated NTP server checked (`nts_proto::server::check`): the KE
//!    host at any port it names, another host only if the user allowed it;
//!    a refused one is recorded in the audit as a denied send and never reached;
//! 3. the authenticated query, granted `udp://NTP-IP:PORT`.
//!
//! A host that lives long (watch) keeps the [`NtsSession`] a run returns and
//! hands it to the next, which then costs one UDP exchange; a key exchange
//! is made again when the cookies run out or the server refuses them (NAK).

use crate::policy::{GrantKind, NetGrant, ResolvedPolicy};
use crate::runtime::Sandbox;
use crate::sntp::{
    Family, NtsInfo, NtsOptions, NtsSession, QueryOptions, Report, SntpClient, SntpError,
};
use anyhow::Result;
use nts_proto::server::Allowed;
use std::net::{IpAddr, SocketAddr};

/// What to ask.
#[derive(Debug, Clone)]
pub struct NtsRequest {
    /// The KE server as the user named it (verified against its certificate).
    pub ke_name: String,
    /// Its address.
    pub ke_addr: SocketAddr,
    /// Trust roots, name, KE timeout.
    pub options: NtsOptions,
    /// NTP servers on other hosts the key exchange may name.
    pub allowed: Vec<Allowed>,
    /// The query.
    pub query: QueryOptions,
    /// The whole run's time (watch's `timeout`): a query after a key exchange
    /// gets what is left of it. `None`: each step has its own timeout.
    pub budget: Option<std::time::Duration>,
}

/// What one run did.
#[derive(Debug)]
pub struct NtsRun {
    /// The authenticated report, or why there is none.
    pub outcome: Result<Report, SntpError>,
    /// How the report was authenticated (with every report).
    pub nts: Option<NtsInfo>,
    /// The session to hand to the next run (none when no cookie is left).
    pub session: Option<NtsSession>,
    /// Key exchanges this run made (0: cookies kept from an earlier run served).
    pub key_exchanges: u32,
    /// Each policy granted, in order (KE, then NTP).
    pub granted: Vec<ResolvedPolicy>,
}

/// Grants for a key exchange with exactly `ke`: `tcp-connect://` it.
pub fn ke_policy(ke: SocketAddr) -> ResolvedPolicy {
    ResolvedPolicy::new(vec![NetGrant::exact(GrantKind::TcpConnect, ke)])
}

/// Run `request` with `client` under `base`'s audit and limits, first with
/// `kept` when it still has cookies.
pub async fn run(
    client: &SntpClient,
    base: &Sandbox,
    request: &NtsRequest,
    kept: Option<NtsSession>,
) -> Result<NtsRun> {
    let start = std::time::Instant::now();
    let mut run = NtsRun {
        outcome: Err(SntpError::KeyExchange("not run".into())),
        nts: None,
        session: None,
        key_exchanges: 0,
        granted: Vec::new(),
    };
    if let Some(session) = kept.filter(|s| !s.cookies.is_empty()) {
        query(client, base, request, session, &mut run).await?;
        // Refused cookies (a NAK) or none left: a new key exchange, now.
        let retry = run.outcome.is_err() && run.session.is_none();
        if !retry {
            return Ok(run);
        }
    }
    let policy = ke_policy(request.ke_addr).naming(Some(&request.ke_name), request.ke_addr.ip());
    run.granted.push(policy.clone());
    let ke = base.with_policy(policy);
    run.key_exchanges += 1;
    let mut session = match client
        .key_exchange_in(&ke, &request.ke_name, request.ke_addr, &request.options)
        .await?
    {
        Ok(s) => s,
        Err(e) => {
            run.outcome = Err(e);
            run.session = None;
            return Ok(run);
        }
    };
    if let Err(why) = nts_proto::server::check(
        &request.ke_name,
        request.ke_addr.ip(),
        &session.ntp_server,
        session.ntp_port,
        &request.allowed,
    ) {
        // Never reached, but shown: the audit names the refused server.
        match session.ntp_server.parse::<IpAddr>() {
            Ok(ip) => {
                base.audit()
                    .record_check("udp-send", SocketAddr::new(ip, session.ntp_port), None)
            }
            Err(_) => base
                .audit()
                .record("lookup", session.ntp_server.clone(), None),
        }
        run.outcome = Err(SntpError::Denied(why));
        run.session = None;
        return Ok(run);
    }
    if session.ntp_server.parse::<IpAddr>().is_err() {
        match lookup(&session.ntp_server, session.ntp_port, request.query.family).await {
            Ok(ip) => session.ntp_server = ip.to_string(),
            Err(e) => {
                run.outcome = Err(SntpError::NameNotFound(e));
                run.session = None;
                return Ok(run);
            }
        }
    }
    let mut request = request.clone();
    if let Some(budget) = request.budget {
        let left = budget.saturating_sub(start.elapsed()).as_millis().max(1) as u64;
        request.query.timeout_ms = request.query.timeout_ms.min(left);
    }
    query(client, base, &request, session, &mut run).await?;
    Ok(run)
}

/// The authenticated query with `session` (whose NTP server is an IP),
/// granted exactly that server.
async fn query(
    client: &SntpClient,
    base: &Sandbox,
    request: &NtsRequest,
    mut session: NtsSession,
    run: &mut NtsRun,
) -> Result<()> {
    let ip: IpAddr = session.ntp_server.parse()?;
    let ntp = SocketAddr::new(ip, session.ntp_port);
    let policy = crate::sntp::client_policy(ntp);
    run.granted.push(policy.clone());
    let result = client
        .nts_query_in(&base.with_policy(policy), &session, &request.query)
        .await?;
    run.outcome = result.outcome;
    run.nts = result.nts;
    session.cookies = result.cookies;
    // The next query with this session makes no key exchange.
    session.ke_ns = 0;
    run.session = (!session.cookies.is_empty()).then_some(session);
    Ok(())
}

/// A negotiated NTP server's name, resolved by the host (the check above
/// already allowed it by name).
async fn lookup(name: &str, port: u16, family: Family) -> Result<IpAddr, String> {
    let all = tokio::net::lookup_host((name, port))
        .await
        .map_err(|e| format!("the negotiated NTP server {name:?} does not resolve: {e}"))?;
    all.map(|a| a.ip())
        .find(|ip| match family {
            Family::Any => true,
            Family::Ipv4 => ip.is_ipv4(),
            Family::Ipv6 => ip.is_ipv6(),
        })
        .ok_or_else(|| format!("the negotiated NTP server {name:?} has no address of that family"))
}

/// The NTS part of a report in words (the text the component prints too).
pub fn summary(n: &crate::sntp::NtsInfo) -> String {
    nts_proto::text::summary(
        &n.ke_server,
        &n.ntp_server,
        &n.aead,
        n.cookies_left,
        n.ke_ns,
    )
}
