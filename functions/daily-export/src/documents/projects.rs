//! Billing projects, options and change orders → ConnectWise opportunities with their items as
//! products (seeds 002; `cwsync_mapping::documents::opportunities`).
//!
//! **Planning** lists the projects (500 a page) and the links their opportunities depend on
//! (company, contact, site, the parent's opportunity), and stamps each; projects come before
//! their options and change orders, so a page syncs a parent before its children.
//!
//! **A page** reads in batches: its projects and their parents from the billing system by id,
//! the SKUs of items that came without one, the owners' members (`officeEmail`, `primaryEmail`
//! or `identifier in (...)`), the linked opportunities by id, their products by
//! `opportunity/id`, the catalog items by `identifier`, the statuses, and the tenant's
//! opportunity type by name (created when missing). Catalog items no SKU finds are created in the
//! tenant's category and subcategory (both created when missing) and product type. Then, per
//! project:
//! - no company for its account, no contact (its own primary contact, else for an option or
//!   change order its project's), an office location that is not a site of its account, an
//!   owner no member
//!   matches, an option whose project is not in ConnectWise yet: failed, naming the record and
//!   field (it syncs on a later run once that is fixed);
//! - an office location without a site link is the company's site of its name, else created as
//!   the customer sync makes sites (`desired_site`), claimed under the customer sync's own site
//!   link, so neither ever makes a second;
//! - linked: the fields that differ patched (a won or lost project moves the status), the
//!   products changed to show the items;
//! - else created, claimed first (a create whose outcome is unknown is found by the natural key
//!   in its notes, never made twice), then its products.
//!
//! **Products: changed in place, not removed and re-created.** Jetbuilt removes and re-creates
//! every product when a project changes; the result ConnectWise shows is the same as matching
//! the items to the products by position and patching, adding or removing only the difference
//! ([`cwsync_mapping::documents::lines::product_plan`]), which writes far less (ConnectWise calls
//! are scarce), never leaves an opportunity without products half way, and is replay-safe (a
//! retry re-reads the products and writes only what is still missing).

use std::collections::{HashMap, HashSet};

use cwsync_billing::models::{DocumentItem, Project, ProjectKind, Site};
use cwsync_billing::{AccountQuery, DocumentQuery};
use cwsync_connectwise::models::{
    CatalogItem, CompanySite, Country, Member, Opportunity, OpportunityStatus, Reference, Resource,
    State,
};
use cwsync_connectwise::{Condition, Query};
use cwsync_mapping::customers::entity as customer;
use cwsync_mapping::customers::{CustomerReference, desired_site, match_site};
use cwsync_mapping::documents::lines::{product_lines, sku_of};
use cwsync_mapping::documents::opportunities::{
    OpportunityRefs, ProjectLinks, desired_opportunity, find_member, natural_key,
    opportunity_changes, project_stamp, status_name,
};
use cwsync_store::links::{Link, LinkState, SourceRef};
use cwsync_store::runs::Outcome;
use cwsync_sync::members::read_members;
use cwsync_sync::writes::cw_record_level;
use cwsync_sync::{Created, RecordResult, Recorder, SyncError, create_claimed};
use serde_json::{Value, json};

use super::products::{Catalog, Parent, read_catalog};
use super::pushed::{CwDocument, Kind, Push, Side, push, read_side};
use super::{
    Candidate, Candidates, DocContext, Document, company_ids, listed_in_order, malformed_lines,
};

/// How projects are pushed: found through their link; a create whose outcome is unknown is
/// found by the natural key its notes begin with (no batched key read: a project without a link
/// has no opportunity to match).
const KIND: Kind = Kind {
    parent: Parent::Opportunity,
    cw_kind: "opportunity",
    key_field: "notes",
    noun: "opportunity",
    entity: "opportunity",
};

impl CwDocument for Opportunity {
    fn id(&self) -> Option<i64> {
        self.id
    }
    fn company_id(&self) -> Option<i64> {
        self.company.as_ref().and_then(|c| c.id)
    }
    fn key(&self) -> Option<&str> {
        self.notes.as_deref()?.split('\n').next()
    }
    fn key_condition(field: &'static str, key: String) -> Condition {
        Condition::field(field).contains(key)
    }
}
/// Billing projects per listing page.
const LISTING_PAGE: u32 = 500;
/// Owners per member read (three `in (...)` lists of them in one URL).
const OWNERS_PER_READ: usize = 20;
const TYPES: &str = "/sales/opportunities/types";
const CATEGORIES: &str = "/procurement/categories";
const SUBCATEGORIES: &str = "/procurement/subcategories";
const PRODUCT_TYPES: &str = "/procurement/types";

/// The linked ConnectWise ids of `ids` under `entity`.
async fn linked_ids(
    ctx: &DocContext<'_>,
    entity: &str,
    ids: impl IntoIterator<Item = String>,
) -> Result<HashMap<String, i64>, SyncError> {
    let mut ids: Vec<String> = ids.into_iter().collect();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(ctx
        .links
        .get_many(ctx.tenant, entity, &ids)
        .await?
        .into_iter()
        .filter(|(_, l): &(String, Link)| l.state == LinkState::Linked)
        .filter_map(|(id, l)| Some((id, l.cw_id?)))
        .collect())
}

/// What the projects' opportunities point at, as the links know it.
struct PageLinks {
    companies: HashMap<String, i64>,
    contacts: HashMap<String, i64>,
    sites: HashMap<String, i64>,
    opportunities: HashMap<String, i64>,
}

impl PageLinks {
    async fn read(ctx: &DocContext<'_>, projects: &[&Project]) -> Result<Self, SyncError> {
        let companies = company_ids(ctx, projects.iter().map(|p| p.account_id.clone())).await?;
        let contacts = linked_ids(
            ctx,
            customer::CONTACT,
            projects.iter().filter_map(|p| p.primary_contact_id.clone()),
        )
        .await?;
        let sites = linked_ids(
            ctx,
            customer::SITE,
            projects.iter().filter_map(|p| p.site_id.clone()),
        )
        .await?;
        let opportunities = linked_ids(
            ctx,
            Document::Projects.entity(),
            projects
                .iter()
                .flat_map(|p| [Some(p.id.clone()), p.parent_project_id.clone()])
                .flatten(),
        )
        .await?;
        Ok(PageLinks {
            companies,
            contacts,
            sites,
            opportunities,
        })
    }

    fn of(&self, project: &Project) -> ProjectLinks {
        let get =
            |map: &HashMap<String, i64>, id: Option<&String>| id.and_then(|i| map.get(i)).copied();
        ProjectLinks {
            company: self.companies.get(&project.account_id).copied(),
            contact: get(&self.contacts, project.primary_contact_id.as_ref()),
            site: get(&self.sites, project.site_id.as_ref()),
            parent: get(&self.opportunities, project.parent_project_id.as_ref()),
        }
    }
}

/// The stamp of `project` with `links`.
fn stamp(ctx: &DocContext<'_>, project: &Project, links: ProjectLinks) -> String {
    project_stamp(
        project,
        links,
        &ctx.settings.documents,
        &ctx.settings.never_overwrite.opportunities,
    )
}

/// Projects first, then options and change orders (each in the order given).
fn parents_first(projects: &mut [&Project]) {
    projects.sort_by_key(|p| p.kind != ProjectKind::Project);
}

/// Every project, option and change order (or those of `ids`) with its stamp.
pub async fn candidates(
    ctx: &DocContext<'_>,
    ids: Option<&[String]>,
) -> Result<Candidates, SyncError> {
    let listed = ctx
        .clients
        .billing
        .list_projects(&DocumentQuery {
            ids: ids.map(<[String]>::to_vec),
            page_size: Some(LISTING_PAGE),
            ..DocumentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("listing the projects", e))?;
    let mut projects: Vec<&Project> = listed.records.iter().collect();
    parents_first(&mut projects);
    let links = PageLinks::read(ctx, &projects).await?;
    Ok(Candidates {
        records: projects
            .iter()
            .map(|p| Candidate {
                id: p.id.clone(),
                stamp: stamp(ctx, p, links.of(p)),
            })
            .collect(),
        lines: malformed_lines(Document::Projects.entity(), &listed.malformed),
        advance: None,
    })
}

/// What a page read of ConnectWise, and the records it resolved by name.
struct CwSide {
    members: Vec<Member>,
    /// Why catalog items could not be created, by upper-cased SKU.
    catalog_problems: HashMap<String, String>,
    statuses: Vec<OpportunityStatus>,
    /// The tenant's opportunity type (`Err`: why there is none).
    kind: Result<i64, String>,
    /// Office locations without a site link, matched by name on their company: billing site
    /// id → (its name, the matched site's id).
    sites: HashMap<String, (String, Option<i64>)>,
    /// The billing sites of those office locations (what an unmatched one is created from).
    site_records: HashMap<String, Site>,
    /// ConnectWise's states and countries, read once a site is to be made.
    addresses: tokio::sync::OnceCell<CustomerReference>,
}

/// Syncs the projects `ids` (see the module docs).
pub async fn sync_page(
    ctx: &DocContext<'_>,
    ids: &[String],
) -> Result<Vec<RecordResult>, SyncError> {
    let entity = Document::Projects.entity();
    let billing = &ctx.clients.billing;
    // The page's projects and their parents (an option without a contact takes its project's).
    let first = billing
        .list_projects(&DocumentQuery {
            ids: Some(ids.to_vec()),
            ..DocumentQuery::default()
        })
        .await
        .map_err(|e| SyncError::billing("reading the page's projects", e))?;
    let wanted: HashSet<&String> = ids.iter().collect();
    let parent_ids: Vec<String> = first
        .records
        .iter()
        .filter_map(|p| p.parent_project_id.clone())
        .filter(|p| !wanted.contains(p))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let parents = if parent_ids.is_empty() {
        Vec::new()
    } else {
        billing
            .list_projects(&DocumentQuery {
                ids: Some(parent_ids),
                ..DocumentQuery::default()
            })
            .await
            .map_err(|e| SyncError::billing("reading the page's parent projects", e))?
            .records
    };
    let (mut projects, mut records) = listed_in_order(entity, ids, &first, |p| &p.id);
    let all: HashMap<&str, &Project> = first
        .records
        .iter()
        .chain(&parents)
        .map(|p| (p.id.as_str(), p))
        .collect();
    parents_first(&mut projects);
    let with_parents: Vec<&Project> = all.values().copied().collect();
    let mut links = PageLinks::read(ctx, &with_parents).await?;

    let mut catalog = read_catalog(ctx, projects.iter().flat_map(|p| &p.items)).await?;
    let wanted: Vec<(Option<i64>, String)> = projects
        .iter()
        .map(|p| (links.opportunities.get(&p.id).copied(), String::new()))
        .collect();
    let opportunities: Side<Opportunity> = read_side(ctx, &KIND, &wanted).await?;
    let mut side = Box::pin(read_cw(ctx, &projects, &mut catalog)).await?;
    (side.sites, side.site_records) = Box::pin(match_sites(ctx, &projects, &links)).await?;

    for project in projects {
        let stamp = stamp(ctx, project, links.of(project));
        let recorder = Recorder::new(entity, &project.id, stamp.clone());
        let page = Page {
            all: &all,
            links: &links,
            catalog: &catalog,
            side: &side,
            opportunities: &opportunities,
        };
        let line = Box::pin(sync_project(ctx, project, &page, &recorder, &stamp)).await?;
        // An option later in the page finds its project's new opportunity (0: one a dry run
        // would create).
        let made = line
            .connect_wise_id
            .or_else(|| (ctx.dry_run && line.outcome == Outcome::Created).then_some(0));
        if let Some(cw_id) = made {
            links.opportunities.insert(project.id.clone(), cw_id);
        }
        records.push(line);
    }
    Ok(records)
}

/// The page's batched ConnectWise reads, and the records it creates by name.
async fn read_cw(
    ctx: &DocContext<'_>,
    projects: &[&Project],
    catalog: &mut Catalog,
) -> Result<CwSide, SyncError> {
    let cw = &ctx.clients.cw;
    let settings = &ctx.settings.documents.opportunities;
    // The owners' members: by e-mail (office or primary) or identifier, a few owners a read.
    let mut owners: Vec<(Option<String>, Option<String>)> = projects
        .iter()
        .map(|p| {
            let clean = |v: &Option<String>| {
                v.as_deref()
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned)
            };
            (clean(&p.owner_email), clean(&p.owner_identifier))
        })
        .collect();
    owners.sort();
    owners.dedup();
    let mut members: Vec<Member> = Vec::new();
    for chunk in owners.chunks(OWNERS_PER_READ) {
        let emails: Vec<String> = chunk.iter().filter_map(|(e, _)| e.clone()).collect();
        let identifiers: Vec<String> = chunk.iter().filter_map(|(_, i)| i.clone()).collect();
        let mut any = Vec::new();
        if !emails.is_empty() {
            any.push(Condition::field("officeEmail").in_(emails.clone()));
            any.push(Condition::field("primaryEmail").in_(emails));
        }
        if !identifiers.is_empty() {
            any.push(Condition::field("identifier").in_(identifiers));
        }
        if any.is_empty() {
            continue;
        }
        let read = read_members(cw, Some(Condition::any(any)), "the owners' members").await?;
        for member in read {
            if !members.iter().any(|m| m.id == member.id) {
                members.push(member);
            }
        }
    }

    // The catalog items missing for the items, created.
    let skus = &catalog.skus;
    let mut wanted: HashMap<String, &DocumentItem> = HashMap::new();
    for item in projects.iter().flat_map(|p| &p.items) {
        let sku = sku_of(item, skus);
        if !sku.is_empty() {
            wanted.entry(sku.to_uppercase()).or_insert(item);
        }
    }
    let mut missing: Vec<(&String, &&DocumentItem)> = wanted
        .iter()
        .filter(|(sku, _)| !catalog.items.contains_key(*sku))
        .collect();
    missing.sort_by_key(|(sku, _)| sku.as_str());
    let mut catalog_problems = HashMap::new();
    let mut created: HashMap<String, i64> = HashMap::new();
    if !missing.is_empty() {
        match Box::pin(catalog_place(ctx)).await? {
            Err(reason) => {
                for (sku, _) in &missing {
                    catalog_problems.insert((*sku).clone(), reason.clone());
                }
            }
            // A dry run plans the products on the catalog items it would create.
            Ok(None) => {
                for (sku, _) in &missing {
                    created.insert((*sku).clone(), 0);
                }
            }
            Ok(Some(_)) if ctx.dry_run => {
                for (sku, _) in &missing {
                    created.insert((*sku).clone(), 0);
                }
            }
            Ok(Some((subcategory, product_type))) => {
                for (key, item) in missing {
                    let sku = sku_of(item, skus).to_owned();
                    let description = item
                        .description
                        .as_deref()
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .unwrap_or(&sku)
                        .to_owned();
                    match Box::pin(create_catalog_item(
                        ctx,
                        &sku,
                        &description,
                        subcategory,
                        product_type,
                    ))
                    .await?
                    {
                        Ok(id) => {
                            created.insert(key.clone(), id);
                        }
                        Err(reason) => {
                            catalog_problems.insert(key.clone(), reason);
                        }
                    }
                }
            }
        }
    }

    catalog.items.extend(created);
    let statuses: Vec<OpportunityStatus> = cw
        .list_all(OpportunityStatus::PATH, &Query::new().page_size(1000))
        .await
        .map_err(|e| SyncError::connectwise("reading the opportunity statuses", e))?;
    let kind = match Box::pin(find_or_create(
        ctx,
        TYPES,
        "description",
        &settings.opportunity_type,
        None,
        json!({"description": settings.opportunity_type.trim()}),
    ))
    .await?
    {
        Ok(Some(id)) => Ok(id),
        // A dry run does not create it: the opportunities are planned without it.
        Ok(None) => Ok(0),
        Err(reason) => Err(format!("documents.opportunities.opportunityType: {reason}")),
    };
    Ok(CwSide {
        members,
        catalog_problems,
        statuses,
        kind,
        sites: HashMap::new(),
        site_records: HashMap::new(),
        addresses: tokio::sync::OnceCell::new(),
    })
}

/// The office locations of `projects` that have no site link, matched by name among their
/// company's sites (one billing read of the accounts, one read per company, only when some
/// location is unlinked). Not linked: the customer sync owns site links; a matched site is not
/// part of the stamp, so it is found again (never re-sent) until the customer sync links it.
async fn match_sites(
    ctx: &DocContext<'_>,
    projects: &[&Project],
    links: &PageLinks,
) -> Result<UnlinkedSites, SyncError> {
    let unlinked: Vec<(&str, &str, i64)> = projects
        .iter()
        .filter_map(|p| {
            let site = p.site_id.as_deref()?;
            let company = links.companies.get(&p.account_id)?;
            (!links.sites.contains_key(site)).then_some((site, p.account_id.as_str(), *company))
        })
        .collect();
    let mut matched = HashMap::new();
    if unlinked.is_empty() {
        return Ok((matched, HashMap::new()));
    }
    let accounts = ctx
        .clients
        .billing
        .list_accounts_checked(&AccountQuery::by_ids(
            unlinked.iter().map(|(_, account, _)| (*account).to_owned()),
        ))
        .await
        .map_err(|e| SyncError::billing("reading the office locations' accounts", e))?
        .accounts;
    let names: HashMap<&str, &str> = accounts
        .iter()
        .flat_map(|a| &a.sites)
        .map(|s| (s.id.as_str(), s.name.trim()))
        .collect();
    let records: HashMap<String, Site> = accounts
        .iter()
        .flat_map(|a| &a.sites)
        .filter(|s| unlinked.iter().any(|(site, _, _)| *site == s.id))
        .map(|s| (s.id.clone(), s.clone()))
        .collect();
    let mut by_company: HashMap<i64, Vec<(&str, &str)>> = HashMap::new();
    for (site, _, company) in &unlinked {
        let name = names.get(site).copied().unwrap_or_default();
        matched.insert((*site).to_owned(), (name.to_owned(), None));
        if !name.is_empty() {
            by_company.entry(*company).or_default().push((site, name));
        }
    }
    for (company, sites) in by_company {
        let wanted: Vec<String> = sites.iter().map(|(_, n)| (*n).to_owned()).collect();
        let read: Vec<CompanySite> = ctx
            .clients
            .cw
            .list_by_ids(
                &CompanySite::path(company),
                "name",
                wanted,
                &Query::new().fields(["id", "name"]).page_size(1000),
            )
            .await
            .map_err(|e| SyncError::connectwise(format!("reading company {company}'s sites"), e))?;
        for (site, name) in sites {
            let found = read
                .iter()
                .find(|s| {
                    s.name
                        .as_deref()
                        .is_some_and(|n| n.trim().eq_ignore_ascii_case(name))
                })
                .and_then(|s| s.id);
            matched.insert(site.to_owned(), (name.to_owned(), found));
        }
    }
    Ok((matched, records))
}

/// Office locations without a site link: matched by name (billing site id → its name and the
/// matched site), and their billing sites.
type UnlinkedSites = (
    HashMap<String, (String, Option<i64>)>,
    HashMap<String, Site>,
);

/// Creates the ConnectWise site of billing site `site` (an office location no site of its
/// company matched) on `company`, as the customer sync would make it (`desired_site`), claimed
/// under the customer sync's own site link so it never makes a second one; a lost answer is
/// settled by the company's site of that name and address. `Ok(Err(line))`: the site can't be
/// made (its values, or ConnectWise refused them), the project's failed line.
async fn create_site(
    ctx: &DocContext<'_>,
    recorder: &Recorder,
    site: &Site,
    company: i64,
    addresses: &tokio::sync::OnceCell<CustomerReference>,
) -> Result<Result<Option<i64>, RecordResult>, SyncError> {
    let cw = &ctx.clients.cw;
    // What an address resolves against: ConnectWise's states and countries (the rest of the
    // customer sync's reference data is for companies and contacts), read once per page and only
    // when a site is to be made.
    let reference = addresses
        .get_or_try_init(|| async {
            let wrap = |e| SyncError::connectwise("reading the states and countries", e);
            let (states, countries) = tokio::try_join!(
                async {
                    cw.list_all::<State>(State::PATH, &Query::new())
                        .await
                        .map_err(wrap)
                },
                async {
                    cw.list_all::<Country>(Country::PATH, &Query::new())
                        .await
                        .map_err(wrap)
                },
            )?;
            Ok::<_, SyncError>(CustomerReference {
                states,
                countries,
                company_types: Vec::new(),
                company_statuses: Vec::new(),
                currencies: Vec::new(),
                communication_types: Vec::new(),
            })
        })
        .await?;
    let desired = match desired_site(site, reference) {
        Ok(desired) => desired,
        Err(problems) => {
            let named: Vec<String> = problems.iter().map(ToString::to_string).collect();
            return Ok(Err(recorder.failed(format!(
                "siteId: office location {} can't be created as a ConnectWise site: {}",
                site.id,
                named.join("; ")
            ))));
        }
    };
    let source = SourceRef::new(customer::SITE, &site.id);
    let what = format!("site {}", site.id);
    let fingerprint = cwsync_mapping::fingerprint(&desired);
    let creation = ctx.creation(
        source,
        customer::SITE,
        &what,
        "name and address",
        &fingerprint,
    );
    let collection = CompanySite::path(company);
    let mut lines = Vec::new();
    let site_recorder = Recorder::new(customer::SITE, &site.id, String::new());
    let created = create_claimed(
        &creation,
        &site_recorder,
        &mut lines,
        |s: &CompanySite| s.id,
        || async {
            let found: Vec<CompanySite> = cw
                .list_all(&collection, &Query::new().page_size(1000))
                .await
                .map_err(|e| {
                    SyncError::connectwise(format!("reading company {company}'s sites"), e)
                })?;
            Ok(match_site(&desired, &found)
                .and_then(|id| found.into_iter().find(|s| s.id == Some(id))))
        },
        || cw.create::<CompanySite, CompanySite>(&collection, &desired),
    )
    .await?;
    Ok(match created {
        Created::Linked { record, .. } => Ok(record.id),
        Created::AlreadyLinked(link) => Ok(link.cw_id),
        Created::Planned => Ok(None),
        Created::LinkedToOther { cw_id, holder } => Err(recorder.failed(format!(
            "siteId: {}",
            cwsync_sync::claim::linked_to_other(customer::SITE, cw_id, &holder)
        ))),
        Created::Refused => Err(recorder.failed(format!(
            "siteId: ConnectWise refused office location {} as a site: {}",
            site.id,
            lines.pop().map(|l| l.detail).unwrap_or_default()
        ))),
    })
}

/// The subcategory and product type of catalog items cwsync creates (`Ok(None)` in a dry run
/// when the category or subcategory is still to be created); `Err` says why there are none.
async fn catalog_place(
    ctx: &DocContext<'_>,
) -> Result<Result<Option<(i64, i64)>, String>, SyncError> {
    let settings = &ctx.settings.documents.opportunities;
    let product_type = {
        let query = Query::new()
            .filter(Condition::field("name").eq(settings.product_type.trim().to_owned()))
            .fields(["id", "name"]);
        let read: Vec<Value> = ctx
            .clients
            .cw
            .list_all(PRODUCT_TYPES, &query)
            .await
            .map_err(|e| SyncError::connectwise("reading the product types", e))?;
        match read.first().and_then(|t| t["id"].as_i64()) {
            Some(id) => id,
            None => {
                return Ok(Err(format!(
                    "documents.opportunities.productType: ConnectWise has no product type {:?} \
                     for the catalog items of project items",
                    settings.product_type.trim()
                )));
            }
        }
    };
    let category = match find_or_create(
        ctx,
        CATEGORIES,
        "name",
        &settings.category,
        None,
        json!({"name": settings.category.trim()}),
    )
    .await?
    {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(Ok(None)),
        Err(reason) => return Ok(Err(format!("documents.opportunities.category: {reason}"))),
    };
    let subcategory = match find_or_create(
        ctx,
        SUBCATEGORIES,
        "name",
        &settings.subcategory,
        Some(Condition::field("category/id").eq(category)),
        json!({"name": settings.subcategory.trim(), "category": {"id": category}}),
    )
    .await?
    {
        Ok(Some(id)) => id,
        Ok(None) => return Ok(Ok(None)),
        Err(reason) => {
            return Ok(Err(format!(
                "documents.opportunities.subcategory: {reason}"
            )));
        }
    };
    Ok(Ok(Some((subcategory, product_type))))
}

/// Creates the catalog item `sku` (its id), or why ConnectWise refused it. One that appeared
/// meanwhile (another page made it) is found again by its identifier.
async fn create_catalog_item(
    ctx: &DocContext<'_>,
    sku: &str,
    description: &str,
    subcategory: i64,
    product_type: i64,
) -> Result<Result<i64, String>, SyncError> {
    let reference = |id| {
        Some(Reference {
            id: Some(id),
            ..Reference::default()
        })
    };
    let item = CatalogItem {
        identifier: Some(sku.to_owned()),
        description: Some(description.to_owned()),
        customer_description: Some(description.to_owned()),
        subcategory: reference(subcategory),
        kind: reference(product_type),
        ..CatalogItem::default()
    };
    let cw = &ctx.clients.cw;
    match cw
        .create::<CatalogItem, CatalogItem>(CatalogItem::PATH, &item)
        .await
    {
        Ok(created) => Ok(created
            .id
            .ok_or_else(|| format!("ConnectWise answered catalog item {sku:?} without an id"))),
        Err(error) => {
            let reason = cw_record_level(format!("creating the catalog item {sku:?}"), error)?;
            let again: Vec<CatalogItem> = cw
                .list_all(
                    CatalogItem::PATH,
                    &Query::new()
                        .filter(Condition::field("identifier").eq(sku.to_owned()))
                        .fields(["id", "identifier"]),
                )
                .await
                .map_err(|e| SyncError::connectwise("finding a catalog item by identifier", e))?;
            Ok(again
                .first()
                .and_then(|i| i.id)
                .ok_or_else(|| format!("creating the catalog item {sku:?}: {reason}")))
        }
    }
}

/// The id of the record at `path` whose `field` is `name` (within `scope`), created from `body`
/// when there is none; `Ok(None)` when it would be created (dry run); `Err` why ConnectWise
/// refused it. A create refused because another worker just made it finds that one.
async fn find_or_create(
    ctx: &DocContext<'_>,
    path: &str,
    field: &'static str,
    name: &str,
    scope: Option<Condition>,
    body: Value,
) -> Result<Result<Option<i64>, String>, SyncError> {
    let cw = &ctx.clients.cw;
    let name = name.trim().to_owned();
    let find = || {
        let mut condition = Condition::field(field).eq(name.clone());
        if let Some(scope) = scope.clone() {
            condition = condition.and(scope);
        }
        let query = Query::new().filter(condition).fields(["id"]);
        async move {
            let read: Vec<Value> = cw
                .list_all(path, &query)
                .await
                .map_err(|e| SyncError::connectwise(format!("reading {path} by {field}"), e))?;
            Ok::<_, SyncError>(read.first().and_then(|r| r["id"].as_i64()))
        }
    };
    if let Some(id) = find().await? {
        return Ok(Ok(Some(id)));
    }
    if ctx.dry_run {
        return Ok(Ok(None));
    }
    match cw.create::<Value, Value>(path, &body).await {
        Ok(created) => Ok(created["id"]
            .as_i64()
            .map(Some)
            .ok_or_else(|| format!("ConnectWise answered {name:?} without an id"))),
        Err(error) => {
            let reason = cw_record_level(format!("creating {name:?} at {path}"), error)?;
            Ok(find()
                .await?
                .map(Some)
                .ok_or_else(|| format!("ConnectWise refused to create {name:?}: {reason}")))
        }
    }
}

/// What a page read, for each of its projects.
struct Page<'a> {
    /// The page's projects and their parents, by id.
    all: &'a HashMap<&'a str, &'a Project>,
    links: &'a PageLinks,
    catalog: &'a Catalog,
    side: &'a CwSide,
    opportunities: &'a Side<Opportunity>,
}

/// Exports one project; its line (with its opportunity's id when it has one now).
async fn sync_project(
    ctx: &DocContext<'_>,
    project: &Project,
    page: &Page<'_>,
    recorder: &Recorder,
    stamp: &str,
) -> Result<RecordResult, SyncError> {
    let failed = |reason: String| Ok(recorder.failed(reason));
    let (all, links, side) = (page.all, page.links, page.side);
    let settings = &ctx.settings.documents.opportunities;
    let Some(company) = links.companies.get(&project.account_id).copied() else {
        return failed(format!(
            "accountId: account {} has no ConnectWise company yet (the customer sync links it): \
             the project waits for it",
            project.account_id
        ));
    };
    let parent = project
        .parent_project_id
        .as_deref()
        .filter(|_| project.kind != ProjectKind::Project);
    let parent_opportunity = match parent {
        None => None,
        Some(parent) => match links.opportunities.get(parent) {
            Some(id) => Some(*id),
            None => {
                return failed(format!(
                    "parentProjectId: project {parent} has no ConnectWise opportunity yet: this \
                     {} follows once it has",
                    kind_word(project.kind)
                ));
            }
        },
    };
    let contact_id = project.primary_contact_id.as_deref().or_else(|| {
        parent
            .and_then(|p| all.get(p))
            .and_then(|p| p.primary_contact_id.as_deref())
    });
    let Some(contact_id) = contact_id else {
        return failed(
            "primaryContactId: the project names no primary contact, and ConnectWise requires \
             an opportunity's contact"
                .to_owned(),
        );
    };
    let Some(contact) = links.contacts.get(contact_id).copied() else {
        return failed(format!(
            "primaryContactId: contact {contact_id} has no ConnectWise contact yet (the customer \
             sync links it)"
        ));
    };
    let site = match project.site_id.as_deref() {
        None => None,
        Some(site_id) => match links.sites.get(site_id) {
            Some(id) => Some(*id),
            None => match side.sites.get(site_id) {
                Some((_, Some(id))) => Some(*id),
                Some((name, None)) if !name.is_empty() => {
                    let Some(billing_site) = side.site_records.get(site_id) else {
                        return failed(format!(
                            "siteId: office location {site_id} ({name:?}) has no ConnectWise site"
                        ));
                    };
                    // No site of that name: created, as the customer sync would make it.
                    match Box::pin(create_site(
                        ctx,
                        recorder,
                        billing_site,
                        company,
                        &side.addresses,
                    ))
                    .await?
                    {
                        Ok(id) => id,
                        Err(line) => return Ok(line),
                    }
                }
                _ => {
                    return failed(format!(
                        "siteId: office location {site_id} is not a site of account {} and has \
                         no ConnectWise site",
                        project.account_id
                    ));
                }
            },
        },
    };
    let sales_rep = match find_member(&side.members, project) {
        Ok(member) => member.id.unwrap_or_default(),
        Err(reason) => return failed(reason),
    };
    let kind = match &side.kind {
        Ok(kind) => *kind,
        Err(reason) => return failed(reason.clone()),
    };
    let status_wanted = status_name(project.status, settings).trim();
    let Some(status) = side
        .statuses
        .iter()
        .find(|s| {
            s.name
                .as_deref()
                .is_some_and(|n| n.trim().eq_ignore_ascii_case(status_wanted))
        })
        .and_then(|s| s.id)
    else {
        return failed(format!(
            "status: ConnectWise has no opportunity status {status_wanted:?} (documents.\
             opportunities) for a project that is {:?}",
            project.status
        ));
    };
    let catalog = page.catalog;
    let lines = match product_lines(&project.items, &catalog.skus, &catalog.items) {
        Ok(lines) => lines,
        Err(unmatched) => {
            let named: Vec<String> = unmatched
                .iter()
                .map(|u| {
                    side.catalog_problems
                        .get(&u.sku.to_uppercase())
                        .map_or_else(
                            || u.to_string(),
                            |why| format!("items[{}] ({}): {why}", u.line, u.sku),
                        )
                })
                .collect();
            return failed(named.join("; "));
        }
    };
    let refs = OpportunityRefs {
        company,
        contact,
        site,
        sales_rep,
        kind,
        status,
        parent: parent_opportunity,
    };
    let never = &ctx.settings.never_overwrite.opportunities;
    let key = natural_key(&project.id);
    let doc = Push {
        source_id: &project.id,
        recorder,
        stamp,
        company,
        linked: links.opportunities.get(&project.id).copied(),
        key: &key,
        desired: desired_opportunity(project, refs),
        lines,
        never,
    };
    Box::pin(push(
        ctx,
        &KIND,
        page.opportunities,
        doc,
        |current, desired| opportunity_changes(current, desired, never),
    ))
    .await
}

fn kind_word(kind: ProjectKind) -> &'static str {
    match kind {
        ProjectKind::Project => "project",
        ProjectKind::Option => "option",
        ProjectKind::ChangeOrder => "change order",
    }
}
