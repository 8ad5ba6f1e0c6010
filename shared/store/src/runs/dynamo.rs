//! Runs in the cwsync table. The run item (`T#{tenant}#RUN` / run id) carries the header, a
//! `logEntries` counter and one flat counter attribute per entity and outcome
//! (`c#{entity}#{outcome}`), all bumped by one `UpdateItem … ADD`, which DynamoDB applies
//! atomically however many workers record at once (a nested map could not be ADDed to before its
//! parent exists). Log entries are items `T#{tenant}#RUNLOG#{run id}` / `{seq:010}`, written only
//! when `seq <= logLimit`. Run and log items carry `ttl` (epoch seconds).
//!
//! A staged run's item also carries `stage` (absent on runs written before stages: stage 1) and,
//! while a stage's continuation is pending, `continuation`; `extend` moves the stage on with one
//! `UpdateItem` conditional on the stage it continues, and `finish` is conditional on no
//! continuation being pending.

use super::{
    Counts, Extended, LogPage, Outcome, RecordReceipt, Run, RunExtension, RunId, RunLogEntry,
    RunStart, RunStatus, RunStore, already_started, check_entry, check_extension,
    check_finish_status, check_limit, check_start, decode_page_token, diagnose_extend,
    diagnose_finish, encode_page_token, not_found, run_name,
};
use crate::dynamo::{Table, backend, is_conditional_failure};
use crate::{StoreError, TenantId, keys};
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

type Item = HashMap<String, AttributeValue>;

/// Prefix of the flat count attributes: `c#{entity}#{outcome}`.
const COUNT_PREFIX: &str = "c#";

/// Runs in DynamoDB (one shared table).
#[derive(Debug, Clone)]
pub struct DynamoRunStore {
    table: Table,
}

impl DynamoRunStore {
    /// A store over `table`. Makes no call.
    pub fn new(table: Table) -> Self {
        DynamoRunStore { table }
    }
}

/// The run item's fixed attributes (the counts are read separately).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct RunItem {
    pk: String,
    sk: String,
    run_id: RunId,
    job_kind: String,
    dry_run: bool,
    status: RunStatus,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    #[serde(
        default,
        with = "time::serde::rfc3339::option",
        skip_serializing_if = "Option::is_none"
    )]
    ended_at: Option<OffsetDateTime>,
    log_entries: u64,
    log_limit: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    planned: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    follow_up: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stage: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    continuation: Option<String>,
    ttl: i64,
}

/// One log entry as stored.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogItem {
    pk: String,
    sk: String,
    seq: u32,
    entity: String,
    record_id: String,
    outcome: Outcome,
    detail: String,
    ttl: i64,
}

#[async_trait::async_trait]
impl RunStore for DynamoRunStore {
    async fn start(&self, tenant: &TenantId, start: RunStart) -> Result<Run, StoreError> {
        let expires_at = check_start(&start)?;
        let (pk, sk) = keys::run(tenant, start.run_id.as_str());
        let item = RunItem {
            pk,
            sk,
            run_id: start.run_id.clone(),
            job_kind: start.job_kind.clone(),
            dry_run: start.dry_run,
            status: RunStatus::Running,
            started_at: start.started_at.to_offset(UtcOffset::UTC),
            ended_at: None,
            log_entries: 0,
            log_limit: start.log_limit,
            planned: start.planned,
            follow_up: start.follow_up.clone(),
            stage: Some(1),
            continuation: start.continuation.clone(),
            ttl: expires_at.unix_timestamp(),
        };
        let item = serde_dynamo::to_item(&item).map_err(|e| StoreError::Invalid {
            field: "run".to_owned(),
            reason: format!("can't be written as a DynamoDB item: {e}"),
        })?;
        let result = self
            .table
            .client
            .put_item()
            .table_name(&self.table.name)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => {}
            Err(e) if is_conditional_failure(&e) => {
                return Err(already_started(tenant, &start.run_id));
            }
            Err(e) => return Err(backend("PutItem", e)),
        }
        tracing::debug!(%tenant, run_id = %start.run_id, job_kind = %start.job_kind, "run started");
        Ok(Run {
            tenant: tenant.clone(),
            run_id: start.run_id,
            job_kind: start.job_kind,
            dry_run: start.dry_run,
            status: RunStatus::Running,
            started_at: start.started_at,
            ended_at: None,
            counts: BTreeMap::new(),
            records: 0,
            log_limit: start.log_limit,
            log_truncated: false,
            planned: start.planned,
            follow_up: start.follow_up,
            stage: 1,
            continuation: start.continuation,
            expires_at,
        })
    }

    async fn record(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        entry: RunLogEntry,
    ) -> Result<RecordReceipt, StoreError> {
        let entry = check_entry(entry)?;
        let (pk, sk) = keys::run(tenant, run_id.as_str());
        // One atomic ADD: the record's count and its sequence number. ALL_NEW also brings the
        // run's log limit and ttl, which the entry needs.
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .update_expression("ADD #entries :one, #count :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#entries", "logEntries")
            .expression_attribute_names("#count", count_attribute(&entry.entity, entry.outcome))
            .expression_attribute_values(":one", AttributeValue::N("1".to_owned()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        let run = match result {
            Ok(output) => parse_run(tenant, run_id, output.attributes.unwrap_or_default())?,
            Err(e) if is_conditional_failure(&e) => return Err(not_found(tenant, run_id)),
            Err(e) => return Err(backend("UpdateItem", e)),
        };
        let seq = run.records;
        let logged = seq <= u64::from(run.log_limit);
        if logged {
            // seq <= log_limit <= u32::MAX, so this conversion can't fail.
            let seq32 = u32::try_from(seq).map_err(|_| malformed(tenant, run_id, "logEntries"))?;
            let (pk, sk) = keys::run_log(tenant, run_id.as_str(), seq32);
            let item = LogItem {
                pk,
                sk,
                seq: seq32,
                entity: entry.entity,
                record_id: entry.record_id,
                outcome: entry.outcome,
                detail: entry.detail,
                ttl: run.expires_at.unix_timestamp(),
            };
            let item = serde_dynamo::to_item(&item).map_err(|e| StoreError::Invalid {
                field: "entry".to_owned(),
                reason: format!("can't be written as a DynamoDB item: {e}"),
            })?;
            self.table
                .client
                .put_item()
                .table_name(&self.table.name)
                .set_item(Some(item))
                .send()
                .await
                .map_err(|e| backend("PutItem", e))?;
        }
        Ok(RecordReceipt { seq, logged })
    }

    async fn finish(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        ended_at: OffsetDateTime,
        status: RunStatus,
    ) -> Result<Run, StoreError> {
        check_finish_status(status)?;
        let ended = ended_at
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| StoreError::Invalid {
                field: "ended_at".to_owned(),
                reason: format!("{ended_at} can't be written as RFC 3339: {e}"),
            })?;
        let (pk, sk) = keys::run(tenant, run_id.as_str());
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .update_expression("SET #status = :status, #endedAt = :ended")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(#endedAt) \
                 AND attribute_not_exists(#continuation)",
            )
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#endedAt", "endedAt")
            .expression_attribute_names("#continuation", "continuation")
            .expression_attribute_values(":status", AttributeValue::S(status.as_str().to_owned()))
            .expression_attribute_values(":ended", AttributeValue::S(ended))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(output) => parse_run(tenant, run_id, output.attributes.unwrap_or_default()),
            Err(e) if is_conditional_failure(&e) => {
                let run = self.get(tenant, run_id).await?;
                diagnose_finish(tenant, run_id, run, status)
            }
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    async fn extend(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        extension: RunExtension,
    ) -> Result<Extended, StoreError> {
        check_extension(&extension)?;
        let (pk, sk) = keys::run(tenant, run_id.as_str());
        // A run written before stages has no `stage`: it is in stage 1.
        let in_stage = if extension.from_stage == 1 {
            "(attribute_not_exists(#stage) OR #stage = :from)"
        } else {
            "#stage = :from"
        };
        let (continuation, update) = match &extension.continuation {
            Some(text) => (
                Some(AttributeValue::S(text.clone())),
                "SET #stage = :next, #planned = if_not_exists(#planned, :zero) + :units, \
                 #continuation = :continuation",
            ),
            None => (
                None,
                "SET #stage = :next, #planned = if_not_exists(#planned, :zero) + :units \
                 REMOVE #continuation",
            ),
        };
        let number = |n: u64| AttributeValue::N(n.to_string());
        let result = self
            .table
            .client
            .update_item()
            .table_name(&self.table.name)
            .set_key(Some(key(pk, sk)))
            .update_expression(update)
            .condition_expression(format!(
                "attribute_exists(pk) AND #status = :running AND {in_stage}"
            ))
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#stage", "stage")
            .expression_attribute_names("#planned", "planned")
            .expression_attribute_names("#continuation", "continuation")
            .expression_attribute_values(
                ":running",
                AttributeValue::S(RunStatus::Running.as_str().to_owned()),
            )
            .expression_attribute_values(":from", number(u64::from(extension.from_stage)))
            .expression_attribute_values(
                ":next",
                number(u64::from(extension.from_stage.saturating_add(1))),
            )
            .expression_attribute_values(":zero", number(0))
            .expression_attribute_values(":units", number(extension.units))
            .return_values(ReturnValue::AllNew);
        let result = match continuation {
            Some(value) => result.expression_attribute_values(":continuation", value),
            None => result,
        }
        .send()
        .await;
        match result {
            Ok(output) => Ok(Extended {
                run: parse_run(tenant, run_id, output.attributes.unwrap_or_default())?,
                applied: true,
            }),
            Err(e) if is_conditional_failure(&e) => {
                let run = self.get(tenant, run_id).await?;
                diagnose_extend(tenant, run_id, run, extension.from_stage)
            }
            Err(e) => Err(backend("UpdateItem", e)),
        }
    }

    async fn get(&self, tenant: &TenantId, run_id: &RunId) -> Result<Option<Run>, StoreError> {
        let (pk, sk) = keys::run(tenant, run_id.as_str());
        let output = self.table.get_consistent((pk, sk)).await?;
        output
            .item
            .map(|item| parse_run(tenant, run_id, item))
            .transpose()
    }

    async fn list_before(
        &self,
        tenant: &TenantId,
        before: Option<&RunId>,
        limit: usize,
    ) -> Result<Vec<Run>, StoreError> {
        check_limit(limit)?;
        let mut runs = Vec::new();
        let mut start_key = None;
        let (condition, before) = match before {
            Some(run_id) => (
                "pk = :pk AND sk < :before",
                Some(AttributeValue::S(run_id.as_str().to_owned())),
            ),
            None => ("pk = :pk", None),
        };
        loop {
            let wanted = limit - runs.len();
            let mut query = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression(condition)
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::runs_partition(tenant)),
                );
            if let Some(before) = &before {
                query = query.expression_attribute_values(":before", before.clone());
            }
            let output = query
                .scan_index_forward(false)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            for item in output.items.unwrap_or_default() {
                let run_id = item
                    .get(keys::SK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|sk| RunId::parse(sk.as_str()).ok())
                    .ok_or_else(|| StoreError::Malformed {
                        item: format!("tenant {tenant} runs"),
                        detail: "a run item whose sk is not a run id".to_owned(),
                    })?;
                runs.push(parse_run(tenant, &run_id, item)?);
            }
            start_key = output.last_evaluated_key;
            if runs.len() >= limit || start_key.is_none() {
                runs.truncate(limit);
                return Ok(runs);
            }
        }
    }

    async fn log_page(
        &self,
        tenant: &TenantId,
        run_id: &RunId,
        page_token: Option<&str>,
        limit: usize,
    ) -> Result<LogPage, StoreError> {
        check_limit(limit)?;
        let after = match page_token {
            Some(token) => decode_page_token(tenant, run_id, token)?,
            None => 0,
        };
        let after_sk = keys::run_log(tenant, run_id.as_str(), after).1;
        // One entry more than the page tells whether another page exists, so the last page never
        // hands out a token that leads to an empty page.
        let mut items: Vec<LogItem> = Vec::new();
        let mut start_key = None;
        loop {
            let wanted = limit + 1 - items.len();
            let output = self
                .table
                .client
                .query()
                .table_name(&self.table.name)
                .key_condition_expression("pk = :pk AND sk > :after")
                .expression_attribute_values(
                    ":pk",
                    AttributeValue::S(keys::run_log_partition(tenant, run_id.as_str())),
                )
                .expression_attribute_values(":after", AttributeValue::S(after_sk.clone()))
                .scan_index_forward(true)
                .consistent_read(true)
                .limit(i32::try_from(wanted).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key)
                .send()
                .await
                .map_err(|e| backend("Query", e))?;
            for item in output.items.unwrap_or_default() {
                items.push(
                    serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
                        item: format!("{} log", run_name(tenant, run_id)),
                        detail: e.to_string(),
                    })?,
                );
            }
            start_key = output.last_evaluated_key;
            if items.len() > limit || start_key.is_none() {
                break;
            }
        }
        if items.is_empty() && self.get(tenant, run_id).await?.is_none() {
            return Err(not_found(tenant, run_id));
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let next_page_token = if more {
            items
                .last()
                .map(|last| encode_page_token(tenant, run_id, last.seq))
        } else {
            None
        };
        Ok(LogPage {
            entries: items
                .into_iter()
                .map(|item| RunLogEntry {
                    entity: item.entity,
                    record_id: item.record_id,
                    outcome: item.outcome,
                    detail: item.detail,
                })
                .collect(),
            next_page_token,
        })
    }
}

/// A run item back into a [`Run`]: the fixed attributes through serde, the counts from the
/// `c#{entity}#{outcome}` attributes.
fn parse_run(tenant: &TenantId, run_id: &RunId, item: Item) -> Result<Run, StoreError> {
    let mut counts: BTreeMap<String, Counts> = BTreeMap::new();
    for (name, value) in &item {
        let Some(rest) = name.strip_prefix(COUNT_PREFIX) else {
            continue;
        };
        let (entity, outcome) = rest
            .rsplit_once('#')
            .and_then(|(entity, outcome)| Some((entity, Outcome::from_name(outcome)?)))
            .ok_or_else(|| malformed(tenant, run_id, name))?;
        let count = value
            .as_n()
            .ok()
            .and_then(|n| n.parse::<u64>().ok())
            .ok_or_else(|| malformed(tenant, run_id, name))?;
        *counts
            .entry(entity.to_owned())
            .or_default()
            .get_mut(outcome) = count;
    }
    let fixed: RunItem = serde_dynamo::from_item(item).map_err(|e| StoreError::Malformed {
        item: run_name(tenant, run_id),
        detail: e.to_string(),
    })?;
    Ok(Run {
        tenant: tenant.clone(),
        expires_at: expires_at_of(tenant, run_id, fixed.ttl)?,
        run_id: fixed.run_id,
        job_kind: fixed.job_kind,
        dry_run: fixed.dry_run,
        status: fixed.status,
        started_at: fixed.started_at,
        ended_at: fixed.ended_at,
        counts,
        records: fixed.log_entries,
        log_limit: fixed.log_limit,
        log_truncated: fixed.log_entries > u64::from(fixed.log_limit),
        planned: fixed.planned,
        follow_up: fixed.follow_up,
        stage: fixed.stage.unwrap_or(1),
        continuation: fixed.continuation,
    })
}

fn expires_at_of(
    tenant: &TenantId,
    run_id: &RunId,
    ttl: i64,
) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp(ttl).map_err(|_| malformed(tenant, run_id, "ttl"))
}

/// `c#company#created`: entity kinds are validated to `a-z0-9_-`, so the name splits back.
fn count_attribute(entity: &str, outcome: Outcome) -> String {
    format!("{COUNT_PREFIX}{entity}#{}", outcome.as_str())
}

fn malformed(tenant: &TenantId, run_id: &RunId, attribute: &str) -> StoreError {
    StoreError::Malformed {
        item: run_name(tenant, run_id),
        detail: format!("attribute {attribute} is missing or not what a run stores"),
    }
}

fn key(pk: String, sk: String) -> Item {
    HashMap::from([
        (keys::PK.to_owned(), AttributeValue::S(pk)),
        (keys::SK.to_owned(), AttributeValue::S(sk)),
    ])
}
