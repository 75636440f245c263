//! sntp-proto's [`Exchange`] with NTS (RFC 8915 §5): every request carries a
//! fresh unique identifier, a cookie and an authenticator; every reply must
//! echo a waiting identifier and verify under the server-to-client key before
//! sntp-proto sees it. Anything else is ignored like a spoofed reply (the real
//! one may still come) and named only if nothing valid does. The fresh cookies
//! a reply seals go into the [`CookieJar`], which the caller may keep for the
//! next exchange with the same keys.

use crate::protect::{self, Rejection};
use crate::{Aead, ef};
use sntp_proto::{Action, Exchange, ExchangeError, NtpTimestamp, Outcome};
use std::collections::VecDeque;
use std::fmt;

/// Cookies a client keeps (RFC 8915 §5.7 suggests eight).
pub const MAX_COOKIES: usize = 8;

/// Cookies not yet used, oldest first; each is sent once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: VecDeque<Vec<u8>>,
}

impl CookieJar {
    /// A jar holding `cookies` (at most [`MAX_COOKIES`] are kept).
    pub fn new(cookies: Vec<Vec<u8>>) -> Self {
        let mut jar = Self::default();
        for c in cookies {
            jar.add(c);
        }
        jar
    }

    /// Keep a fresh cookie, unless the jar is full or it is empty.
    pub fn add(&mut self, cookie: Vec<u8>) {
        if !cookie.is_empty() && self.cookies.len() < MAX_COOKIES {
            self.cookies.push_back(cookie);
        }
    }

    /// Take the oldest cookie.
    pub fn take(&mut self) -> Option<Vec<u8>> {
        self.cookies.pop_front()
    }

    /// Cookies left.
    pub fn len(&self) -> usize {
        self.cookies.len()
    }

    /// Whether none is left.
    pub fn is_empty(&self) -> bool {
        self.cookies.is_empty()
    }

    /// Drop them all (after a NAK: they are no good).
    pub fn clear(&mut self) {
        self.cookies.clear();
    }

    /// The cookies left, oldest first.
    pub fn to_vec(&self) -> Vec<Vec<u8>> {
        self.cookies.iter().cloned().collect()
    }
}

/// A successful authenticated exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NtsOutcome {
    /// sntp-proto's outcome: every sample in it was authenticated.
    pub outcome: Outcome,
}

/// Why an authenticated exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NtsError {
    /// sntp-proto's failure (a timeout with nothing rejected, an authenticated
    /// Kiss-o'-Death, a bad authenticated reply).
    Exchange(ExchangeError),
    /// Nothing valid came, and this is why the last reply was refused (an
    /// NTS NAK wins over the others: it asks for a new key exchange).
    Rejected(Rejection),
    /// Every cookie was used before a reply came: key exchange again.
    NoCookies,
}

impl NtsError {
    /// One line naming `server`.
    pub fn message(&self, server: &str) -> String {
        match self {
            NtsError::Exchange(e) => e.message(server),
            NtsError::Rejected(r) => format!("from {server}: {r}"),
            NtsError::NoCookies => format!(
                "no NTS cookies left for {server} before a valid reply came; key exchange again"
            ),
        }
    }
}

impl fmt::Display for NtsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("the server"))
    }
}

/// One authenticated SNTP exchange (see the module docs). The loop is
/// sntp-proto's: [`NtsExchange::next`], [`NtsExchange::request`] on
/// [`Action::Send`], [`NtsExchange::receive`] for each datagram.
#[derive(Debug)]
pub struct NtsExchange {
    inner: Exchange,
    c2s: Aead,
    s2c: Aead,
    jar: CookieJar,
    /// Unique identifiers of the requests sent (a reply must echo one).
    waiting: Vec<Vec<u8>>,
    nak: bool,
    last_rejection: Option<Rejection>,
    finished: Option<Result<NtsOutcome, NtsError>>,
}

impl NtsExchange {
    /// Wrap `inner` with the keys and cookies of a key exchange.
    pub fn new(inner: Exchange, c2s: Aead, s2c: Aead, jar: CookieJar) -> Self {
        Self {
            inner,
            c2s,
            s2c,
            jar,
            waiting: Vec::new(),
            nak: false,
            last_rejection: None,
            finished: None,
        }
    }

    /// The cookies left (fresh ones from replies included).
    pub fn cookies(&self) -> &CookieJar {
        &self.jar
    }

    /// What to do at monotonic instant `now` (ns); as sntp-proto's, with NTS's failures.
    pub fn next(&mut self, now: u64) -> Action<NtsOutcome, NtsError> {
        if let Some(done) = &self.finished {
            return Action::Done(done.clone());
        }
        let done = match self.inner.next(now) {
            Action::Send if self.jar.is_empty() => Err(NtsError::NoCookies),
            Action::Send => return Action::Send,
            Action::WaitUntil(t) => return Action::WaitUntil(t),
            Action::Done(Ok(outcome)) => Ok(NtsOutcome { outcome }),
            Action::Done(Err(ExchangeError::Timeout { .. })) if self.nak => {
                Err(NtsError::Rejected(Rejection::Nak))
            }
            Action::Done(Err(e @ ExchangeError::Timeout { .. })) => {
                Err(match self.last_rejection.clone() {
                    Some(r) => NtsError::Rejected(r),
                    None => NtsError::Exchange(e),
                })
            }
            Action::Done(Err(e)) => Err(NtsError::Exchange(e)),
        };
        if matches!(done, Err(NtsError::Rejected(Rejection::Nak))) {
            // RFC 8915 §5.7: the cookies are no good; a new key exchange gets more.
            self.jar.clear();
        }
        self.finished = Some(done.clone());
        Action::Done(done)
    }

    /// The request to send now. `nonce`, `t1`, `now` as sntp-proto's;
    /// `unique_id` (32 random bytes) and `auth_nonce` (16 random bytes) fresh
    /// for every request. Call only after [`Action::Send`] (which promises a cookie).
    pub fn request(
        &mut self,
        nonce: NtpTimestamp,
        t1: NtpTimestamp,
        now: u64,
        unique_id: [u8; ef::UNIQUE_ID_LEN],
        auth_nonce: [u8; ef::NONCE_LEN],
    ) -> Vec<u8> {
        let header = self.inner.request(nonce, t1, now);
        let cookie = self.jar.take().unwrap_or_default();
        // Ask for enough to fill the jar again once this reply comes.
        let placeholders = MAX_COOKIES.saturating_sub(self.jar.len() + 1);
        self.waiting.push(unique_id.to_vec());
        protect::request(
            &header,
            &unique_id,
            &cookie,
            placeholders,
            &self.c2s,
            &auth_nonce,
        )
    }

    /// A datagram arrived (arguments as sntp-proto's `receive`). Only a reply
    /// that echoes a waiting identifier and verifies reaches sntp-proto.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        from_server: bool,
        t4: NtpTimestamp,
        now_unix_secs: u64,
        now: u64,
    ) {
        if !from_server || self.finished.is_some() {
            return;
        }
        let uid = match protect::unique_id(bytes) {
            Ok(Some(u)) if self.waiting.iter().any(|w| w == u) => u.to_vec(),
            Ok(_) => return self.reject(Rejection::UniqueIdMismatch),
            Err(r) => return self.reject(r),
        };
        if protect::is_nak(bytes) {
            // Unauthenticated by nature: wait on for a valid reply (§5.7).
            self.nak = true;
            return;
        }
        match protect::open_reply(bytes, &uid, &self.s2c) {
            Ok(cookies) => {
                for c in cookies {
                    self.jar.add(c);
                }
                self.waiting.retain(|w| *w != uid);
                self.inner.receive(bytes, true, t4, now_unix_secs, now);
            }
            Err(r) => self.reject(r),
        }
    }

    fn reject(&mut self, r: Rejection) {
        self.last_rejection = Some(r);
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
