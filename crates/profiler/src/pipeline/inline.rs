//! The same stages run without channels or tasks: one message batch goes through every stage in
//! a plain loop. The `limit` mode uses this to measure what the stage functions alone can do.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use super::stage::{Stage, Subscriber};

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Runs a batch through a prefix of the pipeline's stages.
pub(crate) trait InlineChain<In, Out>: Send {
    /// Processes `input`, appending survivors to `output` and counting rejects in `rejected`.
    fn run<'a>(
        &'a mut self,
        input: Vec<In>,
        output: &'a mut Vec<Out>,
        rejected: &'a mut u64,
    ) -> BoxFuture<'a, ()>;
}

/// The empty prefix: messages pass unchanged.
pub(crate) struct Identity;

impl<T: Send + 'static> InlineChain<T, T> for Identity {
    fn run<'a>(&'a mut self, input: Vec<T>, output: &'a mut Vec<T>, _: &'a mut u64) -> BoxFuture<'a, ()> {
        output.extend(input);
        Box::pin(std::future::ready(()))
    }
}

/// A prefix followed by one more stage.
pub(crate) struct Then<In, Mid, S> {
    pub(crate) prefix: Box<dyn InlineChain<In, Mid>>,
    pub(crate) stage: S,
    pub(crate) scratch: Vec<Mid>,
}

impl<In, Mid, S> InlineChain<In, S::Out> for Then<In, Mid, S>
where
    In: Send + 'static,
    Mid: Send + 'static,
    S: Stage<Mid>,
{
    fn run<'a>(
        &'a mut self,
        input: Vec<In>,
        output: &'a mut Vec<S::Out>,
        rejected: &'a mut u64,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.prefix.run(input, &mut self.scratch, rejected).await;
            for item in self.scratch.drain(..) {
                match self.stage.process(item).await {
                    Ok(out) => output.push(out),
                    Err(_) => *rejected += 1,
                }
            }
        })
    }
}

/// A whole pipeline for one thread: stages plus this thread's own subscribers.
pub(crate) trait InlineRunner<In>: Send {
    /// Runs one batch end to end; returns (processed, rejected).
    fn run_batch(&mut self, input: Vec<In>) -> BoxFuture<'_, (u64, u64)>;
}

pub(crate) struct Runner<In, Out, Sub> {
    pub(crate) chain: Box<dyn InlineChain<In, Out>>,
    pub(crate) subscribers: Vec<Sub>,
}

impl<In, Out, Sub> InlineRunner<In> for Runner<In, Out, Sub>
where
    In: Send + 'static,
    Out: Send + Sync + 'static,
    Sub: Subscriber<Out>,
{
    fn run_batch(&mut self, input: Vec<In>) -> BoxFuture<'_, (u64, u64)> {
        Box::pin(async move {
            let mut output = Vec::with_capacity(input.len());
            let mut rejected = 0;
            self.chain.run(input, &mut output, &mut rejected).await;
            let processed = output.len() as u64;
            // Shared the way the pipeline shares a batch between subscribers.
            let shared = Arc::new(output);
            for subscriber in &mut self.subscribers {
                subscriber.deliver(&shared).await;
            }
            (processed, rejected)
        })
    }
}
