//! The per-workspace `/graphql` schema as SDL, with Twenty's type, field, argument and
//! operation names (research notes §0–§2, §6, §7), and the mapping from root field names back
//! to (operation, object) for the executor.
//!
//! Output is deterministic: shared types first in a fixed order, then each object in model
//! order with its fields in metadata order, then the roots. Feed it to
//! [`crate::schema::sdl::build`].
//!
//! Per object, as Twenty's workspace schema builder: findMany, findOne, `<plural>GroupBy`,
//! `<singular>Duplicates`, the create/update/delete/destroy/restore mutations and
//! `merge<Plural>`.

use std::collections::{HashMap, HashSet};

use super::composite::{self, Hidden, SubField, ACTOR_SOURCES};
use super::metadata::{
    capitalize, is_valid_name, FieldMetadata, FieldType, ObjectMetadata, RelationType,
    WorkspaceModel,
};

// ---------------------------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------------------------

/// Splits an identifier into words the way lodash's `words` does for ASCII (`unicodeWords`):
/// `"noteTarget"` → `note Target`, `"myURLField2"` → `my URL Field 2`, `"a1st"` → `a 1st`.
fn words(s: &str) -> Vec<&str> {
    let b = s.as_bytes();
    let n = b.len();
    let lower = |i: usize| i < n && b[i].is_ascii_lowercase();
    let upper = |i: usize| i < n && b[i].is_ascii_uppercase();
    let digit = |i: usize| i < n && b[i].is_ascii_digit();
    let brk = |i: usize| i < n && !b[i].is_ascii_alphanumeric();
    let run = |mut i: usize, p: &dyn Fn(usize) -> bool| {
        while p(i) {
            i += 1;
        }
        i
    };
    // lodash's ordinal words, `\d*(?:1ST|2ND|3RD|(?![123])\dTH)(?=\b|[a-z_])` and the same
    // in lower case followed by `(?=\b|[A-Z_])`: `1st` stays one word.
    let ordinal = |start: usize| -> Option<usize> {
        let digits_end = run(start, &digit);
        let end = digits_end + 2;
        if end > n {
            return None;
        }
        let suffix: &[u8; 2] = match b[digits_end - 1] {
            b'1' => b"st",
            b'2' => b"nd",
            b'3' => b"rd",
            _ => b"th",
        };
        let boundary = end == n || !b[end].is_ascii_alphanumeric();
        let found = &b[digits_end..end];
        let upper_suffix = suffix.map(|c| c.to_ascii_uppercase());
        ((found == upper_suffix && (boundary || lower(end)))
            || (found == suffix && (boundary || upper(end))))
        .then_some(end)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        if brk(i) {
            i += 1;
            continue;
        }
        let start = i;
        let end = if digit(i) {
            ordinal(i).unwrap_or_else(|| run(i, &digit))
        } else {
            let after_upper = if upper(i) { i + 1 } else { i };
            let lower_end = run(after_upper, &lower);
            if lower_end > after_upper {
                // `[A-Z]?[a-z]+`, whatever follows.
                lower_end
            } else {
                // `[A-Z]+`, leaving the last capital to a following `[A-Z][a-z]` word.
                let upper_end = run(i, &upper);
                if lower(upper_end) && upper_end - i > 1 {
                    upper_end - 1
                } else {
                    upper_end
                }
            }
        };
        out.push(&s[start..end]);
        i = end;
    }
    out
}

/// lodash `camelCase`: `"timelineActivities"` → `timelineActivities`, `"my_URL"` → `myUrl`.
pub fn camel_case(s: &str) -> String {
    words(s)
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let w = w.to_ascii_lowercase();
            if i == 0 {
                w
            } else {
                capitalize(&w)
            }
        })
        .collect()
}

/// Twenty's `pascalCase` (`capitalize(camelCase(s))`): `"noteTarget"` → `NoteTarget`.
pub fn pascal_case(s: &str) -> String {
    capitalize(&camel_case(s))
}

/// One of the per-object root operations, or the global `search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    FindMany,
    FindOne,
    CreateOne,
    CreateMany,
    UpdateOne,
    UpdateMany,
    DeleteOne,
    DeleteMany,
    DestroyOne,
    DestroyMany,
    RestoreOne,
    RestoreMany,
    /// `<plural>GroupBy`: groups with their aggregates (and records, when asked).
    GroupBy,
    /// `<singular>Duplicates`: for each given record or input, the records it duplicates.
    FindDuplicates,
    /// `merge<Plural>`: merges records into one.
    MergeMany,
    Search,
}

impl Operation {
    /// The per-object operations in Twenty's order (queries, then mutations).
    pub const OBJECT_OPERATIONS: [Operation; 15] = [
        Operation::FindMany,
        Operation::FindOne,
        Operation::GroupBy,
        Operation::FindDuplicates,
        Operation::CreateMany,
        Operation::CreateOne,
        Operation::UpdateOne,
        Operation::DeleteOne,
        Operation::UpdateMany,
        Operation::DeleteMany,
        Operation::DestroyOne,
        Operation::DestroyMany,
        Operation::RestoreOne,
        Operation::RestoreMany,
        Operation::MergeMany,
    ];

    pub fn is_mutation(self) -> bool {
        !matches!(
            self,
            Operation::FindMany
                | Operation::FindOne
                | Operation::GroupBy
                | Operation::FindDuplicates
                | Operation::Search
        )
    }

    /// Twenty's resolver method name (`findMany`, `createOne`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::FindMany => "findMany",
            Operation::FindOne => "findOne",
            Operation::CreateOne => "createOne",
            Operation::CreateMany => "createMany",
            Operation::UpdateOne => "updateOne",
            Operation::UpdateMany => "updateMany",
            Operation::DeleteOne => "deleteOne",
            Operation::DeleteMany => "deleteMany",
            Operation::DestroyOne => "destroyOne",
            Operation::DestroyMany => "destroyMany",
            Operation::RestoreOne => "restoreOne",
            Operation::RestoreMany => "restoreMany",
            Operation::GroupBy => "groupBy",
            Operation::FindDuplicates => "findDuplicates",
            Operation::MergeMany => "mergeMany",
            Operation::Search => "search",
        }
    }
}

/// The global search root field.
pub const SEARCH_FIELD: &str = "search";

/// The GraphQL names generated for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeNames {
    /// `Person`
    pub object: String,
    pub edge: String,
    pub connection: String,
    pub create_input: String,
    pub update_input: String,
    pub filter_input: String,
    pub order_by_input: String,
    /// `PersonRelationInput { connect: PersonConnectInput disconnect: Boolean }`
    pub relation_input: String,
    pub connect_input: String,
    pub where_unique_input: String,
    /// `people`
    pub find_many: String,
    /// `person`
    pub find_one: String,
    /// `peopleGroupBy`
    pub group_by: String,
    /// `personDuplicates`
    pub duplicates: String,
    pub group_by_connection: String,
    pub group_by_input: String,
    pub order_by_with_group_by_input: String,
    pub order_by_with_group_by_aggregate_input: String,
    /// The mutation root fields (`createPerson`, `createPeople`, ...).
    mutations: Vec<(Operation, String)>,
}

impl TypeNames {
    /// The root field of `operation` for this object (`None` for [`Operation::Search`]).
    pub fn root_field(&self, operation: Operation) -> Option<&str> {
        match operation {
            Operation::FindMany => Some(&self.find_many),
            Operation::FindOne => Some(&self.find_one),
            Operation::GroupBy => Some(&self.group_by),
            Operation::FindDuplicates => Some(&self.duplicates),
            _ => self
                .mutations
                .iter()
                .find(|(op, _)| *op == operation)
                .map(|(_, name)| name.as_str()),
        }
    }

    /// Every type name this object defines (for collision checks).
    fn all_types(&self) -> [&str; 14] {
        [
            &self.group_by_connection,
            &self.group_by_input,
            &self.order_by_with_group_by_input,
            &self.order_by_with_group_by_aggregate_input,
            &self.object,
            &self.edge,
            &self.connection,
            &self.create_input,
            &self.update_input,
            &self.filter_input,
            &self.order_by_input,
            &self.relation_input,
            &self.connect_input,
            &self.where_unique_input,
        ]
    }
}

/// Twenty's names for `object`: `Person`, `PersonConnection`, `PersonCreateInput`, ...,
/// `people`, `person`, `createPerson`, `createPeople`, ...
pub fn type_names(object: &ObjectMetadata) -> TypeNames {
    let p = pascal_case(&object.name_singular);
    let pp = pascal_case(&object.name_plural);
    TypeNames {
        edge: format!("{p}Edge"),
        connection: format!("{p}Connection"),
        create_input: format!("{p}CreateInput"),
        update_input: format!("{p}UpdateInput"),
        filter_input: format!("{p}FilterInput"),
        order_by_input: format!("{p}OrderByInput"),
        relation_input: format!("{p}RelationInput"),
        connect_input: format!("{p}ConnectInput"),
        where_unique_input: format!("{p}WhereUniqueInput"),
        find_many: camel_case(&object.name_plural),
        find_one: camel_case(&object.name_singular),
        group_by: format!("{}GroupBy", camel_case(&object.name_plural)),
        duplicates: format!("{}Duplicates", camel_case(&object.name_singular)),
        group_by_connection: format!("{p}GroupByConnection"),
        group_by_input: format!("{p}GroupByInput"),
        order_by_with_group_by_input: format!("{p}OrderByWithGroupByInput"),
        order_by_with_group_by_aggregate_input: format!("{p}OrderByWithGroupByAggregateInput"),
        // The verb of the resolver name, then the singular or the plural:
        // `createOne` → `createPerson`, `createMany` → `createPeople`.
        mutations: Operation::OBJECT_OPERATIONS
            .into_iter()
            .filter(|op| op.is_mutation())
            .map(|op| {
                let resolver = op.as_str();
                let name = match resolver.strip_suffix("Many") {
                    Some(verb) => format!("{verb}{pp}"),
                    None => format!("{}{p}", resolver.trim_end_matches("One")),
                };
                (op, name)
            })
            .collect(),
        object: p,
    }
}

/// `<Object><Field>Enum` (`OpportunityStageEnum`); its filter input adds `Filter`.
pub fn enum_type_name(object: &ObjectMetadata, field: &FieldMetadata) -> String {
    format!(
        "{}{}Enum",
        pascal_case(&object.name_singular),
        pascal_case(&field.name)
    )
}

/// A root field of the schema.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RootField<'a> {
    pub operation: Operation,
    /// `None` only for [`Operation::Search`].
    pub object: Option<&'a ObjectMetadata>,
}

/// The objects that get types: active, valid names, and no generated type name clashing with
/// a shared type or an earlier object's (such objects are left out rather than breaking the
/// whole schema).
fn schema_objects(model: &WorkspaceModel) -> Vec<(&ObjectMetadata, TypeNames)> {
    let mut taken: HashSet<String> = SCALARS
        .iter()
        .chain(RESERVED_TYPES)
        .map(|s| s.to_string())
        .collect();
    for t in COMPOSITES {
        for name in composite_type_names(*t) {
            taken.insert(name);
        }
    }
    let mut out = Vec::new();
    for o in model.active_objects() {
        if !is_valid_name(&o.name_singular) || !is_valid_name(&o.name_plural) {
            continue;
        }
        let names = type_names(o);
        let mut mine: Vec<String> = names.all_types().iter().map(|s| s.to_string()).collect();
        for f in o.active_fields() {
            if f.field_type.is_enum() {
                let e = enum_type_name(o, f);
                mine.push(format!("{e}Filter"));
                mine.push(e);
            }
            if f.field_type.is_composite() && f.is_unique {
                mine.push(composite_where_input_name(o, f));
            }
        }
        let unique: HashSet<&String> = mine.iter().collect();
        if unique.len() != mine.len() || mine.iter().any(|n| taken.contains(n)) {
            continue;
        }
        taken.extend(mine);
        out.push((o, names));
    }
    out
}

/// Every root field name with what it does, in precedence order: `search` first, then each
/// object's operations; a name already taken is not generated again (first wins). Cache this
/// as a map if resolving many names against one model.
pub fn root_fields(model: &WorkspaceModel) -> Vec<(String, RootField<'_>)> {
    let mut seen = HashSet::new();
    let mut out = vec![(
        SEARCH_FIELD.to_string(),
        RootField {
            operation: Operation::Search,
            object: None,
        },
    )];
    seen.insert(SEARCH_FIELD.to_string());
    for (o, names) in schema_objects(model) {
        for op in Operation::OBJECT_OPERATIONS {
            let name = names.root_field(op).expect("object operation").to_string();
            if seen.insert(name.clone()) {
                out.push((
                    name,
                    RootField {
                        operation: op,
                        object: Some(o),
                    },
                ));
            }
        }
    }
    out
}

/// What the root field `field_name` (of Query or Mutation) does: `("people")` →
/// `(FindMany, Some(person))`, `("search")` → `(Search, None)`.
pub fn resolve_root_field<'a>(
    model: &'a WorkspaceModel,
    field_name: &str,
) -> Option<(Operation, Option<&'a ObjectMetadata>)> {
    root_fields(model)
        .into_iter()
        .find(|(name, _)| name == field_name)
        .map(|(_, r)| (r.operation, r.object))
}

// ---------------------------------------------------------------------------------------------
// SDL writer
// ---------------------------------------------------------------------------------------------

/// A GraphQL string literal.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Entry {
    name: String,
    args: String,
    ty: String,
    description: Option<String>,
}

/// A `type`, `input` or `enum` definition. Fields keep their first position; setting a name
/// again replaces its type (JavaScript object-assignment semantics, as in Twenty's builders).
struct Def {
    keyword: &'static str,
    name: String,
    description: Option<String>,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
}

impl Def {
    fn new(keyword: &'static str, name: &str) -> Self {
        Def {
            keyword,
            name: name.to_string(),
            description: None,
            entries: Vec::new(),
            index: HashMap::new(),
        }
    }
    fn described(mut self, description: Option<&str>) -> Self {
        self.description = description.filter(|d| !d.is_empty()).map(str::to_string);
        self
    }
    fn set(&mut self, name: &str, args: &str, ty: &str, description: Option<&str>) -> &mut Self {
        let entry = Entry {
            name: name.to_string(),
            args: args.to_string(),
            ty: ty.to_string(),
            description: description.filter(|d| !d.is_empty()).map(str::to_string),
        };
        match self.index.get(name) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.index.insert(name.to_string(), self.entries.len());
                self.entries.push(entry);
            }
        }
        self
    }
    fn field(&mut self, name: &str, ty: &str) -> &mut Self {
        self.set(name, "", ty, None)
    }
    fn field_d(&mut self, name: &str, ty: &str, description: Option<&str>) -> &mut Self {
        self.set(name, "", ty, description)
    }
    fn fields(&mut self, fields: &[(&str, &str)]) -> &mut Self {
        for (name, ty) in fields {
            self.field(name, ty);
        }
        self
    }
    fn value(&mut self, value: &str, description: Option<&str>) -> &mut Self {
        self.set(value, "", "", description)
    }
    fn write(&self, out: &mut String) {
        if self.entries.is_empty() {
            return;
        }
        if let Some(d) = &self.description {
            out.push_str(&quote(d));
            out.push('\n');
        }
        out.push_str(self.keyword);
        out.push(' ');
        out.push_str(&self.name);
        out.push_str(" {\n");
        for e in &self.entries {
            if let Some(d) = &e.description {
                out.push_str("  ");
                out.push_str(&quote(d));
                out.push('\n');
            }
            out.push_str("  ");
            out.push_str(&e.name);
            out.push_str(&e.args);
            if !e.ty.is_empty() {
                out.push_str(": ");
                out.push_str(&e.ty);
            }
            out.push('\n');
        }
        out.push_str("}\n\n");
    }
}

// ---------------------------------------------------------------------------------------------
// Shared types
// ---------------------------------------------------------------------------------------------

const SCALARS: &[&str] = &[
    "UUID",
    "DateTime",
    "Date",
    "BigFloat",
    "BigInt",
    "Position",
    "Cursor",
    "ConnectionCursor",
    "JSON",
    "TSVector",
];

/// Type names defined independently of the objects, besides the [`SCALARS`].
const RESERVED_TYPES: &[&str] = &[
    "Query",
    "Mutation",
    "Subscription",
    "ID",
    "String",
    "Int",
    "Float",
    "Boolean",
    "FilterIs",
    "OrderByDirection",
    "PageInfo",
    "FileObject",
    "FileItemInput",
    "StringFilter",
    "UUIDFilter",
    "DateTimeFilter",
    "DateFilter",
    "FloatFilter",
    "IntFilter",
    "BigIntFilter",
    "BigFloatFilter",
    "BooleanFilter",
    "ArrayFilter",
    "RawJsonFilter",
    "RichTextLeafFilter",
    "RichTextFilter",
    "TSVectorFilter",
    "SearchResultConnection",
    "SearchResultEdge",
    "SearchRecord",
    "SearchResultPageInfo",
    "ObjectRecordFilterInput",
    "DateGranularityEnum",
    "GroupByDateGranularityInput",
    "OrderByDateGranularityInput",
];

/// The date buckets of groupBy, as twenty-shared's `ObjectRecordGroupByDateGranularity`.
pub const DATE_GRANULARITIES: &[&str] = &[
    "DAY",
    "MONTH",
    "QUARTER",
    "YEAR",
    "WEEK",
    "DAY_OF_THE_WEEK",
    "MONTH_OF_THE_YEAR",
    "QUARTER_OF_THE_YEAR",
    "NONE",
];

/// Field types Twenty cannot group by (`FIELD_METADATA_TYPES_NOT_SUPPORTED_IN_GROUP_BY`).
pub fn groupable(f: &FieldMetadata) -> bool {
    !matches!(
        f.field_type,
        FieldType::TsVector | FieldType::RawJson | FieldType::Files | FieldType::Position
    ) && !f.is_one_to_many()
}

/// Composite types in `compositeTypeDefinitions` order.
const COMPOSITES: &[FieldType] = &[
    FieldType::Links,
    FieldType::Currency,
    FieldType::FullName,
    FieldType::Address,
    FieldType::Actor,
    FieldType::Emails,
    FieldType::Phones,
    FieldType::RichText,
];

fn composite_type_names(t: FieldType) -> Vec<String> {
    let stem = composite::type_name(t);
    let mut names: Vec<String> = [
        "",
        "CreateInput",
        "UpdateInput",
        "FilterInput",
        "OrderByInput",
        "GroupByInput",
    ]
    .iter()
    .map(|k| format!("{stem}{k}"))
    .collect();
    for sub in subfields(t) {
        if sub.field_type.is_enum() {
            let e = composite_enum_name(t, sub);
            names.push(format!("{e}Filter"));
            names.push(e);
        }
    }
    names
}

fn subfields(t: FieldType) -> &'static [SubField] {
    composite::subfields(t).unwrap_or(&[])
}

/// `ActorSourceEnum`.
fn composite_enum_name(t: FieldType, sub: &SubField) -> String {
    format!("{}{}Enum", composite::type_name(t), pascal_case(sub.name))
}

fn composite_enum_values(t: FieldType, sub: &SubField) -> &'static [&'static str] {
    match (t, sub.name) {
        (FieldType::Actor, "source") => ACTOR_SOURCES,
        _ => &[],
    }
}

/// Sub-fields that take part in unique constraints (`isIncludedInUniqueConstraint`).
pub(crate) fn unique_subfields(t: FieldType) -> &'static [&'static str] {
    match t {
        FieldType::Links => &["primaryLinkUrl"],
        FieldType::Emails => &["primaryEmail"],
        FieldType::Phones => composite::PHONE_NUMBER,
        FieldType::FullName => &["firstName", "lastName"],
        _ => &[],
    }
}

fn comparison_filter(name: &str, scalar: &str, in_item: &str) -> Def {
    let mut d = Def::new("input", name);
    d.fields(&[
        ("eq", scalar),
        ("gt", scalar),
        ("gte", scalar),
        ("in", &format!("[{in_item}]")),
        ("lt", scalar),
        ("lte", scalar),
        ("neq", scalar),
        ("is", "FilterIs"),
    ]);
    d
}

/// `<Enum>Filter` (`createGqlEnumFilterType`, field order verbatim).
fn enum_filter(enum_name: &str) -> Def {
    let mut d = Def::new("input", &format!("{enum_name}Filter"));
    let list = format!("[{enum_name}]");
    d.fields(&[
        ("eq", enum_name),
        ("neq", enum_name),
        ("in", &list),
        ("containsAny", &list),
        ("is", "FilterIs"),
        ("isEmptyArray", "Boolean"),
        ("gt", enum_name),
        ("gte", enum_name),
        ("lt", enum_name),
        ("lte", enum_name),
    ]);
    d
}

fn shared_types(out: &mut String, uses_files: bool) {
    for s in SCALARS {
        out.push_str("scalar ");
        out.push_str(s);
        out.push('\n');
    }
    out.push('\n');

    let mut filter_is = Def::new("enum", "FilterIs");
    filter_is
        .value("NULL", Some("Nulish values"))
        .value("NOT_NULL", Some("Non-nulish values"));
    filter_is.write(out);
    let mut direction = Def::new("enum", "OrderByDirection");
    for v in [
        "AscNullsFirst",
        "AscNullsLast",
        "DescNullsFirst",
        "DescNullsLast",
    ] {
        direction.value(v, None);
    }
    direction.write(out);

    // groupBy: date buckets (twenty-shared `ObjectRecordGroupByDateGranularity`).
    let mut granularity = Def::new("enum", "DateGranularityEnum").described(Some(
        "Date granularity (e.g. day, month, quarter, year, day of the week, quarter of the year, month of the year)",
    ));
    for v in DATE_GRANULARITIES {
        granularity.value(v, None);
    }
    granularity.write(out);
    Def::new("input", "GroupByDateGranularityInput")
        .fields(&[
            ("granularity", "DateGranularityEnum"),
            ("timeZone", "String"),
            ("weekStartDay", "String"),
        ])
        .write(out);
    Def::new("input", "OrderByDateGranularityInput")
        .fields(&[
            ("orderBy", "OrderByDirection"),
            ("granularity", "DateGranularityEnum"),
            ("timeZone", "String"),
            ("weekStartDay", "String"),
        ])
        .write(out);

    Def::new("type", "PageInfo")
        .fields(&[
            ("startCursor", "ConnectionCursor"),
            ("endCursor", "ConnectionCursor"),
            ("hasNextPage", "Boolean!"),
            ("hasPreviousPage", "Boolean!"),
        ])
        .write(out);
    if uses_files {
        write_defs(
            out,
            &[
                (
                    "type",
                    "FileObject",
                    &[
                        ("fileId", "UUID!"),
                        ("label", "String!"),
                        ("extension", "String"),
                        ("url", "String"),
                    ],
                ),
                (
                    "input",
                    "FileItemInput",
                    &[("fileId", "UUID!"), ("label", "String!")],
                ),
            ],
        );
    }

    let mut string = Def::new("input", "StringFilter");
    string.fields(&[
        ("eq", "String"),
        ("gt", "String"),
        ("gte", "String"),
        ("in", "[String!]"),
        ("lt", "String"),
        ("lte", "String"),
        ("neq", "String"),
        ("startsWith", "String"),
        ("endsWith", "String"),
    ]);
    string
        .field_d(
            "like",
            "String",
            Some("Pattern match with % wildcard (e.g. %value%)"),
        )
        .field_d(
            "ilike",
            "String",
            Some("Case-insensitive match with % wildcard (e.g. %value%)"),
        )
        .fields(&[
            ("regex", "String"),
            ("iregex", "String"),
            ("is", "FilterIs"),
        ]);
    string.write(out);
    comparison_filter("UUIDFilter", "UUID", "UUID").write(out);
    for scalar in ["DateTime", "Date", "Float", "Int", "BigInt", "BigFloat"] {
        comparison_filter(&format!("{scalar}Filter"), scalar, &format!("{scalar}!")).write(out);
    }
    write_defs(
        out,
        &[
            (
                "input",
                "BooleanFilter",
                &[("eq", "Boolean"), ("is", "FilterIs")],
            ),
            (
                "input",
                "ArrayFilter",
                &[
                    ("containsIlike", "String"),
                    ("is", "FilterIs"),
                    ("isEmptyArray", "Boolean"),
                ],
            ),
            (
                "input",
                "RawJsonFilter",
                &[("is", "FilterIs"), ("like", "String")],
            ),
            ("input", "RichTextLeafFilter", &[("ilike", "String")]),
            (
                "input",
                "RichTextFilter",
                &[
                    ("blocknote", "RichTextLeafFilter"),
                    ("markdown", "RichTextLeafFilter"),
                ],
            ),
            ("input", "TSVectorFilter", &[("search", "String")]),
        ],
    );
}

/// A definition that is just its fields: (keyword, name, fields).
type PlainDef<'a> = (&'static str, &'a str, &'a [(&'a str, &'a str)]);

fn write_defs(out: &mut String, defs: &[PlainDef]) {
    for (keyword, name, fields) in defs {
        Def::new(keyword, name).fields(fields).write(out);
    }
}

/// Output / input scalar of a composite sub-field.
fn subfield_type(t: FieldType, sub: &SubField) -> String {
    match sub.field_type {
        FieldType::Text => "String".into(),
        FieldType::Numeric => "BigFloat".into(),
        FieldType::RawJson => "JSON".into(),
        FieldType::Uuid => "UUID".into(),
        FieldType::Boolean => "Boolean".into(),
        FieldType::DateTime => "DateTime".into(),
        FieldType::Number => "Float".into(),
        ft if ft.is_enum() => composite_enum_name(t, sub),
        _ => "String".into(),
    }
}

fn subfield_filter(t: FieldType, sub: &SubField) -> String {
    match sub.field_type {
        FieldType::Text => "StringFilter".into(),
        FieldType::Numeric => "BigFloatFilter".into(),
        FieldType::RawJson => "RawJsonFilter".into(),
        FieldType::Uuid => "UUIDFilter".into(),
        FieldType::Boolean => "BooleanFilter".into(),
        FieldType::DateTime => "DateTimeFilter".into(),
        FieldType::Number => "FloatFilter".into(),
        ft if ft.is_enum() => format!("{}Filter", composite_enum_name(t, sub)),
        _ => "StringFilter".into(),
    }
}

/// Per composite type: its enums (and their filters), the object type, then the Create,
/// Update, Filter and OrderBy inputs.
fn composite_types(out: &mut String) {
    for &t in COMPOSITES {
        let stem = composite::type_name(t);
        for sub in subfields(t).iter().filter(|s| s.field_type.is_enum()) {
            let name = composite_enum_name(t, sub);
            let mut e = Def::new("enum", &name);
            for v in composite_enum_values(t, sub) {
                e.value(v, None);
            }
            e.write(out);
            enum_filter(&name).write(out);
        }
        let mut object = Def::new("type", stem);
        let mut create = Def::new("input", &format!("{stem}CreateInput"));
        let mut update = Def::new("input", &format!("{stem}UpdateInput"));
        let mut filter = Def::new("input", &format!("{stem}FilterInput"));
        let mut order = Def::new("input", &format!("{stem}OrderByInput"));
        let mut group_by = Def::new("input", &format!("{stem}GroupByInput"));
        for sub in subfields(t) {
            let ty = subfield_type(t, sub);
            let bang = if sub.is_required { "!" } else { "" };
            object.field(sub.name, &format!("{ty}{bang}"));
            if sub.hidden == Hidden::No {
                create.field(sub.name, &format!("{ty}{bang}"));
                update.field(sub.name, &ty);
            }
            filter.field(sub.name, &subfield_filter(t, sub));
            order.field(sub.name, "OrderByDirection");
            if sub.hidden == Hidden::No {
                group_by.field(sub.name, "Boolean");
            }
        }
        for d in [object, create, update, filter, order, group_by] {
            d.write(out);
        }
    }
}

fn search_types(out: &mut String) {
    write_defs(
        out,
        &[
            (
                "type",
                "SearchRecord",
                &[
                    ("recordId", "UUID!"),
                    ("objectNameSingular", "String!"),
                    ("objectLabelSingular", "String!"),
                    ("label", "String!"),
                    ("imageUrl", "String"),
                    ("tsRankCD", "Float!"),
                    ("tsRank", "Float!"),
                ],
            ),
            (
                "type",
                "SearchResultEdge",
                &[("node", "SearchRecord!"), ("cursor", "String!")],
            ),
            (
                "type",
                "SearchResultPageInfo",
                &[("endCursor", "String"), ("hasNextPage", "Boolean!")],
            ),
            (
                "type",
                "SearchResultConnection",
                &[
                    ("edges", "[SearchResultEdge!]!"),
                    ("pageInfo", "SearchResultPageInfo!"),
                ],
            ),
            (
                "input",
                "ObjectRecordFilterInput",
                &[
                    ("and", "[ObjectRecordFilterInput!]"),
                    ("not", "ObjectRecordFilterInput"),
                    ("or", "[ObjectRecordFilterInput!]"),
                    ("id", "UUIDFilter"),
                    ("createdAt", "DateFilter"),
                    ("updatedAt", "DateFilter"),
                    ("deletedAt", "DateFilter"),
                ],
            ),
        ],
    );
}

const SEARCH_TYPE: &str = "SearchResultConnection!";
const SEARCH_ARGS: &str = "(searchInput: String!, limit: Int!, after: String, includedObjectNameSingulars: [String!], filter: ObjectRecordFilterInput, excludedObjectNameSingulars: [String!])";

// ---------------------------------------------------------------------------------------------
// Object types
// ---------------------------------------------------------------------------------------------

/// How a field shows up in the schema.
enum Kind<'a> {
    ManyToOne(&'a TypeNames),
    OneToMany(&'a TypeNames),
    /// Enum type name; `true` for MULTI_SELECT.
    Enum(String, bool),
    Composite(FieldType),
    Scalar,
}

struct Ctx<'a> {
    names_by_id: HashMap<&'a str, &'a TypeNames>,
}

impl<'a> Ctx<'a> {
    /// `None` for fields left out of the schema: invalid names, relations whose target is
    /// missing or not in the schema, enums without a single valid value.
    fn kind(&self, object: &ObjectMetadata, f: &FieldMetadata) -> Option<Kind<'a>> {
        if !is_valid_name(&f.name) {
            return None;
        }
        if f.field_type.is_relation() {
            let r = f.relation.as_ref()?;
            let target = *self.names_by_id.get(r.target_object_id.as_str())?;
            return Some(match r.relation_type {
                RelationType::ManyToOne => Kind::ManyToOne(target),
                RelationType::OneToMany => Kind::OneToMany(target),
            });
        }
        if f.field_type.is_enum() {
            if enum_values(f).is_empty() {
                return None;
            }
            return Some(Kind::Enum(
                enum_type_name(object, f),
                f.field_type == FieldType::MultiSelect,
            ));
        }
        if f.field_type.is_composite() {
            return Some(Kind::Composite(f.field_type));
        }
        Some(Kind::Scalar)
    }
}

fn is_graphql_enum_value(v: &str) -> bool {
    let mut chars = v.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !matches!(v, "true" | "false" | "null")
}

/// The enum's values (option values; RATING falls back to `RATING_1`..`RATING_5`) with their
/// labels as descriptions; values that are not valid GraphQL names are left out.
fn enum_values(f: &FieldMetadata) -> Vec<(String, Option<String>)> {
    let mut seen = HashSet::new();
    let mut values: Vec<(String, Option<String>)> = f
        .options
        .iter()
        .flatten()
        .filter(|o| is_graphql_enum_value(&o.value) && seen.insert(o.value.clone()))
        .map(|o| (o.value.clone(), Some(o.label.clone())))
        .collect();
    if values.is_empty() && f.field_type == FieldType::Rating {
        values = (1..=5).map(|i| (format!("RATING_{i}"), None)).collect();
    }
    values
}

fn number_type(f: &FieldMetadata) -> &'static str {
    match f
        .settings
        .as_ref()
        .and_then(|s| s.get("dataType"))
        .and_then(|v| v.as_str())
    {
        Some("INT") => "Int",
        Some("BIGINT") => "BigInt",
        _ => "Float",
    }
}

/// Output scalar of an atomic field (inputs differ only for FILES and `id`).
fn scalar_type(f: &FieldMetadata, input: bool) -> &'static str {
    match f.field_type {
        FieldType::Uuid => "UUID",
        FieldType::Text => "String",
        FieldType::DateTime => "DateTime",
        FieldType::Date => "Date",
        FieldType::Boolean => "Boolean",
        FieldType::Number => number_type(f),
        FieldType::Numeric => "BigFloat",
        FieldType::Position => "Position",
        FieldType::RawJson => "JSON",
        FieldType::Array => "[String]",
        FieldType::TsVector => "TSVector",
        FieldType::Files if input => "[FileItemInput]",
        FieldType::Files => "[FileObject]",
        _ => "String",
    }
}

fn scalar_filter(f: &FieldMetadata) -> &'static str {
    match f.field_type {
        FieldType::Uuid => "UUIDFilter",
        FieldType::Text => "StringFilter",
        FieldType::DateTime => "DateTimeFilter",
        FieldType::Date => "DateFilter",
        FieldType::Boolean => "BooleanFilter",
        FieldType::Number => match number_type(f) {
            "Int" => "IntFilter",
            "BigInt" => "BigIntFilter",
            _ => "FloatFilter",
        },
        FieldType::Numeric => "BigFloatFilter",
        FieldType::Position => "FloatFilter",
        FieldType::RawJson | FieldType::Files => "RawJsonFilter",
        FieldType::Array => "ArrayFilter",
        FieldType::TsVector => "TSVectorFilter",
        _ => "StringFilter",
    }
}

/// Create inputs require a field iff it is non-nullable and has no default.
fn required_on_create(f: &FieldMetadata) -> bool {
    !f.is_nullable && f.default_value.as_ref().is_none_or(|v| v.is_null())
}

fn find_many_args(target: &TypeNames) -> String {
    format!(
        "(first: Int, last: Int, offset: Int, before: String, after: String, filter: {}, orderBy: [{}])",
        target.filter_input, target.order_by_input
    )
}

/// Name of the where-input of a unique composite field (`PersonEmailsWhereInput`).
fn composite_where_input_name(object: &ObjectMetadata, f: &FieldMetadata) -> String {
    format!(
        "{}{}WhereInput",
        pascal_case(&object.name_singular),
        pascal_case(&f.name)
    )
}

struct AggregateSet(Def);

impl AggregateSet {
    fn add(&mut self, name: String, ty: &str, description: String) {
        self.0.field_d(&name, ty, Some(&description));
    }
}

/// The Connection's aggregate fields (§6), in Twenty's insertion order.
fn aggregates(connection: &mut AggregateSet, fields: &[&FieldMetadata]) {
    connection.add(
        "totalCount".into(),
        "Int",
        "Total number of records in the connection".into(),
    );
    for f in fields {
        if f.field_type == FieldType::Relation {
            continue;
        }
        let n = &f.name;
        let x = capitalize(n);
        connection.add(
            format!("countUniqueValues{x}"),
            "Int",
            format!("Number of unique values for {n}"),
        );
        connection.add(
            format!("countEmpty{x}"),
            "Int",
            format!("Number of empty values for {n}"),
        );
        connection.add(
            format!("countNotEmpty{x}"),
            "Int",
            format!("Number of non-empty values for {n}"),
        );
        connection.add(
            format!("percentageEmpty{x}"),
            "Float",
            format!("Percentage of empty values for {n}"),
        );
        connection.add(
            format!("percentageNotEmpty{x}"),
            "Float",
            format!("Percentage of non-empty values for {n}"),
        );
        if matches!(f.field_type, FieldType::Date | FieldType::DateTime) {
            connection.add(
                format!("min{x}"),
                "DateTime",
                format!("Earliest date contained in the field {n}"),
            );
            connection.add(
                format!("max{x}"),
                "DateTime",
                format!("Latest date contained in the field {n}"),
            );
        }
        match f.field_type {
            FieldType::Boolean => {
                connection.add(
                    format!("countTrue{x}"),
                    "Int",
                    format!("Count of true values in the field {n}"),
                );
                connection.add(
                    format!("countFalse{x}"),
                    "Int",
                    format!("Count of false values in the field {n}"),
                );
            }
            FieldType::Number => {
                for (op, what) in [
                    ("min", "Minimum amount contained in the field"),
                    ("max", "Maximum amount contained in the field"),
                    ("avg", "Average amount contained in the field"),
                    ("sum", "Sum of amounts contained in the field"),
                ] {
                    connection.add(format!("{op}{x}"), "Float", format!("{what} {n}"));
                }
            }
            FieldType::Currency => {
                for (op, what) in [
                    ("min", "Minimum amount contained in the field"),
                    ("max", "Maximal amount contained in the field"),
                    ("sum", "Sum of amounts contained in the field"),
                    ("avg", "Average amount contained in the field"),
                ] {
                    connection.add(
                        format!("{op}{x}AmountMicros"),
                        "Float",
                        format!("{what} {n}"),
                    );
                }
            }
            _ => {}
        }
    }
}

fn object_types(out: &mut String, ctx: &Ctx, o: &ObjectMetadata, names: &TypeNames) {
    let description = o.description.as_deref();
    let fields: Vec<(&FieldMetadata, Kind)> = o
        .active_fields()
        .filter_map(|f| ctx.kind(o, f).map(|k| (f, k)))
        .collect();

    // Field enums and their filters.
    for (f, kind) in &fields {
        if let Kind::Enum(name, _) = kind {
            let mut e = Def::new("enum", name);
            for (value, label) in enum_values(f) {
                e.value(&value, label.as_deref());
            }
            e.write(out);
            enum_filter(name).write(out);
        }
    }

    // Object type: scalar fields and join columns first, relation fields after (second pass).
    let mut object = Def::new("type", &names.object).described(description);
    for (f, kind) in &fields {
        let d = f.description.as_deref();
        let bang = if f.is_nullable { "" } else { "!" };
        match kind {
            Kind::ManyToOne(_) => {
                object.field_d(&format!("{}Id", f.name), &format!("ID{bang}"), d);
            }
            Kind::OneToMany(_) => {}
            Kind::Enum(e, true) if !f.is_nullable => {
                object.field_d(&f.name, &format!("[{e}!]!"), d);
            }
            Kind::Enum(e, true) => {
                object.field_d(&f.name, &format!("[{e}]"), d);
            }
            Kind::Enum(e, false) => {
                object.field_d(&f.name, &format!("{e}{bang}"), d);
            }
            Kind::Composite(t) => {
                object.field_d(&f.name, &format!("{}{bang}", composite::type_name(*t)), d);
            }
            Kind::Scalar => {
                object.field_d(&f.name, &format!("{}{bang}", scalar_type(f, false)), d);
            }
        }
    }
    for (f, kind) in &fields {
        let d = f.description.as_deref();
        match kind {
            Kind::ManyToOne(target) => {
                object.field_d(&f.name, &target.object, d);
            }
            Kind::OneToMany(target) => {
                object.set(&f.name, &find_many_args(target), &target.connection, d);
            }
            _ => {}
        }
    }
    object.write(out);

    Def::new("type", &names.edge)
        .fields(&[
            ("node", &format!("{}!", names.object)),
            ("cursor", "Cursor!"),
        ])
        .write(out);

    let mut connection = AggregateSet(Def::new("type", &names.connection).described(description));
    let plain: Vec<&FieldMetadata> = fields.iter().map(|(f, _)| *f).collect();
    aggregates(&mut connection, &plain);
    connection
        .0
        .field("edges", &format!("[{}!]!", names.edge))
        .field("pageInfo", "PageInfo!");
    connection.0.write(out);
    group_by_types(out, o, names, &fields, &plain);

    // Connect inputs: id plus the unique fields.
    Def::new("input", &names.relation_input)
        .field_d(
            "connect",
            &names.connect_input,
            Some(&format!("Connect to a {} record", o.name_singular)),
        )
        .field_d(
            "disconnect",
            "Boolean",
            Some(&format!("Disconnect from a {} record", o.name_singular)),
        )
        .write(out);
    let mut where_unique = Def::new("input", &names.where_unique_input);
    let mut constraint_names = vec!["id".to_string()];
    where_unique.field_d("id", "ID", Some("Connect by Id"));
    for (f, kind) in &fields {
        if !f.is_unique || f.name == "id" {
            continue;
        }
        let label = format!("Connect by {}", f.label);
        match kind {
            Kind::Composite(t) => {
                let subs = unique_subfields(*t);
                if subs.is_empty() {
                    continue;
                }
                let name = composite_where_input_name(o, f);
                let mut input = Def::new("input", &name);
                for sub in subfields(*t).iter().filter(|s| subs.contains(&s.name)) {
                    input.field_d(
                        sub.name,
                        &subfield_type(*t, sub),
                        Some(&format!("Connect by {}", sub.name)),
                    );
                }
                input.write(out);
                where_unique.field_d(&f.name, &name, Some(&label));
            }
            Kind::Scalar => {
                let ty = match f.field_type {
                    FieldType::Files | FieldType::Array => "String",
                    _ => scalar_type(f, true),
                };
                where_unique.field_d(&f.name, ty, Some(&label));
            }
            Kind::Enum(..) => {
                where_unique.field_d(&f.name, "String", Some(&label));
            }
            _ => continue,
        }
        constraint_names.push(f.name.clone());
    }
    where_unique.write(out);
    Def::new("input", &names.connect_input)
        .field_d(
            "where",
            &names.where_unique_input,
            Some(&format!(
                "Find a {} record based on its unique fields: {}",
                o.name_singular,
                constraint_names.join(" or ")
            )),
        )
        .write(out);

    // Create / Update / Filter / OrderBy inputs.
    let mut create = Def::new("input", &names.create_input).described(description);
    let mut update = Def::new("input", &names.update_input).described(description);
    let mut filter = Def::new("input", &names.filter_input).described(description);
    let mut order = Def::new("input", &names.order_by_input).described(description);
    for (f, kind) in &fields {
        let d = f.description.as_deref();
        let required = required_on_create(f);
        let bang = if required { "!" } else { "" };
        match kind {
            Kind::ManyToOne(target) => {
                let join = format!("{}Id", f.name);
                for input in [&mut create, &mut update] {
                    input.field_d(&join, "ID", d);
                    input.field_d(&f.name, &target.relation_input, d);
                }
                filter.field_d(&join, "UUIDFilter", d);
                filter.field_d(
                    &f.name,
                    &target.filter_input,
                    Some(&format!(
                        "Filter on fields of the related {}",
                        target.find_one
                    )),
                );
                order.field_d(&join, "OrderByDirection", d);
                order.field_d(
                    &f.name,
                    &target.order_by_input,
                    Some(&format!(
                        "Order by fields of the related {}",
                        target.find_one
                    )),
                );
            }
            Kind::OneToMany(_) => {}
            Kind::Enum(e, multi) => {
                let create_ty = match (multi, f.is_nullable) {
                    (true, true) => format!("[{e}]"),
                    (true, false) => format!("[{e}!]{bang}"),
                    (false, _) => format!("{e}{bang}"),
                };
                create.field_d(&f.name, &create_ty, d);
                let update_ty = if *multi { format!("[{e}]") } else { e.clone() };
                update.field_d(&f.name, &update_ty, d);
                filter.field_d(&f.name, &format!("{e}Filter"), d);
                order.field_d(&f.name, "OrderByDirection", d);
            }
            Kind::Composite(t) => {
                let stem = composite::type_name(*t);
                create.field_d(&f.name, &format!("{stem}CreateInput{bang}"), d);
                update.field_d(&f.name, &format!("{stem}UpdateInput"), d);
                filter.field_d(&f.name, &format!("{stem}FilterInput"), d);
                order.field_d(&f.name, &format!("{stem}OrderByInput"), d);
            }
            Kind::Scalar => {
                let ty = if f.name == "id" {
                    "ID"
                } else {
                    scalar_type(f, true)
                };
                create.field_d(&f.name, &format!("{ty}{bang}"), d);
                update.field_d(&f.name, ty, d);
                let filter_ty = if f.name == "id" {
                    "UUIDFilter"
                } else {
                    scalar_filter(f)
                };
                filter.field_d(&f.name, filter_ty, d);
                order.field_d(&f.name, "OrderByDirection", d);
            }
        }
    }
    filter
        .field("and", &format!("[{}]", names.filter_input))
        .field("or", &format!("[{}]", names.filter_input))
        .field("not", &names.filter_input);
    for d in [create, update, filter, order] {
        d.write(out);
    }
}

/// `<Object>GroupByInput`, `<Object>OrderByWithGroupByInput` (+ its aggregate input) and
/// `<Object>GroupByConnection` (Twenty's group-by type generators).
fn group_by_types(
    out: &mut String,
    o: &ObjectMetadata,
    names: &TypeNames,
    fields: &[(&FieldMetadata, Kind)],
    plain: &[&FieldMetadata],
) {
    let description = o.description.as_deref();
    let mut group_by = Def::new("input", &names.group_by_input).described(description);
    let mut order = Def::new("input", &names.order_by_with_group_by_input).described(description);
    let mut aggregate = AggregateSet(
        Def::new("input", &names.order_by_with_group_by_aggregate_input)
            .described(Some("Aggregate-based ordering")),
    );
    aggregates(&mut aggregate, plain);
    for e in aggregate.0.entries.iter_mut() {
        e.ty = "OrderByDirection".into();
    }
    order.field_d(
        "aggregate",
        &names.order_by_with_group_by_aggregate_input,
        Some("Order by aggregate values"),
    );
    for (f, kind) in fields {
        if !groupable(f) {
            continue;
        }
        let d = f.description.as_deref();
        let is_date = matches!(f.field_type, FieldType::Date | FieldType::DateTime);
        match kind {
            Kind::ManyToOne(_) => {
                let join = format!("{}Id", f.name);
                group_by.field_d(&join, "Boolean", d);
                order.field_d(&join, "OrderByDirection", d);
            }
            Kind::OneToMany(_) => {}
            Kind::Composite(t) => {
                let stem = composite::type_name(*t);
                group_by.field_d(&f.name, &format!("{stem}GroupByInput"), d);
                order.field_d(&f.name, &format!("{stem}OrderByInput"), d);
            }
            Kind::Scalar if is_date => {
                group_by.field_d(&f.name, "GroupByDateGranularityInput", d);
                order.field_d(&f.name, "OrderByDateGranularityInput", d);
            }
            Kind::Enum(..) | Kind::Scalar => {
                group_by.field_d(&f.name, "Boolean", d);
                order.field_d(&f.name, "OrderByDirection", d);
            }
        }
    }
    group_by.write(out);
    aggregate.0.write(out);
    order.write(out);

    let mut connection =
        AggregateSet(Def::new("type", &names.group_by_connection).described(description));
    aggregates(&mut connection, plain);
    connection
        .0
        .field("edges", &format!("[{}!]!", names.edge))
        .field("pageInfo", "PageInfo!")
        .field("groupByDimensionValues", "[String]!");
    connection.0.write(out);
}

fn root_definition(op: Operation, names: &TypeNames) -> (String, String) {
    let p = &names.object;
    let (args, ty) = match op {
        Operation::FindMany => (find_many_args(names), names.connection.clone()),
        Operation::FindOne => (format!("(filter: {}!)", names.filter_input), p.clone()),
        Operation::CreateMany => (
            format!("(data: [{}!]!, upsert: Boolean)", names.create_input),
            format!("[{p}!]"),
        ),
        Operation::CreateOne => (
            format!("(data: {}!, upsert: Boolean)", names.create_input),
            p.clone(),
        ),
        Operation::UpdateOne => (
            format!("(id: UUID!, data: {}!)", names.update_input),
            p.clone(),
        ),
        Operation::UpdateMany => (
            format!(
                "(data: {}!, filter: {}!)",
                names.update_input, names.filter_input
            ),
            format!("[{p}!]"),
        ),
        Operation::DeleteOne | Operation::DestroyOne | Operation::RestoreOne => {
            ("(id: UUID!)".to_string(), p.clone())
        }
        Operation::DeleteMany | Operation::DestroyMany | Operation::RestoreMany => (
            format!("(filter: {}!)", names.filter_input),
            format!("[{p}!]"),
        ),
        Operation::GroupBy => (
            format!(
                "(groupBy: [{}!]!, filter: {}, orderBy: [{}!], orderByForRecords: [{}!], viewId: UUID, \
                 limit: Int, offsetForRecords: Int, omitNullValues: Boolean, rangeMin: Float, rangeMax: Float)",
                names.group_by_input,
                names.filter_input,
                names.order_by_with_group_by_input,
                names.order_by_input
            ),
            format!("[{}!]", names.group_by_connection),
        ),
        Operation::FindDuplicates => (
            format!("(ids: [UUID!], data: [{}!])", names.create_input),
            format!("[{}!]", names.connection),
        ),
        Operation::MergeMany => (
            "(ids: [UUID!]!, conflictPriorityIndex: Int!, dryRun: Boolean)".to_string(),
            p.clone(),
        ),
        Operation::Search => (SEARCH_ARGS.to_string(), SEARCH_TYPE.to_string()),
    };
    (args, ty)
}

/// The workspace's `/graphql` SDL.
pub fn workspace_sdl(model: &WorkspaceModel) -> String {
    let objects = schema_objects(model);
    let ctx = Ctx {
        names_by_id: objects.iter().map(|(o, n)| (o.id.as_str(), n)).collect(),
    };
    let uses_files = objects.iter().any(|(o, _)| {
        o.active_fields()
            .any(|f| f.field_type == FieldType::Files && is_valid_name(&f.name))
    });

    let mut out = String::from("schema {\n  query: Query\n  mutation: Mutation\n}\n\n");
    shared_types(&mut out, uses_files);
    composite_types(&mut out);
    for (o, names) in &objects {
        object_types(&mut out, &ctx, o, names);
    }
    search_types(&mut out);

    let mut query = Def::new("type", "Query");
    let mut mutation = Def::new("type", "Mutation");
    let by_id: HashMap<&str, &TypeNames> =
        objects.iter().map(|(o, n)| (o.id.as_str(), n)).collect();
    for (name, root) in root_fields(model) {
        let Some(object) = root.object else { continue };
        let names = by_id[object.id.as_str()];
        let (args, ty) = root_definition(root.operation, names);
        let def = if root.operation.is_mutation() {
            &mut mutation
        } else {
            &mut query
        };
        def.set(&name, &args, &ty, None);
    }
    query.set(SEARCH_FIELD, SEARCH_ARGS, SEARCH_TYPE, None);
    query.write(&mut out);
    mutation.write(&mut out);
    if mutation.entries.is_empty() {
        // No objects: a schema without a Mutation type.
        out = out.replacen("  mutation: Mutation\n", "", 1);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::sdl::{self, from_json, RootResolver};
    use crate::schema::standard::tests::{ids, model, NOW};
    use crate::schema::standard::{add_standard_targets, custom_object, standard_model};
    use futures::FutureExt;
    use serde_json::{json, Value};
    use std::sync::Arc;

    /// The field lines of `header`'s block (`type Person`), descriptions left out.
    fn block(sdl: &str, header: &str) -> Vec<String> {
        let start = sdl
            .find(&format!("\n{header} {{\n"))
            .unwrap_or_else(|| panic!("no `{header}` in SDL"));
        sdl[start..]
            .lines()
            .skip(2)
            .take_while(|l| *l != "}")
            .map(str::trim)
            .filter(|l| !l.starts_with('"'))
            .map(str::to_string)
            .collect()
    }

    fn check(sdl: &str, header: &str, expected: &[&str]) {
        let lines = block(sdl, header);
        for line in expected {
            assert!(
                lines.iter().any(|l| l == line),
                "`{header}` lacks `{line}`; has:\n{}",
                lines.join("\n")
            );
        }
    }

    fn check_exact(sdl: &str, header: &str, expected: &[&str]) {
        assert_eq!(block(sdl, header), expected, "{header}");
    }

    fn lacks(sdl: &str, header: &str, prefixes: &[&str]) {
        let lines = block(sdl, header);
        for prefix in prefixes {
            assert!(
                !lines.iter().any(|l| l.starts_with(prefix)),
                "`{header}` has `{prefix}`"
            );
        }
    }

    /// A root resolver answering from a table of canned values by root field name.
    fn canned(answers: Value) -> RootResolver {
        Arc::new(move |ctx| {
            let answers = answers.clone();
            async move { Ok(from_json(answers[ctx.field().name()].clone())) }.boxed()
        })
    }

    fn schema_for(sdl: &str, answers: Value) -> async_graphql::dynamic::Schema {
        async_graphql::parser::parse_schema(sdl).expect("SDL parses");
        sdl::build(sdl, canned(answers), None)
            .expect("SDL builds")
            .finish()
            .expect("schema is valid")
    }

    fn run(schema: &async_graphql::dynamic::Schema, query: &str) -> Value {
        let response = futures::executor::block_on(schema.execute(query));
        serde_json::to_value(response).unwrap()
    }

    fn text_field(object_id: &str, name: &str, n: usize) -> FieldMetadata {
        let mut f = custom_object("x", "xs", "X", "Xs", NOW, &mut ids())
            .field("name")
            .unwrap()
            .clone();
        f.id = format!("{object_id}-f{n}");
        f.object_id = object_id.to_string();
        f.name = name.to_string();
        f.is_custom = true;
        f
    }

    #[test]
    fn names_follow_lodash() {
        for (input, camel, pascal) in [
            ("person", "person", "Person"),
            ("people", "people", "People"),
            ("noteTarget", "noteTarget", "NoteTarget"),
            (
                "timelineActivities",
                "timelineActivities",
                "TimelineActivities",
            ),
            ("FULL_NAME", "fullName", "FullName"),
            ("RICH_TEXT", "richText", "RichText"),
            ("myURLField", "myUrlField", "MyUrlField"),
            ("object2Name", "object2Name", "Object2Name"),
            ("pet2", "pet2", "Pet2"),
            ("a1st", "a1st", "A1st"),
            ("a1stB", "a1stB", "A1stB"),
            ("v2x", "v2X", "V2X"),
            ("HTTPServer", "httpServer", "HttpServer"),
            ("", "", ""),
        ] {
            assert_eq!(camel_case(input), camel, "camelCase({input})");
            assert_eq!(pascal_case(input), pascal, "pascalCase({input})");
        }
    }

    #[test]
    fn type_and_operation_names() {
        let m = model();
        let person = type_names(m.object("person").unwrap());
        assert_eq!(
            (
                person.object.as_str(),
                person.connection.as_str(),
                person.create_input.as_str(),
                person.where_unique_input.as_str(),
            ),
            (
                "Person",
                "PersonConnection",
                "PersonCreateInput",
                "PersonWhereUniqueInput"
            )
        );
        let ta = type_names(m.object("timelineActivity").unwrap());
        assert_eq!(ta.find_many, "timelineActivities");
        assert_eq!(
            ta.root_field(Operation::CreateMany),
            Some("createTimelineActivities")
        );
        assert_eq!(ta.object, "TimelineActivity");
        let o = m.object("opportunity").unwrap();
        assert_eq!(
            enum_type_name(o, o.field("stage").unwrap()),
            "OpportunityStageEnum"
        );
    }

    #[test]
    fn root_fields_resolve_to_operations() {
        let m = model();
        let person = m.object("person").unwrap();
        let queries = [
            ("people", Operation::FindMany),
            ("person", Operation::FindOne),
            ("peopleGroupBy", Operation::GroupBy),
            ("personDuplicates", Operation::FindDuplicates),
        ];
        let mutations = [
            ("createPerson", Operation::CreateOne),
            ("createPeople", Operation::CreateMany),
            ("updatePerson", Operation::UpdateOne),
            ("updatePeople", Operation::UpdateMany),
            ("deletePerson", Operation::DeleteOne),
            ("deletePeople", Operation::DeleteMany),
            ("destroyPerson", Operation::DestroyOne),
            ("destroyPeople", Operation::DestroyMany),
            ("restorePerson", Operation::RestoreOne),
            ("restorePeople", Operation::RestoreMany),
            ("mergePeople", Operation::MergeMany),
        ];
        for (name, op) in queries.into_iter().chain(mutations) {
            let (got, object) = resolve_root_field(&m, name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!(got, op, "{name}");
            assert_eq!(
                object.map(|o| o.id.as_str()),
                Some(person.id.as_str()),
                "{name}"
            );
            assert_eq!(type_names(person).root_field(op), Some(name));
            assert_eq!(op.is_mutation(), !name.starts_with("pe"), "{name}");
        }
        for (name, op, object) in [
            ("noteTargets", Operation::FindMany, "noteTarget"),
            ("workspaceMember", Operation::FindOne, "workspaceMember"),
            (
                "restoreTimelineActivities",
                Operation::RestoreMany,
                "timelineActivity",
            ),
            ("createCompany", Operation::CreateOne, "company"),
        ] {
            let (got, o) = resolve_root_field(&m, name).unwrap();
            assert_eq!((got, o.unwrap().name_singular.as_str()), (op, object));
        }
        assert_eq!(
            resolve_root_field(&m, "search"),
            Some((Operation::Search, None))
        );
        for unknown in ["persons", "createPersons", "Person", "", "__schema"] {
            assert_eq!(resolve_root_field(&m, unknown), None, "{unknown}");
        }
        // 11 objects × 15 operations + search, all distinct.
        assert_eq!(root_fields(&m).len(), 11 * 15 + 1);
    }

    #[test]
    fn standard_sdl_parses_and_builds() {
        let sdl = workspace_sdl(&model());
        schema_for(&sdl, json!({}));
        assert_eq!(sdl, workspace_sdl(&model()), "deterministic");
        for scalar in SCALARS {
            assert!(sdl.contains(&format!("\nscalar {scalar}\n")), "{scalar}");
        }
    }

    #[test]
    fn object_types() {
        let sdl = workspace_sdl(&model());
        check(
            &sdl,
            "type Person",
            &[
                "id: UUID!",
                "createdAt: DateTime!",
                "deletedAt: DateTime",
                "createdBy: Actor!",
                "position: Position!",
                "searchVector: TSVector",
                "name: FullName",
                "emails: Emails",
                "jobTitle: String",
                "avatarFile: [FileObject]",
                "companyId: ID",
                "company: Company",
                "noteTargets(first: Int, last: Int, offset: Int, before: String, after: String, filter: NoteTargetFilterInput, orderBy: [NoteTargetOrderByInput]): NoteTargetConnection",
                "pointOfContactForOpportunities(first: Int, last: Int, offset: Int, before: String, after: String, filter: OpportunityFilterInput, orderBy: [OpportunityOrderByInput]): OpportunityConnection",
            ],
        );
        // Join columns in field order, relation fields after all of them.
        let person = block(&sdl, "type Person");
        let at = |l: &str| person.iter().position(|x| x == l).unwrap();
        assert!(at("companyId: ID") < at("company: Company"));
        assert!(at("searchVector: TSVector") < at("company: Company"));
        check(
            &sdl,
            "type Opportunity",
            &[
                "stage: OpportunityStageEnum!",
                "amount: Currency",
                "closeDate: DateTime",
                "pointOfContactId: ID",
                "pointOfContact: Person",
                "ownerId: ID",
                "owner: WorkspaceMember",
            ],
        );
        check(
            &sdl,
            "type NoteTarget",
            &[
                "targetPersonId: ID",
                "targetPerson: Person",
                "noteId: ID",
                "note: Note",
            ],
        );
        check(
            &sdl,
            "type WorkspaceMember",
            &[
                "name: FullName!",
                "calendarStartDay: Int!",
                "userId: UUID!",
                "dateFormat: WorkspaceMemberDateFormatEnum!",
                "favorites(first: Int, last: Int, offset: Int, before: String, after: String, filter: FavoriteFilterInput, orderBy: [FavoriteOrderByInput]): FavoriteConnection",
            ],
        );
        check(
            &sdl,
            "type Favorite",
            &["position: Float!", "view: UUID", "personId: ID"],
        );
        check(
            &sdl,
            "type Task",
            &["bodyV2: RichText", "status: TaskStatusEnum"],
        );
        check(
            &sdl,
            "type TimelineActivity",
            &["properties: JSON", "happensAt: DateTime!"],
        );
        check_exact(
            &sdl,
            "type PersonEdge",
            &["node: Person!", "cursor: Cursor!"],
        );
    }

    #[test]
    fn connections_carry_aggregates() {
        let sdl = workspace_sdl(&model());
        let person = block(&sdl, "type PersonConnection");
        assert_eq!(person.first().map(String::as_str), Some("totalCount: Int"));
        assert_eq!(
            &person[person.len() - 2..],
            ["edges: [PersonEdge!]!", "pageInfo: PageInfo!"]
        );
        check(
            &sdl,
            "type PersonConnection",
            &[
                "countUniqueValuesJobTitle: Int",
                "countEmptyJobTitle: Int",
                "countNotEmptyJobTitle: Int",
                "percentageEmptyJobTitle: Float",
                "percentageNotEmptyJobTitle: Float",
                "countEmptyName: Int",
                "minCreatedAt: DateTime",
                "maxCreatedAt: DateTime",
            ],
        );
        // Relations have no aggregates; morph relations do (as in Twenty).
        lacks(
            &sdl,
            "type PersonConnection",
            &["countEmptyCompany", "countEmptyNoteTargets"],
        );
        check(
            &sdl,
            "type NoteTargetConnection",
            &["countEmptyTargetPerson: Int"],
        );
        lacks(&sdl, "type NoteTargetConnection", &["countEmptyNote:"]);
        check(
            &sdl,
            "type OpportunityConnection",
            &[
                "minAmountAmountMicros: Float",
                "maxAmountAmountMicros: Float",
                "sumAmountAmountMicros: Float",
                "avgAmountAmountMicros: Float",
                "minCloseDate: DateTime",
                "countUniqueValuesStage: Int",
            ],
        );
        check(
            &sdl,
            "type WorkspaceMemberConnection",
            &[
                "minCalendarStartDay: Float",
                "maxCalendarStartDay: Float",
                "avgCalendarStartDay: Float",
                "sumCalendarStartDay: Float",
            ],
        );
        check(
            &sdl,
            "type FavoriteConnection",
            &["sumPosition: Float", "countEmptyView: Int"],
        );
    }

    #[test]
    fn enums_and_composites() {
        let sdl = workspace_sdl(&model());
        check_exact(
            &sdl,
            "enum OpportunityStageEnum",
            &["NEW", "SCREENING", "MEETING", "PROPOSAL", "CUSTOMER"],
        );
        assert!(
            sdl.contains("  \"Screening\"\n  SCREENING\n"),
            "labels describe values"
        );
        let filter = [
            "eq: OpportunityStageEnum",
            "neq: OpportunityStageEnum",
            "in: [OpportunityStageEnum]",
            "containsAny: [OpportunityStageEnum]",
            "is: FilterIs",
            "isEmptyArray: Boolean",
            "gt: OpportunityStageEnum",
            "gte: OpportunityStageEnum",
            "lt: OpportunityStageEnum",
            "lte: OpportunityStageEnum",
        ];
        check_exact(&sdl, "input OpportunityStageEnumFilter", &filter);
        let sources = "EMAIL CALENDAR WORKFLOW AGENT API IMPORT MANUAL SYSTEM WEBHOOK APPLICATION";
        let sources: Vec<&str> = sources.split(' ').collect();
        check_exact(&sdl, "enum ActorSourceEnum", &sources);
        check(
            &sdl,
            "input ActorSourceEnumFilter",
            &["containsAny: [ActorSourceEnum]"],
        );
        check_exact(
            &sdl,
            "input FullNameFilterInput",
            &["firstName: StringFilter", "lastName: StringFilter"],
        );
        check_exact(
            &sdl,
            "input FullNameOrderByInput",
            &["firstName: OrderByDirection", "lastName: OrderByDirection"],
        );
        check_exact(
            &sdl,
            "type Actor",
            &[
                "source: ActorSourceEnum!",
                "workspaceMemberId: UUID",
                "name: String!",
                "context: JSON",
            ],
        );
        check_exact(
            &sdl,
            "input ActorCreateInput",
            &["source: ActorSourceEnum!", "context: JSON"],
        );
        check_exact(
            &sdl,
            "input ActorUpdateInput",
            &["source: ActorSourceEnum", "context: JSON"],
        );
        check_exact(
            &sdl,
            "input ActorFilterInput",
            &[
                "source: ActorSourceEnumFilter",
                "workspaceMemberId: UUIDFilter",
                "name: StringFilter",
                "context: RawJsonFilter",
            ],
        );
        check_exact(
            &sdl,
            "input CurrencyFilterInput",
            &["amountMicros: BigFloatFilter", "currencyCode: StringFilter"],
        );
        check_exact(
            &sdl,
            "input LinksFilterInput",
            &[
                "primaryLinkLabel: StringFilter",
                "primaryLinkUrl: StringFilter",
                "secondaryLinks: RawJsonFilter",
            ],
        );
        check_exact(
            &sdl,
            "type Currency",
            &["amountMicros: BigFloat", "currencyCode: String"],
        );
        check(
            &sdl,
            "type Address",
            &["addressLat: BigFloat", "addressCity: String"],
        );
        check_exact(
            &sdl,
            "input RichTextFilterInput",
            &["blocknote: StringFilter", "markdown: StringFilter"],
        );
        check(
            &sdl,
            "input EmailsCreateInput",
            &["primaryEmail: String", "additionalEmails: JSON"],
        );
    }

    #[test]
    fn shared_filters() {
        let sdl = workspace_sdl(&model());
        check_exact(
            &sdl,
            "input StringFilter",
            &[
                "eq: String",
                "gt: String",
                "gte: String",
                "in: [String!]",
                "lt: String",
                "lte: String",
                "neq: String",
                "startsWith: String",
                "endsWith: String",
                "like: String",
                "ilike: String",
                "regex: String",
                "iregex: String",
                "is: FilterIs",
            ],
        );
        check(
            &sdl,
            "input UUIDFilter",
            &["in: [UUID]", "eq: UUID", "is: FilterIs"],
        );
        for (filter, scalar) in [
            ("DateTimeFilter", "DateTime"),
            ("DateFilter", "Date"),
            ("FloatFilter", "Float"),
            ("IntFilter", "Int"),
            ("BigIntFilter", "BigInt"),
            ("BigFloatFilter", "BigFloat"),
        ] {
            check(
                &sdl,
                &format!("input {filter}"),
                &[&format!("in: [{scalar}!]"), &format!("lte: {scalar}")],
            );
        }
        check_exact(
            &sdl,
            "input BooleanFilter",
            &["eq: Boolean", "is: FilterIs"],
        );
        check_exact(
            &sdl,
            "input ArrayFilter",
            &[
                "containsIlike: String",
                "is: FilterIs",
                "isEmptyArray: Boolean",
            ],
        );
        check_exact(
            &sdl,
            "input RawJsonFilter",
            &["is: FilterIs", "like: String"],
        );
        check_exact(&sdl, "input TSVectorFilter", &["search: String"]);
        check_exact(
            &sdl,
            "input RichTextFilter",
            &[
                "blocknote: RichTextLeafFilter",
                "markdown: RichTextLeafFilter",
            ],
        );
        check_exact(&sdl, "enum FilterIs", &["NULL", "NOT_NULL"]);
        check_exact(
            &sdl,
            "enum OrderByDirection",
            &[
                "AscNullsFirst",
                "AscNullsLast",
                "DescNullsFirst",
                "DescNullsLast",
            ],
        );
        check_exact(
            &sdl,
            "type PageInfo",
            &[
                "startCursor: ConnectionCursor",
                "endCursor: ConnectionCursor",
                "hasNextPage: Boolean!",
                "hasPreviousPage: Boolean!",
            ],
        );
        check_exact(
            &sdl,
            "type FileObject",
            &[
                "fileId: UUID!",
                "label: String!",
                "extension: String",
                "url: String",
            ],
        );
        check_exact(
            &sdl,
            "input FileItemInput",
            &["fileId: UUID!", "label: String!"],
        );
    }

    #[test]
    fn object_inputs() {
        let sdl = workspace_sdl(&model());
        check(
            &sdl,
            "input PersonFilterInput",
            &[
                "id: UUIDFilter",
                "name: FullNameFilterInput",
                "emails: EmailsFilterInput",
                "jobTitle: StringFilter",
                "position: FloatFilter",
                "avatarFile: RawJsonFilter",
                "searchVector: TSVectorFilter",
                "createdBy: ActorFilterInput",
                "companyId: UUIDFilter",
                "company: CompanyFilterInput",
            ],
        );
        let filter = block(&sdl, "input PersonFilterInput");
        assert_eq!(
            &filter[filter.len() - 3..],
            [
                "and: [PersonFilterInput]",
                "or: [PersonFilterInput]",
                "not: PersonFilterInput"
            ]
        );
        lacks(&sdl, "input PersonFilterInput", &["noteTargets"]);
        check(
            &sdl,
            "input PersonOrderByInput",
            &[
                "id: OrderByDirection",
                "name: FullNameOrderByInput",
                "companyId: OrderByDirection",
                "company: CompanyOrderByInput",
            ],
        );
        check(
            &sdl,
            "input PersonCreateInput",
            &[
                "id: ID",
                "createdAt: DateTime",
                "position: Position",
                "createdBy: ActorCreateInput",
                "name: FullNameCreateInput",
                "avatarFile: [FileItemInput]",
                "companyId: ID",
                "company: CompanyRelationInput",
            ],
        );
        lacks(
            &sdl,
            "input PersonCreateInput",
            &["noteTargets", "pointOfContactForOpportunities"],
        );
        check(
            &sdl,
            "input PersonUpdateInput",
            &[
                "id: ID",
                "name: FullNameUpdateInput",
                "companyId: ID",
                "company: CompanyRelationInput",
            ],
        );
        check(
            &sdl,
            "input WorkspaceMemberCreateInput",
            &[
                "userId: UUID!",
                "locale: String",
                "calendarStartDay: Int",
                "dateFormat: WorkspaceMemberDateFormatEnum",
            ],
        );
        check(
            &sdl,
            "input OpportunityCreateInput",
            &["stage: OpportunityStageEnum", "amount: CurrencyCreateInput"],
        );
        check(
            &sdl,
            "input OpportunityFilterInput",
            &["stage: OpportunityStageEnumFilter"],
        );
        check(
            &sdl,
            "input OpportunityUpdateInput",
            &["stage: OpportunityStageEnum"],
        );
        check(
            &sdl,
            "input NoteTargetFilterInput",
            &[
                "targetPersonId: UUIDFilter",
                "targetPerson: PersonFilterInput",
            ],
        );
        check(
            &sdl,
            "input FavoriteFilterInput",
            &["position: FloatFilter"],
        );
        check(
            &sdl,
            "input WorkspaceMemberFilterInput",
            &["calendarStartDay: IntFilter"],
        );
        check(
            &sdl,
            "input TaskFilterInput",
            &["bodyV2: RichTextFilterInput"],
        );
        // Connect inputs.
        check_exact(
            &sdl,
            "input CompanyRelationInput",
            &["connect: CompanyConnectInput", "disconnect: Boolean"],
        );
        check_exact(
            &sdl,
            "input CompanyConnectInput",
            &["where: CompanyWhereUniqueInput"],
        );
        check_exact(
            &sdl,
            "input CompanyWhereUniqueInput",
            &["id: ID", "domainName: CompanyDomainNameWhereInput"],
        );
        check_exact(
            &sdl,
            "input CompanyDomainNameWhereInput",
            &["primaryLinkUrl: String"],
        );
        check_exact(
            &sdl,
            "input PersonWhereUniqueInput",
            &["id: ID", "emails: PersonEmailsWhereInput"],
        );
        check_exact(
            &sdl,
            "input PersonEmailsWhereInput",
            &["primaryEmail: String"],
        );
        check_exact(
            &sdl,
            "input WorkspaceMemberWhereUniqueInput",
            &["id: ID", "userEmail: String"],
        );
        check_exact(&sdl, "input NoteWhereUniqueInput", &["id: ID"]);
    }

    #[test]
    fn root_operations() {
        let sdl = workspace_sdl(&model());
        check(
            &sdl,
            "type Query",
            &[
                "people(first: Int, last: Int, offset: Int, before: String, after: String, filter: PersonFilterInput, orderBy: [PersonOrderByInput]): PersonConnection",
                "person(filter: PersonFilterInput!): Person",
                "peopleGroupBy(groupBy: [PersonGroupByInput!]!, filter: PersonFilterInput, orderBy: [PersonOrderByWithGroupByInput!], orderByForRecords: [PersonOrderByInput!], viewId: UUID, limit: Int, offsetForRecords: Int, omitNullValues: Boolean, rangeMin: Float, rangeMax: Float): [PersonGroupByConnection!]",
                "personDuplicates(ids: [UUID!], data: [PersonCreateInput!]): [PersonConnection!]",
                "timelineActivities(first: Int, last: Int, offset: Int, before: String, after: String, filter: TimelineActivityFilterInput, orderBy: [TimelineActivityOrderByInput]): TimelineActivityConnection",
                "search(searchInput: String!, limit: Int!, after: String, includedObjectNameSingulars: [String!], filter: ObjectRecordFilterInput, excludedObjectNameSingulars: [String!]): SearchResultConnection!",
            ],
        );
        check(
            &sdl,
            "type Mutation",
            &[
                "createPeople(data: [PersonCreateInput!]!, upsert: Boolean): [Person!]",
                "createPerson(data: PersonCreateInput!, upsert: Boolean): Person",
                "updatePerson(id: UUID!, data: PersonUpdateInput!): Person",
                "deletePerson(id: UUID!): Person",
                "updatePeople(data: PersonUpdateInput!, filter: PersonFilterInput!): [Person!]",
                "deletePeople(filter: PersonFilterInput!): [Person!]",
                "destroyPerson(id: UUID!): Person",
                "destroyPeople(filter: PersonFilterInput!): [Person!]",
                "restorePerson(id: UUID!): Person",
                "restorePeople(filter: PersonFilterInput!): [Person!]",
                "mergePeople(ids: [UUID!]!, conflictPriorityIndex: Int!, dryRun: Boolean): Person",
            ],
        );
        check(
            &sdl,
            "input OpportunityGroupByInput",
            &[
                "stage: Boolean",
                "closeDate: GroupByDateGranularityInput",
                "amount: CurrencyGroupByInput",
                "companyId: Boolean",
            ],
        );
        check(
            &sdl,
            "input OpportunityOrderByWithGroupByInput",
            &[
                "aggregate: OpportunityOrderByWithGroupByAggregateInput",
                "stage: OrderByDirection",
                "closeDate: OrderByDateGranularityInput",
            ],
        );
        check(
            &sdl,
            "input OpportunityOrderByWithGroupByAggregateInput",
            &[
                "totalCount: OrderByDirection",
                "sumAmountAmountMicros: OrderByDirection",
            ],
        );
        check(
            &sdl,
            "type OpportunityGroupByConnection",
            &[
                "totalCount: Int",
                "sumAmountAmountMicros: Float",
                "edges: [OpportunityEdge!]!",
                "pageInfo: PageInfo!",
                "groupByDimensionValues: [String]!",
            ],
        );
        lacks(
            &sdl,
            "input OpportunityGroupByInput",
            &["position", "searchVector", "pointOfContact:"],
        );
        lacks(&sdl, "type Query", &["createPerson"]);
        lacks(&sdl, "type Mutation", &["people"]);
        assert_eq!(block(&sdl, "type Query").len(), 11 * 4 + 1);
        assert_eq!(block(&sdl, "type Mutation").len(), 11 * 11);
        check_exact(
            &sdl,
            "type SearchRecord",
            &[
                "recordId: UUID!",
                "objectNameSingular: String!",
                "objectLabelSingular: String!",
                "label: String!",
                "imageUrl: String",
                "tsRankCD: Float!",
                "tsRank: Float!",
            ],
        );
        check_exact(
            &sdl,
            "type SearchResultConnection",
            &[
                "edges: [SearchResultEdge!]!",
                "pageInfo: SearchResultPageInfo!",
            ],
        );
        check_exact(
            &sdl,
            "type SearchResultEdge",
            &["node: SearchRecord!", "cursor: String!"],
        );
        check_exact(
            &sdl,
            "type SearchResultPageInfo",
            &["endCursor: String", "hasNextPage: Boolean!"],
        );
        check_exact(
            &sdl,
            "input ObjectRecordFilterInput",
            &[
                "and: [ObjectRecordFilterInput!]",
                "not: ObjectRecordFilterInput",
                "or: [ObjectRecordFilterInput!]",
                "id: UUIDFilter",
                "createdAt: DateFilter",
                "updatedAt: DateFilter",
                "deletedAt: DateFilter",
            ],
        );
    }

    #[test]
    fn queries_validate_and_execute_against_the_schema() {
        let sdl = workspace_sdl(&model());
        let schema = schema_for(
            &sdl,
            json!({
                "people": {
                    "totalCount": 1,
                    "edges": [{"cursor": "c1", "node": {
                        "id": "p1", "name": {"firstName": "Ada", "lastName": "L"},
                        "companyId": "c1", "company": {"id": "c1", "name": "Acme"},
                        "noteTargets": {"edges": [], "totalCount": 0}
                    }}],
                    "pageInfo": {"hasNextPage": false, "hasPreviousPage": false,
                                 "startCursor": "c1", "endCursor": "c1"}
                },
                "createPerson": {"id": "p2", "stage": null, "jobTitle": "CEO"},
                "search": {"edges": [], "pageInfo": {"endCursor": null, "hasNextPage": false}}
            }),
        );
        let r = run(
            &schema,
            r#"{ people(first: 10, filter: {company: {name: {eq: "Acme"}}, or: [{jobTitle: {ilike: "%a%"}}, {deletedAt: {is: NULL}}]},
                        orderBy: [{name: {firstName: AscNullsFirst}}, {company: {name: DescNullsLast}}]) {
                   totalCount
                   edges { cursor node { id name { firstName } companyId company { name }
                                         noteTargets(first: 5) { totalCount } } }
                   pageInfo { hasNextPage endCursor } } }"#,
        );
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(
            r["data"]["people"]["edges"][0]["node"]["company"]["name"],
            "Acme"
        );
        assert_eq!(r["data"]["people"]["totalCount"], 1);

        let r = run(
            &schema,
            r#"mutation { createPerson(data: {jobTitle: "CEO", name: {firstName: "Ada"},
                          emails: {primaryEmail: "a@b.c"}, createdBy: {source: API},
                          company: {connect: {where: {domainName: {primaryLinkUrl: "acme.com"}}}}}) { id jobTitle } }"#,
        );
        assert!(r["errors"].is_null(), "{r}");
        assert_eq!(r["data"]["createPerson"]["jobTitle"], "CEO");

        let r = run(
            &schema,
            r#"{ search(searchInput: "a", limit: 10, filter: {id: {in: []}}) { edges { node { recordId } } pageInfo { hasNextPage } } }"#,
        );
        assert!(r["errors"].is_null(), "{r}");

        // Validation comes from the SDL.
        for (bad, message) in [
            (
                r#"{ people(filter: {nope: {eq: 1}}) { totalCount } }"#,
                "nope",
            ),
            (
                r#"{ opportunities(filter: {stage: {eq: LOST}}) { totalCount } }"#,
                "LOST",
            ),
            (
                r#"mutation { createPerson(data: {createdBy: {source: API, name: "x"}}) { id } }"#,
                "name",
            ),
            (
                r#"mutation { createWorkspaceMember(data: {}) { id } }"#,
                "userId",
            ),
            (r#"{ person { id } }"#, "filter"),
        ] {
            let r = run(&schema, bad);
            let errors = r["errors"].to_string();
            assert!(errors.contains(message), "{bad}: {r}");
        }
    }

    fn field_of(object_id: &str, name: &str, t: FieldType, n: usize) -> FieldMetadata {
        let mut f = text_field(object_id, name, n);
        f.field_type = t;
        f
    }

    /// The standard model plus a custom object per `(singular, plural, label, labels)`, each
    /// with the extra fields `fields(object_id)` and, as in Twenty, the standard targets.
    fn with_custom_objects(
        objects: &[(&str, &str, &str, &str)],
        fields: impl Fn(&str) -> Vec<FieldMetadata>,
    ) -> WorkspaceModel {
        let mut new_id = ids();
        let mut m = standard_model(NOW, &mut new_id);
        for (singular, plural, label, labels) in objects {
            let mut o = custom_object(singular, plural, label, labels, NOW, &mut new_id);
            let id = o.id.clone();
            o.fields.extend(fields(&id));
            m.objects.push(o);
            add_standard_targets(&mut m, &id, NOW, &mut new_id).unwrap();
        }
        m
    }

    #[test]
    fn custom_objects_and_all_field_types() {
        let m = with_custom_objects(&[("pet", "pets", "Pet", "Pets")], pet_fields);
        let sdl = workspace_sdl(&m);
        schema_for(&sdl, json!({}));
        check(
            &sdl,
            "type Pet",
            &[
                "name: String",
                "tags: [PetTagsEnum]",
                "requiredTags: [PetRequiredTagsEnum!]!",
                "rating: PetRatingEnum",
                "weight: BigInt",
                "chip: String!",
                "vaccinated: Boolean",
                "birthday: Date",
                "nicknames: [String]",
                "price: BigFloat",
                "home: Address",
                "vet: Phones",
                "bio: RichText",
                "photos: [FileObject]",
                "noteTargets(first: Int, last: Int, offset: Int, before: String, after: String, filter: NoteTargetFilterInput, orderBy: [NoteTargetOrderByInput]): NoteTargetConnection",
                "favorites(first: Int, last: Int, offset: Int, before: String, after: String, filter: FavoriteFilterInput, orderBy: [FavoriteOrderByInput]): FavoriteConnection",
            ],
        );
        lacks(&sdl, "type Pet", &["gone", "mood"]);
        check_exact(&sdl, "enum PetTagsEnum", &["CUTE", "LOUD"]);
        check_exact(
            &sdl,
            "enum PetRatingEnum",
            &["RATING_1", "RATING_2", "RATING_3", "RATING_4", "RATING_5"],
        );
        check(
            &sdl,
            "input PetCreateInput",
            &[
                "tags: [PetTagsEnum]",
                "requiredTags: [PetRequiredTagsEnum!]!",
                "chip: String!",
                "nicknames: [String]",
                "photos: [FileItemInput]",
                "weight: BigInt",
            ],
        );
        check(
            &sdl,
            "input PetUpdateInput",
            &[
                "tags: [PetTagsEnum]",
                "requiredTags: [PetRequiredTagsEnum]",
                "chip: String",
            ],
        );
        check(
            &sdl,
            "input PetFilterInput",
            &[
                "tags: PetTagsEnumFilter",
                "rating: PetRatingEnumFilter",
                "weight: BigIntFilter",
                "vaccinated: BooleanFilter",
                "birthday: DateFilter",
                "nicknames: ArrayFilter",
                "price: BigFloatFilter",
                "home: AddressFilterInput",
                "bio: RichTextFilterInput",
                "photos: RawJsonFilter",
            ],
        );
        check(
            &sdl,
            "type PetConnection",
            &[
                "countTrueVaccinated: Int",
                "countFalseVaccinated: Int",
                "minBirthday: DateTime",
                "maxBirthday: DateTime",
                "avgWeight: Float",
                "sumWeight: Float",
                "countEmptyTags: Int",
            ],
        );
        check(
            &sdl,
            "type NoteTarget",
            &["targetPetId: ID", "targetPet: Pet"],
        );
        check(&sdl, "type Favorite", &["petId: ID", "pet: Pet"]);
        check(
            &sdl,
            "type Query",
            &["pets(first: Int, last: Int, offset: Int, before: String, after: String, filter: PetFilterInput, orderBy: [PetOrderByInput]): PetConnection"],
        );
        assert_eq!(
            resolve_root_field(&m, "destroyPets")
                .map(|(op, o)| (op, o.unwrap().name_singular.as_str())),
            Some((Operation::DestroyMany, "pet"))
        );
    }

    /// A field of every type and shape (enums, required, inactive, ...) for `pet`.
    fn pet_fields(id: &str) -> Vec<FieldMetadata> {
        let option = |v: &str| crate::schema::metadata::SelectOption {
            id: format!("o-{v}"),
            label: v.to_lowercase(),
            value: v.to_string(),
            color: "red".into(),
            position: 0,
        };
        let mut tags = field_of(id, "tags", FieldType::MultiSelect, 1);
        tags.options = Some(vec![option("CUTE"), option("LOUD"), option("bad value")]);
        let mut required_tags = tags.clone();
        required_tags.id = "req-tags".into();
        required_tags.name = "requiredTags".into();
        required_tags.is_nullable = false;
        let mut rating = field_of(id, "rating", FieldType::Rating, 2);
        rating.options = None;
        let mut weight = field_of(id, "weight", FieldType::Number, 3);
        weight.settings = Some(json!({"dataType": "BIGINT"}));
        let mut empty_select = field_of(id, "mood", FieldType::Select, 4);
        empty_select.options = Some(vec![]);
        let mut inactive = field_of(id, "gone", FieldType::Text, 5);
        inactive.is_active = false;
        let mut required_text = field_of(id, "chip", FieldType::Text, 6);
        required_text.is_nullable = false;
        vec![
            tags,
            required_tags,
            rating,
            weight,
            empty_select,
            inactive,
            required_text,
            field_of(id, "vaccinated", FieldType::Boolean, 7),
            field_of(id, "birthday", FieldType::Date, 8),
            field_of(id, "nicknames", FieldType::Array, 9),
            field_of(id, "price", FieldType::Numeric, 10),
            field_of(id, "home", FieldType::Address, 11),
            field_of(id, "vet", FieldType::Phones, 12),
            field_of(id, "bio", FieldType::RichText, 13),
            field_of(id, "photos", FieldType::Files, 14),
        ]
    }

    #[test]
    fn five_hundred_text_fields() {
        let m = with_custom_objects(&[("wide", "wides", "Wide", "Wides")], |id| {
            (0..500)
                .map(|i| text_field(id, &format!("field{i}"), i))
                .collect()
        });
        let sdl = workspace_sdl(&m);
        schema_for(&sdl, json!({}));
        check(&sdl, "type Wide", &["field0: String", "field499: String"]);
        check(&sdl, "type WideConnection", &["countEmptyField499: Int"]);
        check(&sdl, "input WideFilterInput", &["field499: StringFilter"]);
        assert!(block(&sdl, "type Wide").len() > 500);
    }

    #[test]
    fn clashing_or_inactive_objects_are_left_out() {
        // `PageInfo` and `FullName` are taken; `Person` is an earlier object's.
        let mut m = with_custom_objects(
            &[
                ("pageInfo", "pageInfos", "X", "Xs"),
                ("fullName", "fullNames", "X", "Xs"),
                ("ghost", "ghosts", "X", "Xs"),
            ],
            |_| vec![],
        );
        let ghost = m
            .objects
            .iter_mut()
            .find(|o| o.name_singular == "ghost")
            .unwrap();
        ghost.is_active = false;
        let sdl = workspace_sdl(&m);
        schema_for(&sdl, json!({}));
        for absent in [
            "pageInfos(",
            "fullNames(",
            "ghosts(",
            "targetPageInfo",
            "targetGhost",
        ] {
            assert!(!sdl.contains(absent), "{absent}");
        }
        assert_eq!(resolve_root_field(&m, "pageInfos"), None);
        assert_eq!(resolve_root_field(&m, "ghosts"), None);
        check(&sdl, "type PageInfo", &["hasNextPage: Boolean!"]);
    }

    #[test]
    fn empty_model_is_a_valid_schema() {
        let sdl = workspace_sdl(&WorkspaceModel::default());
        assert!(!sdl.contains("mutation: Mutation") && !sdl.contains("type Mutation"));
        assert!(!sdl.contains("FileObject"), "FILES types only when used");
        let schema = schema_for(
            &sdl,
            json!({"search": {"edges": [], "pageInfo": {"hasNextPage": false}}}),
        );
        let r = run(
            &schema,
            r#"{ search(searchInput: "", limit: 1) { pageInfo { hasNextPage } } }"#,
        );
        assert_eq!(r["data"]["search"]["pageInfo"]["hasNextPage"], false, "{r}");
    }

    #[test]
    fn descriptions_are_escaped() {
        let mut m = model();
        let person = m
            .objects
            .iter_mut()
            .find(|o| o.name_singular == "person")
            .unwrap();
        person.description = Some("A \"quoted\"\nperson \\ with\ttabs".into());
        let sdl = workspace_sdl(&m);
        assert!(sdl.contains(r#""A \"quoted\"\nperson \\ with\ttabs""#));
        schema_for(&sdl, json!({}));
    }
}
