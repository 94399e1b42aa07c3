//! The public methods every front end's client has that only ask its [`ClientCore`]: written
//! once here, expanded in each client's `impl` block.
//!
//! [`ClientCore`]: crate::frontend::ClientCore

/// Expands to `add_topic`, `remove_topic`, `topics`, `options` and `metrics`, each asking
/// `self.core()` (a `fn core(&self) -> &ClientCore` the client provides).
#[doc(hidden)]
#[macro_export]
macro_rules! core_delegates {
    () => {
        /// Adds a topic at run time, visible to every clone; a name already configured is
        /// refused, and so is a credential that would cross plain http to a remote host.
        pub fn add_topic(&self, topic: $crate::EventGridTopicConfig) -> $crate::Result<()> {
            self.core().add_topic(topic)
        }

        /// Removes a topic at run time and returns its configuration. Sends already under way
        /// finish; later ones get [`Error::UnknownTopic`]($crate::Error::UnknownTopic).
        pub fn remove_topic(&self, name: &str) -> $crate::Result<$crate::EventGridTopicConfig> {
            self.core().remove_topic(name)
        }

        /// The configured topic names, sorted.
        pub fn topics(&self) -> ::std::vec::Vec<::std::string::String> {
            self.core().topics()
        }

        /// The options in force.
        pub fn options(&self) -> &$crate::ClientOptions {
            self.core().options()
        }

        /// Per-topic metrics since the client was made: events published and failed,
        /// requests, retries, bytes sent and request latency.
        pub fn metrics(
            &self,
        ) -> ::std::collections::BTreeMap<::std::string::String, $crate::TopicMetrics> {
            self.core().metrics()
        }
    };
}
