//! Replays the seed corpora of the `pop3_*` fuzz targets through the same checks.

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).expect("the seed corpus exists") {
        let path = entry.expect("readable directory").path();
        let data = std::fs::read(&path).expect("readable corpus file");
        check(&data);
        count += 1;
    }
    assert!(count >= 3, "only {count} corpus files in {}", dir.display());
}

#[test]
fn pop3_command_corpus() {
    replay("pop3_command", mailwire_pop3::fuzzing::command);
}

#[test]
fn pop3_response_corpus() {
    replay("pop3_response", mailwire_pop3::fuzzing::response);
}

#[test]
fn pop3_server_corpus() {
    replay("pop3_server", mailwire_pop3::fuzzing::server);
}

#[test]
fn pop3_client_corpus() {
    replay("pop3_client", mailwire_pop3::fuzzing::client);
}
