//! The schema facts file (`schema/connectwise-facts.json`, generated from the vendor OpenAPI subset) and the
//! route table built from it. Everything the simulator knows about endpoints, status codes and record
//! shapes comes from here, so the simulator follows the spec rather than hand-written handlers.
//! This module must never invent endpoints: a path that is not in the facts file is a 404.
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::SimError;

/// The facts file, embedded at build time so the binary works without the shared folder.
const FACTS_JSON: &str = include_str!("../schema/connectwise-facts.json");

/// One operation of the API as listed in the facts file.
#[derive(Debug, Clone, Deserialize)]
pub struct Endpoint {
    pub method: String,
    pub path: String,
    pub status: u16,
    #[serde(default)]
    pub query: Vec<String>,
    pub request: Option<BodyFacts>,
    pub response: Option<BodyFacts>,
}

/// The request or response body of an endpoint.
#[derive(Debug, Clone, Deserialize)]
pub struct BodyFacts {
    pub schema: Option<String>,
    #[serde(default)]
    pub array: bool,
    #[serde(default, rename = "contentType")]
    pub content_type: Option<String>,
}

#[derive(Debug, Deserialize)]
struct FactsFile {
    endpoints: Vec<Endpoint>,
    schemas: Map<String, Value>,
}

/// One segment of a path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Literal(String),
    Param(String),
}

/// A path template with the endpoints (one per method) declared on it.
#[derive(Debug, Clone)]
pub struct Route {
    /// Template without a trailing slash, e.g. `/procurement/subcategories`.
    pub template: String,
    pub segments: Vec<Segment>,
    pub endpoints: Vec<Endpoint>,
}

impl Route {
    pub fn endpoint(&self, method: &str) -> Option<&Endpoint> {
        self.endpoints
            .iter()
            .find(|e| e.method.eq_ignore_ascii_case(method))
    }

    pub fn methods(&self) -> Vec<String> {
        self.endpoints.iter().map(|e| e.method.clone()).collect()
    }
}

/// The result of matching a request path against the route table.
#[derive(Debug, Clone)]
pub struct RouteMatch<'a> {
    pub route: &'a Route,
    /// Path parameters by name (`id`, `parentId`), as written in the URL.
    pub params: Vec<(String, String)>,
}

impl RouteMatch<'_> {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The loaded facts: endpoints grouped into routes, and the schemas.
#[derive(Debug)]
pub struct Facts {
    pub routes: Vec<Route>,
    pub schemas: Map<String, Value>,
}

/// Strips one trailing slash (the spec writes `/procurement/subcategories/`).
pub fn normalize_template(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

fn parse_segments(template: &str) -> Vec<Segment> {
    template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.starts_with('{') && s.ends_with('}') {
                Segment::Param(s.trim_start_matches('{').trim_end_matches('}').to_string())
            } else {
                Segment::Literal(s.to_string())
            }
        })
        .collect()
}

impl Facts {
    /// Parses the embedded facts file.
    pub fn embedded() -> Result<Facts, SimError> {
        Facts::parse(FACTS_JSON)
    }

    pub fn parse(text: &str) -> Result<Facts, SimError> {
        let file: FactsFile = serde_json::from_str(text)
            .map_err(|e| SimError::Facts(format!("facts file is not valid: {e}")))?;
        let mut routes: Vec<Route> = Vec::new();
        for endpoint in file.endpoints {
            let template = normalize_template(&endpoint.path);
            if let Some(route) = routes.iter_mut().find(|r| r.template == template) {
                route.endpoints.push(endpoint);
            } else {
                routes.push(Route {
                    segments: parse_segments(&template),
                    template,
                    endpoints: vec![endpoint],
                });
            }
        }
        let mut schemas = file.schemas;
        apply_known_deviations(&mut schemas);
        Ok(Facts { routes, schemas })
    }

    /// Finds the route for a request path (relative to `/apis/3.0`). Literal segments win over parameters,
    /// so `/company/companies/types` is the types collection, not company `types`.
    pub fn match_path(&self, path: &str) -> Option<RouteMatch<'_>> {
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<(Vec<bool>, RouteMatch<'_>)> = None;
        for route in &self.routes {
            if route.segments.len() != parts.len() {
                continue;
            }
            let mut literal_mask = Vec::with_capacity(parts.len());
            let mut params = Vec::new();
            let mut ok = true;
            for (seg, part) in route.segments.iter().zip(&parts) {
                match seg {
                    Segment::Literal(l) => {
                        if !l.eq_ignore_ascii_case(part) {
                            ok = false;
                            break;
                        }
                        literal_mask.push(true);
                    }
                    Segment::Param(name) => {
                        params.push((name.clone(), (*part).to_string()));
                        literal_mask.push(false);
                    }
                }
            }
            if !ok {
                continue;
            }
            let better = match &best {
                None => true,
                Some((mask, _)) => literal_mask > *mask,
            };
            if better {
                best = Some((literal_mask, RouteMatch { route, params }));
            }
        }
        best.map(|(_, m)| m)
    }

    /// The route with exactly this template (trailing slash ignored).
    pub fn route(&self, template: &str) -> Option<&Route> {
        let t = normalize_template(template);
        self.routes.iter().find(|r| r.template == t)
    }

    pub fn schema(&self, name: &str) -> Option<&Value> {
        self.schemas.get(name)
    }

    /// Resolves `{"$ref": "#/schemas/X"}` to (Some("X"), schema of X); any other schema to (None, itself).
    pub fn resolve<'a>(&'a self, schema: &'a Value) -> (Option<&'a str>, &'a Value) {
        if let Some(name) = schema
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix("#/schemas/"))
            && let Some(s) = self.schemas.get(name)
        {
            return (Some(name), s);
        }
        (None, schema)
    }

    /// The root document a JSON-schema validator is built from.
    pub fn validator_document(&self, schema: &str, array: bool) -> Value {
        let reference = serde_json::json!({ "$ref": format!("#/schemas/{schema}") });
        let mut root = if array {
            serde_json::json!({ "type": "array", "items": reference })
        } else {
            reference
        };
        if let Value::Object(map) = &mut root {
            map.insert("schemas".into(), Value::Object(self.schemas.clone()));
        }
        root
    }
}

/// Real responses that differ from the vendor spec and that clients must accept (API-BEHAVIOUR.md §9):
/// a real time entry sent `hourlyCost` as a string. Widening the schema lets a test seed that shape.
fn apply_known_deviations(schemas: &mut Map<String, Value>) {
    if let Some(prop) = schemas
        .get_mut("TimeEntry")
        .and_then(|s| s.get_mut("properties"))
        .and_then(|p| p.get_mut("hourlyCost"))
    {
        *prop = serde_json::json!({ "type": ["number", "string", "null"] });
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn literal_segments_win_over_parameters() {
        let facts = Facts::embedded().unwrap();
        let m = facts.match_path("/company/companies/types").unwrap();
        assert_eq!(m.route.template, "/company/companies/types");
        let m = facts.match_path("/company/companies/12").unwrap();
        assert_eq!(m.route.template, "/company/companies/{id}");
        assert_eq!(m.param("id"), Some("12"));
        let m = facts.match_path("/company/companies/count").unwrap();
        assert_eq!(m.route.template, "/company/companies/count");
    }

    #[test]
    fn trailing_slash_templates_match_with_and_without_slash() {
        let facts = Facts::embedded().unwrap();
        assert_eq!(
            facts
                .match_path("/procurement/subcategories/")
                .unwrap()
                .route
                .template,
            "/procurement/subcategories"
        );
        assert_eq!(
            facts
                .match_path("/procurement/subcategories")
                .unwrap()
                .route
                .template,
            "/procurement/subcategories"
        );
    }
}
