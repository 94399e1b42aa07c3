//! An emulator on its own runtime, for blocking code: tests of blocking clients, the CLI demo.

use std::fmt;
use std::ops::Deref;
use std::sync::mpsc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::config::EmulatorConfig;
use crate::error::{Error, Result};
use crate::inspection::control::EmulatorControl;
use crate::serving::start::Emulator;

impl Emulator {
    /// Starts an emulator on a multi-thread tokio runtime of its own, on a background thread,
    /// and returns once it is listening. Works from any thread, inside a runtime or not.
    ///
    /// ```
    /// use eventgrid_emulator::{Emulator, EmulatorConfig, TopicSpec};
    ///
    /// let emulator = Emulator::start_in_background(
    ///     EmulatorConfig::new().topic(TopicSpec::open("orders")),
    /// )
    /// .unwrap();
    /// assert!(emulator.topic_endpoint("orders").ends_with("/orders/api/events"));
    /// emulator.shutdown();
    /// ```
    pub fn start_in_background(config: EmulatorConfig) -> Result<EmulatorHandle> {
        let (started, start_result) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("eventgrid-emulator".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_multi_thread()
                    .enable_all()
                    .thread_name("eventgrid-emulator-worker")
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(error) => {
                        let _ = started.send(Err(Error::Runtime(error.to_string())));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match Emulator::start(config).await {
                        Ok(running) => {
                            let (stop, stop_requested) = oneshot::channel::<()>();
                            if started.send(Ok((running.control().clone(), stop))).is_ok() {
                                // Resolves on a stop request or when the handle is gone.
                                let _ = stop_requested.await;
                            }
                            running.shutdown().await;
                        }
                        Err(error) => {
                            let _ = started.send(Err(error));
                        }
                    }
                });
            })
            .map_err(|error| Error::Runtime(error.to_string()))?;
        match start_result.recv() {
            Ok(Ok((control, stop))) => Ok(EmulatorHandle {
                control,
                stop: Some(stop),
                thread: Some(thread),
            }),
            Ok(Err(error)) => {
                let _ = thread.join();
                Err(error)
            }
            Err(_) => Err(Error::Runtime(
                "the emulator thread ended at start-up".to_owned(),
            )),
        }
    }
}

/// An emulator running on its own background runtime. Dropping it shuts it down gracefully and
/// waits for that; so does [`shutdown`](EmulatorHandle::shutdown).
///
/// It dereferences to [`EmulatorControl`] for URLs, inspection and fault injection.
pub struct EmulatorHandle {
    control: EmulatorControl,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmulatorHandle {
    /// The controls, to clone and hand to other threads.
    pub fn control(&self) -> &EmulatorControl {
        &self.control
    }

    /// Stops the emulator gracefully and waits until it has stopped.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Deref for EmulatorHandle {
    type Target = EmulatorControl;

    fn deref(&self) -> &EmulatorControl {
        &self.control
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

impl fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("control", &self.control)
            .finish_non_exhaustive()
    }
}
