//! A price book in CSV, as HQ's pricing staff export it from a spreadsheet, read into a price
//! version's prices, every bad line named.

use std::collections::HashMap;

use crate::error::{HubError, LineError};
use crate::master::check_code;

/// The largest price book read at once: more lines than HQ has products, many times over.
pub const PRICE_BOOK_MAX_LINES: usize = 20_000;

/// Reads a price book in CSV (RFC 4180; UTF-8, a byte-order mark allowed): a header naming
/// `product` and `unit_price_won` (other columns, such as a name, are ignored), then one
/// product per line. Every bad line is reported, each with its number; the whole book is
/// refused when any line is bad. `known` tells whether HQ has a product.
pub fn read_price_book(
    text: &str,
    known: impl Fn(&str) -> bool,
) -> Result<Vec<(String, i64)>, HubError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut errors = Vec::new();
    let mut prices: Vec<(String, i64)> = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut lines = text.lines().enumerate();
    let Some((_, header)) = lines.next() else {
        return Err(HubError::InvalidPriceBook(vec![LineError {
            line: 1,
            message: "the file is empty; the first line names the columns product,unit_price_won"
                .to_owned(),
        }]));
    };
    let columns = match split_csv_line(header) {
        Ok(cells) => cells,
        Err(message) => {
            return Err(HubError::InvalidPriceBook(vec![LineError {
                line: 1,
                message,
            }]));
        }
    };
    let find = |name: &str| columns.iter().position(|c| c.trim() == name);
    let (Some(product_at), Some(price_at)) = (find("product"), find("unit_price_won")) else {
        return Err(HubError::InvalidPriceBook(vec![LineError {
            line: 1,
            message: format!("the header `{header}` lacks the columns product and unit_price_won"),
        }]));
    };
    for (index, line) in lines {
        let number = index + 1;
        if line.trim().is_empty() {
            continue;
        }
        if number > PRICE_BOOK_MAX_LINES {
            errors.push(LineError {
                line: number,
                message: format!("a price book holds at most {PRICE_BOOK_MAX_LINES} lines"),
            });
            break;
        }
        let cells = match split_csv_line(line) {
            Ok(cells) => cells,
            Err(message) => {
                errors.push(LineError {
                    line: number,
                    message,
                });
                continue;
            }
        };
        let cell = |at: usize| cells.get(at).map_or("", |c| c.trim());
        let product = cell(product_at);
        let price_text = cell(price_at);
        let mut problems = Vec::new();
        if let Err(e) = check_code("product", product) {
            problems.push(e.to_string());
        } else if !known(product) {
            problems.push(format!("unknown product {product}"));
        } else if let Some(first) = seen.get(product) {
            problems.push(format!("{product} is already priced on line {first}"));
        }
        let digits: String = price_text.chars().filter(|c| *c != ',').collect();
        let price = match digits.parse::<i64>() {
            Ok(p) if (1..=1_000_000).contains(&p) => Some(p),
            Ok(p) => {
                problems.push(format!("{p} won is not between 1 and 1,000,000"));
                None
            }
            Err(_) => {
                problems.push(format!("`{price_text}` is not a whole number of won"));
                None
            }
        };
        match (problems.is_empty(), price) {
            (true, Some(price)) => {
                seen.insert(product.to_owned(), number);
                prices.push((product.to_owned(), price));
            }
            _ => errors.push(LineError {
                line: number,
                message: problems.join("; "),
            }),
        }
    }
    if !errors.is_empty() {
        return Err(HubError::InvalidPriceBook(errors));
    }
    if prices.is_empty() {
        return Err(HubError::EmptyPriceVersion);
    }
    Ok(prices)
}

/// One CSV line's cells: commas separate, double quotes enclose (a doubled quote is a quote).
fn split_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') if cell.trim().is_empty() => {
                cell.clear();
                quoted = true;
            }
            (false, ',') => cells.push(std::mem::take(&mut cell)),
            (false, c) => cell.push(c),
        }
    }
    if quoted {
        return Err("a quoted cell is not closed".to_owned());
    }
    cells.push(cell);
    Ok(cells)
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_price_book_with_quotes_and_thousands_separators_reads() {
        let book = "\u{feff}product,name,unit_price_won\nGAS95,\"휘발유, 고급\",\"1,789\"\nDIESEL,경유,1650\n\n";
        let prices = read_price_book(book, |_| true).unwrap();
        assert_eq!(
            prices,
            vec![("GAS95".to_owned(), 1789), ("DIESEL".to_owned(), 1650)]
        );
    }

    #[test]
    fn every_bad_line_is_named_and_nothing_is_read() {
        let book = "product,unit_price_won\nGAS95,1789\nNOPE1,100\nGAS95,1800\ndiesel,0\nDIESEL,abc\n\"GAS,1\n";
        let Err(HubError::InvalidPriceBook(lines)) =
            read_price_book(book, |p| p == "GAS95" || p == "DIESEL")
        else {
            panic!("the book was read");
        };
        let numbers: Vec<usize> = lines.iter().map(|l| l.line).collect();
        assert_eq!(numbers, vec![3, 4, 5, 6, 7], "{lines:?}");
        assert!(lines[0].message.contains("unknown product NOPE1"));
        assert!(lines[1].message.contains("already priced on line 2"));
        assert!(lines[2].message.contains("not 1 to 16 capital letters"));
        assert!(lines[2].message.contains("0 won is not between"));
        assert!(lines[3].message.contains("`abc` is not a whole number"));
        assert!(lines[4].message.contains("not closed"));
    }

    #[test]
    fn a_book_without_the_columns_or_lines_is_refused() {
        assert!(matches!(
            read_price_book("code,price\nGAS95,1\n", |_| true),
            Err(HubError::InvalidPriceBook(lines)) if lines[0].line == 1
        ));
        assert!(matches!(
            read_price_book("product,unit_price_won\n", |_| true),
            Err(HubError::EmptyPriceVersion)
        ));
        assert!(matches!(
            read_price_book("", |_| true),
            Err(HubError::InvalidPriceBook(_))
        ));
    }

    #[test]
    fn a_book_past_its_line_limit_is_refused_at_the_limit() {
        let mut book = String::from("product,unit_price_won\n");
        for _ in 1..PRICE_BOOK_MAX_LINES {
            book.push_str("GAS95,1\n");
        }
        // Exactly the limit: every line is read (here all duplicates, so refused for that).
        let Err(HubError::InvalidPriceBook(lines)) = read_price_book(&book, |_| true) else {
            panic!()
        };
        assert!(lines.iter().all(|l| l.message.contains("already priced")));
        book.push_str("GAS95,1\n");
        let Err(HubError::InvalidPriceBook(lines)) = read_price_book(&book, |_| true) else {
            panic!()
        };
        assert!(
            lines.last().is_some_and(
                |l| l.line == PRICE_BOOK_MAX_LINES + 1 && l.message.contains("at most")
            )
        );
    }
}
