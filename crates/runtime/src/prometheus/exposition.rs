//! A strict reader of the Prometheus text format (0.0.4), for tests that scrape a metrics
//! listener: it refuses a sample without a `# TYPE` line before it, a sample outside its
//! family, malformed labels or values, and a histogram whose buckets are not cumulative or do
//! not end in `+Inf` equal to its `_count`.

use std::collections::BTreeMap;

/// One metric family: its `# TYPE`, optional `# HELP` and its samples in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The family name (for a histogram, without `_bucket`, `_sum` or `_count`).
    pub name: String,
    /// `counter`, `gauge`, `histogram`, `summary` or `untyped`.
    pub kind: String,
    /// The `# HELP` text, if any.
    pub help: Option<String>,
    /// The samples, in the order written.
    pub samples: Vec<Sample>,
}

/// One sample line.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The sample's own name (`x_bucket` for a histogram bucket).
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Its value.
    pub value: f64,
}

impl Sample {
    /// The value of label `name`, if present.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels.get(name).map(String::as_str)
    }

    /// True when every `(name, value)` pair is among its labels.
    pub fn has_labels(&self, pairs: &[(&str, &str)]) -> bool {
        pairs
            .iter()
            .all(|(name, value)| self.label(name) == Some(*value))
    }
}

impl Family {
    /// Samples named `name` whose labels include every pair.
    pub fn samples_named<'a>(
        &'a self,
        name: &'a str,
        pairs: &'a [(&'a str, &'a str)],
    ) -> impl Iterator<Item = &'a Sample> + 'a {
        self.samples
            .iter()
            .filter(move |sample| sample.name == name && sample.has_labels(pairs))
    }

    /// The value of the one sample named `name` with exactly these labels (for a histogram,
    /// name the `_count` or `_sum` sample).
    pub fn value(&self, name: &str, pairs: &[(&str, &str)]) -> Option<f64> {
        self.samples
            .iter()
            .find(|sample| {
                sample.name == name
                    && sample.labels.len() == pairs.len()
                    && sample.has_labels(pairs)
            })
            .map(|sample| sample.value)
    }
}

/// Every family of a scrape, by name.
pub type Scrape = BTreeMap<String, Family>;

/// Parses a scrape.
///
/// # Errors
/// A message naming the first line that breaks the format.
pub fn parse(text: &str) -> Result<Scrape, String> {
    let mut families: Scrape = BTreeMap::new();
    let mut helps: BTreeMap<String, String> = BTreeMap::new();
    let mut current: Option<String> = None;
    for (number, line) in text.lines().enumerate() {
        let fail = |why: &str| format!("line {}: {why}: {line:?}", number + 1);
        if line.trim().is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            if !metric_name(name) || helps.insert(name.into(), help.into()).is_some() {
                return Err(fail("bad or repeated HELP"));
            }
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest
                .split_once(' ')
                .ok_or_else(|| fail("TYPE without kind"))?;
            let known = ["counter", "gauge", "histogram", "summary", "untyped"];
            if !metric_name(name) || !known.contains(&kind) || families.contains_key(name) {
                return Err(fail("bad or repeated TYPE"));
            }
            families.insert(
                name.into(),
                Family {
                    name: name.into(),
                    kind: kind.into(),
                    help: None,
                    samples: Vec::new(),
                },
            );
            current = Some(name.into());
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let sample = sample(line).ok_or_else(|| fail("malformed sample"))?;
        let family = current
            .as_ref()
            .and_then(|name| families.get_mut(name))
            .filter(|family| belongs(family, &sample.name))
            .ok_or_else(|| fail("sample without its TYPE line before it"))?;
        family.samples.push(sample);
    }
    for (name, help) in helps {
        let family = families
            .get_mut(&name)
            .ok_or_else(|| format!("HELP for {name}, which has no TYPE"))?;
        family.help = Some(help);
    }
    for family in families.values() {
        if family.kind == "histogram" {
            check_histogram(family)?;
        }
    }
    Ok(families)
}

fn metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_' || first == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn label_name(name: &str) -> bool {
    metric_name(name) && !name.contains(':')
}

fn belongs(family: &Family, sample: &str) -> bool {
    let suffixes: &[&str] = match family.kind.as_str() {
        "histogram" => &["_bucket", "_sum", "_count"],
        "summary" => &["", "_sum", "_count"],
        _ => &[""],
    };
    suffixes
        .iter()
        .any(|suffix| sample.strip_suffix(suffix) == Some(family.name.as_str()))
}

/// `name{label="value",…} value [timestamp]`.
fn sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' ']).unwrap_or(line.len());
    let name = &line[..name_end];
    if !metric_name(name) {
        return None;
    }
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(body) = rest.strip_prefix('{') {
        let (parsed, after) = label_set(body)?;
        labels = parsed;
        rest = after;
    }
    let mut fields = rest.strip_prefix(' ')?.split(' ');
    let value = number(fields.next()?)?;
    if let Some(timestamp) = fields.next() {
        timestamp.parse::<i64>().ok()?;
    }
    if fields.next().is_some() {
        return None;
    }
    Some(Sample {
        name: name.into(),
        labels,
        value,
    })
}

/// The labels up to the closing brace, and what follows it.
fn label_set(mut text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        if let Some(after) = text.strip_prefix('}') {
            return Some((labels, after));
        }
        let (name, after) = text.split_once("=\"")?;
        if !label_name(name) {
            return None;
        }
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            match chars.next()? {
                (index, '"') => break index,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    escaped @ ('\\' | '"') => value.push(escaped),
                    _ => return None,
                },
                (_, '\n') => return None,
                (_, c) => value.push(c),
            }
        };
        if labels.insert(name.to_string(), value).is_some() {
            return None;
        }
        text = &after[end + 1..];
        text = text.strip_prefix(',').unwrap_or(text);
    }
}

fn number(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => text.parse().ok().filter(|value: &f64| value.is_finite()),
    }
}

/// Each label set of a histogram has cumulative buckets ending at `+Inf`, whose count equals
/// `_count`, and a `_sum`.
fn check_histogram(family: &Family) -> Result<(), String> {
    let name = &family.name;
    // Each series (its labels but `le`) with its (upper bound, cumulative count) buckets.
    type Labels = Vec<(String, String)>;
    let mut series: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
    for sample in family
        .samples
        .iter()
        .filter(|s| s.name == format!("{name}_bucket"))
    {
        let le = sample
            .label("le")
            .and_then(number)
            .ok_or_else(|| format!("{name}: a bucket without a numeric le"))?;
        let key = sample
            .labels
            .iter()
            .filter(|(label, _)| *label != "le")
            .map(|(label, value)| (label.clone(), value.clone()))
            .collect();
        series.entry(key).or_default().push((le, sample.value));
    }
    if series.is_empty() && !family.samples.is_empty() {
        return Err(format!("{name}: a histogram without buckets"));
    }
    for (key, buckets) in series {
        let pairs: Vec<(&str, &str)> = key.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let ordered = buckets
            .windows(2)
            .all(|pair| pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1);
        let infinite = buckets.last().filter(|(le, _)| *le == f64::INFINITY);
        let count = family.value(&format!("{name}_count"), &pairs);
        let sum = family.value(&format!("{name}_sum"), &pairs);
        match (ordered, infinite, count, sum) {
            (true, Some((_, total)), Some(count), Some(_)) if *total == count => {}
            _ => {
                return Err(format!(
                    "{name}{key:?}: buckets, +Inf, _count or _sum are wrong"
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "# HELP requests_total Requests.\n# TYPE requests_total counter\n\
        requests_total{route=\"/a/{id}\",status=\"2xx\"} 3\n\
        # TYPE wait_seconds histogram\n\
        wait_seconds_bucket{le=\"0.1\"} 1\nwait_seconds_bucket{le=\"+Inf\"} 2\n\
        wait_seconds_sum 0.35\nwait_seconds_count 2\n\n# TYPE up gauge\nup 1 1700000000000\n";

    #[test]
    fn reads_a_well_formed_scrape() {
        let scrape = parse(GOOD).unwrap();
        let requests = &scrape["requests_total"];
        assert_eq!(requests.kind, "counter");
        assert_eq!(requests.help.as_deref(), Some("Requests."));
        assert_eq!(
            requests.value("requests_total", &[("route", "/a/{id}"), ("status", "2xx")]),
            Some(3.0)
        );
        assert_eq!(
            scrape["wait_seconds"].value("wait_seconds_count", &[]),
            Some(2.0)
        );
        assert_eq!(scrape["up"].value("up", &[]), Some(1.0));
    }

    #[test]
    fn refuses_what_breaks_the_format() {
        for bad in [
            "requests_total 1\n",
            "# TYPE a counter\nb 1\n",
            "# TYPE a counter\n# TYPE a counter\na 1\n",
            "# TYPE a gauge\na{x=\"1} 1\n",
            "# TYPE a gauge\na{x=1} 1\n",
            "# TYPE a gauge\na one\n",
            "# TYPE a gauge\na{x=\"1\",x=\"2\"} 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",
            "# HELP x text\n",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
