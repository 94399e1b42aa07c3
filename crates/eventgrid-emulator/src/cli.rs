//! The emulator's command line, `eventgrid-emulator [--host H] [--port P] [--topic SPEC]...`,
//! as a library function so that other commands (`eventgrid emulator`) run exactly the same
//! thing.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::{
    Emulator, EmulatorConfig, FaultRule, FaultSpec, NamespaceTopicSpec, RunningEmulator,
    SubscriptionSpec, TopicSpec,
};
use clap::Parser;

/// A command-line value that holds a secret: never shown by `Debug`.
#[derive(Clone)]
struct SecretArg(String);

impl std::str::FromStr for SecretArg {
    type Err = std::convert::Infallible;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Ok(Self(text.to_owned()))
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

/// The port used when neither the command line nor the configuration file names one.
const DEFAULT_PORT: u16 = 7070;

/// A local Azure Event Grid service: topics, authentication, validation, inspection and fault
/// injection. Prints `listening on URL`, then each topic's endpoint.
#[derive(Debug, Parser)]
#[command(name = "eventgrid-emulator", version, about)]
struct Cli {
    /// Address to listen on [default: 127.0.0.1]
    #[arg(long)]
    host: Option<String>,
    /// Port to listen on; 0 picks a free port [default: 7070]
    #[arg(long)]
    port: Option<u16>,
    /// A topic: NAME[:SCHEMA][=KEY], SCHEMA being eventgrid (default), cloudevents or custom;
    /// without =KEY the topic is open (no authentication). Repeatable.
    #[arg(long = "topic", value_name = "SPEC")]
    topics: Vec<TopicSpec>,
    /// A TOML (or .json) configuration file; command-line options override it
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Serve HTTPS with a generated certificate, written to --tls-certificate
    #[arg(long)]
    tls: bool,
    /// Where to write the CA certificate clients must trust [default: a temporary file]
    #[arg(long, value_name = "FILE")]
    tls_certificate: Option<PathBuf>,
    /// Events (and request records) kept per topic; 0 keeps none, only counts [default: 10000]
    #[arg(long, value_name = "N")]
    retain: Option<usize>,
    /// A fault rule from start-up: TOPIC:RULE, e.g. orders:status=503,next=3 or
    /// orders:status=429,retry-after=1,fraction=0.05 or orders:drop,fraction=0.05 or
    /// orders:latency-ms=200. Repeatable; rules of one topic combine.
    #[arg(long = "fault", value_name = "TOPIC:RULE")]
    faults: Vec<String>,
    /// Seed of the random draws of --fault rules given as fractions
    #[arg(long, value_name = "N", default_value_t = 0)]
    fault_seed: u64,
    /// A client the token endpoint accepts: CLIENT_ID=SECRET. Repeatable; without any, it
    /// accepts every client with a non-empty secret (on a loopback address only).
    #[arg(long = "entra-client", value_name = "ID=SECRET")]
    entra_clients: Vec<SecretArg>,
    /// The key the emulator's API (/_emulator/*) requires, as `Authorization: Bearer KEY`;
    /// required on a non-loopback address. Better given by the environment variable, which
    /// other users of the machine cannot read.
    #[arg(
        long,
        value_name = "KEY",
        env = "EVENTGRID_EMULATOR_ADMIN_KEY",
        hide_env_values = true
    )]
    admin_key: Option<SecretArg>,
    /// Bytes of event text kept per topic at most [default: 67108864]
    #[arg(long, value_name = "BYTES")]
    retain_bytes: Option<usize>,
    /// Connections served at once; more wait [default: 256]
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Largest event in bytes [default: 1049600]
    #[arg(long, value_name = "BYTES")]
    max_event_bytes: Option<usize>,
    /// Largest request body in bytes [default: 1536000]
    #[arg(long, value_name = "BYTES")]
    max_request_bytes: Option<usize>,
    /// Most events per request [default: 5000]
    #[arg(long, value_name = "N")]
    max_events_per_request: Option<usize>,
    /// A namespace topic (pull delivery): NAME[=KEY]; without =KEY it is open. Repeatable.
    /// The emulator's root URL is the namespace endpoint.
    #[arg(long = "namespace-topic", value_name = "NAME[=KEY]")]
    namespace_topics: Vec<NamespaceTopicSpec>,
    /// A queue subscription of a namespace topic: TOPIC/NAME. Repeatable; the configuration
    /// file sets lock duration, maximum delivery count, time-to-live and event-type filters.
    #[arg(long = "subscription", value_name = "TOPIC/NAME")]
    subscriptions: Vec<SubscriptionSpec>,
    /// An event subscription delivering to a webhook: TOPIC=URL or TOPIC/NAME=URL. The
    /// validation handshake runs at start-up. Repeatable.
    // Read as text: clap would repeat a refused value, and the URL's query may be a secret.
    #[arg(long = "webhook", value_name = "TOPIC=URL")]
    webhooks: Vec<String>,
    /// Skip the validation handshake of the --webhook subscriptions (they deliver at once)
    #[arg(long)]
    skip_validation: bool,
    /// Multiply the delivery rules' times (retry schedule, time-to-live, handshake waits) by F;
    /// 0.001 turns the 10 s first retry into 10 ms [default: 1]
    #[arg(long, value_name = "F")]
    retry_time_scale: Option<f64>,
    /// Seconds a webhook has to answer one delivery [default: 30]
    #[arg(long, value_name = "SECONDS")]
    delivery_timeout: Option<f64>,
    /// A PEM file of CA certificates to trust for https webhooks, besides the public roots
    #[arg(long, value_name = "FILE")]
    webhook_ca: Option<PathBuf>,
    /// The folder under which subscriptions created through the control API may write dead
    /// letters; their deadLetterFolder is relative to it [default: the working directory]
    #[arg(long, value_name = "DIR")]
    dead_letter_root: Option<PathBuf>,
    /// AzureEventGridSimulator's settings file (appsettings.json): its topics, each on its own
    /// port with its key, and its http subscribers. Add --tls for its https URLs.
    #[arg(long, value_name = "FILE")]
    simulator_settings: Option<PathBuf>,
}

impl Cli {
    fn into_config(self) -> Result<EmulatorConfig, String> {
        let mut config = match &self.config {
            Some(path) => EmulatorConfig::from_file(path).map_err(|error| error.to_string())?,
            None => EmulatorConfig::new().port(DEFAULT_PORT),
        };
        if let Some(path) = &self.config
            && !file_names_port(path)
        {
            config.port = DEFAULT_PORT;
        }
        if let Some(host) = self.host {
            config.host = host;
        }
        if let Some(port) = self.port {
            config.port = port;
        }
        config.topics.extend(self.topics);
        config.namespace_topics.extend(self.namespace_topics);
        config.subscriptions.extend(self.subscriptions);
        config.tls |= self.tls;
        if let Some(path) = self.tls_certificate {
            config.tls_certificate_path = Some(path);
        }
        if let Some(retain) = self.retain {
            config.retain = retain;
        }
        if let Some(bytes) = self.max_event_bytes {
            config.limits.max_event_bytes = bytes;
        }
        if let Some(bytes) = self.max_request_bytes {
            config.limits.max_request_bytes = bytes;
        }
        if let Some(count) = self.max_events_per_request {
            config.limits.max_events_per_request = count;
        }
        for fault in &self.faults {
            let (topic, rule) = fault
                .split_once(':')
                .ok_or_else(|| format!("--fault `{fault}`: expected TOPIC:RULE"))?;
            let rule: FaultRule = rule
                .parse()
                .map_err(|error| format!("--fault `{fault}`: {error}"))?;
            let spec = config
                .faults
                .remove(topic)
                .unwrap_or_else(|| FaultSpec::new().seed(self.fault_seed));
            config.faults.insert(topic.to_owned(), spec.rule(rule));
        }
        if let Some(key) = self.admin_key {
            config.admin_key = Some(key.0);
        }
        if let Some(bytes) = self.retain_bytes {
            config.retain_bytes = bytes;
        }
        if let Some(connections) = self.max_connections {
            config.max_connections = connections;
        }
        for client in self.entra_clients {
            let (id, secret) = client
                .0
                .split_once('=')
                .ok_or("--entra-client: expected CLIENT_ID=SECRET")?;
            config = config.entra_client(id, secret);
        }
        if let Some(path) = &self.simulator_settings {
            config = config
                .simulator_settings(path)
                .map_err(|error| error.to_string())?;
        }
        for webhook in &self.webhooks {
            let spec: crate::WebhookSubscription = webhook
                .parse()
                .map_err(|reason| format!("--webhook: {reason}"))?;
            config
                .push
                .subscriptions
                .push(spec.validation(!self.skip_validation));
        }
        config.push.name_unnamed_webhooks();
        if let Some(scale) = self.retry_time_scale {
            config.push.retry_time_scale = scale;
        }
        if let Some(seconds) = self.delivery_timeout {
            config.push.delivery_timeout = std::time::Duration::try_from_secs_f64(seconds)
                .map_err(|_| format!("--delivery-timeout {seconds}: not a duration"))?;
        }
        if let Some(path) = self.webhook_ca {
            config.push.webhook_ca_certificate = Some(path);
        }
        if let Some(root) = self.dead_letter_root {
            config.push.dead_letter_root = Some(root);
        }
        config.validate().map_err(|error| error.to_string())?;
        Ok(config)
    }
}

/// The configuration a command line (`args`, the first being the program name) starts the
/// emulator with, or the message it is refused with. For the fuzz target of the flag values.
pub(crate) fn config_from_args(
    args: impl IntoIterator<Item = impl Into<OsString> + Clone>,
) -> Result<EmulatorConfig, String> {
    Cli::try_parse_from(args)
        .map_err(|error| error.to_string())?
        .into_config()
}

/// Whether a (valid) configuration file sets `port` itself, even to 0.
fn file_names_port(path: &std::path::Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    if path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"))
    {
        serde_json::from_str::<serde_json::Value>(&text)
            .is_ok_and(|file| file.get("port").is_some())
    } else {
        toml::from_str::<toml::Table>(&text).is_ok_and(|file| file.contains_key("port"))
    }
}

/// Prints the start-up lines. A reader that stops reading early (a script that takes the first
/// line and closes the pipe) must not bring the emulator down, so write errors are ignored.
fn print_banner(emulator: &RunningEmulator, config: &EmulatorConfig) {
    let _ = write_banner(&mut std::io::stdout().lock(), emulator, config);
    if config.topics.is_empty() && config.namespace_topics.is_empty() {
        eprintln!("warning: no topics configured; add --topic NAME or --namespace-topic NAME");
    }
}

fn write_banner(
    out: &mut impl Write,
    emulator: &RunningEmulator,
    config: &EmulatorConfig,
) -> std::io::Result<()> {
    writeln!(out, "listening on {}", emulator.base_url())?;
    for topic in &config.topics {
        writeln!(
            out,
            "topic {} ({}, {}): {}?api-version={}",
            topic.name(),
            topic.schema(),
            if topic.key().is_some() { "key" } else { "open" },
            emulator.topic_endpoint(topic.name()),
            crate::API_VERSION,
        )?;
    }
    write_namespace_banner(out, emulator, config)?;
    for topic in config.push.topic_ports.keys() {
        if let Some(endpoint) = emulator.topic_port_endpoint(topic) {
            writeln!(
                out,
                "topic {topic} also at: {endpoint}?api-version={}",
                crate::API_VERSION
            )?;
        }
    }
    for subscription in emulator.webhook_subscriptions() {
        writeln!(
            out,
            "webhook {}/{} -> {} ({})",
            subscription.topic,
            subscription.name,
            subscription.endpoint,
            subscription.state.as_str()
        )?;
    }
    if let Some(path) = emulator.ca_certificate_path() {
        writeln!(out, "ca certificate: {}", path.display())?;
    }
    writeln!(
        out,
        "token endpoint: {}",
        emulator.token_endpoint("{tenant}")
    )?;
    writeln!(out, "inspect: {}/_emulator/topics", emulator.base_url())?;
    out.flush()
}

/// The namespace endpoint and each namespace topic and subscription, when there are any.
fn write_namespace_banner(
    out: &mut impl Write,
    emulator: &RunningEmulator,
    config: &EmulatorConfig,
) -> std::io::Result<()> {
    if config.namespace_topics.is_empty() {
        return Ok(());
    }
    let endpoint = emulator.namespace_endpoint();
    let version = crate::NAMESPACE_API_VERSION;
    writeln!(out, "namespace endpoint: {endpoint}")?;
    for topic in &config.namespace_topics {
        writeln!(
            out,
            "namespace topic {} ({}): {endpoint}/topics/{}:publish?api-version={version}",
            topic.name(),
            if topic.key().is_some() { "key" } else { "open" },
            topic.name(),
        )?;
    }
    for subscription in &config.subscriptions {
        writeln!(
            out,
            "subscription {}/{}: {endpoint}/topics/{}/eventsubscriptions/{}:receive?api-version={version}",
            subscription.topic(),
            subscription.name(),
            subscription.topic(),
            subscription.name(),
        )?;
    }
    writeln!(
        out,
        "inspect namespace: {endpoint}/_emulator/namespace/topics"
    )?;
    Ok(())
}

/// Ctrl-C and SIGTERM, listened for from start-up so that no signal is missed.
struct StopSignals {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopSignals {
    fn listen() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Self {
                interrupt: signal(SignalKind::interrupt()).ok(),
                terminate: signal(SignalKind::terminate()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Self {}
        }
    }

    /// Resolves on the first of the signals.
    async fn received(mut self) {
        #[cfg(unix)]
        {
            let interrupt = async {
                match self.interrupt.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            let terminate = async {
                match self.terminate.as_mut() {
                    Some(signal) => signal.recv().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = interrupt => {}
                _ = terminate => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Runs the command line `args` (the first being the program name) until Ctrl-C or SIGTERM,
/// and returns the exit status: 0 after a graceful shutdown, 2 for usage and configuration
/// errors, 1 when the emulator cannot start (for example, the port is in use).
pub fn run(args: impl IntoIterator<Item = impl Into<OsString> + Clone>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    let config = match cli.into_config() {
        Ok(config) => config,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: could not start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(serve(config))
}

async fn serve(config: EmulatorConfig) -> ExitCode {
    let signals = StopSignals::listen();
    let emulator = match Emulator::start(config.clone()).await {
        Ok(emulator) => emulator,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    print_banner(&emulator, &config);
    signals.received().await;
    eprintln!("shutting down");
    emulator.shutdown().await;
    ExitCode::SUCCESS
}
