# The jq program equivalent to benches/bench_connector.toml.
select(.active == true)
| {
    id: .id,
    full_name: ((.first // "") + " " + (.last // "")),
    email: (.email | ascii_downcase | sub("^\\s+"; "") | sub("\\s+$"; "")),
    net: ((.price * .qty * 100 | round) / 100),
    gross: ((.price * .qty * (1 + .tax_rate) * 100 | round) / 100),
    band: (if .price * .qty > 1000 then "high" else "low" end),
    city: .address.city,
    country: (.country | ascii_upcase),
    status: (.status // "unknown"),
    source: "bench"
  }
