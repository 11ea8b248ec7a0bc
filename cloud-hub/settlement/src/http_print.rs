//! The printable statement, in Korean: one page a station operator signs.

use crate::statement::Statement;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Won with thousands separators: 1,234,567원.
pub fn won(amount: i64) -> String {
    format!("{}원", grouped(amount))
}

/// Millilitres as litres with three decimals: 2,500 ml → 2.500 L.
pub fn litres(ml: i64) -> String {
    let sign = if ml < 0 { "-" } else { "" };
    let abs = ml.unsigned_abs();
    format!("{sign}{}.{:03} L", grouped_u(abs / 1000), abs % 1000)
}

fn grouped(value: i64) -> String {
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}", grouped_u(value.unsigned_abs()))
}

fn grouped_u(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The statement as a page for printing.
pub fn print_view(s: &Statement) -> String {
    let mut rows = String::new();
    let mut row = |label: String, detail: String, amount: i64| {
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td></tr>\n",
            escape(&label),
            escape(&detail),
            won(amount)
        ));
    };
    for l in &s.fuel {
        row(
            format!("유류 수수료 {}", l.product),
            format!(
                "{} × {}원/L (판매액 {})",
                litres(l.volume_ml),
                l.rate_won_per_litre,
                won(l.amount_won)
            ),
            l.commission_won,
        );
    }
    for l in &s.shop {
        row(
            "매장 판매 수수료".to_owned(),
            format!(
                "{} × {}.{:02}%",
                won(l.amount_won),
                l.rate_basis_points / 100,
                l.rate_basis_points % 100
            ),
            l.commission_won,
        );
    }
    if let Some(fee) = &s.fee {
        row("월 고정 수수료".to_owned(), String::new(), fee.amount_won);
    }
    for l in &s.deductions {
        row(
            format!("재고 손실 공제 {}", l.product),
            format!(
                "허용치 초과 {} × {}원/L",
                litres(l.beyond_ml),
                l.cost_won_per_litre
            ),
            l.amount_won,
        );
    }
    for l in &s.adjustments {
        let what = match l.kind.as_str() {
            "fuel" => format!("유류 {}", l.product.as_deref().unwrap_or("")),
            "shop" => "매장 판매".to_owned(),
            _ => format!("재고 손실 {}", l.product.as_deref().unwrap_or("")),
        };
        row(
            format!("조정 ({}) {what}", l.business_day),
            if l.kind == "shop" {
                won(l.amount_won)
            } else {
                litres(l.volume_ml)
            },
            l.commission_won,
        );
    }
    let status = if s.status == "closed" {
        format!(
            "마감 {} ({})",
            s.closed_at.as_deref().unwrap_or(""),
            s.closed_by.as_deref().unwrap_or("")
        )
    } else {
        "미마감 (잠정)".to_owned()
    };
    format!(
        "<!doctype html>\n<html lang=\"ko\"><head><meta charset=\"utf-8\"><title>위탁수수료 정산서 {station} {period}</title>\n\
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%}}td,th{{border:1px solid #999;padding:4px 8px}}.n{{text-align:right}}@media print{{button{{display:none}}}}</style></head>\n\
<body><h1>위탁수수료 정산서</h1>\n<p>점포: {station} {name}<br>정산 기간: {first} ~ {last}<br>상태: {status}</p>\n\
<table><thead><tr><th>항목</th><th>내역</th><th>금액</th></tr></thead><tbody>\n{rows}</tbody>\n\
<tfoot><tr><th colspan=\"2\">수수료 합계</th><td class=\"n\">{commission}</td></tr>\n\
<tr><th colspan=\"2\">공제 합계</th><td class=\"n\">{deductions}</td></tr>\n\
<tr><th colspan=\"2\">조정 합계</th><td class=\"n\">{adjustments}</td></tr>\n\
<tr><th colspan=\"2\">지급액</th><td class=\"n\"><strong>{total}</strong></td></tr></tfoot></table>\n\
<p>금액은 원 단위 정수이며, 각 항목에서 한 번 반올림합니다 (0.5원은 올림).</p>\n\
<button onclick=\"window.print()\">인쇄</button></body></html>\n",
        station = escape(&s.station),
        name = escape(&s.station_name),
        period = escape(&s.period),
        first = escape(&s.first_day),
        last = escape(&s.last_day),
        commission = won(s.commission_won + s.fee_won),
        deductions = won(s.deductions_won),
        adjustments = won(s.adjustments_won),
        total = won(s.total_owed_won),
    )
}
