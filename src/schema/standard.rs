//! Twenty's standard objects (person, company, opportunity, note, task, their targets,
//! attachment, workspaceMember, favorite, timelineActivity) as a [`WorkspaceModel`], and the
//! helpers that wire relations, including the default relations every custom object gets.
//!
//! Source: `twenty-standard-application/utils/field-metadata/compute-*-standard-flat-field-metadata.util.ts`
//! at the reference snapshot (research notes §9); `favorite` (absent there) from the older
//! standard application. Relations to objects this backend does not have (messages, calendar,
//! workflows, dashboards, lists, favorite folders) are left out.
//!
//! Everything here is data: object tables, field specs built with small chainable helpers, and
//! relation tables; ids come from the caller's `new_id` so a workspace's ids are its own.

use serde_json::{json, Value};

use super::metadata::{
    capitalize, is_valid_name, FieldMetadata, FieldType, ObjectMetadata, OnDelete, Relation,
    RelationType, SelectOption, WorkspaceModel,
};

type NewId<'a> = &'a mut dyn FnMut() -> String;

// ---------------------------------------------------------------------------------------------
// Field specs
// ---------------------------------------------------------------------------------------------

/// A field before it has ids.
#[derive(Debug, Clone)]
struct Spec {
    name: String,
    label: String,
    field_type: FieldType,
    icon: String,
    description: Option<String>,
    nullable: bool,
    unique: bool,
    system: bool,
    default: Option<Value>,
    /// (value, label, color), positions follow the order.
    options: Vec<(String, String, String)>,
    settings: Option<Value>,
}

fn spec(name: &str, label: &str, field_type: FieldType, icon: &str, description: &str) -> Spec {
    Spec {
        name: name.to_string(),
        label: label.to_string(),
        field_type,
        icon: icon.to_string(),
        description: Some(description.to_string()),
        nullable: true,
        unique: false,
        system: false,
        default: composite_default(field_type),
        options: Vec::new(),
        settings: None,
    }
}

impl Spec {
    fn required(mut self) -> Self {
        self.nullable = false;
        self
    }
    fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    fn system(mut self) -> Self {
        self.system = true;
        self
    }
    fn default(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }
    /// A string default, SQL-quoted as Twenty writes it (`'NEW'`).
    fn quoted_default(self, value: &str) -> Self {
        self.default(json!(format!("'{value}'")))
    }
    /// A SELECT's options and its default (`default`, quoted).
    fn select(self, default: &str, options: &[(&str, &str, &str)]) -> Self {
        self.quoted_default(default).options(options)
    }
    fn settings(mut self, settings: Value) -> Self {
        self.settings = Some(settings);
        self
    }
    fn options(mut self, options: &[(&str, &str, &str)]) -> Self {
        self.options = options
            .iter()
            .map(|(v, l, c)| (v.to_string(), l.to_string(), c.to_string()))
            .collect();
        self
    }
    fn single_value(self) -> Self {
        self.settings(json!({"maxNumberOfValues": 1}))
    }

    fn build(self, object_id: &str, now: &str, new_id: NewId) -> FieldMetadata {
        let options = (!self.options.is_empty()).then(|| {
            self.options
                .into_iter()
                .enumerate()
                .map(|(position, (value, label, color))| SelectOption {
                    id: new_id(),
                    label,
                    value,
                    color,
                    position: position as i64,
                })
                .collect()
        });
        FieldMetadata {
            id: new_id(),
            object_id: object_id.to_string(),
            name: self.name,
            label: self.label,
            field_type: self.field_type,
            description: self.description,
            icon: Some(self.icon),
            is_nullable: self.nullable,
            is_unique: self.unique,
            is_custom: false,
            is_system: self.system,
            is_active: true,
            default_value: self.default,
            options,
            settings: self.settings,
            relation: None,
            created_at: now.to_string(),
            updated_at: now.to_string(),
        }
    }
}

/// The default Twenty gives composite fields that declare none (`deprecatedGenerateDefaultValue`):
/// SQL-quoted empty strings for text sub-fields, `null` for the rest.
pub fn composite_default(field_type: FieldType) -> Option<Value> {
    Some(match field_type {
        FieldType::FullName => json!({"firstName": "''", "lastName": "''"}),
        FieldType::Emails => json!({"primaryEmail": "''", "additionalEmails": null}),
        FieldType::Links => {
            json!({"primaryLinkLabel": "''", "primaryLinkUrl": "''", "secondaryLinks": null})
        }
        FieldType::Phones => json!({
            "primaryPhoneNumber": "''",
            "primaryPhoneCountryCode": "''",
            "primaryPhoneCallingCode": "''",
            "additionalPhones": null
        }),
        FieldType::Address => json!({
            "addressStreet1": "''",
            "addressStreet2": "''",
            "addressCity": "''",
            "addressState": "''",
            "addressCountry": "''",
            "addressPostcode": "''",
            "addressLat": null,
            "addressLng": null
        }),
        FieldType::Currency => json!({"amountMicros": null, "currencyCode": "''"}),
        FieldType::Actor => actor_default(),
        _ => return None,
    })
}

fn actor_default() -> Value {
    json!({"source": "'MANUAL'", "name": "'System'", "workspaceMemberId": null})
}

/// The system fields every record has, split around the object's own fields:
/// `id createdAt updatedAt deletedAt` | own fields | `position createdBy updatedBy searchVector`.
#[rustfmt::skip]
fn base_specs(label_singular: &str) -> (Vec<Spec>, Vec<Spec>) {
    use FieldType as T;
    let timestamp = |name, label, icon, description| {
        spec(name, label, T::DateTime, icon, description)
            .system()
            .settings(json!({"displayFormat": "RELATIVE"}))
    };
    let head = vec![
        spec("id", "Id", T::Uuid, "Icon123", "Id").system().required().default(json!("uuid")),
        timestamp("createdAt", "Creation date", "IconCalendar", "Creation date")
            .required().default(json!("now")),
        timestamp("updatedAt", "Last update", "IconCalendarClock",
                  "Last time the record was changed")
            .required().default(json!("now")),
        timestamp("deletedAt", "Deleted at", "IconCalendarMinus",
                  "Date when the record was deleted"),
    ];
    let tail = vec![
        spec("position", "Position", T::Position, "IconHierarchy2",
             &format!("{label_singular} record position"))
            .system().required().default(json!(0)),
        spec("createdBy", "Created by", T::Actor, "IconCreativeCommonsSa",
             "The creator of the record")
            .system().required(),
        spec("updatedBy", "Updated by", T::Actor, "IconUserCircle",
             "The workspace member who last updated the record")
            .system().required(),
        spec("searchVector", "Search vector", T::TsVector, "IconUser",
             "Field used for full-text search")
            .system(),
    ];
    (head, tail)
}

/// The eight system fields (`id`, `createdAt`, `updatedAt`, `deletedAt`, `position`,
/// `createdBy`, `updatedBy`, `searchVector`) of a new object.
pub fn base_fields(
    object_id: &str,
    label_singular: &str,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Vec<FieldMetadata> {
    let (head, tail) = base_specs(label_singular);
    head.into_iter()
        .chain(tail)
        .map(|s| s.build(object_id, now, new_id))
        .collect()
}

/// A new custom object as Twenty scaffolds it: the system fields plus a nullable `name` TEXT
/// (its label identifier). Push it into the model, then call [`add_standard_targets`].
pub fn custom_object(
    name_singular: &str,
    name_plural: &str,
    label_singular: &str,
    label_plural: &str,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> ObjectMetadata {
    let id = new_id();
    let (head, tail) = base_specs(label_singular);
    let name = spec("name", "Name", FieldType::Text, "IconAbc", "Name");
    let fields = head
        .into_iter()
        .chain(std::iter::once(name))
        .chain(tail)
        .map(|s| s.build(&id, now, new_id))
        .collect();
    ObjectMetadata {
        id,
        name_singular: name_singular.to_string(),
        name_plural: name_plural.to_string(),
        label_singular: label_singular.to_string(),
        label_plural: label_plural.to_string(),
        description: None,
        icon: None,
        is_custom: true,
        is_system: false,
        is_active: true,
        is_searchable: true,
        label_identifier_field_name: Some("name".to_string()),
        image_identifier_field_name: None,
        created_at: now.to_string(),
        updated_at: now.to_string(),
        fields,
    }
}

// ---------------------------------------------------------------------------------------------
// Standard objects
// ---------------------------------------------------------------------------------------------

const SEARCHABLE: u8 = 1;
const SYSTEM: u8 = 2;

/// A standard object: singular, plural, labels (singular, plural), description, icon, flags,
/// label identifier field, image identifier field.
type ObjectRow<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    u8,
    &'a str,
    Option<&'a str>,
);

#[rustfmt::skip]
const OBJECTS: &[ObjectRow] = &[
    // singular, plural, labels, description, icon, flags, label / image identifier fields
    ("person", "people", "Person", "People", "A person", "IconUser",
        SEARCHABLE, "name", Some("avatarFile")),
    ("company", "companies", "Company", "Companies", "A company", "IconBuildingSkyscraper",
        SEARCHABLE, "name", Some("domainName")),
    ("opportunity", "opportunities", "Opportunity", "Opportunities", "An opportunity",
        "IconTargetArrow", SEARCHABLE, "name", None),
    ("note", "notes", "Note", "Notes", "A note", "IconNotes", SEARCHABLE, "title", None),
    ("task", "tasks", "Task", "Tasks", "A task", "IconCheckbox", SEARCHABLE, "title", None),
    ("noteTarget", "noteTargets", "Note Target", "Note Targets", "A note target",
        "IconCheckbox", SYSTEM, "id", None),
    ("taskTarget", "taskTargets", "Task Target", "Task Targets", "A task target",
        "IconCheckbox", SYSTEM, "id", None),
    ("attachment", "attachments", "Attachment", "Attachments", "An attachment",
        "IconFileImport", SYSTEM, "name", None),
    ("workspaceMember", "workspaceMembers", "Workspace Member", "Workspace Members",
        "A workspace member", "IconUserCircle", SYSTEM | SEARCHABLE, "name", Some("avatarUrl")),
    ("favorite", "favorites", "Favorite", "Favorites", "A favorite", "IconHeart",
        SYSTEM, "id", None),
    ("timelineActivity", "timelineActivities", "Timeline Activity", "Timeline Activities",
        "Aggregated / filtered event to be displayed on the timeline", "IconTimelineEvent",
        SYSTEM, "name", None),
];

/// The object's own (non-system, non-relation) fields, in Twenty's order.
#[rustfmt::skip]
fn own_fields(object: &str) -> Vec<Spec> {
    use FieldType as T;
    match object {
        "person" => vec![
            spec("name", "Name", T::FullName, "IconUser", "Contact's name"),
            spec("emails", "Emails", T::Emails, "IconMail", "Contact's Emails")
                .unique().single_value(),
            spec("linkedinLink", "Linkedin", T::Links, "IconBrandLinkedin",
                 "Contact's Linkedin account"),
            spec("jobTitle", "Job Title", T::Text, "IconBriefcase", "Contact's job title"),
            spec("phones", "Phones", T::Phones, "IconPhone", "Contact's phone numbers")
                .single_value(),
            spec("avatarUrl", "Avatar", T::Text, "IconFileUpload", "Contact's avatar").system(),
            spec("avatarFile", "Avatar File", T::Files, "IconFileUpload", "Contact's avatar file")
                .system().single_value(),
        ],
        "company" => vec![
            spec("name", "Name", T::Text, "IconBuildingSkyscraper", "The company name"),
            spec("domainName", "Domain Name", T::Links, "IconLink",
                 "The company website URL. We use this url to fetch the company icon")
                .unique().single_value(),
            spec("address", "Address", T::Address, "IconMap", "Address of the company"),
            spec("linkedinLink", "Linkedin", T::Links, "IconBrandLinkedin",
                 "The company Linkedin account"),
            spec("annualRevenue", "Annual Revenue", T::Currency, "IconMoneybag",
                 "The company's total annual revenue"),
        ],
        "opportunity" => vec![
            spec("name", "Name", T::Text, "IconTargetArrow", "The opportunity name"),
            spec("amount", "Amount", T::Currency, "IconCurrencyDollar", "Opportunity amount"),
            spec("closeDate", "Close date", T::DateTime, "IconCalendarEvent",
                 "Opportunity close date"),
            spec("stage", "Stage", T::Select, "IconProgressCheck", "Opportunity stage")
                .required()
                .select("NEW", &[
                    ("NEW", "New", "red"), ("SCREENING", "Screening", "purple"),
                    ("MEETING", "Meeting", "sky"), ("PROPOSAL", "Proposal", "turquoise"),
                    ("CUSTOMER", "Customer", "yellow"),
                ]),
        ],
        "note" => vec![
            spec("title", "Title", T::Text, "IconH1", "Note title"),
            spec("bodyV2", "Body", T::RichText, "IconFilePencil", "Note body"),
        ],
        "task" => vec![
            spec("title", "Title", T::Text, "IconNotes", "Task title"),
            spec("bodyV2", "Body", T::RichText, "IconFilePencil", "Task body"),
            spec("dueAt", "Due Date", T::DateTime, "IconCalendarEvent", "Task due date"),
            spec("status", "Status", T::Select, "IconCheck", "Task status").select("TODO", &[
                ("TODO", "To do", "sky"), ("IN_PROGRESS", "In progress", "purple"),
                ("DONE", "Done", "green"),
            ]),
        ],
        "attachment" => vec![
            spec("name", "Name", T::Text, "IconFileUpload", "Attachment name"),
            spec("file", "File", T::Files, "IconFileUpload", "Attachment file").single_value(),
            spec("fullPath", "Full path", T::Text, "IconLink", "Attachment full path").system(),
            spec("fileCategory", "File category", T::Select, "IconList", "Attachment file category")
                .system()
                .required()
                .select("OTHER", &[
                    ("ARCHIVE", "Archive", "gray"), ("AUDIO", "Audio", "pink"),
                    ("IMAGE", "Image", "yellow"), ("PRESENTATION", "Presentation", "orange"),
                    ("SPREADSHEET", "Spreadsheet", "turquoise"),
                    ("TEXT_DOCUMENT", "Text Document", "blue"), ("VIDEO", "Video", "purple"),
                    ("OTHER", "Other", "gray"),
                ]),
        ],
        "workspaceMember" => {
            // Required preferences with a quoted default, and formats defaulting to the system's.
            let preference = |name, label, icon, description, default| {
                spec(name, label, T::Text, icon, description)
                    .system().required().quoted_default(default)
            };
            let format = |name, label, icon, description, options| {
                spec(name, label, T::Select, icon, description)
                    .system().required().select("SYSTEM", options)
            };
            vec![
                spec("name", "Name", T::FullName, "IconCircleUser", "Workspace member name")
                    .required(),
                preference("colorScheme", "Color Scheme", "IconColorSwatch",
                           "Preferred color scheme", "System"),
                preference("uiScale", "Interface Scale", "IconZoomScan",
                           "Preferred interface scale", "Default"),
                preference("openRecordIn", "Open Records In", "IconLayoutSidebarRight",
                           "Where records open for objects that follow the member's preference",
                           "SIDE_PANEL"),
                preference("locale", "Language", "IconLanguage", "Preferred language", "en"),
                spec("avatarUrl", "Avatar Url", T::Text, "IconFileUpload",
                     "Workspace member avatar")
                    .system(),
                spec("userEmail", "User Email", T::Text, "IconMail", "Related user email address")
                    .system().unique(),
                spec("jobTitle", "Job Title", T::Text, "IconBriefcase",
                     "Workspace member job title")
                    .system(),
                spec("calendarStartDay", "Start of the week", T::Number, "IconCalendar",
                     "User's preferred start day of the week")
                    .system().required().default(json!(7)).settings(json!({"dataType": "INT"})),
                spec("userId", "User Id", T::Uuid, "IconCircleUsers", "Associated User Id")
                    .system().required(),
                preference("timeZone", "Time zone", "IconTimezone", "User time zone", "system"),
                format("dateFormat", "Date format", "IconCalendarEvent",
                       "User's preferred date format", &[
                    ("SYSTEM", "System", "turquoise"), ("MONTH_FIRST", "Month First", "red"),
                    ("DAY_FIRST", "Day First", "purple"), ("YEAR_FIRST", "Year First", "sky"),
                ]),
                format("timeFormat", "Time format", "IconClock2",
                       "User's preferred time format", &[
                    ("SYSTEM", "System", "sky"), ("HOUR_24", "24HRS", "red"),
                    ("HOUR_12", "12HRS", "purple"),
                ]),
                format("numberFormat", "Number format", "IconNumbers",
                       "User's preferred number format", &[
                    ("SYSTEM", "System", "turquoise"), ("COMMAS_AND_DOT", "Commas and dot", "blue"),
                    ("SPACES_AND_COMMA", "Spaces and comma", "green"),
                    ("DOTS_AND_COMMA", "Dots and comma", "orange"),
                    ("APOSTROPHE_AND_DOT", "Apostrophe and dot", "purple"),
                ]),
            ]
        }
        "timelineActivity" => vec![
            spec("happensAt", "Creation date", T::DateTime, "IconCalendar", "Creation date")
                .required().default(json!("now")),
            spec("name", "Event name", T::Text, "IconAbc", "Event name"),
            spec("properties", "Event details", T::RawJson, "IconListDetails",
                 "Json value for event details"),
            spec("linkedRecordCachedName", "Linked Record cached name", T::Text, "IconAbc",
                 "Cached record name")
                .system(),
            spec("linkedRecordId", "Linked Record id", T::Uuid, "IconAbc", "Linked Record id")
                .system(),
            spec("linkedObjectMetadataId", "Linked Object Metadata Id", T::Uuid, "IconAbc",
                 "Linked Object Metadata Id")
                .system(),
        ],
        _ => vec![],
    }
}

/// favorite predates the common system fields: no createdBy/updatedBy/searchVector, and its
/// `position` is a NUMBER.
fn favorite_fields() -> Vec<Spec> {
    let (head, _) = base_specs("Favorite");
    head.into_iter()
        .chain([
            spec(
                "position",
                "Position",
                FieldType::Number,
                "IconList",
                "Favorite position",
            )
            .system()
            .required()
            .default(json!(0)),
            spec("view", "ViewId", FieldType::Uuid, "IconView", "ViewId"),
        ])
        .collect()
}

/// One side of a standard relation: (object, field, label, icon, description).
type Side = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
);

/// A plain relation: `many` (many-to-one, join column `<name>Id`) ↔ `one` (its inverse).
struct RelationSpec {
    many: Side,
    one: Side,
    on_delete: OnDelete,
}

const fn rel(many: Side, one: Side, on_delete: OnDelete) -> RelationSpec {
    RelationSpec {
        many,
        one,
        on_delete,
    }
}

#[rustfmt::skip]
const RELATIONS: &[RelationSpec] = &[
    rel(("person", "company", "Company", "IconBuildingSkyscraper", "Contact's company"),
        ("company", "people", "People", "IconUsers", "People linked to the company."),
        OnDelete::SetNull),
    rel(("company", "accountOwner", "Account Owner", "IconUserCircle",
         "Your team member responsible for managing the company account"),
        ("workspaceMember", "accountOwnerForCompanies", "Account Owner For Companies",
         "IconBriefcase", "Account owner for companies"), OnDelete::SetNull),
    rel(("opportunity", "pointOfContact", "Point of Contact", "IconUser",
         "Opportunity point of contact"),
        ("person", "pointOfContactForOpportunities", "Opportunities", "IconTargetArrow",
         "List of opportunities for which that person is the point of contact"), OnDelete::SetNull),
    rel(("opportunity", "company", "Company", "IconBuildingSkyscraper", "Opportunity company"),
        ("company", "opportunities", "Opportunities", "IconTargetArrow",
         "Opportunities linked to the company."), OnDelete::SetNull),
    rel(("opportunity", "owner", "Owner", "IconUserCircle", "Opportunity owner"),
        ("workspaceMember", "ownedOpportunities", "Owned opportunities", "IconTargetArrow",
         "Opportunities owned by the workspace member"), OnDelete::SetNull),
    rel(("noteTarget", "note", "Note", "IconNotes", "NoteTarget note"),
        ("note", "noteTargets", "Relations", "IconArrowUpRight", "Note targets"),
        OnDelete::Cascade),
    rel(("taskTarget", "task", "Task", "IconCheckbox", "TaskTarget task"),
        ("task", "taskTargets", "Relations", "IconArrowUpRight", "Task targets"),
        OnDelete::Cascade),
    rel(("task", "assignee", "Assignee", "IconUserCircle", "Task assignee"),
        ("workspaceMember", "assignedTasks", "Assigned tasks", "IconCheckbox",
         "Tasks assigned to the workspace member"), OnDelete::SetNull),
    rel(("timelineActivity", "workspaceMember", "Workspace Member", "IconCircleUser",
         "Event workspace member"),
        ("workspaceMember", "timelineActivities", "Events", "IconTimelineEvent",
         "Events linked to the workspace member"), OnDelete::Cascade),
    rel(("favorite", "forWorkspaceMember", "Workspace Member", "IconCircleUser",
         "Favorite workspace member"),
        ("workspaceMember", "favorites", "Favorites", "IconHeart",
         "Favorites linked to the workspace member"), OnDelete::Cascade),
];

/// An object that can point at records of many objects (Twenty's `DEFAULT_RELATIONS_OBJECTS`):
/// one many-to-one field per target object, each with a one-to-many inverse on the target.
struct TargetHost {
    object: &'static str,
    /// Morph relations named `target<Singular>`; otherwise (favorite, which predates them)
    /// plain relations named `<singular>`, whose inverses are system fields.
    morph: bool,
    icon: &'static str,
    description: &'static str,
    /// The inverse on the target is named after the host's plural; its label and icon.
    inverse_label: &'static str,
    inverse_icon: &'static str,
    /// Standard targets and what deleting them does to the host record.
    targets: &'static [(&'static str, OnDelete)],
}

const fn host(
    object: &'static str,
    morph: bool,
    (icon, description): (&'static str, &'static str),
    (inverse_label, inverse_icon): (&'static str, &'static str),
    targets: &'static [(&'static str, OnDelete)],
) -> TargetHost {
    TargetHost {
        object,
        morph,
        icon,
        description,
        inverse_label,
        inverse_icon,
        targets,
    }
}

/// Person, company and opportunity, whose deletion deletes the host records pointing at them.
const CRM_RECORDS: &[(&str, OnDelete)] = &[
    ("person", OnDelete::Cascade),
    ("company", OnDelete::Cascade),
    ("opportunity", OnDelete::Cascade),
];

#[rustfmt::skip]
const TARGET_HOSTS: &[TargetHost] = &[
    // object, morph, (icon, description), inverse (label, icon), targets
    host("noteTarget", true, ("IconCheckbox", "NoteTarget target"), ("Notes", "IconNotes"),
         CRM_RECORDS),
    host("taskTarget", true, ("IconCheckbox", "TaskTarget target"), ("Tasks", "IconCheckbox"),
         CRM_RECORDS),
    host("attachment", true, ("IconFileImport", "Attachment target"),
         ("Attachments", "IconFileImport"),
         &[("person", OnDelete::Cascade), ("company", OnDelete::Cascade),
           ("opportunity", OnDelete::Cascade), ("note", OnDelete::SetNull),
           ("task", OnDelete::SetNull)]),
    host("timelineActivity", true, ("IconTimelineEvent", "Event target"),
         ("Timeline Activities", "IconTimelineEvent"),
         &[("person", OnDelete::Cascade), ("company", OnDelete::Cascade),
           ("opportunity", OnDelete::SetNull), ("note", OnDelete::SetNull),
           ("task", OnDelete::SetNull)]),
    host("favorite", false, ("IconHeart", "Favorite"), ("Favorites", "IconHeart"),
         &[("person", OnDelete::Cascade), ("company", OnDelete::Cascade),
           ("opportunity", OnDelete::Cascade), ("task", OnDelete::Cascade),
           ("note", OnDelete::Cascade)]),
];

impl TargetHost {
    /// The host's field pointing at `target_singular` (`targetPerson`, or `person` on favorite).
    fn field_name(&self, target_singular: &str) -> String {
        if self.morph {
            format!("target{}", capitalize(target_singular))
        } else {
            target_singular.to_string()
        }
    }

    fn kind(&self) -> FieldType {
        if self.morph {
            FieldType::MorphRelation
        } else {
            FieldType::Relation
        }
    }
}

/// The name of the field on a target host (`noteTarget`, `taskTarget`, `attachment`,
/// `timelineActivity`, `favorite`) that points at records of `target_singular`: `targetPerson`
/// on the morph hosts, `person` on favorite. `None` for objects that are not target hosts.
pub fn target_field_name(host_singular: &str, target_singular: &str) -> Option<String> {
    TARGET_HOSTS
        .iter()
        .find(|h| h.object == host_singular)
        .map(|h| h.field_name(target_singular))
}

/// Twenty's standard data model. `now` stamps createdAt/updatedAt; `new_id` mints every id
/// (objects, fields, select options).
pub fn standard_model(now: &str, new_id: &mut dyn FnMut() -> String) -> WorkspaceModel {
    let mut model = WorkspaceModel::default();
    for &(singular, plural, label_singular, label_plural, description, icon, flags, label, image) in
        OBJECTS
    {
        let id = new_id();
        let specs = if singular == "favorite" {
            favorite_fields()
        } else {
            let (head, tail) = base_specs(label_singular);
            head.into_iter()
                .chain(own_fields(singular))
                .chain(tail)
                .collect()
        };
        let fields = specs
            .into_iter()
            .map(|s| s.build(&id, now, new_id))
            .collect();
        model.objects.push(ObjectMetadata {
            id,
            name_singular: singular.to_string(),
            name_plural: plural.to_string(),
            label_singular: label_singular.to_string(),
            label_plural: label_plural.to_string(),
            description: Some(description.to_string()),
            icon: Some(icon.to_string()),
            is_custom: false,
            is_system: flags & SYSTEM != 0,
            is_active: true,
            is_searchable: flags & SEARCHABLE != 0,
            label_identifier_field_name: Some(label.to_string()),
            image_identifier_field_name: image.map(str::to_string),
            created_at: now.to_string(),
            updated_at: now.to_string(),
            fields,
        });
    }

    let id_of = |model: &WorkspaceModel, name: &str| {
        model
            .object(name)
            .map(|o| o.id.clone())
            .expect("standard object")
    };

    for r in RELATIONS {
        let (from, name, label, icon, description) = r.many;
        let (to, inverse, inverse_label, inverse_icon, inverse_description) = r.one;
        let (from, to) = (id_of(&model, from), id_of(&model, to));
        relation_pair(
            &mut model,
            RelationEnd::new(&from, name, label, icon).description(description),
            RelationEnd::new(&to, inverse, inverse_label, inverse_icon)
                .description(inverse_description),
            FieldType::Relation,
            r.on_delete,
            now,
            new_id,
        )
        .expect("standard relation");
    }

    for host in TARGET_HOSTS {
        let host_object = model.object(host.object).expect("standard host").clone();
        for (target, on_delete) in host.targets {
            let target_object = model.object(target).expect("standard target").clone();
            let name = host.field_name(target);
            let description = format!(
                "{} linked to the {}",
                host.inverse_label,
                target_object.label_singular.to_lowercase()
            );
            let mut inverse = RelationEnd::new(
                &target_object.id,
                &host_object.name_plural,
                host.inverse_label,
                host.inverse_icon,
            )
            .description(&description);
            inverse.is_system = !host.morph;
            relation_pair(
                &mut model,
                RelationEnd::new(
                    &host_object.id,
                    &name,
                    &target_object.label_singular,
                    host.icon,
                )
                .description(host.description),
                inverse,
                host.kind(),
                *on_delete,
                now,
                new_id,
            )
            .expect("standard target relation");
        }
    }
    model
}

// ---------------------------------------------------------------------------------------------
// Relation helpers
// ---------------------------------------------------------------------------------------------

/// One side of a relation: the field `name` on object `object_id`.
#[derive(Debug, Clone, Copy)]
pub struct RelationEnd<'a> {
    pub object_id: &'a str,
    pub name: &'a str,
    pub label: &'a str,
    pub icon: &'a str,
    pub description: Option<&'a str>,
    pub is_system: bool,
    pub is_custom: bool,
}

impl<'a> RelationEnd<'a> {
    pub fn new(object_id: &'a str, name: &'a str, label: &'a str, icon: &'a str) -> Self {
        RelationEnd {
            object_id,
            name,
            label,
            icon,
            description: None,
            is_system: false,
            is_custom: false,
        }
    }
    pub fn description(mut self, description: &'a str) -> Self {
        self.description = Some(description);
        self
    }
    pub fn system(mut self) -> Self {
        self.is_system = true;
        self
    }
    pub fn custom(mut self) -> Self {
        self.is_custom = true;
        self
    }
}

/// Whether `name` (or the join column it would get) is already used on `object`, counting
/// inactive fields, whose names stay reserved.
fn name_taken(object: &ObjectMetadata, name: &str, many_to_one: bool) -> bool {
    let join = format!("{name}Id");
    object.fields.iter().any(|f| {
        let key = f.storage_key();
        f.name == name || key == name || (many_to_one && (f.name == join || key == join))
    })
}

/// Adds a relation as a pair of fields that point at each other: `many` is the many-to-one
/// side (`kind` is `Relation` or `MorphRelation`; stores `<name>Id`; carries `on_delete`),
/// `one` the one-to-many inverse (always `Relation`). Returns the new field ids
/// `(many_to_one_id, one_to_many_id)`.
pub fn relation_pair(
    model: &mut WorkspaceModel,
    many: RelationEnd,
    one: RelationEnd,
    kind: FieldType,
    on_delete: OnDelete,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<(String, String), String> {
    if !kind.is_relation() {
        return Err(format!("{} is not a relation type", kind.as_str()));
    }
    for end in [&many, &one] {
        if !is_valid_name(end.name) {
            return Err(format!("Invalid field name \"{}\"", end.name));
        }
    }
    if many.object_id == one.object_id && many.name == one.name {
        return Err(format!(
            "A relation needs two distinct fields, got \"{}\" twice",
            many.name
        ));
    }
    let position = |model: &WorkspaceModel, id: &str| {
        model
            .objects
            .iter()
            .position(|o| o.id == id)
            .ok_or_else(|| format!("Object {id} not found"))
    };
    let many_index = position(model, many.object_id)?;
    let one_index = position(model, one.object_id)?;
    // Each name must be free on its object, and on a self-relation must not be the other
    // side's join column.
    for (end, other, index, many_to_one) in [
        (&many, &one, many_index, true),
        (&one, &many, one_index, false),
    ] {
        let object = &model.objects[index];
        if name_taken(object, end.name, many_to_one)
            || (many.object_id == one.object_id && end.name == format!("{}Id", other.name))
        {
            return Err(format!(
                "Field \"{}\" already exists on {}",
                end.name, object.name_singular
            ));
        }
    }

    let many_id = new_id();
    let one_id = new_id();
    let field = |end: &RelationEnd, id: &str, field_type, relation| FieldMetadata {
        id: id.to_string(),
        object_id: end.object_id.to_string(),
        name: end.name.to_string(),
        label: end.label.to_string(),
        field_type,
        description: end.description.map(str::to_string),
        icon: Some(end.icon.to_string()),
        is_nullable: true,
        is_unique: false,
        is_custom: end.is_custom,
        is_system: end.is_system,
        is_active: true,
        default_value: None,
        options: None,
        settings: None,
        relation: Some(relation),
        created_at: now.to_string(),
        updated_at: now.to_string(),
    };
    let many_field = field(
        &many,
        &many_id,
        kind,
        Relation {
            relation_type: RelationType::ManyToOne,
            target_object_id: one.object_id.to_string(),
            target_field_id: one_id.clone(),
            on_delete: Some(on_delete),
        },
    );
    let one_field = field(
        &one,
        &one_id,
        FieldType::Relation,
        Relation {
            relation_type: RelationType::OneToMany,
            target_object_id: many.object_id.to_string(),
            target_field_id: many_id.clone(),
            on_delete: None,
        },
    );
    model.objects[many_index].fields.push(many_field);
    model.objects[one_index].fields.push(one_field);
    Ok((many_id, one_id))
}

/// Makes `object_id` (typically a new custom object) a target of every standard target host
/// present in the model, as Twenty does for custom objects: `noteTarget.target<Singular>`,
/// `taskTarget.target<Singular>`, `attachment.target<Singular>`,
/// `timelineActivity.target<Singular>` (morph relations) and `favorite.<singular>` (favorite's
/// plain relations), each with its one-to-many inverse on the object (`noteTargets`,
/// `taskTargets`, `attachments`, `timelineActivities`, `favorites`). Links that already exist
/// are kept; any other name clash is an error.
pub fn add_standard_targets(
    model: &mut WorkspaceModel,
    object_id: &str,
    now: &str,
    new_id: &mut dyn FnMut() -> String,
) -> Result<(), String> {
    let object = model
        .object_by_id(object_id)
        .ok_or_else(|| format!("Object {object_id} not found"))?
        .clone();
    for host in TARGET_HOSTS {
        let Some(host_object) = model.object(host.object).cloned() else {
            continue;
        };
        if host_object.id == object.id {
            continue;
        }
        let name = host.field_name(&object.name_singular);
        let linked = host_object.fields.iter().any(|f| {
            f.name == name
                && f.relation.as_ref().is_some_and(|r| {
                    r.target_object_id == object.id
                        && object.field_by_id(&r.target_field_id).is_some()
                })
        });
        if linked {
            continue;
        }
        let label = capitalize(&object.name_singular);
        let description = format!("{} target", host_object.label_singular);
        let inverse_label = capitalize(&host_object.label_plural);
        let inverse_description = format!(
            "{} tied to the {}",
            host_object.label_plural,
            object.label_singular.to_lowercase()
        );
        relation_pair(
            model,
            RelationEnd::new(&host_object.id, &name, &label, host.icon)
                .description(&description)
                .system(),
            RelationEnd::new(
                &object.id,
                &host_object.name_plural,
                &inverse_label,
                "IconBuildingSkyscraper",
            )
            .description(&inverse_description)
            .system(),
            host.kind(),
            OnDelete::Cascade,
            now,
            new_id,
        )?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::collections::HashSet;

    pub(crate) const NOW: &str = "2026-01-01T00:00:00.000Z";

    /// Deterministic ids: `00000000-0000-4000-8000-000000000001`, then `…002`, ...
    pub(crate) fn ids() -> impl FnMut() -> String {
        let mut n = 0u64;
        move || {
            n += 1;
            format!("00000000-0000-4000-8000-{n:012x}")
        }
    }

    /// The standard model, with [`ids`].
    pub(crate) fn model() -> WorkspaceModel {
        standard_model(NOW, &mut ids())
    }

    fn field<'a>(m: &'a WorkspaceModel, object: &str, field: &str) -> &'a FieldMetadata {
        m.object(object)
            .unwrap_or_else(|| panic!("no object {object}"))
            .field(field)
            .unwrap_or_else(|| panic!("no field {object}.{field}"))
    }

    /// Every relation points at an existing field that points back, with opposite types.
    pub(crate) fn assert_consistent(m: &WorkspaceModel) {
        let mut all_ids = HashSet::new();
        for o in &m.objects {
            assert!(is_valid_name(&o.name_singular), "{}", o.name_singular);
            assert!(is_valid_name(&o.name_plural), "{}", o.name_plural);
            assert_ne!(o.name_singular, o.name_plural);
            assert!(all_ids.insert(o.id.clone()), "duplicate id {}", o.id);
            let mut names = HashSet::new();
            let mut keys = HashSet::new();
            for f in &o.fields {
                assert_eq!(f.object_id, o.id, "{}.{}", o.name_singular, f.name);
                assert!(is_valid_name(&f.name), "{}.{}", o.name_singular, f.name);
                assert!(
                    names.insert(f.name.clone()),
                    "duplicate {}.{}",
                    o.name_singular,
                    f.name
                );
                assert!(
                    keys.insert(f.storage_key()),
                    "duplicate key {}.{}",
                    o.name_singular,
                    f.name
                );
                assert!(all_ids.insert(f.id.clone()), "duplicate id {}", f.id);
                for opt in f.options.iter().flatten() {
                    assert!(all_ids.insert(opt.id.clone()), "duplicate id {}", opt.id);
                }
                assert_eq!(
                    f.field_type.is_relation(),
                    f.relation.is_some(),
                    "{}.{}",
                    o.name_singular,
                    f.name
                );
                let Some(r) = &f.relation else { continue };
                let (target, inverse) = m
                    .inverse_of(f)
                    .unwrap_or_else(|| panic!("dangling {}.{}", o.name_singular, f.name));
                assert_eq!(target.id, r.target_object_id);
                let back = inverse.relation.as_ref().expect("inverse has a relation");
                assert_eq!(
                    back.target_object_id, o.id,
                    "{}.{}",
                    o.name_singular, f.name
                );
                assert_eq!(back.target_field_id, f.id, "{}.{}", o.name_singular, f.name);
                assert_ne!(back.relation_type, r.relation_type);
                match r.relation_type {
                    RelationType::ManyToOne => assert!(r.on_delete.is_some()),
                    RelationType::OneToMany => {
                        assert!(r.on_delete.is_none());
                        assert_eq!(f.field_type, FieldType::Relation);
                    }
                }
            }
            for identifier in [
                &o.label_identifier_field_name,
                &o.image_identifier_field_name,
            ]
            .into_iter()
            .flatten()
            {
                assert!(
                    o.field(identifier).is_some(),
                    "{}.{identifier}",
                    o.name_singular
                );
            }
        }
    }

    #[test]
    fn standard_model_is_consistent() {
        let m = model();
        let names: Vec<_> = m.objects.iter().map(|o| o.name_singular.as_str()).collect();
        assert_eq!(
            names,
            [
                "person",
                "company",
                "opportunity",
                "note",
                "task",
                "noteTarget",
                "taskTarget",
                "attachment",
                "workspaceMember",
                "favorite",
                "timelineActivity"
            ]
        );
        assert_consistent(&m);
    }

    #[test]
    fn base_fields_everywhere_but_favorite() {
        let m = model();
        for o in &m.objects {
            let expected: &[(&str, FieldType, bool)] = if o.name_singular == "favorite" {
                &[
                    ("id", FieldType::Uuid, false),
                    ("createdAt", FieldType::DateTime, false),
                    ("updatedAt", FieldType::DateTime, false),
                    ("deletedAt", FieldType::DateTime, true),
                    ("position", FieldType::Number, false),
                ]
            } else {
                &[
                    ("id", FieldType::Uuid, false),
                    ("createdAt", FieldType::DateTime, false),
                    ("updatedAt", FieldType::DateTime, false),
                    ("deletedAt", FieldType::DateTime, true),
                    ("createdBy", FieldType::Actor, false),
                    ("updatedBy", FieldType::Actor, false),
                    ("position", FieldType::Position, false),
                    ("searchVector", FieldType::TsVector, true),
                ]
            };
            for (name, t, nullable) in expected {
                let f = o
                    .field(name)
                    .unwrap_or_else(|| panic!("{}.{name}", o.name_singular));
                assert_eq!(f.field_type, *t, "{}.{name}", o.name_singular);
                assert_eq!(f.is_nullable, *nullable, "{}.{name}", o.name_singular);
                assert!(f.is_system, "{}.{name}", o.name_singular);
            }
            if o.name_singular == "favorite" {
                assert!(o.field("createdBy").is_none() && o.field("searchVector").is_none());
            }
        }
    }

    #[test]
    fn defaults_use_twentys_quoting() {
        let m = model();
        let cases: &[(&str, &str, Value)] = &[
            ("person", "id", json!("uuid")),
            ("person", "createdAt", json!("now")),
            ("person", "position", json!(0)),
            (
                "person",
                "createdBy",
                json!({"source": "'MANUAL'", "name": "'System'", "workspaceMemberId": null}),
            ),
            (
                "person",
                "name",
                json!({"firstName": "''", "lastName": "''"}),
            ),
            ("opportunity", "stage", json!("'NEW'")),
            ("task", "status", json!("'TODO'")),
            ("attachment", "fileCategory", json!("'OTHER'")),
            ("workspaceMember", "locale", json!("'en'")),
            ("workspaceMember", "calendarStartDay", json!(7)),
            ("timelineActivity", "happensAt", json!("now")),
            ("favorite", "position", json!(0)),
        ];
        for (object, name, expected) in cases {
            assert_eq!(
                field(&m, object, name).default_value.as_ref(),
                Some(expected),
                "{object}.{name}"
            );
        }
        // No default: userId is required in WorkspaceMemberCreateInput.
        assert_eq!(field(&m, "workspaceMember", "userId").default_value, None);
        assert_eq!(field(&m, "person", "jobTitle").default_value, None);
        assert_eq!(
            field(&m, "opportunity", "stage").default_json(),
            Some(json!("NEW"))
        );
    }

    #[test]
    fn flags_options_and_identifiers() {
        let m = model();
        assert!(field(&m, "person", "emails").is_unique);
        assert!(field(&m, "company", "domainName").is_unique);
        assert!(field(&m, "workspaceMember", "userEmail").is_unique);
        assert!(!field(&m, "opportunity", "stage").is_nullable);
        assert!(field(&m, "task", "status").is_nullable);
        assert!(field(&m, "person", "avatarFile").is_system);
        assert!(!field(&m, "person", "jobTitle").is_system);
        assert_eq!(
            field(&m, "person", "emails").settings,
            Some(json!({"maxNumberOfValues": 1}))
        );
        assert_eq!(
            field(&m, "workspaceMember", "calendarStartDay").settings,
            Some(json!({"dataType": "INT"}))
        );
        let stage = field(&m, "opportunity", "stage");
        assert_eq!(
            stage.option_values(),
            ["NEW", "SCREENING", "MEETING", "PROPOSAL", "CUSTOMER"]
        );
        let options = stage.options.as_ref().unwrap();
        assert_eq!(
            (
                options[2].label.as_str(),
                options[2].color.as_str(),
                options[2].position
            ),
            ("Meeting", "sky", 2)
        );
        assert_eq!(
            field(&m, "workspaceMember", "numberFormat")
                .option_values()
                .len(),
            5
        );
        assert_eq!(
            field(&m, "attachment", "fileCategory")
                .option_values()
                .len(),
            8
        );
        assert_eq!(
            field(&m, "person", "name").icon.as_deref(),
            Some("IconUser")
        );

        for (object, label, image) in [
            ("person", "name", Some("avatarFile")),
            ("company", "name", Some("domainName")),
            ("opportunity", "name", None),
            ("note", "title", None),
            ("task", "title", None),
            ("workspaceMember", "name", Some("avatarUrl")),
        ] {
            let o = m.object(object).unwrap();
            assert_eq!(
                o.label_identifier_field_name.as_deref(),
                Some(label),
                "{object}"
            );
            assert_eq!(o.image_identifier_field_name.as_deref(), image, "{object}");
        }
        assert!(m.object("noteTarget").unwrap().is_system);
        assert!(!m.object("person").unwrap().is_system);
    }

    /// (object, field, type, relation type, target object, inverse field, on delete)
    type RelationCase = (
        &'static str,
        &'static str,
        FieldType,
        RelationType,
        &'static str,
        &'static str,
        Option<OnDelete>,
    );

    #[test]
    fn relations_match_twenty() {
        let m = model();
        // (object, field, type, relation type, target object, inverse field, on delete)
        use FieldType::{MorphRelation as Morph, Relation as Rel};
        use OnDelete::{Cascade, SetNull};
        use RelationType::{ManyToOne as M2O, OneToMany as O2M};
        let cases: &[RelationCase] = &[
            (
                "person",
                "company",
                Rel,
                M2O,
                "company",
                "people",
                Some(SetNull),
            ),
            ("company", "people", Rel, O2M, "person", "company", None),
            (
                "company",
                "accountOwner",
                Rel,
                M2O,
                "workspaceMember",
                "accountOwnerForCompanies",
                Some(SetNull),
            ),
            (
                "opportunity",
                "pointOfContact",
                Rel,
                M2O,
                "person",
                "pointOfContactForOpportunities",
                Some(SetNull),
            ),
            (
                "opportunity",
                "company",
                Rel,
                M2O,
                "company",
                "opportunities",
                Some(SetNull),
            ),
            (
                "opportunity",
                "owner",
                Rel,
                M2O,
                "workspaceMember",
                "ownedOpportunities",
                Some(SetNull),
            ),
            (
                "task",
                "assignee",
                Rel,
                M2O,
                "workspaceMember",
                "assignedTasks",
                Some(SetNull),
            ),
            (
                "noteTarget",
                "note",
                Rel,
                M2O,
                "note",
                "noteTargets",
                Some(Cascade),
            ),
            (
                "taskTarget",
                "task",
                Rel,
                M2O,
                "task",
                "taskTargets",
                Some(Cascade),
            ),
            (
                "noteTarget",
                "targetPerson",
                Morph,
                M2O,
                "person",
                "noteTargets",
                Some(Cascade),
            ),
            (
                "noteTarget",
                "targetCompany",
                Morph,
                M2O,
                "company",
                "noteTargets",
                Some(Cascade),
            ),
            (
                "noteTarget",
                "targetOpportunity",
                Morph,
                M2O,
                "opportunity",
                "noteTargets",
                Some(Cascade),
            ),
            (
                "taskTarget",
                "targetOpportunity",
                Morph,
                M2O,
                "opportunity",
                "taskTargets",
                Some(Cascade),
            ),
            (
                "attachment",
                "targetTask",
                Morph,
                M2O,
                "task",
                "attachments",
                Some(SetNull),
            ),
            (
                "attachment",
                "targetNote",
                Morph,
                M2O,
                "note",
                "attachments",
                Some(SetNull),
            ),
            (
                "attachment",
                "targetCompany",
                Morph,
                M2O,
                "company",
                "attachments",
                Some(Cascade),
            ),
            (
                "timelineActivity",
                "targetPerson",
                Morph,
                M2O,
                "person",
                "timelineActivities",
                Some(Cascade),
            ),
            (
                "timelineActivity",
                "targetOpportunity",
                Morph,
                M2O,
                "opportunity",
                "timelineActivities",
                Some(SetNull),
            ),
            (
                "timelineActivity",
                "workspaceMember",
                Rel,
                M2O,
                "workspaceMember",
                "timelineActivities",
                Some(Cascade),
            ),
            (
                "favorite",
                "forWorkspaceMember",
                Rel,
                M2O,
                "workspaceMember",
                "favorites",
                Some(Cascade),
            ),
            (
                "favorite",
                "person",
                Rel,
                M2O,
                "person",
                "favorites",
                Some(Cascade),
            ),
            (
                "favorite",
                "note",
                Rel,
                M2O,
                "note",
                "favorites",
                Some(Cascade),
            ),
            (
                "person",
                "noteTargets",
                Rel,
                O2M,
                "noteTarget",
                "targetPerson",
                None,
            ),
            (
                "task",
                "attachments",
                Rel,
                O2M,
                "attachment",
                "targetTask",
                None,
            ),
            (
                "note",
                "timelineActivities",
                Rel,
                O2M,
                "timelineActivity",
                "targetNote",
                None,
            ),
            (
                "opportunity",
                "favorites",
                Rel,
                O2M,
                "favorite",
                "opportunity",
                None,
            ),
        ];
        for (object, name, kind, relation_type, target, inverse, on_delete) in cases {
            let f = field(&m, object, name);
            let r = f.relation.as_ref().unwrap();
            assert_eq!(f.field_type, *kind, "{object}.{name}");
            assert_eq!(r.relation_type, *relation_type, "{object}.{name}");
            assert_eq!(r.on_delete, *on_delete, "{object}.{name}");
            let (t, inv) = m.inverse_of(f).unwrap();
            assert_eq!(
                (t.name_singular.as_str(), inv.name.as_str()),
                (*target, *inverse)
            );
        }
        assert_eq!(field(&m, "person", "company").storage_key(), "companyId");
        assert_eq!(
            field(&m, "noteTarget", "targetPerson").storage_key(),
            "targetPersonId"
        );
        // Relations to objects we don't have are skipped.
        let person = m.object("person").unwrap();
        for absent in [
            "messageParticipants",
            "calendarEventParticipants",
            "listMemberships",
        ] {
            assert!(person.field(absent).is_none(), "{absent}");
        }
    }

    #[test]
    fn custom_objects_become_standard_targets() {
        let mut new_id = ids();
        let mut m = standard_model(NOW, &mut new_id);
        let pet = custom_object("pet", "pets", "Pet", "Pets", NOW, &mut new_id);
        let pet_id = pet.id.clone();
        assert!(pet.is_custom);
        assert!(pet.field("name").is_some() && pet.field("searchVector").is_some());
        m.objects.push(pet);
        add_standard_targets(&mut m, &pet_id, NOW, &mut new_id).unwrap();
        assert_consistent(&m);
        for (host, name, inverse, kind) in [
            (
                "noteTarget",
                "targetPet",
                "noteTargets",
                FieldType::MorphRelation,
            ),
            (
                "taskTarget",
                "targetPet",
                "taskTargets",
                FieldType::MorphRelation,
            ),
            (
                "attachment",
                "targetPet",
                "attachments",
                FieldType::MorphRelation,
            ),
            (
                "timelineActivity",
                "targetPet",
                "timelineActivities",
                FieldType::MorphRelation,
            ),
            ("favorite", "pet", "favorites", FieldType::Relation),
        ] {
            let f = field(&m, host, name);
            assert_eq!(f.field_type, kind, "{host}.{name}");
            assert_eq!(
                f.relation.as_ref().unwrap().on_delete,
                Some(OnDelete::Cascade)
            );
            let (target, inv) = m.inverse_of(f).unwrap();
            assert_eq!(
                (target.name_singular.as_str(), inv.name.as_str()),
                ("pet", inverse)
            );
            assert_eq!(target_field_name(host, "pet").as_deref(), Some(name));
        }
        // Idempotent.
        let before = m.clone();
        add_standard_targets(&mut m, &pet_id, NOW, &mut new_id).unwrap();
        assert_eq!(m, before);
        assert!(add_standard_targets(&mut m, "nope", NOW, &mut new_id).is_err());
    }

    #[test]
    fn relation_pair_rejects_clashes() {
        let mut new_id = ids();
        let mut m = standard_model(NOW, &mut new_id);
        let person = m.object("person").unwrap().id.clone();
        let company = m.object("company").unwrap().id.clone();
        let pair =
            |m: &mut WorkspaceModel, many: &str, one: &str, new_id: &mut dyn FnMut() -> String| {
                relation_pair(
                    m,
                    RelationEnd::new(&person, many, "X", "IconX").custom(),
                    RelationEnd::new(&company, one, "Y", "IconY").custom(),
                    FieldType::Relation,
                    OnDelete::SetNull,
                    NOW,
                    new_id,
                )
            };
        for (many, one) in [
            ("company", "employees"),       // field exists
            ("jobTitle", "employees"),      // field exists
            ("employer", "people"),         // inverse exists
            ("employer", "accountOwnerId"), // an existing join column
            ("Employer", "employees"),      // invalid name
        ] {
            assert!(
                pair(&mut m, many, one, &mut new_id).is_err(),
                "{many}/{one}"
            );
        }
        let (a, b) = pair(&mut m, "employer", "employees", &mut new_id).unwrap();
        assert_eq!(field(&m, "person", "employer").id, a);
        assert_eq!(field(&m, "company", "employees").id, b);
        assert!(field(&m, "person", "employer").is_custom);
        assert_consistent(&m);
        assert!(relation_pair(
            &mut m,
            RelationEnd::new(&person, "a", "A", "I"),
            RelationEnd::new(&company, "b", "B", "I"),
            FieldType::Text,
            OnDelete::SetNull,
            NOW,
            &mut new_id,
        )
        .is_err());
    }
}
