//! AzureEventGridSimulator's settings file (`--simulator-settings appsettings.json`), as
//! `EmulatorConfig::simulator_settings` reads it into a configuration.
//!
//! Input: the file's text.

use eventgrid_emulator::EmulatorConfig;

/// Runs one input. Checks: every topic of the settings gets its port; the configuration is
/// valid, shows no secret in its `Debug` output, and runs in process.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let Ok((config, warnings)) =
        eventgrid_emulator::fuzzing::simulator_settings(EmulatorConfig::new(), &text)
    else {
        return;
    };
    for topic in &config.topics {
        assert!(
            config.push.topic_ports.contains_key(topic.name()),
            "topic {} has no port",
            topic.name()
        );
    }
    assert!(
        warnings.len() <= 2 * config.topics.len(),
        "more warnings than skipped subscriber kinds"
    );
    crate::emulator_settings::assert_debug_hides_secrets(&config);
    crate::emulator_settings::run_in_process(config);
}
