//! The three things a pipeline is made of: a message [`Source`], [`Stage`]s that turn one message
//! into the next, and fan-out [`Subscriber`]s at the end. The default market-data workload
//! implements exactly these traits; a user's pipeline does the same.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

/// Which instance of a stage (or of the message source) a factory is building.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkerInfo {
    /// This worker's index, `0..count`.
    pub index: usize,
    /// How many workers the stage has in this run (threads, in `limit` mode).
    pub count: usize,
}

/// Produces the messages pushed into the pipeline, one at a time, as fast as asked.
///
/// A source should be cheap and deterministic: its cost shows up in the pipeline's profile, and
/// the same seed should give the same stream so that runs are comparable.
pub trait Source: Send + 'static {
    /// The message type the first stage receives.
    type Item: Send + 'static;

    /// The next message of the stream. Sources are endless; the driver decides when to stop.
    fn next_item(&mut self) -> Self::Item;
}

/// A source whose messages arrive asynchronously: a WebSocket or Kafka consumer, a channel fed by
/// the network. The feeder awaits each message: at saturation it drains the source as fast as it
/// yields, at a fixed rate it asks on the schedule (latency still counts from the intended send
/// time, so a source that lags behind the schedule shows as latency). `None` ends the stream:
/// the phase ends early, with a warning, counting what was sent.
///
/// Every [`Source`] is an `AsyncSource` that is always ready and never ends; a
/// `tokio::sync::mpsc` receiver is one too, and [`source_fn`] makes one from an async closure.
/// (A `futures::Stream` takes three lines: `fn next_message(&mut self) -> impl Future + Send
/// { self.0.next() }`.)
pub trait AsyncSource: Send + 'static {
    /// The message type the first stage receives.
    type Item: Send + 'static;

    /// The next message, once it has arrived; `None` when the stream has ended.
    fn next_message(&mut self) -> impl Future<Output = Option<Self::Item>> + Send;
}

impl<S: Source> AsyncSource for S {
    type Item = S::Item;

    fn next_message(&mut self) -> impl Future<Output = Option<Self::Item>> + Send {
        std::future::ready(Some(self.next_item()))
    }
}

impl<T: Send + 'static> AsyncSource for tokio::sync::mpsc::Receiver<T> {
    type Item = T;

    fn next_message(&mut self) -> impl Future<Output = Option<T>> + Send {
        self.recv()
    }
}

impl<T: Send + 'static> AsyncSource for tokio::sync::mpsc::UnboundedReceiver<T> {
    type Item = T;

    fn next_message(&mut self) -> impl Future<Output = Option<T>> + Send {
        self.recv()
    }
}

/// An [`AsyncSource`] made from a closure returning a future of the next message (`None` ends it).
pub fn source_fn<T, F, Fut>(next: F) -> SourceFn<F>
where
    T: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Option<T>> + Send,
{
    SourceFn(next)
}

/// The source [`source_fn`] makes.
#[derive(Debug, Clone)]
pub struct SourceFn<F>(F);

impl<T, F, Fut> AsyncSource for SourceFn<F>
where
    T: Send + 'static,
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Option<T>> + Send,
{
    type Item = T;

    fn next_message(&mut self) -> impl Future<Output = Option<T>> + Send {
        (self.0)()
    }
}

/// One step of the pipeline: takes a message, returns the next form of it or rejects it.
///
/// A stage owns its state (`&mut self`); with several workers each worker gets its own instance
/// from the stage's factory. Implement it with `async fn process`, or wrap an async closure with
/// [`stage_fn`].
pub trait Stage<In>: Send + 'static {
    /// What the stage hands to the next one.
    type Out: Send + 'static;

    /// Processes one message. An `Err` drops the message and counts it under the error's kind.
    fn process(&mut self, input: In) -> impl Future<Output = Result<Self::Out, StageError>> + Send;

    /// Counters the stage wants in the results (e.g. cache hits), read once when the run ends and
    /// summed over the stage's workers. Counters named `cache_hits`, `cache_misses` and
    /// `cache_evictions` also fill the results' `cache` section.
    fn counters(&self) -> Vec<Counter> {
        Vec::new()
    }
}

/// Receives every batch of messages that leaves the last stage, like one WebSocket client.
///
/// Each subscriber runs as its own task behind a bounded queue: when it falls behind, deliveries
/// to it are dropped and counted, and the rest of the pipeline does not wait for it.
pub trait Subscriber<T>: Send + 'static {
    /// Delivers one batch. Messages arrive in the order the last stage emitted them.
    fn deliver(&mut self, batch: &[T]) -> impl Future<Output = ()> + Send;
}

/// A named count reported by a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    /// The counter's name in the results, `snake_case`.
    pub name: &'static str,
    /// Its value for this stage instance.
    pub value: u64,
}

impl Counter {
    /// A counter with a name and a value.
    pub fn new(name: &'static str, value: u64) -> Self {
        Self { name, value }
    }
}

/// Why a stage rejected a message. The kind is what the results count errors by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
    kind: Cow<'static, str>,
}

impl From<crate::database::DatabaseError> for StageError {
    /// A message whose database lookup failed: `database_timeout`, `database_connection` or
    /// `database_query`, so that `?` on an [`InstrumentedPool`](crate::database::InstrumentedPool)
    /// query in a stage counts the message as an error of that kind.
    fn from(error: crate::database::DatabaseError) -> Self {
        StageError::new(error.stage_kind())
    }
}

impl StageError {
    /// An error of the given kind, e.g. `"malformed"`. Use a small fixed set of kinds: each one
    /// becomes a counter in the results.
    pub fn new(kind: impl Into<Cow<'static, str>>) -> Self {
        Self { kind: kind.into() }
    }

    /// The kind this error is counted under.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    pub(crate) fn into_kind(self) -> Cow<'static, str> {
        self.kind
    }
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "stage rejected the message: {}", self.kind)
    }
}

impl std::error::Error for StageError {}

/// A [`Stage`] made from an async function or closure, for stateless steps.
///
/// ```
/// use perfgate_profiler::{stage_fn, StageError};
/// let double = stage_fn(|x: u64| async move { Ok::<_, StageError>(x * 2) });
/// # let _ = double;
/// ```
pub fn stage_fn<F>(function: F) -> FnStage<F> {
    FnStage { function }
}

/// The stage returned by [`stage_fn`].
#[derive(Clone)]
pub struct FnStage<F> {
    function: F,
}

impl<F> fmt::Debug for FnStage<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FnStage")
    }
}

impl<In, Out, F, Fut> Stage<In> for FnStage<F>
where
    F: FnMut(In) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Out, StageError>> + Send,
    Out: Send + 'static,
{
    type Out = Out;

    fn process(&mut self, input: In) -> impl Future<Output = Result<Out, StageError>> + Send {
        (self.function)(input)
    }
}
