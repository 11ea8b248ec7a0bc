//! Reading `--line` and `--item` arguments.

use station_core::{Millilitres, PriceItem, ProductId, TankNo, Unit, UnitPrice, Won};

/// A sale line as written on the command line, before pricing is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineSpec {
    pub product: ProductId,
    pub measure: station_core::Measure,
    pub tank: Option<TankNo>,
    pub pricing: PricingSpec,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PricingSpec {
    PriceList,
    Pump { unit_price: UnitPrice, amount: Won },
    Override(UnitPrice),
}

/// Reads `product=CD1001,litres=40[,tank=1][,pump-price=1650,pump-amount=66000][,price=1600]`
/// or `product=SN2001,qty=2`.
pub fn parse_line(text: &str) -> Result<LineSpec, String> {
    let mut product = None;
    let mut litres = None;
    let mut qty = None;
    let mut tank = None;
    let mut pump_price = None;
    let mut pump_amount = None;
    let mut price = None;
    for part in text.split(',') {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` in line `{text}` is not key=value"))?;
        let value = value.trim();
        match key.trim() {
            "product" => product = Some(value.parse::<ProductId>().map_err(|e| e.to_string())?),
            "litres" => litres = Some(value.parse::<Millilitres>().map_err(|e| e.to_string())?),
            "qty" => qty = Some(integer("qty", value)?),
            "tank" => tank = Some(value.parse::<TankNo>().map_err(|e| e.to_string())?),
            "pump-price" => pump_price = Some(UnitPrice(integer("pump-price", value)?)),
            "pump-amount" => pump_amount = Some(Won(integer("pump-amount", value)?)),
            "price" => price = Some(UnitPrice(integer("price", value)?)),
            other => {
                return Err(format!(
                    "unknown key `{other}` in line `{text}` (known: product, litres, qty, tank, pump-price, pump-amount, price)"
                ));
            }
        }
    }
    let product = product.ok_or_else(|| format!("line `{text}` names no product"))?;
    let measure = match (litres, qty) {
        (Some(volume), None) => station_core::Measure::Volume(volume),
        (None, Some(quantity)) => station_core::Measure::Quantity(quantity),
        _ => {
            return Err(format!(
                "line `{text}` needs exactly one of litres= or qty="
            ));
        }
    };
    let pricing = match (pump_price, pump_amount, price) {
        (None, None, None) => PricingSpec::PriceList,
        (Some(unit_price), Some(amount), None) => PricingSpec::Pump { unit_price, amount },
        (None, None, Some(unit_price)) => PricingSpec::Override(unit_price),
        _ => {
            return Err(format!(
                "line `{text}`: give pump-price= with pump-amount=, or price=, or neither"
            ));
        }
    };
    Ok(LineSpec {
        product,
        measure,
        tank,
        pricing,
    })
}

/// Reads `PRODUCT:NAME:UNIT:PRICE`, e.g. `CD1001:Diesel:litre:1650`.
pub fn parse_item(text: &str) -> Result<PriceItem, String> {
    let parts: Vec<&str> = text.split(':').collect();
    let [product, name, unit, price] = parts.as_slice() else {
        return Err(format!(
            "price item `{text}` is not PRODUCT:NAME:UNIT:PRICE (e.g. CD1001:Diesel:litre:1650)"
        ));
    };
    let unit = match *unit {
        "litre" => Unit::Litre,
        "piece" => Unit::Piece,
        other => {
            return Err(format!(
                "price item `{text}`: unit `{other}` is neither `litre` nor `piece`"
            ));
        }
    };
    Ok(PriceItem {
        product: product
            .parse()
            .map_err(|e: station_core::IdParseError| e.to_string())?,
        name: (*name).to_owned(),
        unit,
        unit_price: UnitPrice(integer("price", price)?),
    })
}

fn integer(key: &str, value: &str) -> Result<i64, String> {
    value
        .parse()
        .map_err(|_| format!("{key} `{value}` is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_pump_line() {
        let line =
            parse_line("product=CD1001,litres=40.125,tank=2,pump-price=1650,pump-amount=66206")
                .unwrap();
        assert_eq!(
            line.measure,
            station_core::Measure::Volume(Millilitres(40_125))
        );
        assert_eq!(line.tank, Some(TankNo::new(2).unwrap()));
        assert_eq!(
            line.pricing,
            PricingSpec::Pump {
                unit_price: UnitPrice(1650),
                amount: Won(66_206)
            }
        );
    }

    #[test]
    fn names_what_is_wrong_with_a_line() {
        let cases = [
            ("litres=40", "names no product"),
            ("product=CD1001", "exactly one of litres= or qty="),
            (
                "product=CD1001,litres=40,qty=2",
                "exactly one of litres= or qty=",
            ),
            ("product=CD1001,litres=forty", "is not a volume in litres"),
            (
                "product=CD1001,litres=40,pump-price=1650",
                "pump-price= with pump-amount=",
            ),
            (
                "product=CD1001,litres=40,colour=red",
                "unknown key `colour`",
            ),
            ("product=CD1001,litres", "is not key=value"),
        ];
        for (text, expected) in cases {
            let error = parse_line(text).unwrap_err();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn reads_and_refuses_price_items() {
        let item = parse_item("SN2001:Water 500ml:piece:1000").unwrap();
        assert_eq!(item.unit, Unit::Piece);
        assert_eq!(item.unit_price, UnitPrice(1000));
        assert!(
            parse_item("CD1001:Diesel:gallon:1650")
                .unwrap_err()
                .contains("gallon")
        );
        assert!(
            parse_item("CD1001:Diesel:1650")
                .unwrap_err()
                .contains("PRODUCT:NAME")
        );
    }
}
