//! Validation of a language model's answer into proposals, and the JSON schema it is asked to
//! follow. Pure: no IO. An answer is accepted whole or not at all, so a half-valid answer never
//! executes its valid half.

use std::str::FromStr;

use clones_strategy::{ActionKind, SizeSpec};
use rust_decimal::Decimal;
use serde_json::{Value, json};

use super::{Proposal, SizeBounds, Task};

/// Longest rationale kept, in characters; longer ones are cut.
pub const MAX_RATIONALE_CHARS: usize = 500;

/// Why an answer was refused: a stable code and a detail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// `invalid_json`, `invalid_shape`, `too_many_actions`, `unknown_task`, `unknown_asset`,
    /// `action_not_allowed`, `missing_size` or `size_out_of_bounds`.
    pub code: &'static str,
    /// What was wrong.
    pub detail: String,
}

fn invalid(code: &'static str, detail: impl Into<String>) -> Invalid {
    Invalid {
        code,
        detail: detail.into(),
    }
}

/// The JSON schema of an answer for `tasks` (strict mode: every property required, no extra
/// ones, optional values nullable).
pub fn output_schema(tasks: &[Task], bounds: &SizeBounds) -> Value {
    let ids: Vec<&str> = tasks.iter().map(|task| task.id.as_str()).collect();
    let mut assets: Vec<&str> = tasks
        .iter()
        .flat_map(|task| task.assets.iter().map(String::as_str))
        .collect();
    assets.sort_unstable();
    assets.dedup();
    let mut kinds: Vec<&str> = tasks
        .iter()
        .flat_map(|task| task.allowed_actions.iter().map(|kind| kind.as_str()))
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["actions"],
        "properties": {
            "actions": {
                "type": "array",
                "maxItems": bounds.max_actions,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["task", "asset", "kind", "size", "rationale"],
                    "properties": {
                        "task": {"type": "string", "enum": ids},
                        "asset": {"type": "string", "enum": assets},
                        "kind": {"type": "string", "enum": kinds},
                        "size": {"anyOf": [
                            {"type": "null"},
                            {
                                "type": "object",
                                "additionalProperties": false,
                                "required": ["unit", "amount"],
                                "properties": {
                                    "unit": {"type": "string", "enum": ["percent_equity", "notional"]},
                                    "amount": {"type": "string", "pattern": "^-?[0-9]+(\\.[0-9]+)?$"}
                                }
                            }
                        ]},
                        "rationale": {"type": ["string", "null"]}
                    }
                }
            }
        }
    })
}

fn decimal(value: &Value) -> Option<Decimal> {
    match value {
        Value::String(text) => Decimal::from_str(text.trim()).ok(),
        // Numbers are read from their JSON text, never through f64.
        Value::Number(number) => Decimal::from_str(&number.to_string())
            .or_else(|_| Decimal::from_scientific(&number.to_string()))
            .ok(),
        _ => None,
    }
}

fn size_of(value: &Value, index: usize) -> Result<Option<SizeSpec>, Invalid> {
    match value {
        Value::Null => Ok(None),
        Value::Object(fields) => {
            let amount = fields.get("amount").and_then(decimal).ok_or_else(|| {
                invalid(
                    "invalid_shape",
                    format!("actions[{index}].size.amount is not a decimal"),
                )
            })?;
            match fields.get("unit").and_then(Value::as_str) {
                Some("percent_equity") => Ok(Some(SizeSpec::PercentEquity(amount))),
                Some("notional") => Ok(Some(SizeSpec::Notional(amount))),
                _ => Err(invalid(
                    "invalid_shape",
                    format!("actions[{index}].size.unit must be percent_equity or notional"),
                )),
            }
        }
        _ => Err(invalid(
            "invalid_shape",
            format!("actions[{index}].size must be an object or null"),
        )),
    }
}

fn check_bounds(
    size: &SizeSpec,
    signed: bool,
    bounds: &SizeBounds,
    index: usize,
) -> Result<(), Invalid> {
    let amount = size.amount();
    let limit = match size {
        SizeSpec::PercentEquity(_) => bounds.max_percent_equity,
        SizeSpec::Notional(_) => bounds.max_notional,
    };
    let ok = if signed {
        amount.abs() <= limit
    } else {
        amount > Decimal::ZERO && amount <= limit
    };
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "size_out_of_bounds",
            format!(
                "actions[{index}].size {} {} is outside {}{limit}",
                size.key(),
                amount.normalize(),
                if signed {
                    "-limit..="
                } else {
                    "0 (exclusive)..="
                }
            ),
        ))
    }
}

/// Parses a model's answer (`content` of the chat completion) into proposals for `tasks`.
///
/// # Errors
/// [`Invalid`] for malformed JSON, a wrong shape, an unknown task or asset, an action the task
/// does not allow, a missing size or a size outside `bounds`.
pub fn parse_output(
    content: &str,
    tasks: &[Task],
    bounds: &SizeBounds,
) -> Result<Vec<Proposal>, Invalid> {
    let value: Value = serde_json::from_str(content.trim())
        .map_err(|error| invalid("invalid_json", format!("the answer is not JSON: {error}")))?;
    let actions = value
        .get("actions")
        .and_then(Value::as_array)
        .ok_or_else(|| invalid("invalid_shape", "the answer has no `actions` array"))?;
    if actions.len() > bounds.max_actions {
        return Err(invalid(
            "too_many_actions",
            format!("{} actions; at most {}", actions.len(), bounds.max_actions),
        ));
    }
    let mut proposals = Vec::with_capacity(actions.len());
    for (index, action) in actions.iter().enumerate() {
        let text = |field: &str| action.get(field).and_then(Value::as_str);
        let task_id = text("task")
            .ok_or_else(|| invalid("invalid_shape", format!("actions[{index}].task is missing")))?;
        let task = tasks
            .iter()
            .find(|task| task.id == task_id)
            .ok_or_else(|| {
                invalid(
                    "unknown_task",
                    format!("actions[{index}].task `{task_id}` was not asked"),
                )
            })?;
        let asset = text("asset").ok_or_else(|| {
            invalid(
                "invalid_shape",
                format!("actions[{index}].asset is missing"),
            )
        })?;
        if !task.assets.iter().any(|allowed| allowed == asset) {
            return Err(invalid(
                "unknown_asset",
                format!("actions[{index}].asset `{asset}` is not allowed for task `{task_id}`"),
            ));
        }
        let kind_text = text("kind")
            .ok_or_else(|| invalid("invalid_shape", format!("actions[{index}].kind is missing")))?;
        let kind = ActionKind::from_name(kind_text)
            .filter(|kind| task.allowed_actions.contains(kind))
            .ok_or_else(|| {
                invalid(
                    "action_not_allowed",
                    format!(
                        "actions[{index}].kind `{kind_text}` is not allowed for task `{task_id}`"
                    ),
                )
            })?;
        let size = size_of(action.get("size").unwrap_or(&Value::Null), index)?;
        let size = match kind {
            // A close needs no size; one given is ignored.
            ActionKind::Close => None,
            ActionKind::OpenLong | ActionKind::OpenShort | ActionKind::TargetPosition => {
                let size = size.ok_or_else(|| {
                    invalid("missing_size", format!("actions[{index}] needs a size"))
                })?;
                check_bounds(&size, kind == ActionKind::TargetPosition, bounds, index)?;
                Some(size)
            }
        };
        let rationale = text("rationale")
            .map(|text| text.chars().take(MAX_RATIONALE_CHARS).collect::<String>())
            .filter(|text| !text.trim().is_empty());
        proposals.push(Proposal {
            source: task.id.clone(),
            asset: asset.to_string(),
            kind,
            size,
            risk: task.risk,
            rationale,
        });
    }
    Ok(proposals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clones_strategy::RiskSettings;

    fn task() -> Task {
        Task {
            id: "ask".into(),
            guidance: "g".into(),
            allowed_actions: vec![ActionKind::OpenLong, ActionKind::Close],
            assets: vec!["BTC".into()],
            context: Vec::new(),
            risk: RiskSettings::default(),
        }
    }

    fn bounds() -> SizeBounds {
        SizeBounds {
            max_percent_equity: Decimal::from(100),
            max_notional: Decimal::from(1000),
            max_actions: 2,
        }
    }

    fn parse(text: &str) -> Result<Vec<Proposal>, Invalid> {
        parse_output(text, &[task()], &bounds())
    }

    #[test]
    fn a_valid_answer_becomes_proposals() {
        let proposals = parse(
            r#"{"actions":[{"task":"ask","asset":"BTC","kind":"open_long","size":{"unit":"percent_equity","amount":"5"},"rationale":"up"},
               {"task":"ask","asset":"BTC","kind":"close","size":null,"rationale":null}]}"#,
        )
        .unwrap_or_default();
        assert_eq!(proposals.len(), 2);
        assert_eq!(
            proposals[0].size,
            Some(SizeSpec::PercentEquity(Decimal::from(5)))
        );
        assert_eq!(proposals[0].rationale.as_deref(), Some("up"));
        assert_eq!(proposals[1].size, None);
    }

    #[test]
    fn every_kind_of_bad_answer_has_its_code() {
        let code = |text: &str| parse(text).err().map(|invalid| invalid.code);
        assert_eq!(code("not json"), Some("invalid_json"));
        assert_eq!(code(r#"{"moves":[]}"#), Some("invalid_shape"));
        assert_eq!(
            code(r#"{"actions":[{"task":"x","asset":"BTC","kind":"close","size":null}]}"#),
            Some("unknown_task")
        );
        assert_eq!(
            code(r#"{"actions":[{"task":"ask","asset":"ETH","kind":"close","size":null}]}"#),
            Some("unknown_asset")
        );
        assert_eq!(
            code(r#"{"actions":[{"task":"ask","asset":"BTC","kind":"open_short","size":null}]}"#),
            Some("action_not_allowed")
        );
        assert_eq!(
            code(r#"{"actions":[{"task":"ask","asset":"BTC","kind":"open_long","size":null}]}"#),
            Some("missing_size")
        );
        assert_eq!(
            code(
                r#"{"actions":[{"task":"ask","asset":"BTC","kind":"open_long","size":{"unit":"notional","amount":"1001"}}]}"#
            ),
            Some("size_out_of_bounds")
        );
        assert_eq!(
            code(
                r#"{"actions":[{"task":"ask","asset":"BTC","kind":"open_long","size":{"unit":"percent_equity","amount":"-1"}}]}"#
            ),
            Some("size_out_of_bounds")
        );
        let three = r#"{"task":"ask","asset":"BTC","kind":"close","size":null}"#;
        assert_eq!(
            code(&format!(r#"{{"actions":[{three},{three},{three}]}}"#)),
            Some("too_many_actions")
        );
    }
}
