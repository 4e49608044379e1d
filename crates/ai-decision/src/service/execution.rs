//! Hand-over of a run's actions to prop-engine and the record of its answers.
//!
//! Orders go only through `PropService::place_order` with the action id as idempotency key; this
//! module never writes prop tables and never decides what to order.

use clones_kernel::DomainError;
use clones_prop_engine::{OrderRequest, TimeInForce};
use uuid::Uuid;

use super::PgDecisionService;
use crate::models::ExecutionRow;
use crate::views::RunDetail;
use crate::{DecisionError, repo};

impl PgDecisionService {
    /// Hands every action of `detail` without a recorded execution to prop-engine and records
    /// the answer. Returns (orders executed for the first time, hand-overs that failed).
    pub(super) async fn execute_pending(
        &self,
        owner: Uuid,
        account_id: Uuid,
        detail: &RunDetail,
    ) -> Result<(u32, u32), DecisionError> {
        let mut created = 0;
        let mut errors = 0;
        for action in detail
            .actions
            .iter()
            .filter(|action| action.execution.is_none())
        {
            let request = OrderRequest {
                decision_action_id: Some(action.id.clone()),
                instrument: action.instrument.clone(),
                side: action.side,
                size: action.size,
                limit_price: None,
                reduce_only: action.reduce_only,
                time_in_force: TimeInForce::Ioc,
            };
            match self.prop.place_order(owner, account_id, request).await {
                Ok(outcome) => {
                    if outcome.created {
                        created += 1;
                    }
                    let row = ExecutionRow {
                        id: Uuid::new_v4(),
                        action_id: action.id.clone(),
                        run_id: detail.run.id,
                        owner_user_id: owner,
                        account_id,
                        prop_order_id: outcome.order.id,
                        order_status: outcome.order.status.as_str().to_string(),
                        rejection_code: outcome.order.rejection_code.clone(),
                        filled_size: outcome.order.filled_size,
                        executed_at: self.clock.now(),
                    };
                    self.db
                        .tenant_transaction(owner, move |conn| {
                            repo::insert_execution(conn, &row).map_err(DecisionError::from)
                        })
                        .await?;
                }
                Err(error) => {
                    errors += 1;
                    tracing::warn!(action_id = %action.id, code = error.code(), %error, "order hand-over failed");
                }
            }
        }
        Ok((created, errors))
    }
}
