//! The in-memory record store: one table per collection template (child collections share one table and
//! remember each row's parent id), rows ordered by id, ids assigned in increasing order per table.
//! Pure data structure: no HTTP, no validation, no clock.
use std::collections::BTreeMap;

use serde_json::Value;

/// One stored record.
#[derive(Debug, Clone)]
pub struct Row {
    pub parent: Option<i64>,
    pub value: Value,
}

/// The records of one collection template.
#[derive(Debug, Clone)]
pub struct Table {
    next_id: i64,
    pub rows: BTreeMap<i64, Row>,
}

impl Default for Table {
    fn default() -> Self {
        Table {
            next_id: 1,
            rows: BTreeMap::new(),
        }
    }
}

/// Collections whose ids come from another collection's counter. ConnectWise keeps service and
/// project tickets in one table (a project ticket's id is never a service ticket's id), and a
/// callback of type `ticket` names only the id, so the two must not collide.
const SHARED_ID_SPACES: &[(&str, &str)] = &[("/project/tickets", "/service/tickets")];

/// The collection whose counter hands out `collection`'s ids.
fn id_space(collection: &str) -> &str {
    SHARED_ID_SPACES
        .iter()
        .find(|(c, _)| *c == collection)
        .map_or(collection, |(_, space)| space)
}

/// All tables, keyed by collection template (e.g. `/company/companies/{parentId}/sites`).
#[derive(Debug, Clone, Default)]
pub struct Store {
    tables: BTreeMap<String, Table>,
}

impl Store {
    /// Whether the collection has ever been written or seeded (an empty seed counts).
    pub fn is_known(&self, collection: &str) -> bool {
        self.tables.contains_key(collection)
    }

    pub fn ensure(&mut self, collection: &str) -> &mut Table {
        self.tables.entry(collection.to_string()).or_default()
    }

    pub fn allocate_id(&mut self, collection: &str) -> i64 {
        self.ensure(collection);
        let table = self.ensure(id_space(collection));
        let id = table.next_id;
        table.next_id += 1;
        id
    }

    /// Inserts or replaces a row; a given id at or above the counter bumps it.
    pub fn put(&mut self, collection: &str, id: i64, parent: Option<i64>, value: Value) {
        let counter = self.ensure(id_space(collection));
        if id >= counter.next_id {
            counter.next_id = id.saturating_add(1);
        }
        let table = self.ensure(collection);
        if id >= table.next_id {
            table.next_id = id.saturating_add(1);
        }
        table.rows.insert(id, Row { parent, value });
    }

    pub fn get(&self, collection: &str, id: i64) -> Option<&Row> {
        self.tables.get(collection).and_then(|t| t.rows.get(&id))
    }

    pub fn remove(&mut self, collection: &str, id: i64) -> Option<Row> {
        self.tables
            .get_mut(collection)
            .and_then(|t| t.rows.remove(&id))
    }

    /// Rows in id order; `parent` filters a child collection to one parent (None = all parents).
    pub fn list(&self, collection: &str, parent: Option<i64>) -> Vec<(i64, &Row)> {
        match self.tables.get(collection) {
            None => Vec::new(),
            Some(t) => t
                .rows
                .iter()
                .filter(|(_, r)| parent.is_none() || r.parent == parent)
                .map(|(id, r)| (*id, r))
                .collect(),
        }
    }

    /// Removes every row of `collection` whose parent is `parent` (cascade on parent delete).
    pub fn remove_children(&mut self, collection: &str, parent: i64) -> Vec<i64> {
        match self.tables.get_mut(collection) {
            None => Vec::new(),
            Some(t) => {
                let ids: Vec<i64> = t
                    .rows
                    .iter()
                    .filter(|(_, r)| r.parent == Some(parent))
                    .map(|(id, _)| *id)
                    .collect();
                for id in &ids {
                    t.rows.remove(id);
                }
                ids
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_increase_per_collection_and_skip_past_seeded_ids() {
        let mut s = Store::default();
        assert_eq!(s.allocate_id("/a"), 1);
        s.put("/a", 10, None, json!({}));
        assert_eq!(s.allocate_id("/a"), 11);
        assert_eq!(s.allocate_id("/b"), 1);
    }

    #[test]
    fn project_tickets_take_their_ids_from_the_service_ticket_counter() {
        let mut s = Store::default();
        assert_eq!(s.allocate_id("/service/tickets"), 1);
        assert_eq!(s.allocate_id("/project/tickets"), 2);
        s.put("/project/tickets", 9, None, json!({}));
        assert_eq!(s.allocate_id("/service/tickets"), 10);
    }

    #[test]
    fn child_rows_list_by_parent() {
        let mut s = Store::default();
        s.put("/p/{parentId}/c", 1, Some(5), json!({"id": 1}));
        s.put("/p/{parentId}/c", 2, Some(6), json!({"id": 2}));
        assert_eq!(s.list("/p/{parentId}/c", Some(6)).len(), 1);
        assert_eq!(s.list("/p/{parentId}/c", None).len(), 2);
        assert_eq!(s.remove_children("/p/{parentId}/c", 5), vec![1]);
    }
}
