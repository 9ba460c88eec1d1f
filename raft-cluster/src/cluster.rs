//! Three replicas, a network, and a clock, driven round by round.

use std::collections::BTreeMap;

use raft::SnapshotStatus;
use raft::prelude::{Message, MessageType};
use trail_backfill::{Command, Timestamp};

use crate::codec::encode_entry;
use crate::network::{InFlight, NetStats, Network};
use crate::node::{Applied, Node, Observed};
use crate::{CLOCK_SKEW, EPOCH, NODE_IDS};

/// Three replicas, a network, and a clock.
pub struct Cluster {
    /// `nodes[i]` has Raft id `i + 1`.
    pub nodes: Vec<Node>,
    /// Rounds run so far (one Raft tick each, one second of simulated time).
    pub round: u64,
    /// The network's fault schedule (may be changed between rounds).
    pub network: Network,
    /// A node snapshots its scheduler and compacts its log every this many applied entries.
    pub compact_every: u64,
    /// What was applied, cluster-wide.
    pub observed: Observed,
    /// Network counters.
    pub net: NetStats,
    /// The request ids of the [`Command::HandleTimeout`] entries the leaders proposed on
    /// their own ([`Cluster::step`]), in order.
    pub timeout_requests: Vec<u64>,
    /// The `HandleTimeout` proposal in flight: (leader, its term, request id).
    pending_timeout: Option<(usize, u64, u64)>,
    in_flight: Vec<InFlight>,
    seq: u64,
    /// The highest `seq` delivered per link (from, to).
    delivered_seq: BTreeMap<(u64, u64), u64>,
    next_request: u64,
}

impl Cluster {
    /// Three fresh nodes, all voters, over `network`.
    pub fn new(network: Network, compact_every: u64) -> Self {
        Cluster {
            nodes: NODE_IDS.iter().map(|&id| Node::new(id)).collect(),
            round: 0,
            network,
            compact_every,
            observed: Observed::default(),
            net: NetStats::default(),
            timeout_requests: Vec::new(),
            pending_timeout: None,
            in_flight: Vec::new(),
            seq: 0,
            delivered_seq: BTreeMap::new(),
            next_request: 1,
        }
    }

    /// Node `i`'s own clock (only ever read when node `i` leads and proposes).
    pub fn local_clock(&self, i: usize) -> Timestamp {
        let secs = EPOCH as i64 + self.round as i64 + CLOCK_SKEW[i];
        Timestamp(secs as u64)
    }

    /// The node that leads: up, in the leader role, with the highest term (a deposed leader
    /// cut off from the others may still believe it leads).
    pub fn leader(&self) -> Option<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].is_leader())
            .max_by_key(|&i| self.nodes[i].term())
    }

    /// One round: deliver the messages due, tick every live node, handle every `Ready`; then
    /// the leader proposes [`Command::HandleTimeout`] if its clock has reached its scheduler's
    /// `poll_timeout()` ([`Cluster::propose_due_timeout`]).
    pub fn step(&mut self) {
        self.round += 1;
        let round = self.round;
        let (mut due, later): (Vec<_>, Vec<_>) =
            self.in_flight.drain(..).partition(|m| m.due <= round);
        self.in_flight = later;
        due.sort_by_key(|m| (m.due, m.seq));
        for InFlight { seq, message, .. } in due {
            let link = self
                .delivered_seq
                .entry((message.from, message.to))
                .or_default();
            if *link > seq {
                self.net.reordered += 1;
            }
            *link = (*link).max(seq);
            self.deliver(message);
        }
        for node in &mut self.nodes {
            if let Some(raft) = node.raft.as_mut() {
                raft.tick();
            }
        }
        self.pump();
        self.propose_due_timeout();
    }

    /// Time-driven changes go through the log like any request: when the leader's own clock
    /// has reached `poll_timeout()` of its scheduler, it proposes `HandleTimeout`, stamped with
    /// that clock. One proposal at a time: the next waits until the leader has applied this
    /// one (its scheduler then shows the next due time), unless leadership moved on (a
    /// proposal of a deposed leader may never commit). Returns the request id proposed.
    pub fn propose_due_timeout(&mut self) -> Option<u64> {
        let leader = self.leader()?;
        let term = self.nodes[leader].term();
        if let Some((node, in_term, request)) = self.pending_timeout {
            let applied_by_leader = self
                .observed
                .by_request
                .get(&request)
                .is_some_and(|&index| self.nodes[leader].applied >= index);
            if node == leader && in_term == term && !applied_by_leader {
                return None;
            }
            self.pending_timeout = None;
        }
        let due = self.nodes[leader].scheduler.poll_timeout()?;
        if due > self.local_clock(leader) {
            return None;
        }
        let request = self.propose(&Command::HandleTimeout)?;
        self.timeout_requests.push(request);
        self.pending_timeout = Some((leader, term, request));
        Some(request)
    }

    /// Runs `rounds` rounds.
    pub fn run(&mut self, rounds: u64) {
        for _ in 0..rounds {
            self.step();
        }
    }

    /// Runs until some node leads (at most `max_rounds`); returns it.
    pub fn run_until_leader(&mut self, max_rounds: u64) -> Option<usize> {
        for _ in 0..max_rounds {
            if let Some(leader) = self.leader() {
                return Some(leader);
            }
            self.step();
        }
        self.leader()
    }

    /// Runs until a leader has committed its whole log and every live node has applied it
    /// (at most `max_rounds`). Returns whether it got there.
    pub fn settle(&mut self, max_rounds: u64) -> bool {
        for _ in 0..=max_rounds {
            if self.is_settled() {
                return true;
            }
            self.step();
        }
        false
    }

    fn is_settled(&self) -> bool {
        let Some(leader) = self.leader() else {
            return false;
        };
        let raft = self.nodes[leader].raft.as_ref().expect("the leader is up");
        let last = raft.raft.raft_log.last_index();
        raft.raft.raft_log.committed == last
            && self
                .nodes
                .iter()
                .filter(|node| node.is_up())
                .all(|node| node.applied == last && node.commit() == last)
    }

    /// Client request: the leader stamps `command` with its own clock and proposes
    /// `(command, time)`. Returns the request id, or `None` when no node leads or the leader
    /// refused the proposal.
    pub fn propose(&mut self, command: &Command) -> Option<u64> {
        let leader = self.leader()?;
        let at = self.local_clock(leader);
        let request = self.next_request;
        let raft = self.nodes[leader].raft.as_mut()?;
        raft.propose(request.to_le_bytes().to_vec(), encode_entry(command, at))
            .ok()?;
        self.next_request += 1;
        self.pump();
        Some(request)
    }

    /// The answer to a request, once some replica applied it.
    pub fn answer(&self, request: u64) -> Option<&Applied> {
        let index = self.observed.by_request.get(&request)?;
        self.observed.by_index.get(index)
    }

    /// Proposes `command` and runs until it is applied (at most `max_rounds`, proposing again
    /// only if the proposal was refused before it entered the log).
    pub fn request(&mut self, command: &Command, max_rounds: u64) -> Option<Applied> {
        let mut request = None;
        for _ in 0..max_rounds {
            if request.is_none() {
                request = self.propose(command);
            }
            if let Some(answer) = request.and_then(|request| self.answer(request)) {
                return Some(answer.clone());
            }
            self.step();
        }
        None
    }

    /// Stops node `i`: its memory (the Raft node and the scheduler) is gone, its disk stays.
    pub fn crash(&mut self, i: usize) {
        self.nodes[i].crash();
    }

    /// Restarts node `i` from its disk.
    pub fn restart(&mut self, i: usize) {
        self.nodes[i].restart();
        self.pump();
    }

    fn deliver(&mut self, message: Message) {
        let from = message.from as usize - 1;
        let is_snapshot = message.get_msg_type() == MessageType::MsgSnapshot;
        let to = message.to as usize - 1;
        let delivered = match self.nodes[to].raft.as_mut() {
            Some(raft) => {
                // Errors (a message for an unknown peer, say) are Raft's to ignore.
                let _ = raft.step(message);
                true
            }
            None => false,
        };
        if delivered && is_snapshot {
            self.net.snapshots_delivered += 1;
        }
        if !delivered {
            self.net.lost += 1;
        }
        if is_snapshot {
            self.report_snapshot(from, to, delivered);
        }
    }

    /// A leader must hear how a snapshot it sent fared, or it waits for it forever.
    fn report_snapshot(&mut self, from: usize, to: usize, delivered: bool) {
        if let Some(raft) = self.nodes[from].raft.as_mut() {
            let status = if delivered {
                SnapshotStatus::Finish
            } else {
                SnapshotStatus::Failure
            };
            raft.report_snapshot(to as u64 + 1, status);
        }
    }

    /// Handles every node's `Ready` until none is left, sending what they produce.
    fn pump(&mut self) {
        loop {
            let mut outbox = Vec::new();
            for node in &mut self.nodes {
                outbox.extend(node.handle_ready(&mut self.observed, self.compact_every));
            }
            if outbox.is_empty() {
                return;
            }
            for message in outbox {
                self.send(message);
            }
        }
    }

    fn send(&mut self, message: Message) {
        self.net.sent += 1;
        match self.network.schedule(&message) {
            Some(delay) => {
                self.seq += 1;
                self.in_flight.push(InFlight {
                    due: self.round + delay,
                    seq: self.seq,
                    message,
                });
            }
            None => {
                self.net.lost += 1;
                if message.get_msg_type() == MessageType::MsgSnapshot {
                    let (from, to) = (message.from as usize - 1, message.to as usize - 1);
                    self.report_snapshot(from, to, false);
                }
            }
        }
    }
}
