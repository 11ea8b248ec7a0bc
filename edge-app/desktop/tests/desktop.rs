//! End to end through the real desktop app: Xvfb, tauri-driver and WebKitWebDriver launch
//! `station-desktop` on a station database prepared with the `station` tool, and the test works
//! its window as the cashier and then the manager would, through the UI's `data-testid`s.
//!
//! Needs Xvfb, WebKitWebDriver (webkit2gtk-driver), `cargo install tauri-driver --locked`, the
//! `station` tool of the same build (`cargo test --workspace` builds it) and the built UI
//! (`npm --prefix ui run build`). Anything missing fails the test and says how to get it.

mod support;

use anyhow::Result;
use support::{
    Driver, Session, Xvfb, app_args, desktop_binary, log_in, prepare_station, testid, ui_dist,
};

#[test]
fn a_cashier_sells_diesel_and_the_manager_finds_it_in_the_sales_summary() -> Result<()> {
    let ui = ui_dist()?;
    let dir = tempfile::tempdir()?;
    let db = prepare_station(dir.path())?;
    let display = Xvfb::start()?;
    let driver = Driver::start(&display.display, dir.path(), None)?;
    let app = driver.launch(&desktop_binary(), &app_args(&db, &ui))?;

    log_in(&app, "kim", "1234")?;

    // The shift opens with a float of 100,000 won.
    app.fill(&testid("shift-float"), "100000")?;
    app.click(&testid("shift-open"))?;

    // Diesel by hand: 10 litres at 1,650 won.
    app.click(&testid("manual-fuel"))?;
    select(&app, &testid("manual-product"), "CD1001")?;
    app.fill(&testid("manual-litres"), "10")?;
    app.click(&testid("manual-next"))?;
    app.attribute_is(&testid("pay-total"), "data-won", "16500")?;

    // Paid in cash: 20,000 tendered, 3,500 back.
    app.click(&testid("pay-cash"))?;
    app.fill(&testid("tendered"), "20000")?;
    app.attribute_is(&testid("change"), "data-won", "3500")?;
    app.click(&testid("settle"))?;
    let receipt_no = app.wait("the receipt's number", || {
        let text = app.find(&testid("receipt-no"))?.text()?;
        Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
    })?;
    app.click(&testid("receipt-close"))?;

    // The cashier's sales screen lists the sale.
    app.click(&testid("nav-sales"))?;
    app.attribute_is(
        &testid(&format!("sale-row-{receipt_no}")),
        "data-canceled",
        "false",
    )?;

    // The summary per product is the manager's.
    app.click(&testid("logout"))?;
    log_in(&app, "park", "9999")?;
    app.click(&testid("nav-sales"))?;
    app.visible(&testid("sales-summary"))?;
    app.attribute_is(
        &format!(
            "{} {}",
            testid("summary-row-CD1001"),
            testid("summary-amount")
        ),
        "data-won",
        "16500",
    )?;

    app.close()?;
    Ok(())
}

/// Picks an option of a `<select>` by its value, as a user does: by clicking it.
fn select(app: &Session, select: &str, value: &str) -> Result<()> {
    app.click(&format!("{select} option[value=\"{value}\"]"))?;
    app.property_is(select, "value", value)
}
