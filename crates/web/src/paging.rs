//! The list routes' paging parameters: `limit` and `cursor` parsed once into a
//! [`PageRequest`], the route's other query parameters into its own filter type, and the
//! documentation of both parameters for the OpenAPI document.
//!
//! No route reads `limit` or `cursor` itself; the limit policy and the cursor codec live in
//! `clones_kernel::page`, and this module must not restate them.

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use clones_kernel::{Cursor, CursorKey, PageError, PageRequest, TimeKey};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::ApiError;
use crate::extract::Query;

/// A list route's query: the page request and the route's own filter parameters `F`. `K` is
/// the shape of the list's sort key, a timestamp and id unless the list orders otherwise.
///
/// A malformed `limit` or `cursor` (or either given twice) answers 400 `invalid_page`; any
/// other query problem, a control character in any parameter included, answers 400
/// `invalid_query`, as for [`Query`].
#[derive(Debug)]
pub struct Paged<F = NoFilter, K = TimeKey> {
    /// Which page.
    pub page: PageRequest<K>,
    /// The route's other query parameters.
    pub filter: F,
}

/// The filter of a list route that takes no parameters but `limit` and `cursor`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoFilter {}

/// The paging parameters every list route takes, for the OpenAPI document.
#[derive(Debug, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Most items on the page (1-500, default 100); others answer 400 `invalid_page`.
    pub limit: Option<u32>,
    /// The previous page's `nextCursor`, to read the page after it; a cursor the API did not
    /// issue answers 400 `invalid_page`.
    pub cursor: Option<String>,
}

/// The description of a paged route's 400 answer in the OpenAPI document.
pub const BAD_PAGE: &str =
    "`invalid_page` (limit outside 1-500, or a cursor the API did not issue) or `invalid_query`";

/// The text of a page's next cursor, as list responses carry it in `nextCursor`.
pub fn next_cursor<K: CursorKey>(cursor: Option<Cursor<K>>) -> Option<String> {
    cursor.map(|cursor| cursor.encode())
}

/// Declares a paged response body: `items` and `nextCursor` (null on the last page), built
/// from a kernel `Page` of the item type.
macro_rules! paged_response {
    ($(#[doc = $doc:literal])* $name:ident, $item:ty, $items_doc:literal) => {
        $(#[doc = $doc])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            #[doc = $items_doc]
            pub items: Vec<$item>,
            /// Pass as `cursor` to get the next page; null on the last page.
            pub next_cursor: Option<String>,
        }

        impl<K: clones_kernel::CursorKey> From<clones_kernel::Page<$item, K>> for $name {
            fn from(page: clones_kernel::Page<$item, K>) -> Self {
                Self {
                    items: page.items,
                    next_cursor: $crate::paging::next_cursor(page.next_cursor),
                }
            }
        }
    };
}
pub(crate) use paged_response;

fn parse<F: DeserializeOwned, K: CursorKey>(query: &str) -> Result<Paged<F, K>, ApiError> {
    // Read through `Query` first, so the paging parameters are refused for control
    // characters exactly as every other query parameter is.
    let Query(pairs) = Query::<Vec<(String, String)>>::from_query(query)?;
    let mut limit = None;
    let mut cursor = None;
    let mut rest = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs {
        let slot = match key.as_str() {
            "limit" => &mut limit,
            "cursor" => &mut cursor,
            _ => {
                rest.append_pair(&key, &value);
                continue;
            }
        };
        if slot.replace(value).is_some() {
            return Err(if key == "limit" {
                PageError::InvalidLimit
            } else {
                PageError::MalformedCursor
            }
            .into());
        }
    }
    let page = PageRequest::parse(limit.as_deref(), cursor.as_deref())?;
    let Query(filter) = Query::<F>::from_query(&rest.finish())?;
    Ok(Paged { page, filter })
}

impl<F: DeserializeOwned, K: CursorKey> FromRequest for Paged<F, K> {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(parse(req.query_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Filter {
        status: Option<String>,
    }

    #[test]
    fn paging_parameters_are_split_from_the_filter() -> Result<(), ApiError> {
        let paged: Paged<Filter> = parse::<Filter, TimeKey>("status=open&limit=7")?;
        assert_eq!(paged.page.limit(), 7);
        assert_eq!(paged.filter.status.as_deref(), Some("open"));
        let paged: Paged = parse("")?;
        assert_eq!(paged.page, PageRequest::first());
        Ok(())
    }

    #[test]
    fn bad_paging_is_invalid_page_and_a_bad_filter_invalid_query() {
        let code = |query: &str| {
            parse::<Filter, TimeKey>(query)
                .map(drop)
                .err()
                .map(|e| e.code().to_string())
        };
        assert_eq!(code("limit=0").as_deref(), Some("invalid_page"));
        assert_eq!(code("limit=501").as_deref(), Some("invalid_page"));
        assert_eq!(code("limit=x").as_deref(), Some("invalid_page"));
        assert_eq!(code("limit=1&limit=2").as_deref(), Some("invalid_page"));
        assert_eq!(code("cursor=nope").as_deref(), Some("invalid_page"));
        assert_eq!(code("other=1").as_deref(), Some("invalid_query"));
        assert_eq!(code("cursor=%00").as_deref(), Some("invalid_query"));
        assert_eq!(code("limit=1%0A").as_deref(), Some("invalid_query"));
        assert_eq!(code("status=open%07").as_deref(), Some("invalid_query"));
    }
}
