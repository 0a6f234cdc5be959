//! Twenty's web app booting against twenty-edge (issue #12), black-box: the requests
//! twenty-front sends from its first page load to a usable record index, with the same
//! operation names, variables and selections (each names the twenty-front file it comes
//! from, under `packages/twenty-front/src/modules/`), then the view changes its table,
//! kanban and filter bars make.
//!
//! `/metadata` executes Twenty's schema, so a response without `errors` has every non-null
//! field of the selection (the executor turns a missing one into an error); [`op`] fails
//! with the operation's name when there is one.

mod common;

use common::{email, Session, TestServer};
use serde_json::{json, Value};

/// Runs one of the front's operations on `/metadata` and returns `data`, failing with the
/// operation name and source file on any error.
fn op(server: &TestServer, token: Option<&str>, source: &str, query: &str, vars: Value) -> Value {
    let name = query
        .split(['(', '{'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    let mut call = server.post("/metadata").json(
        &json!({ "operationName": name.split_whitespace().last(), "query": query, "variables": vars }),
    );
    if let Some(t) = token {
        call = call.bearer(t);
    }
    let resp = call.send();
    assert_eq!(
        resp.status, 200,
        "{name} ({source}): HTTP {}: {}",
        resp.status, resp.text
    );
    let body = resp.json();
    assert!(
        body.get("errors").is_none(),
        "{name} ({source}) failed: {}",
        body["errors"]
    );
    let data = body["data"].clone();
    assert!(data.is_object(), "{name} ({source}): no data: {body}");
    data
}

// --- the front's documents -----------------------------------------------------------------

/// auth/graphql/queries/getPublicWorkspaceDataByDomain.ts
const GET_PUBLIC_WORKSPACE_DATA_BY_DOMAIN: &str =
    "query GetPublicWorkspaceDataByDomain($origin: String!) {
  getPublicWorkspaceDataByDomain(origin: $origin) {
    id logo displayName
    workspaceUrls { subdomainUrl customUrl }
    authProviders { sso { id name type status issuer } google magicLink password microsoft }
    authBypassProviders { google password microsoft }
  }
}";

/// metadata-store/graphql/queries/findMinimalMetadata.ts
const FIND_MINIMAL_METADATA: &str = "query FindMinimalMetadata {
  minimalMetadata {
    objectMetadataItems { id nameSingular namePlural labelSingular labelPlural icon isActive isSystem isRemote }
    views { id type key objectMetadataId }
    collectionHashes { collectionName hash }
  }
}";

/// object-metadata/graphql/queries.ts (FIND_MANY_OBJECT_METADATA_ITEMS) with
/// object-metadata/graphql/fragment.ts (ObjectMetadataFields).
const OBJECT_METADATA_ITEMS: &str = "query ObjectMetadataItems {
  objects(paging: { first: 1000 }) {
    edges { node { ...ObjectMetadataFields } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}
fragment ObjectMetadataFields on Object {
  id universalIdentifier nameSingular namePlural labelSingular labelPlural color description
  icon isRemote isActive isSystem isUIEditable isUICreatable writability createdAt updatedAt
  labelIdentifierFieldMetadataId imageIdentifierFieldMetadataId applicationId shortcut
  isLabelSyncedWithName isSearchable openRecordIn readability duplicateCriteria
  searchFieldMetadataList { id fieldMetadataId tsVectorFieldMetadataId position createdAt updatedAt }
  indexMetadataList {
    id createdAt updatedAt name indexWhereClause indexType isUnique isCustom
    indexFieldMetadataList { id fieldMetadataId subFieldName createdAt updatedAt order }
  }
  fieldsList {
    id universalIdentifier type name label description icon isActive isSystem isUIEditable
    writability isNullable isUnique isSearchable createdAt updatedAt defaultValue options
    settings isLabelSyncedWithName morphId applicationId
    relation {
      type
      sourceObjectMetadata { id nameSingular namePlural }
      targetObjectMetadata { id nameSingular namePlural }
      sourceFieldMetadata { id name }
      targetFieldMetadata { id name }
    }
    morphRelations {
      type
      sourceObjectMetadata { id nameSingular namePlural }
      targetObjectMetadata { id nameSingular namePlural }
      sourceFieldMetadata { id name }
      targetFieldMetadata { id name }
    }
  }
}";

/// views/graphql/fragments/*.ts: ViewFragment and its children.
const VIEW_FRAGMENTS: &str = "
fragment ViewFragment on View {
  id name objectMetadataId type key icon position isCompact kanbanAggregateOperation
  kanbanAggregateOperationFieldMetadataId mainGroupByFieldMetadataId shouldHideEmptyGroups
  kanbanColumnWidth groupLoadLimit anyFieldFilterValue calendarFieldMetadataId
  calendarEndFieldMetadataId calendarLayout visibility createdByUserWorkspaceId isActive
  viewFields { ...ViewFieldFragment }
  viewFieldGroups { ...ViewFieldGroupFragment }
  viewFilters { ...ViewFilterFragment }
  viewFilterGroups { ...ViewFilterGroupFragment }
  viewSorts { ...ViewSortFragment }
  viewGroups { ...ViewGroupFragment }
}
fragment ViewFieldFragment on ViewField {
  id fieldMetadataId viewId isVisible position size aggregateOperation viewFieldGroupId
  isActive createdAt updatedAt deletedAt
}
fragment ViewFieldGroupFragment on ViewFieldGroup {
  id name position isVisible viewId isActive createdAt updatedAt deletedAt
  viewFields { ...ViewFieldFragment }
}
fragment ViewFilterFragment on ViewFilter {
  id fieldMetadataId operand value viewFilterGroupId positionInViewFilterGroup subFieldName
  relationTargetFieldMetadataId viewId createdAt updatedAt deletedAt
}
fragment ViewFilterGroupFragment on ViewFilterGroup {
  id parentViewFilterGroupId logicalOperator positionInViewFilterGroup viewId
}
fragment ViewSortFragment on ViewSort {
  id fieldMetadataId direction subFieldName viewId createdAt deletedAt updatedAt
}
fragment ViewGroupFragment on ViewGroup {
  id isVisible fieldValue position viewId createdAt updatedAt deletedAt
}";

/// The definitions of fragment `root` and of every fragment it spreads, from
/// [`VIEW_FRAGMENTS`]: the front's mutation documents carry only the fragments they use
/// (GraphQL refuses unused ones).
fn fragments_for(root: &str) -> String {
    let defs: Vec<&str> = VIEW_FRAGMENTS
        .split("\nfragment ")
        .filter(|d| !d.trim().is_empty())
        .collect();
    let name_of = |d: &str| d.split_whitespace().next().unwrap_or("").to_string();
    let mut wanted = vec![root.to_string()];
    let mut out = String::new();
    let mut i = 0;
    while i < wanted.len() {
        if let Some(d) = defs.iter().find(|d| name_of(d) == wanted[i]) {
            out.push_str("\nfragment ");
            out.push_str(d);
            for spread in d.split("...").skip(1) {
                let name: String = spread.chars().take_while(|c| c.is_alphanumeric()).collect();
                if !wanted.contains(&name) {
                    wanted.push(name);
                }
            }
        }
        i += 1;
    }
    out
}

/// views/graphql/queries/findAllViews.ts
fn find_all_views() -> String {
    format!("query FindAllViews($viewTypes: [ViewType!]) {{ getViews(viewTypes: $viewTypes) {{ ...ViewFragment }} }}{VIEW_FRAGMENTS}")
}

/// views/graphql/queries/findFieldsWidgetViews.ts
fn find_fields_widget_views() -> String {
    format!("query FindFieldsWidgetViews($viewTypes: [ViewType!]) {{ getViews(viewTypes: $viewTypes) {{ ...ViewFragment }} }}{VIEW_FRAGMENTS}")
}

/// page-layout/graphql/queries/findAllRecordPageLayouts.ts (PageLayoutFragment, abridged to
/// the fields that do not depend on widget configurations: the list is empty).
const FIND_ALL_RECORD_PAGE_LAYOUTS: &str = "query FindAllRecordPageLayouts {
  getPageLayouts(pageLayoutType: RECORD_PAGE) {
    id applicationId name objectMetadataId type universalIdentifier isSystemSideEffect
    isFirstTabPinned defaultTabToFocusOnMobileAndSidePanelId createdAt updatedAt
    tabs { id title icon position layoutMode pageLayoutId isActive createdAt updatedAt
      widgets { id title type objectMetadataId pageLayoutTabId createdAt updatedAt isActive deletedAt } }
  }
}";

/// logic-function/graphql/queries/findManyLogicFunctions.ts
const FIND_MANY_LOGIC_FUNCTIONS: &str = "query FindManyLogicFunctions {
  findManyLogicFunctions {
    id name description runtime timeoutSeconds executionMode sourceHandlerPath handlerName
    cronTriggerSettings databaseEventTriggerSettings httpRouteTriggerSettings
    toolTriggerSettings workflowActionTriggerSettings applicationId universalIdentifier
    createdAt updatedAt
  }
}";

/// navigation-menu-item/graphql/queries/findManyNavigationMenuItems.ts
const FIND_MANY_NAVIGATION_MENU_ITEMS: &str = "query FindManyNavigationMenuItems {
  navigationMenuItems {
    id type userWorkspaceId targetRecordId targetObjectMetadataId viewId folderId name link
    icon color pageLayoutId position applicationId createdAt updatedAt
    targetRecordIdentifier { id labelIdentifier imageIdentifier }
  }
}";

/// command-menu-item/graphql/queries/findManyCommandMenuItems.ts
const FIND_MANY_COMMAND_MENU_ITEMS: &str = "query FindManyCommandMenuItems {
  commandMenuItems {
    id universalIdentifier applicationId workflowVersionId frontComponentId
    frontComponent { id name isHeadless }
    engineComponentKey label icon shortLabel position isPinned
    payload { ... on PathCommandMenuItemPayload { path } }
    hotKeys conditionalAvailabilityExpression conditionalPinnedExpression availabilityType
    availabilityObjectMetadataId navigationTargetObjectMetadataId pageLayoutId isActive
  }
}";

/// front-components/graphql/queries/findManyFrontComponents.ts
const FIND_MANY_FRONT_COMPONENTS: &str = "query FindManyFrontComponents {
  frontComponents {
    id name applicationId builtComponentChecksum builtComponentPath componentName createdAt
    description isHeadless sourceComponentPath universalIdentifier updatedAt usesSdkClient
    frontComponentSharedDependenciesChecksum
  }
}";

fn hashes(minimal: &Value) -> std::collections::HashMap<String, String> {
    minimal["minimalMetadata"]["collectionHashes"]
        .as_array()
        .expect("collectionHashes")
        .iter()
        .map(|h| {
            (
                h["collectionName"].as_str().unwrap().to_string(),
                h["hash"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn minimal(server: &TestServer, s: &Session) -> Value {
    op(
        server,
        Some(&s.access),
        "metadata-store/graphql/queries/findMinimalMetadata.ts",
        FIND_MINIMAL_METADATA,
        json!({}),
    )
}

fn all_views(server: &TestServer, s: &Session) -> Vec<Value> {
    op(
        server,
        Some(&s.access),
        "views/graphql/queries/findAllViews.ts",
        &find_all_views(),
        json!({ "viewTypes": ["TABLE", "KANBAN", "CALENDAR"] }),
    )["getViews"]
        .as_array()
        .expect("getViews")
        .clone()
}

fn objects(server: &TestServer, s: &Session) -> Vec<Value> {
    op(
        server,
        Some(&s.access),
        "object-metadata/graphql/queries.ts",
        OBJECT_METADATA_ITEMS,
        json!({}),
    )["objects"]["edges"]
        .as_array()
        .expect("objects")
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn object<'a>(objects: &'a [Value], singular: &str) -> &'a Value {
    objects
        .iter()
        .find(|o| o["nameSingular"] == singular)
        .unwrap_or_else(|| panic!("no object {singular}"))
}

fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object["fieldsList"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no field {name} on {}", object["nameSingular"]))
}

#[test]
fn client_config_is_a_simple_cors_request_with_every_non_null_field() {
    let server = TestServer::start();
    let origin = "http://localhost:3001"; // FRONTEND_URL in wrangler.jsonc
                                          // A plain GET with no credentials: a simple request, no preflight.
    let resp = server.get("/client-config").header("origin", origin).send();
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(resp
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/json"));
    assert_eq!(resp.header("access-control-allow-origin"), Some(origin));
    let body = resp.json();

    // Every non-null field of Twenty's ClientConfig type (generated/twenty-metadata.graphql).
    let sdl = std::fs::read_to_string(format!(
        "{}/generated/twenty-metadata.graphql",
        common::ROOT
    ))
    .unwrap();
    let start = sdl.find("type ClientConfig {").unwrap();
    let block = &sdl[start..start + sdl[start..].find('}').unwrap()];
    let mut checked = 0;
    for line in block.lines().skip(1) {
        if let Some((name, ty)) = line.trim().split_once(':') {
            if ty.trim().ends_with('!') {
                assert!(
                    !body[name.trim()].is_null(),
                    "client-config lacks non-null {name}: {body}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 30, "parsed {checked} fields");
    assert_eq!(body["authProviders"]["password"], true);
    assert_eq!(body["authProviders"]["sso"], json!([]));
    assert_eq!(body["isMultiWorkspaceEnabled"], false);
    assert_eq!(body["billing"]["isBillingEnabled"], false);
    assert_eq!(body["captcha"]["provider"], Value::Null);
    assert_eq!(body["analyticsEnabled"], false);
    assert_eq!(body["sentry"]["dsn"], Value::Null);
    assert_eq!(body["support"]["supportDriver"], "NONE");
    assert_eq!(body["frontDomain"], "localhost");
    assert!(
        body["api"]["mutationMaximumAffectedRecords"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    // An origin that is not the front's gets no CORS grant.
    let other = server
        .get("/client-config")
        .header("origin", "https://evil.example")
        .send();
    assert_eq!(other.status, 200);
    assert_eq!(other.header("access-control-allow-origin"), None);
}

#[test]
fn client_config_values_come_from_operator_variables() {
    let server = TestServer::start_with(common::Options {
        vars: vec![
            ("AUTH_PASSWORD_ENABLED", "false".into()),
            ("SENTRY_FRONT_DSN", "https://key@sentry.example/1".into()),
            ("SUPPORT_FRONT_CHAT_ID", "chat-1".into()),
            ("MUTATION_MAXIMUM_AFFECTED_RECORDS", "250".into()),
        ],
        ..Default::default()
    });
    let body = server.get("/client-config").send().json();
    assert_eq!(body["authProviders"]["password"], false);
    assert_eq!(body["sentry"]["dsn"], "https://key@sentry.example/1");
    assert_eq!(
        body["support"],
        json!({ "supportDriver": "FRONT", "supportFrontChatId": "chat-1" })
    );
    assert_eq!(body["api"]["mutationMaximumAffectedRecords"], 250.0);
}

#[test]
fn the_fronts_boot_sequence_answers_every_operation() {
    let server = TestServer::start();
    // The sign-in page of a server with no workspace yet: a clear NOT_FOUND, not a hang.
    let none = server.gql(
        "/metadata",
        None,
        GET_PUBLIC_WORKSPACE_DATA_BY_DOMAIN,
        json!({ "origin": "http://localhost:3001" }),
    );
    assert_eq!(
        none["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{none}"
    );

    let s = server.new_workspace(&email("boot"));
    let public = op(
        &server,
        None,
        "auth/graphql/queries/getPublicWorkspaceDataByDomain.ts",
        GET_PUBLIC_WORKSPACE_DATA_BY_DOMAIN,
        json!({ "origin": "http://localhost:3001" }),
    );
    let p = &public["getPublicWorkspaceDataByDomain"];
    assert_eq!(p["id"], s.workspace_id.as_str());
    assert_eq!(p["authProviders"]["password"], true);
    assert_eq!(p["workspaceUrls"]["subdomainUrl"], "http://localhost:3001");

    // users/graphql/queries/getCurrentUser.ts (the parts the boot reads first).
    let me = op(
        &server,
        Some(&s.access),
        "users/graphql/queries/getCurrentUser.ts",
        "query GetCurrentUser { currentUser { id email workspaceMember { id } currentWorkspace { id metadataVersion featureFlags { key value } } } }",
        json!({}),
    );
    assert_eq!(
        me["currentUser"]["currentWorkspace"]["id"],
        s.workspace_id.as_str()
    );

    let min = minimal(&server, &s);
    let items = min["minimalMetadata"]["objectMetadataItems"]
        .as_array()
        .unwrap();
    let views = min["minimalMetadata"]["views"].as_array().unwrap();
    assert!(items.iter().any(|o| o["nameSingular"] == "person"));
    // Every object has its INDEX view.
    for o in items {
        assert!(
            views
                .iter()
                .any(|v| v["objectMetadataId"] == o["id"] && v["key"] == "INDEX"),
            "no INDEX view for {}",
            o["nameSingular"]
        );
    }
    let h = hashes(&min);
    for name in [
        "objectMetadata",
        "fieldMetadata",
        "index",
        "view",
        "viewField",
        "viewFilter",
        "viewSort",
        "viewGroup",
        "viewFilterGroup",
        "viewFieldGroup",
        "navigationMenuItem",
        "pageLayout",
        "logicFunction",
        "commandMenuItem",
        "frontComponent",
    ] {
        assert!(
            h.get(name).is_some_and(|v| v.len() == 64),
            "hash of {name}: {h:?}"
        );
    }
    // The same state gives the same hashes.
    assert_eq!(hashes(&minimal(&server, &s)), h);

    // The stale-reload batch (metadata-store/hooks/useLoadStaleMetadataEntities.ts).
    let objs = objects(&server, &s);
    let table_views = all_views(&server, &s);
    let widget_views = op(
        &server,
        Some(&s.access),
        "views/graphql/queries/findFieldsWidgetViews.ts",
        &find_fields_widget_views(),
        json!({ "viewTypes": ["FIELDS_WIDGET"] }),
    );
    assert_eq!(widget_views["getViews"], json!([]));
    for (source, query, key) in [
        (
            "page-layout/graphql/queries/findAllRecordPageLayouts.ts",
            FIND_ALL_RECORD_PAGE_LAYOUTS,
            "getPageLayouts",
        ),
        (
            "logic-function/graphql/queries/findManyLogicFunctions.ts",
            FIND_MANY_LOGIC_FUNCTIONS,
            "findManyLogicFunctions",
        ),
        (
            "command-menu-item/graphql/queries/findManyCommandMenuItems.ts",
            FIND_MANY_COMMAND_MENU_ITEMS,
            "commandMenuItems",
        ),
        (
            "front-components/graphql/queries/findManyFrontComponents.ts",
            FIND_MANY_FRONT_COMPONENTS,
            "frontComponents",
        ),
        (
            "agents (settings/ai)",
            "query FindManyAgents { findManyAgents { id name } }",
            "findManyAgents",
        ),
        (
            "skills (settings/ai)",
            "query FindManySkills { skills { id name } }",
            "skills",
        ),
        (
            "applications (settings/applications)",
            "query FindManyApplications { findManyApplications { id name } }",
            "findManyApplications",
        ),
        (
            "webhooks (settings/developers)",
            "query GetWebhooks { webhooks { id targetUrl } }",
            "webhooks",
        ),
    ] {
        let data = op(&server, Some(&s.access), source, query, json!({}));
        assert_eq!(data[key], json!([]), "{source}");
    }
    let nav = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/queries/findManyNavigationMenuItems.ts",
        FIND_MANY_NAVIGATION_MENU_ITEMS,
        json!({}),
    )["navigationMenuItems"]
        .as_array()
        .unwrap()
        .clone();

    // Every object's INDEX view has view fields on that object's fields, label first.
    for o in &objs {
        let view = table_views
            .iter()
            .find(|v| v["objectMetadataId"] == o["id"] && v["key"] == "INDEX")
            .unwrap_or_else(|| panic!("getViews has no INDEX view for {}", o["nameSingular"]));
        assert_eq!(view["type"], "TABLE");
        let fields = view["viewFields"].as_array().unwrap();
        assert!(
            !fields.is_empty(),
            "{} has no view fields",
            o["nameSingular"]
        );
        for vf in fields {
            assert!(
                o["fieldsList"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["id"] == vf["fieldMetadataId"]),
                "view field {vf} is not a field of {}",
                o["nameSingular"]
            );
        }
        if let Some(label) = o["labelIdentifierFieldMetadataId"].as_str() {
            assert_eq!(fields[0]["fieldMetadataId"], label, "{}", o["nameSingular"]);
        }
    }
    // The sidebar lists the main objects as Twenty's does: people, companies, opportunities,
    // tasks, notes, in that order; no system object.
    let sidebar: Vec<&str> = nav
        .iter()
        .map(|n| {
            assert_eq!(n["type"], "OBJECT");
            object_name(&objs, n["targetObjectMetadataId"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        &sidebar[..5],
        &["person", "company", "opportunity", "task", "note"]
    );
    for name in &sidebar {
        assert_eq!(object(&objs, name)["isSystem"], false, "{name}");
    }
}

fn object_name<'a>(objs: &'a [Value], id: &str) -> &'a str {
    objs.iter()
        .find(|o| o["id"] == id)
        .and_then(|o| o["nameSingular"].as_str())
        .unwrap_or_else(|| panic!("no object {id}"))
}

#[test]
fn morph_relations_point_target_hosts_at_their_targets() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("morph"));
    let objs = objects(&server, &s);
    for host in ["noteTarget", "taskTarget", "timelineActivity", "attachment"] {
        let h = object(&objs, host);
        let target_person = field(h, "targetPerson");
        assert_eq!(target_person["type"], "MORPH_RELATION", "{host}");
        let morph_id = target_person["morphId"].as_str().expect("morphId");
        let relations = target_person["morphRelations"]
            .as_array()
            .expect("morphRelations");
        let targets: Vec<&str> = relations
            .iter()
            .map(|r| {
                assert_eq!(r["type"], "MANY_TO_ONE", "{host}: {r}");
                assert_eq!(r["sourceObjectMetadata"]["nameSingular"], host);
                r["targetObjectMetadata"]["nameSingular"].as_str().unwrap()
            })
            .collect();
        for t in ["person", "company", "opportunity"] {
            assert!(
                targets.contains(&t),
                "{host}.morphRelations lacks {t}: {targets:?}"
            );
        }
        // Every field of the group shares the morph id and lists the same relations.
        let company = field(h, "targetCompany");
        assert_eq!(company["morphId"], morph_id);
        assert_eq!(
            company["morphRelations"].as_array().unwrap().len(),
            relations.len()
        );
        // The inverse on the target names the morph field.
        let person_rel = relations
            .iter()
            .find(|r| r["targetObjectMetadata"]["nameSingular"] == "person")
            .unwrap();
        assert_eq!(person_rel["sourceFieldMetadata"]["name"], "targetPerson");
        let inverse = person_rel["targetFieldMetadata"]["name"].as_str().unwrap();
        assert!(object(&objs, "person")["fieldsList"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == inverse));
    }
    // A custom object becomes a target of every host's morph group.
    let created = op(
        &server,
        Some(&s.access),
        "object-metadata/graphql/mutations.ts",
        "mutation CreateOneObjectMetadataItem($input: CreateOneObjectInput!) { createOneObject(input: $input) { id nameSingular } }",
        json!({ "input": { "object": { "nameSingular": "rocket", "namePlural": "rockets", "labelSingular": "Rocket", "labelPlural": "Rockets", "icon": "IconRocket" } } }),
    );
    assert_eq!(created["createOneObject"]["nameSingular"], "rocket");
    let objs = objects(&server, &s);
    let relations = field(object(&objs, "noteTarget"), "targetPerson")["morphRelations"].clone();
    assert!(
        relations
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["targetObjectMetadata"]["nameSingular"] == "rocket"),
        "{relations}"
    );
}

#[test]
fn a_custom_object_gets_its_index_view_and_sidebar_item() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("custom-view"));
    let before = hashes(&minimal(&server, &s));
    let created = op(
        &server,
        Some(&s.access),
        "object-metadata/graphql/mutations.ts",
        "mutation CreateOneObjectMetadataItem($input: CreateOneObjectInput!) { createOneObject(input: $input) { id } }",
        json!({ "input": { "object": { "nameSingular": "invoice", "namePlural": "invoices", "labelSingular": "Invoice", "labelPlural": "Invoices", "icon": "IconReceipt" } } }),
    );
    let object_id = created["createOneObject"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let min = minimal(&server, &s);
    let after = hashes(&min);
    for changed in [
        "objectMetadata",
        "fieldMetadata",
        "view",
        "viewField",
        "navigationMenuItem",
    ] {
        assert_ne!(
            before[changed], after[changed],
            "{changed} hash did not change"
        );
    }
    for same in ["viewSort", "viewFilter", "pageLayout"] {
        assert_eq!(before[same], after[same], "{same} hash changed");
    }
    let views = all_views(&server, &s);
    let view = views
        .iter()
        .find(|v| v["objectMetadataId"] == object_id.as_str())
        .expect("INDEX view of the new object");
    assert_eq!(view["key"], "INDEX");
    assert_eq!(view["name"], "All Invoices");
    assert!(!view["viewFields"].as_array().unwrap().is_empty());
    let nav = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/queries/findManyNavigationMenuItems.ts",
        FIND_MANY_NAVIGATION_MENU_ITEMS,
        json!({}),
    );
    assert!(nav["navigationMenuItems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["targetObjectMetadataId"] == object_id.as_str()));

    // Deleting the object takes its view and item with it (the front deactivates first:
    // Twenty refuses to delete an active object).
    op(
        &server,
        Some(&s.access),
        "object-metadata/graphql/mutations.ts",
        "mutation UpdateOneObjectMetadataItem($idToUpdate: UUID!, $updatePayload: UpdateObjectPayload!) { updateOneObject(input: { id: $idToUpdate, update: $updatePayload }) { id isActive } }",
        json!({ "idToUpdate": object_id, "updatePayload": { "isActive": false } }),
    );
    op(
        &server,
        Some(&s.access),
        "object-metadata/graphql/mutations.ts",
        "mutation DeleteOneObjectMetadataItem($idToDelete: UUID!) { deleteOneObject(input: { id: $idToDelete }) { id } }",
        json!({ "idToDelete": object_id }),
    );
    assert!(!all_views(&server, &s)
        .iter()
        .any(|v| v["objectMetadataId"] == object_id.as_str()));
}

#[test]
fn view_changes_persist_and_move_exactly_their_hashes() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("views"));
    let objs = objects(&server, &s);
    let opportunity = object(&objs, "opportunity").clone();
    let opportunity_id = opportunity["id"].as_str().unwrap().to_string();
    let fid = |name: &str| {
        field(&opportunity, name)["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let mut h = hashes(&minimal(&server, &s));
    let mut expect_changed = |server: &TestServer, changed: &[&str]| {
        let now = hashes(&minimal(server, &s));
        for (k, v) in &now {
            if changed.contains(&k.as_str()) {
                assert_ne!(&h[k], v, "{k} hash should have changed");
            } else {
                assert_eq!(&h[k], v, "{k} hash should not have changed");
            }
        }
        h = now;
    };

    // views/graphql/mutations/createView.ts
    let view = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createView.ts",
        "mutation CreateView($input: CreateViewInput!) { createView(input: $input) { id name type key icon position } }",
        json!({ "input": { "name": "By stage", "objectMetadataId": opportunity_id, "type": "KANBAN", "icon": "IconLayoutKanban", "position": 1, "mainGroupByFieldMetadataId": fid("stage") } }),
    )["createView"]
        .clone();
    assert_eq!(view["type"], "KANBAN");
    assert_eq!(view["key"], Value::Null);
    let view_id = view["id"].as_str().unwrap().to_string();
    expect_changed(&server, &["view"]);

    // views/graphql/mutations/createManyViewFields.ts
    let fields = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createManyViewFields.ts",
        &format!("mutation CreateManyViewFields($inputs: [CreateViewFieldInput!]!) {{ createManyViewFields(inputs: $inputs) {{ ...ViewFieldFragment }} }}{}", fragments_for("ViewFieldFragment")),
        json!({ "inputs": [
            { "fieldMetadataId": fid("name"), "viewId": view_id, "position": 0, "size": 200, "isVisible": true },
            { "fieldMetadataId": fid("amount"), "viewId": view_id, "position": 1, "size": 100, "isVisible": true, "aggregateOperation": "SUM" },
        ] }),
    )["createManyViewFields"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(fields.len(), 2);
    assert_eq!(fields[1]["aggregateOperation"], "SUM");
    expect_changed(&server, &["viewField"]);

    // views/graphql/mutations/updateViewField.ts
    let updated = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/updateViewField.ts",
        &format!("mutation UpdateViewField($input: UpdateViewFieldInput!) {{ updateViewField(input: $input) {{ ...ViewFieldFragment }} }}{}", fragments_for("ViewFieldFragment")),
        json!({ "input": { "id": fields[1]["id"], "update": { "isVisible": false, "position": 5 } } }),
    );
    assert_eq!(updated["updateViewField"]["isVisible"], false);
    expect_changed(&server, &["viewField"]);

    // views/graphql/mutations/createViewFilterGroup.ts, createViewFilter.ts
    let group = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createViewFilterGroup.ts",
        &format!("mutation CreateViewFilterGroup($input: CreateViewFilterGroupInput!) {{ createViewFilterGroup(input: $input) {{ ...ViewFilterGroupFragment }} }}{}", fragments_for("ViewFilterGroupFragment")),
        json!({ "input": { "viewId": view_id, "logicalOperator": "OR" } }),
    )["createViewFilterGroup"]
        .clone();
    let filter = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createViewFilter.ts",
        &format!("mutation CreateViewFilter($input: CreateViewFilterInput!) {{ createViewFilter(input: $input) {{ ...ViewFilterFragment }} }}{}", fragments_for("ViewFilterFragment")),
        json!({ "input": { "viewId": view_id, "fieldMetadataId": fid("name"), "operand": "CONTAINS", "value": "acme", "viewFilterGroupId": group["id"] } }),
    )["createViewFilter"]
        .clone();
    assert_eq!(filter["value"], "acme");
    expect_changed(&server, &["viewFilter", "viewFilterGroup"]);

    // views/graphql/mutations/updateViewFilter.ts, updateViewFilterGroup.ts
    op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/updateViewFilter.ts",
        &format!("mutation UpdateViewFilter($input: UpdateViewFilterInput!) {{ updateViewFilter(input: $input) {{ ...ViewFilterFragment }} }}{}", fragments_for("ViewFilterFragment")),
        json!({ "input": { "id": filter["id"], "update": { "value": "globex" } } }),
    );
    op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/updateViewFilterGroup.ts",
        &format!("mutation UpdateViewFilterGroup($id: String!, $input: UpdateViewFilterGroupInput!) {{ updateViewFilterGroup(id: $id, input: $input) {{ ...ViewFilterGroupFragment }} }}{}", fragments_for("ViewFilterGroupFragment")),
        json!({ "id": group["id"], "input": { "logicalOperator": "AND" } }),
    );
    expect_changed(&server, &["viewFilter", "viewFilterGroup"]);

    // views/graphql/mutations/createViewSort.ts, updateViewSort.ts
    let sort = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createViewSort.ts",
        &format!("mutation CreateViewSort($input: CreateViewSortInput!) {{ createViewSort(input: $input) {{ ...ViewSortFragment }} }}{}", fragments_for("ViewSortFragment")),
        json!({ "input": { "viewId": view_id, "fieldMetadataId": fid("closeDate"), "direction": "DESC" } }),
    )["createViewSort"]
        .clone();
    op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/updateViewSort.ts",
        &format!("mutation UpdateViewSort($input: UpdateViewSortInput!) {{ updateViewSort(input: $input) {{ ...ViewSortFragment }} }}{}", fragments_for("ViewSortFragment")),
        json!({ "input": { "id": sort["id"], "update": { "direction": "ASC" } } }),
    );
    expect_changed(&server, &["viewSort"]);

    // views/graphql/mutations/createManyViewGroups.ts, updateManyViewGroups.ts
    let groups = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createManyViewGroups.ts",
        &format!("mutation CreateManyViewGroups($inputs: [CreateViewGroupInput!]!) {{ createManyViewGroups(inputs: $inputs) {{ ...ViewGroupFragment }} }}{}", fragments_for("ViewGroupFragment")),
        json!({ "inputs": [
            { "viewId": view_id, "fieldValue": "NEW", "position": 0, "isVisible": true },
            { "viewId": view_id, "fieldValue": "SCREENING", "position": 1, "isVisible": true },
        ] }),
    )["createManyViewGroups"]
        .as_array()
        .unwrap()
        .clone();
    let moved = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/updateManyViewGroups.ts",
        &format!("mutation UpdateManyViewGroups($inputs: [UpdateViewGroupInput!]!) {{ updateManyViewGroups(inputs: $inputs) {{ ...ViewGroupFragment }} }}{}", fragments_for("ViewGroupFragment")),
        json!({ "inputs": [
            { "id": groups[0]["id"], "update": { "position": 1 } },
            { "id": groups[1]["id"], "update": { "position": 0, "isVisible": false } },
        ] }),
    );
    assert_eq!(moved["updateManyViewGroups"][1]["isVisible"], false);
    expect_changed(&server, &["viewGroup"]);

    // views/graphql/mutations/createViewFieldGroup.ts
    op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/createViewFieldGroup.ts",
        &format!("mutation CreateViewFieldGroup($input: CreateViewFieldGroupInput!) {{ createViewFieldGroup(input: $input) {{ ...ViewFieldGroupFragment }} }}{}", fragments_for("ViewFieldGroupFragment")),
        json!({ "input": { "viewId": view_id, "name": "Main", "position": 0 } }),
    );
    expect_changed(&server, &["viewFieldGroup"]);

    // views/graphql/mutations/updateView.ts
    op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/updateView.ts",
        "mutation UpdateView($id: String!, $input: UpdateViewInput!) { updateView(id: $id, input: $input) { id name type key icon position } }",
        json!({ "id": view_id, "input": { "name": "By stage, renamed", "kanbanAggregateOperation": "COUNT" } }),
    );
    expect_changed(&server, &["view"]);

    // All of it persists: a restarted server (a new actor instance) reads it back.
    let server = server.restart();
    let views = all_views(&server, &s);
    let v = views
        .iter()
        .find(|v| v["id"] == view_id.as_str())
        .expect("the view");
    assert_eq!(v["name"], "By stage, renamed");
    assert_eq!(v["kanbanAggregateOperation"], "COUNT");
    assert!(v["createdByUserWorkspaceId"].is_string());
    let vf = v["viewFields"].as_array().unwrap();
    assert_eq!(vf.len(), 2);
    assert_eq!(vf[1]["isVisible"], false, "ordered by position: {vf:?}");
    assert_eq!(v["viewFilters"][0]["value"], "globex");
    assert_eq!(v["viewFilters"][0]["viewFilterGroupId"], group["id"]);
    assert_eq!(v["viewFilterGroups"][0]["logicalOperator"], "AND");
    assert_eq!(v["viewSorts"][0]["direction"], "ASC");
    assert_eq!(
        v["viewGroups"][0]["fieldValue"], "SCREENING",
        "ordered by position"
    );
    assert_eq!(v["viewFieldGroups"][0]["name"], "Main");

    // Deleting and destroying: views/graphql/mutations/destroyViewSort.ts, deleteViewFilter.ts,
    // destroyViewField.ts, destroyView.ts
    let gone = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/destroyViewSort.ts",
        "mutation DestroyViewSort($input: DestroyViewSortInput!) { destroyViewSort(input: $input) }",
        json!({ "input": { "id": sort["id"] } }),
    );
    assert_eq!(gone["destroyViewSort"], true);
    op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/deleteViewFilter.ts",
        &format!("mutation DeleteViewFilter($input: DeleteViewFilterInput!) {{ deleteViewFilter(input: $input) {{ ...ViewFilterFragment }} }}{}", fragments_for("ViewFilterFragment")),
        json!({ "input": { "id": filter["id"] } }),
    );
    let destroyed = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/destroyViewField.ts",
        &format!("mutation DestroyViewField($input: DestroyViewFieldInput!) {{ destroyViewField(input: $input) {{ ...ViewFieldFragment }} }}{}", fragments_for("ViewFieldFragment")),
        json!({ "input": { "id": fields[0]["id"] } }),
    );
    assert_eq!(destroyed["destroyViewField"]["id"], fields[0]["id"]);
    let v = all_views(&server, &s)
        .into_iter()
        .find(|v| v["id"] == view_id.as_str())
        .unwrap();
    assert_eq!(v["viewSorts"], json!([]));
    assert_eq!(
        v["viewFilters"],
        json!([]),
        "soft-deleted filters are not listed"
    );
    assert_eq!(v["viewFields"].as_array().unwrap().len(), 1);

    // Mistakes are clear errors in Twenty's format, and write nothing.
    let before = hashes(&minimal(&server, &s));
    let bad = server.gql(
        "/metadata",
        Some(&s.access),
        "mutation CreateViewSort($input: CreateViewSortInput!) { createViewSort(input: $input) { id } }",
        json!({ "input": { "viewId": uuid::Uuid::new_v4().to_string(), "fieldMetadataId": fid("name") } }),
    );
    assert_eq!(bad["errors"][0]["extensions"]["code"], "NOT_FOUND", "{bad}");
    let person = object(&objs, "person");
    let bad = server.gql(
        "/metadata",
        Some(&s.access),
        "mutation CreateViewSort($input: CreateViewSortInput!) { createViewSort(input: $input) { id } }",
        json!({ "input": { "viewId": view_id, "fieldMetadataId": field(person, "jobTitle")["id"] } }),
    );
    assert_eq!(
        bad["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{bad}"
    );
    // A batch with one bad entry writes none of it.
    let bad = server.gql(
        "/metadata",
        Some(&s.access),
        "mutation CreateManyViewFields($inputs: [CreateViewFieldInput!]!) { createManyViewFields(inputs: $inputs) { id } }",
        json!({ "inputs": [
            { "fieldMetadataId": fid("closeDate"), "viewId": view_id },
            { "fieldMetadataId": uuid::Uuid::new_v4().to_string(), "viewId": view_id },
        ] }),
    );
    assert!(bad["errors"].is_array(), "{bad}");
    assert_eq!(hashes(&minimal(&server, &s)), before);

    let destroyed = op(
        &server,
        Some(&s.access),
        "views/graphql/mutations/destroyView.ts",
        "mutation DestroyView($id: String!) { destroyView(id: $id) }",
        json!({ "id": view_id }),
    );
    assert_eq!(destroyed["destroyView"], true);
    assert!(!all_views(&server, &s)
        .iter()
        .any(|v| v["id"] == view_id.as_str()));
    let fields_left = op(
        &server,
        Some(&s.access),
        "views/graphql/queries/findManyViewFields.ts",
        "query FindManyViewFields($viewId: String!) { getViewFields(viewId: $viewId) { id } }",
        json!({ "viewId": view_id }),
    );
    assert_eq!(fields_left["getViewFields"], json!([]));
}

#[test]
fn navigation_menu_items_can_be_rearranged() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("nav"));
    let sel = "id type name link position targetObjectMetadataId";
    let link = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/mutations/createNavigationMenuItem.ts",
        &format!("mutation CreateNavigationMenuItem($input: CreateNavigationMenuItemInput!) {{ createNavigationMenuItem(input: $input) {{ {sel} }} }}"),
        json!({ "input": { "type": "LINK", "name": "Docs", "link": "https://docs.example.com", "position": 10 } }),
    )["createNavigationMenuItem"]
        .clone();
    let updated = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/mutations/updateNavigationMenuItem.ts",
        &format!("mutation UpdateNavigationMenuItem($input: UpdateOneNavigationMenuItemInput!) {{ updateNavigationMenuItem(input: $input) {{ {sel} }} }}"),
        json!({ "input": { "id": link["id"], "update": { "position": -1 } } }),
    );
    assert_eq!(updated["updateNavigationMenuItem"]["position"], -1.0);
    let items = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/queries/findManyNavigationMenuItems.ts",
        FIND_MANY_NAVIGATION_MENU_ITEMS,
        json!({}),
    );
    assert_eq!(
        items["navigationMenuItems"][0]["id"], link["id"],
        "ordered by position"
    );
    let deleted = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/mutations/deleteNavigationMenuItem.ts",
        &format!("mutation DeleteNavigationMenuItem($id: UUID!) {{ deleteNavigationMenuItem(id: $id) {{ {sel} }} }}"),
        json!({ "id": link["id"] }),
    );
    assert_eq!(deleted["deleteNavigationMenuItem"]["name"], "Docs");
    let items = op(
        &server,
        Some(&s.access),
        "navigation-menu-item/graphql/queries/findManyNavigationMenuItems.ts",
        FIND_MANY_NAVIGATION_MENU_ITEMS,
        json!({}),
    );
    assert!(!items["navigationMenuItems"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == link["id"]));
}

#[test]
fn operations_twenty_edge_does_not_implement_answer_not_supported() {
    let server = TestServer::start();
    let s = server.new_workspace(&email("unsupported"));
    for query in [
        "query CurrentUserSessions { currentUserSessions { id } }",
        "query GetToolIndex { getToolIndex { name } }",
        "query GetPageLayoutTab { getPageLayoutTab(id: \"x\") { id } }",
    ] {
        let vars = json!({});
        let started = std::time::Instant::now();
        let body = server.gql("/metadata", Some(&s.access), query, vars);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{query} took too long"
        );
        let message = body["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains("not supported by twenty-edge"),
            "{query}: {body}"
        );
    }
}
