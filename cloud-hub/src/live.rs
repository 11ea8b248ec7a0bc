//! Change notices for the dashboard's live updates: which kinds of records changed, told by
//! whatever changed them (the API, the sync agent) and pushed to each open dashboard over
//! server-sent events, coalesced. A page that hears of a kind it shows reads it again.

use tokio::sync::broadcast;

/// A kind of record the dashboard shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Topic {
    Stations,
    Prices,
    Orders,
    Sales,
    Stock,
    Alerts,
    Audit,
    Users,
}

impl Topic {
    pub const ALL: [Topic; 8] = [
        Topic::Stations,
        Topic::Prices,
        Topic::Orders,
        Topic::Sales,
        Topic::Stock,
        Topic::Alerts,
        Topic::Audit,
        Topic::Users,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Stations => "stations",
            Topic::Prices => "prices",
            Topic::Orders => "orders",
            Topic::Sales => "sales",
            Topic::Stock => "stock",
            Topic::Alerts => "alerts",
            Topic::Audit => "audit",
            Topic::Users => "users",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of topics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Topics(u16);

impl Topics {
    pub fn of(topics: &[Topic]) -> Topics {
        Topics(topics.iter().fold(0, |bits, t| bits | t.bit()))
    }

    pub fn all() -> Topics {
        Topics::of(&Topic::ALL)
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn add(&mut self, other: Topics) {
        self.0 |= other.0;
    }

    pub fn contains(self, topic: Topic) -> bool {
        self.0 & topic.bit() != 0
    }

    /// The names, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        Topic::ALL
            .into_iter()
            .filter(|t| self.contains(*t))
            .map(Topic::as_str)
            .collect()
    }
}

/// Where changes are told; every open dashboard listens.
#[derive(Debug, Clone)]
pub struct Changes {
    sender: broadcast::Sender<Topics>,
}

/// Notices waiting for a slow dashboard before it is told "everything changed" instead.
const BACKLOG: usize = 256;

impl Default for Changes {
    fn default() -> Changes {
        Changes {
            sender: broadcast::channel(BACKLOG).0,
        }
    }
}

impl Changes {
    /// Tells every listener; nobody listening is fine.
    pub fn tell(&self, topics: &[Topic]) {
        let _ = self.sender.send(Topics::of(topics));
    }

    pub fn listen(&self) -> broadcast::Receiver<Topics> {
        self.sender.subscribe()
    }
}
