//! What each command does: check who is asking, call the core, print the result.

use std::io::Read;

use jiff::Timestamp;
use serde_json::{Value, json};
use station_core::{
    AccountPaymentMethod, Actor, LinePricing, ManagerApproval, NewOrder, NewUser, PaymentRequest,
    PriceVersion, Role, SaleLineRequest, SaleRequest, Station, StationSetup,
};

use crate::lines::{PricingSpec, parse_item, parse_line};
use crate::{
    AccountCommand, Cli, Command, DayCommand, DeliveryCommand, Failure, Global, InboxCommand,
    OrderCommand, OutboxCommand, PriceCommand, PrintCommand, SaleCommand, SalesCommand,
    ShiftCommand, SimulateCommand, StockCommand, TankCommand, UserCommand, emit, won,
};
use station_json as render;

/// Who is asking, and when.
struct Session {
    global: Global,
    now: Timestamp,
}

impl Session {
    fn open(&self) -> Result<Station, Failure> {
        Ok(Station::open(&self.global.db)?)
    }

    /// The user performing the operation, their PIN checked.
    fn actor(&self, station: &mut Station) -> Result<Actor, Failure> {
        let (Some(user), Some(pin)) = (&self.global.user, &self.global.pin) else {
            return Err(Failure::Usage(
                "this command needs the user performing it: --user and --pin".into(),
            ));
        };
        Ok(station.authenticate(user, pin, self.now)?)
    }

    /// A manager's approval: `--manager` with `--manager-pin`, or else the user if a manager.
    fn approval(
        &self,
        station: &mut Station,
        action: &'static str,
    ) -> Result<ManagerApproval, Failure> {
        match (&self.global.manager, &self.global.manager_pin) {
            (Some(manager), Some(pin)) => {
                Ok(station.approve_as_manager(manager, pin, action, self.now)?)
            }
            (Some(_), None) | (None, Some(_)) => Err(Failure::Usage(
                "--manager and --manager-pin go together".into(),
            )),
            (None, None) if self.global.user.is_some() => {
                Ok(self.actor(station)?.as_manager(action)?)
            }
            (None, None) => Err(Failure::Usage(format!(
                "{action} needs a manager: --manager and --manager-pin, or a manager's --user and --pin"
            ))),
        }
    }
}

pub fn run(cli: Cli) -> Result<(), Failure> {
    let now = cli.global.at.unwrap_or_else(Timestamp::now);
    let session = Session {
        global: cli.global,
        now,
    };
    let s = &session;
    match cli.command {
        Command::Init {
            station,
            name,
            time_zone,
            manager_name,
        } => {
            let (Some(manager), Some(pin)) = (&s.global.manager, &s.global.manager_pin) else {
                return Err(Failure::Usage(
                    "init needs the first manager: --manager and --manager-pin".into(),
                ));
            };
            let created = Station::create(
                &s.global.db,
                StationSetup {
                    station_id: station,
                    name,
                    time_zone,
                    first_manager: NewUser {
                        user_id: manager.clone(),
                        name: manager_name,
                        role: Role::Manager,
                        pin: pin.clone(),
                    },
                },
                now,
            )?;
            emit(&info(&created))
        }
        Command::Info => emit(&info(&s.open()?)),
        Command::Check => {
            let station = s.open()?;
            let problems = station.check_integrity()?;
            let ok = problems.is_empty();
            emit(&json!({"ok": ok, "problems": problems}))?;
            if ok {
                Ok(())
            } else {
                Err(station_core::StationError::DatabaseCorrupt(problems.join("; ")).into())
            }
        }
        Command::User(command) => user(s, command),
        Command::Price(command) => price(s, command),
        Command::Tank(command) => tank(s, command),
        Command::Stock(command) => stock(s, command),
        Command::Order(command) => order(s, command),
        Command::Delivery(command) => delivery(s, command),
        Command::Shift(command) => shift(s, command),
        Command::Sale(command) => sale(s, command),
        Command::Sales(SalesCommand::Summary { day }) => {
            let station = s.open()?;
            let rows = station.sales_summary(day)?;
            emit(&rows.iter().map(render::summary_row).collect())
        }
        Command::Account(command) => account(s, command),
        Command::Day(command) => day(s, command),
        Command::Outbox(command) => outbox(s, command),
        Command::Inbox(InboxCommand::Apply { file }) => {
            let mut message = Vec::new();
            let read = if file.as_os_str() == "-" {
                std::io::stdin().read_to_end(&mut message)
            } else {
                std::fs::File::open(&file).and_then(|mut f| f.read_to_end(&mut message))
            };
            read.map_err(|e| Failure::Io(format!("reading {}: {e}", file.display())))?;
            let mut station = s.open()?;
            let outcome = station.apply_hub_message(&message, now)?;
            emit(&render::inbox_outcome(&outcome))
        }
        Command::Print(PrintCommand::List) => {
            let station = s.open()?;
            emit(
                &station
                    .waiting_print_jobs(1000)?
                    .iter()
                    .map(render::print_job)
                    .collect(),
            )
        }
        Command::DeadLetters => {
            let station = s.open()?;
            emit(
                &station
                    .dead_letters()?
                    .iter()
                    .map(render::dead_letter)
                    .collect(),
            )
        }
        Command::Backup { to } => {
            let station = s.open()?;
            station.backup_to(&to)?;
            emit(&json!({"backup": to.display().to_string()}))
        }
        Command::Divergences { limit } => {
            let station = s.open()?;
            emit(
                &station
                    .divergences(limit)?
                    .iter()
                    .map(render::divergence)
                    .collect(),
            )
        }
        Command::Simulate(SimulateCommand::Sales {
            count,
            product,
            litres,
        }) => {
            let mut station = s.open()?;
            let actor = s.actor(&mut station)?;
            for n in 1..=count {
                let at = s.global.at.unwrap_or_else(Timestamp::now);
                let sale = station.settle_sale(
                    &actor,
                    SaleRequest {
                        lines: vec![SaleLineRequest {
                            product: product.clone(),
                            measure: station_core::Measure::Volume(litres),
                            tank: None,
                            pricing: LinePricing::PriceList,
                        }],
                        payment: PaymentRequest::Card {
                            reference: format!("SIM-{n}"),
                        },
                        over_limit: None,
                    },
                    at,
                )?;
                // Reported only once durable: a reader may rely on every line it has seen.
                emit(&json!({
                    "n": n,
                    "sale": sale.sale.to_string(),
                    "receipt_no": sale.receipt_no,
                    "total_won": sale.total.get(),
                }))?;
            }
            Ok(())
        }
    }
}

fn info(station: &Station) -> Value {
    let info = station.info();
    json!({
        "station": info.station_id.as_str(),
        "name": info.name,
        "time_zone": info.time_zone,
        "schema_version": station_core::schema_version(),
    })
}

fn user(s: &Session, command: UserCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        UserCommand::Add {
            id,
            name,
            role,
            new_pin,
        } => {
            let approval = s.approval(&mut station, "adding a user")?;
            station.add_user(
                &approval,
                NewUser {
                    user_id: id.clone(),
                    name,
                    role,
                    pin: new_pin,
                },
                s.now,
            )?;
            emit(&json!({"added": id.as_str(), "role": role.as_str()}))
        }
        UserCommand::SetPin { id, new_pin } => {
            let approval = s.approval(&mut station, "setting a PIN")?;
            station.set_pin(&approval, &id, &new_pin, s.now)?;
            emit(&json!({"pin_set": id.as_str()}))
        }
        UserCommand::List => emit(&render::users(&station.users()?)),
    }
}

fn price(s: &Session, command: PriceCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        PriceCommand::Receive {
            version,
            effective_at,
            items,
        } => {
            // Price versions normally come from HQ; entering one by hand takes a manager.
            s.approval(&mut station, "entering a price version")?;
            let items = items
                .iter()
                .map(|item| parse_item(item))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Failure::Usage)?;
            let applied = station.receive_price_version(
                PriceVersion {
                    version,
                    effective_at,
                    items,
                },
                s.now,
            )?;
            emit(&json!({"received": version, "in_force_now": applied}))
        }
        PriceCommand::ApplyDue => {
            let applied = station.apply_due_price_version(s.now)?;
            emit(&json!({"in_force_now": applied}))
        }
        PriceCommand::List => emit(
            &station
                .price_versions(s.now)?
                .iter()
                .map(render::price_version)
                .collect(),
        ),
        PriceCommand::Show { product } => {
            let price = station.price_in_force(&product, s.now)?;
            emit(&json!({
                "product": product.as_str(),
                "unit_price_won": price.unit_price.get(),
                "version": price.version,
            }))
        }
    }
}

fn tank(s: &Session, command: TankCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        TankCommand::Register {
            tank,
            product,
            capacity,
        } => {
            let approval = s.approval(&mut station, "registering a tank")?;
            station.register_tank(&approval, tank, &product, capacity, s.now)?;
            emit(
                &json!({"registered": tank.get(), "product": product.as_str(), "capacity_ml": capacity.get()}),
            )
        }
        TankCommand::List => emit(&station.tanks()?.iter().map(render::tank).collect()),
    }
}

fn stock(s: &Session, command: StockCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        StockCommand::Show => emit(&render::stock(
            &station.tank_stock()?,
            &station.product_stock()?,
            &station.latest_tank_readings()?,
        )),
        StockCommand::Readings => emit(
            &station
                .latest_tank_readings()?
                .iter()
                .map(render::tank_reading)
                .collect(),
        ),
        StockCommand::Reconcile { day } => {
            let day = day_or_open(&station, day, s.now)?;
            emit(
                &station
                    .wet_stock_reconciliation(day)?
                    .iter()
                    .map(render::reconciliation)
                    .collect(),
            )
        }
        StockCommand::Flows { tank } => emit(
            &station
                .stock_flows(tank)?
                .iter()
                .map(render::flow)
                .collect(),
        ),
        StockCommand::Adjust {
            tank,
            litres,
            reason,
        } => {
            let approval = s.approval(&mut station, "adjusting stock")?;
            station.adjust_stock(&approval, tank, litres, &reason, s.now)?;
            emit(&json!({"adjusted": tank.get(), "delta_ml": litres.get()}))
        }
    }
}

fn order(s: &Session, command: OrderCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        OrderCommand::Place {
            product,
            litres,
            wanted,
        } => {
            let approval = s.approval(&mut station, "placing an order")?;
            let order = station.place_order(
                &approval,
                NewOrder {
                    product,
                    volume: litres,
                    wanted_date: wanted,
                },
                s.now,
            )?;
            emit(&render::order(&read_back(station.order(order))?))
        }
        OrderCommand::Cancel { order, reason } => {
            let approval = s.approval(&mut station, "canceling an order")?;
            station.cancel_order(&approval, order, &reason, s.now)?;
            emit(&render::order(&read_back(station.order(order))?))
        }
        OrderCommand::List => emit(&station.orders()?.iter().map(render::order).collect()),
        OrderCommand::Show { order } => emit(&render::order(&station.order(order)?)),
    }
}

fn delivery(s: &Session, command: DeliveryCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        DeliveryCommand::Confirm {
            shipment,
            tank,
            litres,
        } => {
            let approval = s.approval(&mut station, "confirming a delivery")?;
            station.confirm_delivery(&approval, shipment, tank, litres, s.now)?;
            let confirmed = read_back(station.deliveries().and_then(|deliveries| {
                deliveries
                    .into_iter()
                    .find(|d| d.expected.shipment == shipment)
                    .ok_or(station_core::StationError::UnknownShipment(shipment))
            }))?;
            emit(&render::delivery(&confirmed))
        }
        DeliveryCommand::List => {
            emit(&station.deliveries()?.iter().map(render::delivery).collect())
        }
    }
}

fn shift(s: &Session, command: ShiftCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    let actor = s.actor(&mut station)?;
    match command {
        ShiftCommand::Open { opening_float } => {
            station.open_shift(&actor, won(opening_float), s.now)?;
            let open = read_back(station.current_shift(actor.user()).and_then(|open| {
                open.ok_or_else(|| station_core::StationError::NoOpenShift(actor.user().clone()))
            }))?;
            emit(&render::open_shift(&open))
        }
        ShiftCommand::Close { counted } => {
            let report = station.close_shift(&actor, won(counted), s.now)?;
            emit(&render::shift_report(&report))
        }
        ShiftCommand::Current => match station.current_shift(actor.user())? {
            Some(open) => emit(&render::open_shift(&open)),
            None => emit(&Value::Null),
        },
    }
}

fn sale(s: &Session, command: SaleCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        SaleCommand::Settle { lines, payment } => {
            let actor = s.actor(&mut station)?;
            let specs = lines
                .iter()
                .map(|line| parse_line(line))
                .collect::<Result<Vec<_>, _>>()
                .map_err(Failure::Usage)?;
            let mut requests = Vec::with_capacity(specs.len());
            for spec in specs {
                let pricing = match spec.pricing {
                    PricingSpec::PriceList => LinePricing::PriceList,
                    PricingSpec::Pump { unit_price, amount } => {
                        LinePricing::Pump { unit_price, amount }
                    }
                    PricingSpec::Override(unit_price) => LinePricing::ManagerOverride {
                        unit_price,
                        approval: s.approval(&mut station, "overriding a price")?,
                    },
                };
                requests.push(SaleLineRequest {
                    product: spec.product,
                    measure: spec.measure,
                    tank: spec.tank,
                    pricing,
                });
            }
            let payment = match (payment.cash, payment.card, payment.account) {
                (Some(tendered), None, None) => PaymentRequest::Cash {
                    tendered: won(tendered),
                },
                (None, Some(reference), None) => PaymentRequest::Card { reference },
                (None, None, Some(account)) => PaymentRequest::Account(account),
                _ => {
                    return Err(Failure::Usage(
                        "pay with exactly one of --cash, --card or --account".into(),
                    ));
                }
            };
            let sale = station.settle_sale(
                &actor,
                SaleRequest {
                    lines: requests,
                    payment,
                    over_limit: None,
                },
                s.now,
            )?;
            emit(&render::sale(&sale))
        }
        SaleCommand::Cancel { sale, reason } => {
            let actor = s.actor(&mut station)?;
            let approval = s.approval(&mut station, "canceling a sale")?;
            let canceled = station.cancel_sale(&actor, &approval, sale, &reason, s.now)?;
            emit(&render::sale(&canceled))
        }
        SaleCommand::Show { sale, receipt } => {
            let record = match (sale, receipt) {
                (Some(sale), _) => station.sale(sale)?,
                (None, Some(receipt)) => station.sale_by_receipt(&receipt)?.ok_or_else(|| {
                    Failure::Station(station_core::StationError::InvalidInput {
                        field: "receipt number",
                        problem: format!("no sale has receipt number `{receipt}`"),
                    })
                })?,
                (None, None) => return Err(Failure::Usage("give --sale or --receipt".into())),
            };
            emit(&render::sale(&record))
        }
        SaleCommand::Reprint { sale } => {
            let actor = s.actor(&mut station)?;
            let job = station.request_reprint(&actor, sale, s.now)?;
            emit(&json!({"queued": job, "sale": sale.to_string()}))
        }
        SaleCommand::List { day } => {
            let day = day_or_open(&station, day, s.now)?;
            emit(
                &station
                    .sales_of_day(day)?
                    .iter()
                    .map(render::sale)
                    .collect(),
            )
        }
    }
}

fn account(s: &Session, command: AccountCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        AccountCommand::Open { name, limit } => {
            let approval = s.approval(&mut station, "opening a credit account")?;
            let account = station.open_account(&approval, &name, won(limit), s.now)?;
            emit(&render::account(&read_back(station.account(account))?))
        }
        AccountCommand::Pay {
            account,
            amount,
            method,
            reference,
        } => {
            let actor = s.actor(&mut station)?;
            let method = match (method.as_str(), reference) {
                ("cash", None) => AccountPaymentMethod::Cash,
                ("cash", Some(_)) => {
                    return Err(Failure::Usage("--reference is for card payments".into()));
                }
                ("card", Some(reference)) => AccountPaymentMethod::Card { reference },
                ("card", None) => {
                    return Err(Failure::Usage(
                        "a card payment needs the terminal's approval: --reference".into(),
                    ));
                }
                (other, _) => {
                    return Err(Failure::Usage(format!(
                        "payment method `{other}` is neither `cash` nor `card`"
                    )));
                }
            };
            station.receive_account_payment(&actor, account, won(amount), method, s.now)?;
            emit(&render::account(&read_back(station.account(account))?))
        }
        AccountCommand::List => emit(&station.accounts()?.iter().map(render::account).collect()),
        AccountCommand::Show { account } => {
            let mut shown = render::account(&station.account(account)?);
            shown["movements"] = station
                .account_movements(account)?
                .iter()
                .map(render::movement)
                .collect();
            emit(&shown)
        }
    }
}

fn day(s: &Session, command: DayCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        DayCommand::Close => {
            let approval = s.approval(&mut station, "closing the business day")?;
            let report = station.close_business_day(&approval, s.now)?;
            emit(&render::day_report(&report))
        }
        DayCommand::Report { day } => emit(&render::day_report(&station.day_report(day)?)),
    }
}

fn outbox(s: &Session, command: OutboxCommand) -> Result<(), Failure> {
    let mut station = s.open()?;
    match command {
        OutboxCommand::List {
            after,
            limit,
            pending,
        } => {
            let events = if pending {
                station.unacknowledged_events(limit)?
            } else {
                station.outbox_events(after, limit)?
            };
            emit(&json!({
                "acknowledged_through": station.acknowledged_through()?,
                "backlog": station.outbox_backlog()?,
                "events": events.iter().map(render::outbox_event).collect::<Vec<_>>(),
            }))
        }
        OutboxCommand::Ack { through } => {
            let newly = station.acknowledge_through(through, s.now)?;
            emit(&json!({
                "newly_acknowledged": newly,
                "acknowledged_through": read_back(station.acknowledged_through())?,
            }))
        }
    }
}

/// What a command reads back after its operation committed. A failure here is no refusal (the
/// operation is done), so it is [`Failure::Unreported`] and exits 3, never 1.
fn read_back<T>(result: Result<T, station_core::StationError>) -> Result<T, Failure> {
    result.map_err(|e| Failure::Unreported(format!("reading it back failed: {e}")))
}

/// The business day asked for; else the open one; else the station's date now.
fn day_or_open(
    station: &Station,
    day: Option<jiff::civil::Date>,
    now: Timestamp,
) -> Result<jiff::civil::Date, Failure> {
    Ok(match day {
        Some(day) => day,
        None => station
            .open_business_day()?
            .unwrap_or_else(|| station.local_date(now)),
    })
}
