//! Concurrent single orders executed together: while one round commits, the orders that
//! arrive queue, and the next round takes them all, so many callers share one transaction,
//! one commit's flush and three statements instead of paying them per order.
//!
//! Opt-in ([`PgPropService::with_order_lanes`]). Each order still gets exactly what
//! [`PropService::place_order`] answers: the batch path runs the same round, refuses an order
//! alone, keeps each account's orders in arrival order, and falls back to one order per
//! transaction when a round cannot commit whole. Orders of one hot account in one round run in
//! memory one after another instead of queueing on its row lock. A caller alone pays no wait:
//! a lane takes whatever is queued the moment it is free, without a timer.
//!
//! The lanes are tasks started on the first order, on the runtime of its caller. An order is
//! sent to them only whole; if they are gone before it was taken, it runs directly, and if
//! they are gone after, the caller gets an error rather than a second execution.
//!
//! [`PropService::place_order`]: crate::PropService::place_order

use std::sync::{Arc, OnceLock};

use clones_kernel::DomainError;
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::PgPropService;
use crate::PropError;
use crate::views::{BatchOrder, OrderOutcome, OrderRequest};

/// One queued order and where its answer goes.
struct Queued {
    order: BatchOrder,
    reply: oneshot::Sender<Result<OrderOutcome, PropError>>,
}

/// The lanes' settings and their queue, started on first use.
pub(super) struct OrderLanes {
    lanes: usize,
    max_batch: usize,
    queue: OnceLock<mpsc::Sender<Queued>>,
}

/// How concurrent single orders share rounds ([`PgPropService::with_order_lanes`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderLaneSettings {
    /// Rounds in flight at once; 0 turns sharing off (each order is its own transaction).
    pub lanes: usize,
    /// The most orders one round takes.
    pub max_batch: usize,
}

impl Default for OrderLaneSettings {
    /// Two lanes, so one round's statements overlap the other's commit, of up to 64 orders.
    fn default() -> Self {
        Self {
            lanes: 2,
            max_batch: 64,
        }
    }
}

impl OrderLanes {
    fn new(settings: OrderLaneSettings) -> Self {
        Self {
            lanes: settings.lanes.max(1),
            max_batch: settings.max_batch.max(1),
            queue: OnceLock::new(),
        }
    }

    fn queue(&self, service: &PgPropService) -> &mpsc::Sender<Queued> {
        self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(self.lanes * self.max_batch * 4);
            let receiver = Arc::new(Mutex::new(receiver));
            // The lanes hold the service without its lanes: the queue's sender lives only in
            // the callers' copies, so when the last of them is dropped the channel closes and
            // the lanes end, releasing the service and its pool.
            let worker = PgPropService {
                lanes: None,
                ..service.clone()
            };
            for _ in 0..self.lanes {
                tokio::spawn(run_lane(worker.clone(), receiver.clone(), self.max_batch));
            }
            sender
        })
    }
}

/// One lane: takes everything queued (up to `max_batch`), executes it as one batch, answers
/// each caller, and waits for more.
async fn run_lane(
    service: PgPropService,
    receiver: Arc<Mutex<mpsc::Receiver<Queued>>>,
    max_batch: usize,
) {
    loop {
        let batch = {
            let mut receiver = receiver.lock().await;
            let Some(first) = receiver.recv().await else {
                return;
            };
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match receiver.try_recv() {
                    Ok(queued) => batch.push(queued),
                    Err(_) => break,
                }
            }
            batch
        };
        metrics::histogram!("prop_order_round_orders").record(batch.len() as f64);
        let (orders, replies): (Vec<BatchOrder>, Vec<_>) = batch
            .into_iter()
            .map(|queued| (queued.order, queued.reply))
            .unzip();
        match service.place_orders_impl(orders.clone()).await {
            Ok(results) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    // A caller that went away needs no answer.
                    let _ = reply.send(result);
                }
            }
            // Nothing executed (the market could not be read for the whole batch): each order
            // runs alone, with its own answer.
            Err(error) => {
                tracing::warn!(code = error.code(), %error, "order round could not read the market; executing its orders one at a time");
                for (order, reply) in orders.into_iter().zip(replies) {
                    let result = service
                        .place_order_impl(order.owner, order.account_id, order.request)
                        .await;
                    let _ = reply.send(result);
                }
            }
        }
    }
}

impl PgPropService {
    /// Executes concurrent [`place_order`](crate::PropService::place_order) calls together:
    /// `settings.lanes` rounds in flight at once, each of at most `settings.max_batch` orders.
    /// Without it (or with no lanes), each order is its own transaction.
    #[must_use]
    pub fn with_order_lanes(mut self, settings: OrderLaneSettings) -> Self {
        self.lanes = (settings.lanes > 0).then(|| Arc::new(OrderLanes::new(settings)));
        self
    }

    /// [`place_order`](crate::PropService::place_order) through the lanes when they are on.
    pub(super) async fn place_order_routed(
        &self,
        owner: Uuid,
        account_id: Uuid,
        request: OrderRequest,
    ) -> Result<OrderOutcome, PropError> {
        let Some(lanes) = &self.lanes else {
            return self.place_order_impl(owner, account_id, request).await;
        };
        let (reply, answer) = oneshot::channel();
        let queued = Queued {
            order: BatchOrder {
                owner,
                account_id,
                request,
            },
            reply,
        };
        if let Err(refused) = lanes.queue(self).send(queued).await {
            let order = refused.0.order;
            return self
                .place_order_impl(order.owner, order.account_id, order.request)
                .await;
        }
        answer.await.map_err(|_| {
            PropError::Corrupt(
                "the order lane stopped before answering; the order may have executed".into(),
            )
        })?
    }
}
