//! OData list options and the list envelope
//! `{"items": […], "nextPageLink": <string|null>, "count": <n|null>}`.
//!
//! Pages hold at most the profile's `page_size` items; a larger `$top` is served
//! over several pages. `nextPageLink` reproduces NextGen's leak of the internal
//! backend URL (`next_page_link_base`) followed by the route path and the
//! original query with `$skip` (and the remaining `$top`) advanced.

use axum::http::Uri;
use serde_json::{Value, json};

use super::error::ApiError;
use super::odata::{self, Expr, OrderKey};
use crate::profile::Profile;

/// Parsed OData query options of a list request.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// `$filter`.
    pub filter: Option<Expr>,
    /// `$orderby`.
    pub orderby: Vec<OrderKey>,
    /// `$top`.
    pub top: Option<usize>,
    /// `$skip`.
    pub skip: usize,
    /// `$inlinecount=allpages` or `$count=true`.
    pub count: bool,
    /// `$expand` names, lower-cased.
    pub expand: Vec<String>,
    /// Every other decoded parameter, in order.
    pub params: Vec<(String, String)>,
    raw: Vec<(String, String)>,
}

fn invalid(option: &str, value: &str) -> ApiError {
    ApiError::bad_request(format!(
        "The query specified in the URI is not valid. Invalid value '{value}' for {option} query option found."
    ))
}

impl ListQuery {
    /// Parse the query string of a request.
    pub fn from_uri(uri: &Uri) -> Result<ListQuery, ApiError> {
        let mut q = ListQuery::default();
        let Some(raw) = uri.query() else {
            return Ok(q);
        };
        for pair in raw.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            q.raw.push((k.to_owned(), v.to_owned()));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8_lossy()
                    .into_owned()
            };
            let (key, val) = (dec(k), dec(v));
            match key.as_str() {
                "$filter" => {
                    let e = odata::parse_filter(&val)
                        .map_err(|e| ApiError::bad_request(e.describe("$filter", &val)))?;
                    q.filter = Some(e);
                }
                "$orderby" => {
                    q.orderby = odata::parse_orderby(&val)
                        .map_err(|e| ApiError::bad_request(e.describe("$orderby", &val)))?;
                }
                "$top" => {
                    q.top = Some(val.trim().parse().map_err(|_| invalid("$top", &val))?);
                }
                "$skip" => {
                    q.skip = val.trim().parse().map_err(|_| invalid("$skip", &val))?;
                }
                "$inlinecount" => match val.to_ascii_lowercase().as_str() {
                    "allpages" => q.count = true,
                    "none" => {}
                    _ => return Err(invalid("$inlinecount", &val)),
                },
                "$count" => match val.to_ascii_lowercase().as_str() {
                    "true" => q.count = true,
                    "false" => {}
                    _ => return Err(invalid("$count", &val)),
                },
                "$expand" => {
                    q.expand = val
                        .split(',')
                        .map(|s| s.trim().to_ascii_lowercase())
                        .filter(|s| !s.is_empty())
                        .collect();
                }
                _ => q.params.push((key, val)),
            }
        }
        Ok(q)
    }

    /// Whether `$expand` names `what` (case-insensitive).
    pub fn expands(&self, what: &str) -> bool {
        self.expand.iter().any(|e| e.eq_ignore_ascii_case(what))
    }

    /// A plain (non-OData) parameter, by case-insensitive name.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether the filter mentions any of these properties.
    pub fn filters_on(&self, props: &[&str]) -> bool {
        self.filter
            .as_ref()
            .is_some_and(|f| props.iter().any(|p| f.mentions(p)))
    }
}

/// Apply `$filter`, `$orderby`, `$skip` and paging, and wrap the page.
/// `type_name` names the item type in unknown-property errors. Returns the
/// envelope and the number of items the whole list holds after `$filter`
/// (what a client reading every `nextPageLink` gets), for the journal.
pub fn page(
    mut items: Vec<Value>,
    q: &ListQuery,
    profile: &Profile,
    uri: &Uri,
    type_name: &str,
) -> Result<(Value, usize), ApiError> {
    let unknown = |p: String| {
        ApiError::bad_request(format!(
            "Could not find a property named '{p}' on type '{type_name}'."
        ))
    };
    if let Some(f) = &q.filter {
        let mut kept = Vec::with_capacity(items.len());
        for it in items {
            if odata::eval(f, &it).map_err(|e| unknown(e.0))? {
                kept.push(it);
            }
        }
        items = kept;
    }
    if !q.orderby.is_empty() {
        if let Some(first) = items.first() {
            for k in &q.orderby {
                if odata::lookup(first, &k.prop).is_none() {
                    return Err(unknown(k.prop.clone()));
                }
            }
        }
        items.sort_by(|a, b| {
            for k in &q.orderby {
                let o = odata::order_values(odata::lookup(a, &k.prop), odata::lookup(b, &k.prop));
                let o = if k.desc { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
    }
    let total = items.len();
    let page_size = usize::try_from(profile.enterprise.page_size.max(1)).unwrap_or(25);
    let wanted = q.top.unwrap_or(usize::MAX);
    let take = wanted.min(page_size);
    let start = q.skip.min(total);
    let end = start.saturating_add(take).min(total);
    let more = end < total && wanted > take;
    let next = more.then(|| next_link(q, profile, uri, end, q.top.map(|t| t - take)));
    let page: Vec<Value> = items.drain(start..end).collect();
    let body = json!({
        "items": page,
        "nextPageLink": next,
        "count": if q.count { Some(total) } else { None },
    });
    Ok((body, total))
}

fn next_link(
    q: &ListQuery,
    profile: &Profile,
    uri: &Uri,
    skip: usize,
    top: Option<usize>,
) -> String {
    let path = uri
        .path()
        .strip_prefix(profile.enterprise.api_base.as_str())
        .unwrap_or(uri.path());
    let mut parts: Vec<String> = q
        .raw
        .iter()
        .filter(|(k, _)| {
            let k = k.replace("%24", "$");
            k != "$skip" && k != "$top"
        })
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    if let Some(t) = top {
        parts.push(format!("$top={t}"));
    }
    parts.push(format!("$skip={skip}"));
    format!(
        "{}{}?{}",
        profile.enterprise.next_page_link_base.trim_end_matches('/'),
        path,
        parts.join("&")
    )
}
