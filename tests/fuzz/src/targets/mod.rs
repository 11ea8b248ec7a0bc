//! Every decoder that reads from outside, as a [`Target`], and the registry the bench and the
//! tests run them from.

pub mod dart;
pub mod http;
pub mod hub_api;
pub mod printer;
pub mod station_api;
pub mod sync;
pub mod tls;

use crate::Target;

/// One target: its name and how to make it (the API targets start a database when first fed).
#[derive(Debug, Clone, Copy)]
pub struct Entry {
    /// The target's [`Target::name`].
    pub name: &'static str,
    /// Makes a fresh target.
    pub make: fn() -> Box<dyn Target>,
}

fn boxed<T: Target + Default + 'static>() -> Box<dyn Target> {
    Box::new(T::default())
}

/// Every target, in the order the bench runs them.
pub const ALL: &[Entry] = &[
    Entry {
        name: "sync.envelope",
        make: boxed::<sync::Envelope>,
    },
    Entry {
        name: "sync.ack",
        make: boxed::<sync::AckMessage>,
    },
    Entry {
        name: "sync.station_status",
        make: boxed::<sync::Status>,
    },
    Entry {
        name: "sync.topic",
        make: boxed::<sync::Topic>,
    },
    Entry {
        name: "dart.frame",
        make: boxed::<dart::Frames>,
    },
    Entry {
        name: "dart.from_pump",
        make: boxed::<dart::FromPumpTransactions>,
    },
    Entry {
        name: "dart.to_pump",
        make: boxed::<dart::ToPumpTransactions>,
    },
    Entry {
        name: "dart.master",
        make: boxed::<dart::Master>,
    },
    Entry {
        name: "tls.reply_frames",
        make: boxed::<tls::Replies>,
    },
    Entry {
        name: "tls.inventory",
        make: boxed::<tls::Inventory>,
    },
    Entry {
        name: "tls.deliveries",
        make: boxed::<tls::Deliveries>,
    },
    Entry {
        name: "tls.display_inventory",
        make: boxed::<tls::DisplayInventory>,
    },
    Entry {
        name: "tls.system_units",
        make: boxed::<tls::SystemUnits>,
    },
    Entry {
        name: "tls.client",
        make: boxed::<tls::Client>,
    },
    Entry {
        name: "printer.status",
        make: boxed::<printer::Status>,
    },
    Entry {
        name: "printer.escpos",
        make: boxed::<printer::EscPos>,
    },
    Entry {
        name: "station.api_bodies",
        make: boxed::<station_api::StationApi>,
    },
    Entry {
        name: "hub.api_bodies",
        make: boxed::<hub_api::HubApi>,
    },
];

/// How many bytes a streaming decoder is given per read when an input is fed as a serial
/// port delivers it: 1 to `most`, chosen by the input's length so that the same input is
/// always cut the same way.
#[must_use]
pub fn read_size(input: &[u8], most: usize) -> usize {
    1 + input.len().wrapping_mul(31) % most.max(1)
}

/// The target named `name`.
#[must_use]
pub fn by_name(name: &str) -> Option<Box<dyn Target>> {
    ALL.iter()
        .find(|entry| entry.name == name)
        .map(|entry| (entry.make)())
}
