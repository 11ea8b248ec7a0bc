//! The hub's Prometheus metrics, rendered in the text exposition format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn set(&self, value: u64) {
        self.0.store(value, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Everything the hub counts.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Messages received from stations.
    pub events_received: Counter,
    /// Station events applied to the read models.
    pub events_applied: Counter,
    /// Station messages already applied before (ignored).
    pub duplicates: Counter,
    /// Messages that could not be decoded or applied.
    pub dead_letters: Counter,
    /// Messages that cannot be applied yet (newer schema, unregistered station), each copy.
    pub held: Counter,
    /// Times a station's history and HQ's were found to differ.
    pub divergences: Counter,
    /// 1 while this hub has stood down for another hub on the same broker.
    pub fenced: Counter,
    online: Mutex<BTreeMap<String, bool>>,
}

impl Metrics {
    pub fn set_online(&self, station: &str, online: bool) {
        if let Ok(mut map) = self.online.lock() {
            map.insert(station.to_owned(), online);
        }
    }

    pub fn stations_online(&self) -> u64 {
        self.online
            .lock()
            .map(|map| map.values().filter(|online| **online).count() as u64)
            .unwrap_or(0)
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters = [
            (
                "hub_events_received_total",
                "Messages received from stations.",
                self.events_received.get(),
            ),
            (
                "hub_events_applied_total",
                "Station events applied at HQ.",
                self.events_applied.get(),
            ),
            (
                "hub_events_duplicate_total",
                "Station messages received again and ignored.",
                self.duplicates.get(),
            ),
            (
                "hub_dead_letters_total",
                "Messages that could not be decoded or applied.",
                self.dead_letters.get(),
            ),
            (
                "hub_messages_held_total",
                "Station messages that cannot be applied yet (newer schema, unregistered station).",
                self.held.get(),
            ),
            (
                "hub_stream_divergences_total",
                "Times a station's history and HQ's were found to differ.",
                self.divergences.get(),
            ),
        ];
        for (name, help, value) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {value}"
            );
        }
        let _ = writeln!(
            out,
            "# HELP hub_fenced 1 when this hub stood down for another hub on the same broker.\n# TYPE hub_fenced gauge\nhub_fenced {}",
            self.fenced.get().min(1)
        );
        let _ = writeln!(
            out,
            "# HELP hub_stations_online Stations connected now.\n# TYPE hub_stations_online gauge\nhub_stations_online {}",
            self.stations_online()
        );
        out
    }
}
