#!/usr/bin/env python3
"""Writes N synthetic ERP records (~20 fields each) as NDJSON: gen_records.py N > out.ndjson"""
import json
import random
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
rnd = random.Random(42)
cities = ["Köln", "Bonn", "Essen", "München", "Berlin", "Hamburg", "Wien", "Zürich"]
out = sys.stdout
for i in range(n):
    rec = {
        "id": f"C{i:07d}",
        "first": rnd.choice(["ada", "bob", "cy", "dana", "eve"]),
        "last": rnd.choice(["lovelace", "byron", "smith", "müller"]),
        "email": f"  User{i}@Example.COM ",
        "price": f"{rnd.randint(1, 99999) / 100:.2f}",
        "qty": rnd.randint(1, 40),
        "tax_rate": rnd.choice(["0.19", "0.07", "0.00"]),
        "active": rnd.random() < 0.9,
        "status": rnd.choice(["open", "closed", None]),
        "country": rnd.choice(["de", "at", "ch"]),
        "address": {"street": f"Street {i}", "city": rnd.choice(cities), "zip": f"{rnd.randint(10000, 99999)}"},
        "phone": f"+49 221 {rnd.randint(100000, 999999)}",
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2024-06-01T10:00:00Z",
        "tags": ["erp", "sap", rnd.choice(["a", "b"])],
        "notes": "Lorem ipsum dolor sit amet, consectetur adipiscing elit.",
        "credit_limit": rnd.randint(0, 200000),
        "currency": "EUR",
        "segment": rnd.choice(["smb", "enterprise"]),
        "owner": f"owner{rnd.randint(1, 50)}",
    }
    line = json.dumps(rec, ensure_ascii=False)
    # prices as JSON numbers with their exact digits
    line = line.replace(f'"price": "{rec["price"]}"', f'"price": {rec["price"]}').replace(
        f'"tax_rate": "{rec["tax_rate"]}"', f'"tax_rate": {rec["tax_rate"]}'
    )
    out.write(line + "\n")
