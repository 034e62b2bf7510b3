//! The profiler's error type. A stage that rejects one message is not an error of the run: that is
//! a `StageError`, counted in the results.

use std::path::PathBuf;

/// Everything that can stop a profiling run.
#[derive(Debug, thiserror::Error)]
pub enum ProfilerError {
    /// A configuration value is out of range or inconsistent with another one.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The live metrics endpoint cannot be served (bad address, port taken).
    #[error("{0}")]
    Serve(String),
    /// `--workers` names a stage the pipeline does not have.
    #[error("unknown stage '{name}' in workers setting (stages: {known})")]
    UnknownStage {
        /// The name that was given.
        name: String,
        /// The pipeline's stage names, comma separated.
        known: String,
    },
    /// The tokio runtime or a thread could not be started.
    #[error("starting {what}: {source}")]
    Start {
        /// What was being started.
        what: &'static str,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A blocking entry point was called on a thread inside a tokio runtime, where blocking
    /// would stall the runtime's workers (or, waiting for them, never return).
    #[error("{call} blocks, and was called inside a tokio runtime: use {instead} there")]
    BlockingInRuntime {
        /// The blocking call.
        call: &'static str,
        /// Its async counterpart.
        instead: &'static str,
    },
    /// The attach API found no tokio runtime to attach to.
    #[error("no tokio runtime to attach to: call attach_current inside a runtime, or attach to a Handle")]
    NoRuntime,
    /// The attach API was asked for something its state does not allow (a window begun twice).
    #[error("{0}")]
    Usage(&'static str),
    /// A pipeline task or the feeder panicked; the run's figures would be wrong, so it fails.
    #[error("{what} panicked: {message}")]
    Panicked {
        /// Which task or thread.
        what: String,
        /// The panic payload, when it was a string.
        message: String,
    },
    /// Writing an output file failed.
    #[error("writing {path}: {source}")]
    Write {
        /// The file that could not be written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Serialising results failed.
    #[error("serialising results: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Result alias for the profiler library.
pub type Result<T, E = ProfilerError> = std::result::Result<T, E>;

/// Turns a panic payload into text for [`ProfilerError::Panicked`].
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
