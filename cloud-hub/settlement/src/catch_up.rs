//! Following the feed: one step reads a page after the stored position and applies it; the
//! loop repeats it, waiting at the hub (long-poll) when nothing is newer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::feed::{FeedClient, FeedClientError, FeedPage};
use crate::store::{Applied, Settlement, SettlementError};

/// The page size settlement asks for unless told another.
pub const PAGE: u32 = 2_000;

/// What a step could not do.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    #[error(transparent)]
    Feed(#[from] FeedClientError),
    #[error(transparent)]
    Settlement(#[from] SettlementError),
}

/// Settlement shared between the catch-up and the API.
pub type SharedSettlement = Arc<Mutex<Settlement>>;

pub fn lock(settlement: &SharedSettlement) -> std::sync::MutexGuard<'_, Settlement> {
    settlement
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Reads one page after the stored position (waiting up to `wait_ms` when none is newer)
/// and applies it. Stations the feed names that settlement does not know yet are asked of the
/// hub first.
pub fn catch_up_once(
    settlement: &SharedSettlement,
    feed: &FeedClient,
    limit: u32,
    wait_ms: u64,
) -> Result<(Applied, u64), CatchUpError> {
    let after = lock(settlement).position()?;
    let page = feed.page(after, limit, wait_ms)?;
    let head = page.head;
    Ok((apply(settlement, feed, &page)?, head))
}

/// Applies a page read elsewhere (the loop reads the next page while this one is applied).
pub fn apply(
    settlement: &SharedSettlement,
    feed: &FeedClient,
    page: &FeedPage,
) -> Result<Applied, CatchUpError> {
    if !lock(settlement).knows_stations_of(&page.events) {
        refresh_stations(settlement, feed)?;
    }
    Ok(lock(settlement).apply_page(&page.events, page.next)?)
}

fn refresh_stations(settlement: &SharedSettlement, feed: &FeedClient) -> Result<(), CatchUpError> {
    let stations = feed.stations()?;
    lock(settlement).update_stations(&stations)?;
    Ok(())
}

/// Follows the feed until `stop` is set: reads the next page on this thread while the one
/// before is applied on another, so reading and counting overlap. A failure is logged and the
/// step tried again after a pause (a second, doubling to 30 s). The stations are read from the
/// hub when it starts, when a page names one it does not know, and whenever it is idle.
pub fn follow(
    settlement: SharedSettlement,
    feed: FeedClient,
    stop: Arc<std::sync::atomic::AtomicBool>,
    head: Arc<std::sync::atomic::AtomicU64>,
    limit: u32,
) {
    use std::sync::atomic::Ordering;
    let mut pause = Duration::from_secs(1);
    while !stop.load(Ordering::Relaxed) {
        match follow_until_error(&settlement, &feed, &stop, &head, limit) {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(%error, "following the feed failed; trying again");
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_secs(30));
            }
        }
    }
}

fn follow_until_error(
    settlement: &SharedSettlement,
    feed: &FeedClient,
    stop: &std::sync::atomic::AtomicBool,
    head: &std::sync::atomic::AtomicU64,
    limit: u32,
) -> Result<(), CatchUpError> {
    use std::sync::atomic::Ordering;
    let (pages, applier_pages) = std::sync::mpsc::sync_channel::<FeedPage>(2);
    let (done, applied) = std::sync::mpsc::channel::<Result<Applied, CatchUpError>>();
    let applier = {
        let settlement = settlement.clone();
        let feed = feed.clone();
        std::thread::spawn(move || {
            for page in applier_pages {
                let outcome = apply(&settlement, &feed, &page);
                let failed = outcome.is_err();
                if done.send(outcome).is_err() || failed {
                    return;
                }
            }
        })
    };
    let mut after = lock(settlement).position()?;
    refresh_stations(settlement, feed)?;
    let mut outcome = Ok(());
    while !stop.load(Ordering::Relaxed) {
        // A failure of the applier ends the loop; what it applied is kept.
        if let Ok(Err(error)) = applied.try_recv() {
            outcome = Err(error);
            break;
        }
        // The hub answers at once when newer events exist, and waits only when none do.
        let page = match feed.page(after, limit, 10_000) {
            Ok(page) => page,
            Err(error) => {
                outcome = Err(error.into());
                break;
            }
        };
        head.store(page.head, Ordering::Relaxed);
        if page.events.is_empty() {
            // Idle: stations registered since (and not selling yet) become known for terms.
            if let Err(error) = refresh_stations(settlement, feed) {
                outcome = Err(error);
                break;
            }
            continue;
        }
        after = page.next;
        if pages.send(page).is_err() {
            break;
        }
    }
    drop(pages);
    let _ = applier.join();
    for result in applied.try_iter() {
        result?;
    }
    outcome
}
