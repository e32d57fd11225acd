//! Connector file text (TOML, and the same bytes as JSON) → load, validate, compile; and a
//! connector that compiles transforms a record without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sluice::transform::connector_file::ConnectorFile;
use sluice::transform::Transform;
use sluice::interp::Interpreter;
use sluice::runtime::Ctx;
use sluice::value::parse_record;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for is_json in [false, true] {
        let Ok(file) = ConnectorFile::from_text("fuzz", text, is_json) else { continue };
        if let Ok(transform) = Transform::compile(&file, &Default::default()) {
            let record = parse_record(r#"{"CardCode": "C1", "CardName": "x", "CardType": "C", "Qty": 2}"#).expect("fixture");
            let ctx = Ctx::new(&record);
            let _ = transform.apply(&mut Interpreter::new(), &ctx);
        }
        let _ = serde_json::to_string(&file.connector.redacted());
    }
});
