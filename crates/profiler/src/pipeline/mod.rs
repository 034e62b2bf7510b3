//! The public pipeline API: a [`Source`] feeding [`Stage`]s joined by bounded channels, ending in
//! optional fan-out to [`Subscriber`]s. The default market-data workload is built with exactly
//! this API; so is a user's own pipeline.
//!
//! ```
//! use perfgate_profiler::{Pipeline, Source, StageError, stage_fn};
//!
//! struct Counter(u64);
//! impl Source for Counter {
//!     type Item = u64;
//!     fn next_item(&mut self) -> u64 { self.0 += 1; self.0 }
//! }
//!
//! let pipeline = Pipeline::builder(|_stream| Counter(0))
//!     .stage("square", |_worker| stage_fn(|x: u64| async move { Ok::<_, StageError>(x * x) }))
//!     .stage("check", |_worker| stage_fn(|x: u64| async move {
//!         if x % 7 == 0 { Err(StageError::new("multiple_of_7")) } else { Ok(x) }
//!     }))
//!     .build();
//! assert_eq!(pipeline.stage_names(), ["square", "check"]);
//! ```

mod batch;
mod downstream;
mod inline;
mod stage;
mod terminal;
mod wiring;
mod worker;

use std::fmt;
use std::sync::Arc;

pub use stage::{
    AsyncSource, Counter, FnStage, Source, SourceFn, Stage, StageError, Subscriber, WorkerInfo, source_fn,
    stage_fn,
};

pub(crate) use batch::{Batch, Envelope, ErrorTally};
pub(crate) use downstream::Downstream;
pub(crate) use inline::InlineRunner;
pub(crate) use wiring::{Wiring, WiringSettings};
pub(crate) use worker::{SubscriberReport, WorkerReport};

use downstream::KeyFn;
use inline::{Identity, InlineChain, Runner, Then};

type SourceFactory<Src> = Arc<dyn Fn(usize) -> Src + Send + Sync>;
type Installer<In, T> = Arc<dyn Fn(&mut Wiring, Downstream<T>) -> Downstream<In> + Send + Sync>;
type FullInstaller<In> = Arc<dyn Fn(&mut Wiring) -> Downstream<In> + Send + Sync>;
type RunnerFactory<In> = Arc<dyn Fn(WorkerInfo) -> Box<dyn InlineRunner<In>> + Send + Sync>;
type InlineFactory<In, T> = Arc<dyn Fn(WorkerInfo) -> Box<dyn InlineChain<In, T>> + Send + Sync>;

/// A pipeline under construction whose last stage emits `T`.
pub struct PipelineBuilder<Src: AsyncSource, T> {
    source: SourceFactory<Src>,
    stage_names: Vec<String>,
    install: Installer<Src::Item, T>,
    inline: InlineFactory<Src::Item, T>,
}

impl<Src: AsyncSource, T> fmt::Debug for PipelineBuilder<Src, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipelineBuilder")
            .field("stages", &self.stage_names)
            .finish_non_exhaustive()
    }
}

impl<Src: AsyncSource, T: Send + Sync + 'static> PipelineBuilder<Src, T> {
    /// Adds a stage. `factory` builds one stage instance per worker; work is spread over the
    /// workers a batch at a time. Use [`keyed_stage`](Self::keyed_stage) when the stage keeps
    /// per-key state.
    pub fn stage<S, F>(self, name: &str, factory: F) -> PipelineBuilder<Src, S::Out>
    where
        S: Stage<T>,
        S::Out: Sync,
        F: Fn(WorkerInfo) -> S + Send + Sync + 'static,
    {
        self.add_stage(name, None, factory)
    }

    /// Adds a stage whose workers each own a share of the keys: every message with the same
    /// key goes to the same worker, so per-key state (bars, sessions) stays in one place and
    /// in order. With one worker this is the same as [`stage`](Self::stage).
    pub fn keyed_stage<S, F, K>(self, name: &str, key: K, factory: F) -> PipelineBuilder<Src, S::Out>
    where
        S: Stage<T>,
        S::Out: Sync,
        F: Fn(WorkerInfo) -> S + Send + Sync + 'static,
        K: Fn(&T) -> u64 + Send + Sync + 'static,
    {
        self.add_stage(name, Some(Arc::new(key)), factory)
    }

    fn add_stage<S, F>(self, name: &str, key: Option<KeyFn<T>>, factory: F) -> PipelineBuilder<Src, S::Out>
    where
        S: Stage<T>,
        S::Out: Sync,
        F: Fn(WorkerInfo) -> S + Send + Sync + 'static,
    {
        let index = self.stage_names.len();
        let factory = Arc::new(factory);
        let stage_name = name.to_owned();
        let prefix_install = self.install;
        let install_factory = Arc::clone(&factory);
        let install: Installer<Src::Item, S::Out> = Arc::new(move |wiring, downstream| {
            let inlet = wiring.install_stage(index, &stage_name, &install_factory, key.clone(), downstream);
            prefix_install(wiring, inlet)
        });
        let prefix_inline = self.inline;
        let inline: InlineFactory<Src::Item, S::Out> = Arc::new(move |info| {
            Box::new(Then {
                prefix: prefix_inline(info),
                stage: factory(info),
                scratch: Vec::new(),
            })
        });
        let mut stage_names = self.stage_names;
        stage_names.push(name.to_owned());
        PipelineBuilder {
            source: self.source,
            stage_names,
            install,
            inline,
        }
    }

    /// Ends the pipeline by offering every output batch to `subscribers` subscribers, each built
    /// by `factory(index)` and run as its own task behind a bounded queue. A subscriber that
    /// falls behind loses deliveries (counted) instead of slowing the pipeline.
    pub fn fan_out<Sub, F>(self, subscribers: usize, factory: F) -> Pipeline<Src>
    where
        Sub: Subscriber<T>,
        F: Fn(usize) -> Sub + Send + Sync + 'static,
    {
        let factory = Arc::new(factory);
        let install_factory = Arc::clone(&factory);
        let prefix_install = self.install;
        let prefix_inline = self.inline;
        Pipeline {
            source: self.source,
            stage_names: self.stage_names,
            subscribers,
            install: Arc::new(move |wiring| {
                let terminal = wiring.install_terminal(subscribers, &*install_factory);
                prefix_install(wiring, terminal)
            }),
            inline: Arc::new(move |info| {
                Box::new(Runner {
                    chain: prefix_inline(info),
                    subscribers: (0..subscribers).map(|index| factory(index)).collect(),
                })
            }),
        }
    }

    /// Ends the pipeline without subscribers: the last stage's output is dropped once its
    /// latency is recorded.
    pub fn build(self) -> Pipeline<Src> {
        self.fan_out(0, |_| Discard)
    }
}

/// A subscriber that ignores what it gets; stands in when there is no fan-out.
#[derive(Debug)]
struct Discard;

impl<T: Sync> Subscriber<T> for Discard {
    async fn deliver(&mut self, _batch: &[T]) {}
}

/// A complete pipeline, ready to be run by `perfgate_profiler::run` as often as needed: every run
/// builds fresh stage instances from the factories.
pub struct Pipeline<Src: AsyncSource> {
    source: SourceFactory<Src>,
    stage_names: Vec<String>,
    subscribers: usize,
    install: FullInstaller<Src::Item>,
    inline: RunnerFactory<Src::Item>,
}

impl<Src: AsyncSource> fmt::Debug for Pipeline<Src> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pipeline")
            .field("stages", &self.stage_names)
            .field("subscribers", &self.subscribers)
            .finish_non_exhaustive()
    }
}

impl<Src: AsyncSource> Pipeline<Src>
where
    Src::Item: Sync,
{
    /// Starts a pipeline fed by sources from `source(stream)`. The pipeline uses stream 0;
    /// `limit` mode gives each thread its own stream `0..threads`.
    pub fn builder<F>(source: F) -> PipelineBuilder<Src, Src::Item>
    where
        F: Fn(usize) -> Src + Send + Sync + 'static,
    {
        PipelineBuilder {
            source: Arc::new(source),
            stage_names: Vec::new(),
            install: Arc::new(|_, downstream| downstream),
            inline: Arc::new(|_| Box::new(Identity)),
        }
    }
}

impl<Src: AsyncSource> Pipeline<Src> {
    /// The stage names in order.
    pub fn stage_names(&self) -> &[String] {
        &self.stage_names
    }

    /// How many subscribers the fan-out has (0 without fan-out).
    pub fn subscribers(&self) -> usize {
        self.subscribers
    }

    pub(crate) fn source(&self, stream: usize) -> Src {
        (self.source)(stream)
    }

    /// Spawns every stage and subscriber; returns the first stage's inlet.
    pub(crate) fn install(&self, wiring: &mut Wiring) -> Downstream<Src::Item> {
        (self.install)(wiring)
    }

    pub(crate) fn inline_runner(&self, info: WorkerInfo) -> Box<dyn InlineRunner<Src::Item>> {
        (self.inline)(info)
    }
}
