//! HTTP metrics: one count and one latency observation per request, labelled by method, route
//! template and status class, and a count of rate-limit refusals.
//!
//! Routes are labelled by the template they matched (`/api/v1/clone/clones/{id}`), never by the
//! raw path, so the number of series is bounded by the routes that exist; a request no route
//! matched (and a CORS refusal) is labelled [`UNMATCHED`]. The metrics go through the `metrics`
//! facade to the process's recorder (`clones_runtime::prometheus`); they are served on the
//! separate metrics listener, not by this app.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::Next;

/// Counter: requests by `method`, `route` and `status` (class: `2xx`, `4xx`, …).
pub const HTTP_REQUESTS_TOTAL: &str = "http_requests_total";
/// Histogram: time from the request reaching the app to its response head, in seconds, by
/// `method`, `route` and `status`.
pub const HTTP_REQUEST_DURATION_SECONDS: &str = "http_request_duration_seconds";
/// Counter: requests refused with 429, by `limiter` (`auth`, `dry_run`).
pub const HTTP_RATE_LIMITED_TOTAL: &str = "http_rate_limited_total";
/// The `route` label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Registers the help text of the HTTP metrics with the installed recorder (harmless when
/// none is installed, or when called again).
pub fn describe() {
    metrics::describe_counter!(
        HTTP_REQUESTS_TOTAL,
        "HTTP requests, by method, route template and status class."
    );
    metrics::describe_histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        metrics::Unit::Seconds,
        "HTTP request latency, by method, route template and status class."
    );
    metrics::describe_counter!(
        HTTP_RATE_LIMITED_TOTAL,
        "Requests refused with 429 rate_limited, by limiter."
    );
}

/// Counts a 429 of `limiter`.
pub(crate) fn rate_limited(limiter: &'static str) {
    metrics::counter!(HTTP_RATE_LIMITED_TOTAL, "limiter" => limiter).increment(1);
}

/// Middleware: measures the request and records it under its route template.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let method = method_label(req.method());
    let started = Instant::now();
    let result = next.call(req).await;
    let (route, status) = match &result {
        Ok(response) => (
            response
                .request()
                .match_pattern()
                .unwrap_or_else(|| UNMATCHED.to_string()),
            response.status(),
        ),
        // The request is gone with the error; only middleware errors (a CORS refusal) get here.
        Err(error) => (
            UNMATCHED.to_string(),
            error.as_response_error().status_code(),
        ),
    };
    let status = status_class(status);
    metrics::counter!(
        HTTP_REQUESTS_TOTAL,
        "method" => method,
        "route" => route.clone(),
        "status" => status
    )
    .increment(1);
    metrics::histogram!(
        HTTP_REQUEST_DURATION_SECONDS,
        "method" => method,
        "route" => route,
        "status" => status
    )
    .record(started.elapsed().as_secs_f64());
    result
}

/// The method, or `other` for a method the API does not use (clients may send any token).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_bounded() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").unwrap()), "other");
        assert_eq!(status_class(StatusCode::NO_CONTENT), "2xx");
        assert_eq!(status_class(StatusCode::TOO_MANY_REQUESTS), "4xx");
        assert_eq!(status_class(StatusCode::SERVICE_UNAVAILABLE), "5xx");
    }
}
