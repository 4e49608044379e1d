//! Model strength tiers and the catalog of known model ids.
//!
//! Entitlement checks compare a model's tier with the tier a plan allows. The product rule is
//! that an id missing from the catalog counts as the strongest tier, so a new or misspelled
//! model can never slip past an entitlement check. This module owns only the catalog; which
//! tier a plan allows is decided by the caller through [`crate::Constraints`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// The id of the deterministic rule model: the evaluator in this crate, no language model.
pub const RULE_MODEL_ID: &str = "rule";

/// How strong (and costly) a decision model is. Ordered: `Basic < Standard < Advanced <
/// Frontier`. Serialized in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModelStrength {
    /// The deterministic rule model only.
    Basic,
    /// Small language models.
    Standard,
    /// Large language models.
    Advanced,
    /// The strongest models, and every model id not in the catalog.
    Frontier,
}

/// The known model ids and their tiers. Ids are matched exactly (case-sensitive).
const CATALOG: &[(&str, ModelStrength)] = &[
    (RULE_MODEL_ID, ModelStrength::Basic),
    ("gpt-4o-mini", ModelStrength::Standard),
    ("gpt-4.1-mini", ModelStrength::Standard),
    ("llama-3.1-8b-instruct", ModelStrength::Standard),
    ("qwen2.5-7b-instruct", ModelStrength::Standard),
    ("mistral-7b-instruct", ModelStrength::Standard),
    ("gpt-4o", ModelStrength::Advanced),
    ("gpt-4.1", ModelStrength::Advanced),
    ("llama-3.3-70b-instruct", ModelStrength::Advanced),
    ("qwen2.5-72b-instruct", ModelStrength::Advanced),
    ("mixtral-8x22b-instruct", ModelStrength::Advanced),
    ("o3", ModelStrength::Frontier),
    ("deepseek-r1", ModelStrength::Frontier),
    ("llama-3.1-405b-instruct", ModelStrength::Frontier),
];

impl ModelStrength {
    /// Every tier, weakest first.
    pub const ALL: [ModelStrength; 4] = [
        ModelStrength::Basic,
        ModelStrength::Standard,
        ModelStrength::Advanced,
        ModelStrength::Frontier,
    ];

    /// The tier of a model id: its catalog entry, or [`ModelStrength::Frontier`] for any id not
    /// in the catalog (including ids that differ only in case or whitespace).
    pub fn of_model(id: &str) -> ModelStrength {
        CATALOG
            .iter()
            .find(|(known, _)| *known == id)
            .map_or(ModelStrength::Frontier, |(_, strength)| *strength)
    }

    /// True when `id` is in the catalog.
    pub fn is_known_model(id: &str) -> bool {
        CATALOG.iter().any(|(known, _)| *known == id)
    }

    /// The catalog: every known model id with its tier, weakest tier first.
    pub fn catalog() -> &'static [(&'static str, ModelStrength)] {
        CATALOG
    }

    /// The `snake_case` name.
    pub fn as_str(self) -> &'static str {
        match self {
            ModelStrength::Basic => "basic",
            ModelStrength::Standard => "standard",
            ModelStrength::Advanced => "advanced",
            ModelStrength::Frontier => "frontier",
        }
    }
}

impl fmt::Display for ModelStrength {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_ordered() {
        assert!(ModelStrength::Basic < ModelStrength::Standard);
        assert!(ModelStrength::Standard < ModelStrength::Advanced);
        assert!(ModelStrength::Advanced < ModelStrength::Frontier);
        let mut sorted = ModelStrength::ALL;
        sorted.sort();
        assert_eq!(sorted, ModelStrength::ALL);
    }

    #[test]
    fn known_models_have_their_tier() {
        assert_eq!(ModelStrength::of_model("rule"), ModelStrength::Basic);
        assert_eq!(
            ModelStrength::of_model("gpt-4o-mini"),
            ModelStrength::Standard
        );
        assert_eq!(
            ModelStrength::of_model("llama-3.3-70b-instruct"),
            ModelStrength::Advanced
        );
        assert_eq!(ModelStrength::of_model("o3"), ModelStrength::Frontier);
    }

    #[test]
    fn unknown_models_are_the_strongest() {
        for id in ["", "Rule", " rule", "rule ", "gpt-9", "GPT-4O-MINI"] {
            assert_eq!(
                ModelStrength::of_model(id),
                ModelStrength::Frontier,
                "{id:?}"
            );
            assert!(!ModelStrength::is_known_model(id));
        }
    }

    #[test]
    fn catalog_is_sorted_by_tier_and_has_no_duplicates() {
        let catalog = ModelStrength::catalog();
        assert!(catalog.windows(2).all(|pair| pair[0].1 <= pair[1].1));
        let mut ids: Vec<&str> = catalog.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), catalog.len());
    }

    #[test]
    fn serializes_in_snake_case() {
        assert_eq!(
            serde_json::to_string(&ModelStrength::Frontier).unwrap(),
            "\"frontier\""
        );
        let parsed: ModelStrength = serde_json::from_str("\"standard\"").unwrap();
        assert_eq!(parsed, ModelStrength::Standard);
        assert_eq!(ModelStrength::Advanced.to_string(), "advanced");
    }
}
