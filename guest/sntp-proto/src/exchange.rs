//! The SNTP exchange policy as a sans-IO state machine, in the manner of ntpd-rs's
//! `ntp-proto` source: the caller owns the socket, the clocks and the randomness;
//! this decides when to send, how long to wait, which reply counts and when to stop.
//!
//! Loop: call [`Exchange::next`] with the monotonic clock. On [`Action::Send`],
//! pick a random nonce, read the wall clock (T1), send the bytes
//! [`Exchange::request`] returns. On [`Action::WaitUntil`], wait for a datagram
//! until that instant and hand any to [`Exchange::receive`]. [`Action::Done`]
//! carries the outcome.
//!
//! Policy (RFC 4330 §10): each sample sends up to `tries` requests spread evenly
//! over its timeout; the first valid reply to any of them ends the sample (a late
//! reply to an earlier try counts, with that try's send time); replies from
//! elsewhere or to no request of ours are ignored. Samples are 1 s apart unless
//! `burst`. The lowest-delay sample wins. Kiss-o'-Death and an unsynchronised
//! server end the whole exchange at once: stop asking that server.

use crate::client::{Reply, ReplyError, Sample, client_request, validate_reply};
use crate::packet::PACKET_LEN;
use crate::time::NtpTimestamp;
use std::fmt;

/// Pause between samples unless `burst` (RFC 4330 §10: be gentle).
pub const SAMPLE_SPACING_NS: u64 = 1_000_000_000;

/// How to query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExchangeConfig {
    /// Give up on one sample after this long without a valid reply (ns, ≥ 1).
    pub timeout_ns: u64,
    /// Requests per sample, evenly spread over the timeout (≥ 1).
    pub tries: u32,
    /// Samples to take; the lowest delay wins (≥ 1).
    pub samples: u32,
    /// Take the samples back to back instead of [`SAMPLE_SPACING_NS`] apart.
    pub burst: bool,
}

impl ExchangeConfig {
    /// Check the values; the message names the bad one and the valid range.
    pub fn validate(&self) -> Result<(), String> {
        if self.timeout_ns == 0 {
            return Err("timeout must be more than 0".into());
        }
        if self.tries == 0 {
            return Err("tries must be at least 1".into());
        }
        if self.samples == 0 {
            return Err("samples must be at least 1".into());
        }
        Ok(())
    }
}

/// What the caller should do next (generic so that a wrapper such as NTS's
/// can end with its own outcome and error).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action<T = Outcome, E = ExchangeError> {
    /// Send a request now: call [`Exchange::request`] and send what it returns.
    Send,
    /// Wait for a datagram until this monotonic instant (ns), then call `next` again.
    WaitUntil(u64),
    /// Finished.
    Done(Result<T, E>),
}

/// A successful exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The sample with the lowest delay.
    pub best: Sample,
    /// Samples that got a valid reply.
    pub good: u32,
}

/// Why an exchange failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExchangeError {
    /// No valid reply before the (last failing) sample's deadline.
    Timeout {
        /// The per-sample timeout.
        timeout_ns: u64,
        /// Requests sent in that sample.
        requests: u32,
    },
    /// The server sent Kiss-o'-Death with this code.
    KissOfDeath(String),
    /// The server says its clock is not synchronised.
    Unsynchronized,
    /// A reply failed a check (parse, mode, version, zero transmit, root values).
    BadReply(ReplyError),
}

impl ExchangeError {
    /// One line naming `server`, shared by every front end.
    pub fn message(&self, server: &str) -> String {
        match self {
            ExchangeError::Timeout {
                timeout_ns,
                requests,
            } => format!(
                "no valid reply from {server} within {} ({requests} requests sent)",
                crate::display::duration_text(*timeout_ns)
            ),
            ExchangeError::KissOfDeath(code) => kiss_of_death_message(code),
            ExchangeError::Unsynchronized => {
                format!("{server} says its clock is not synchronised")
            }
            ExchangeError::BadReply(e) => format!("from {server}: {e}"),
        }
    }
}

/// The one line for a Kiss-o'-Death code.
pub fn kiss_of_death_message(code: &str) -> String {
    format!("server sent kiss-o'-death {code}; stop asking it")
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message("the server"))
    }
}

#[derive(Debug)]
enum Phase {
    /// Between samples: the next one starts at this instant.
    Pause {
        until: u64,
    },
    /// A sample is under way.
    Sampling {
        deadline: u64,
        next_send: u64,
        /// (nonce, T1) of every request of this sample.
        sent: Vec<(NtpTimestamp, NtpTimestamp)>,
    },
    Finished(Result<Outcome, ExchangeError>),
}

/// One SNTP exchange with one server (see the module docs).
#[derive(Debug)]
pub struct Exchange {
    config: ExchangeConfig,
    phase: Phase,
    samples_done: u32,
    best: Option<Sample>,
    good: u32,
    last_error: Option<ExchangeError>,
}

impl Exchange {
    /// A new exchange whose first sample starts at the first call of [`Exchange::next`].
    pub fn new(config: ExchangeConfig) -> Result<Self, String> {
        config.validate()?;
        Ok(Self {
            config,
            phase: Phase::Pause { until: 0 },
            samples_done: 0,
            best: None,
            good: 0,
            last_error: None,
        })
    }

    /// What to do at monotonic instant `now` (ns).
    pub fn next(&mut self, now: u64) -> Action {
        if let Phase::Pause { until } = self.phase {
            if now < until {
                return Action::WaitUntil(until);
            }
            self.phase = Phase::Sampling {
                deadline: now.saturating_add(self.config.timeout_ns),
                next_send: now,
                sent: Vec::new(),
            };
        }
        let tries = self.config.tries as usize;
        let (deadline, next_send, requests) = match &self.phase {
            Phase::Finished(outcome) => return Action::Done(outcome.clone()),
            Phase::Sampling {
                deadline,
                next_send,
                sent,
            } => (*deadline, *next_send, sent.len()),
            Phase::Pause { .. } => unreachable!("a pause that is due became a sample above"),
        };
        if now >= deadline {
            self.end_sample(
                now,
                Err(ExchangeError::Timeout {
                    timeout_ns: self.config.timeout_ns,
                    requests: requests as u32,
                }),
            );
            return self.next(now);
        }
        if requests < tries && now >= next_send {
            return Action::Send;
        }
        Action::WaitUntil(if requests < tries {
            next_send.min(deadline)
        } else {
            deadline
        })
    }

    /// The request to send now: `nonce` goes in its transmit timestamp (make it
    /// random), `t1` is the wall clock as it is sent, `now` the monotonic clock.
    pub fn request(&mut self, nonce: NtpTimestamp, t1: NtpTimestamp, now: u64) -> [u8; PACKET_LEN] {
        let spacing = self.config.timeout_ns / u64::from(self.config.tries);
        if let Phase::Sampling {
            next_send, sent, ..
        } = &mut self.phase
        {
            sent.push((nonce, t1));
            *next_send = now.saturating_add(spacing.max(1));
        }
        client_request(nonce)
    }

    /// A datagram arrived: `from_server` says whether it came from the server's
    /// address and port (the caller checks that), `t4` is the wall clock at arrival,
    /// `now_unix_secs` places the server's time in the right NTP era, `now` is the
    /// monotonic clock. Anything not answering this sample is ignored.
    pub fn receive(
        &mut self,
        bytes: &[u8],
        from_server: bool,
        t4: NtpTimestamp,
        now_unix_secs: u64,
        now: u64,
    ) {
        let Phase::Sampling { sent, .. } = &self.phase else {
            return;
        };
        if !from_server {
            return;
        }
        let mut verdict = None;
        for &(nonce, t1) in sent {
            match validate_reply(Reply {
                bytes,
                nonce,
                t1,
                t4,
                now_unix_secs,
            }) {
                Err(ReplyError::OriginMismatch) => continue,
                Ok(sample) => verdict = Some(Ok(sample)),
                Err(ReplyError::KissOfDeath(code)) => {
                    verdict = Some(Err(ExchangeError::KissOfDeath(code)))
                }
                Err(ReplyError::Unsynchronized) => {
                    verdict = Some(Err(ExchangeError::Unsynchronized))
                }
                Err(e) => verdict = Some(Err(ExchangeError::BadReply(e))),
            }
            break;
        }
        if let Some(v) = verdict {
            self.end_sample(now, v);
        }
    }

    fn end_sample(&mut self, now: u64, result: Result<Sample, ExchangeError>) {
        self.samples_done += 1;
        match result {
            Ok(s) => {
                self.good += 1;
                if self.best.as_ref().is_none_or(|b| s.delay_ns < b.delay_ns) {
                    self.best = Some(s);
                }
            }
            Err(e @ (ExchangeError::KissOfDeath(_) | ExchangeError::Unsynchronized)) => {
                self.phase = Phase::Finished(Err(e));
                return;
            }
            Err(e) => self.last_error = Some(e),
        }
        if self.samples_done >= self.config.samples {
            let outcome = match self.best.take() {
                Some(best) => Ok(Outcome {
                    best,
                    good: self.good,
                }),
                None => Err(self.last_error.take().unwrap_or(ExchangeError::Timeout {
                    timeout_ns: self.config.timeout_ns,
                    requests: 0,
                })),
            };
            self.phase = Phase::Finished(outcome);
        } else {
            let gap = if self.config.burst {
                0
            } else {
                SAMPLE_SPACING_NS
            };
            self.phase = Phase::Pause {
                until: now.saturating_add(gap),
            };
        }
    }
}

#[cfg(test)]
#[path = "exchange_tests.rs"]
mod tests;
