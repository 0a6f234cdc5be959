//! Composite field types and their sub-fields (`twenty-shared/types/composite-types`).
//!
//! A composite value is stored as a nested JSON object under the field's name
//! (`{"name": {"firstName": "Ada", "lastName": "Lovelace"}}`).

use super::metadata::FieldType;

/// Whether a sub-field appears in create/update inputs (Actor's `name` and
/// `workspaceMemberId` are server-filled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hidden {
    No,
    /// Not writable, but readable, filterable and sortable.
    Input,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubField {
    pub name: &'static str,
    pub field_type: FieldType,
    pub is_required: bool,
    pub hidden: Hidden,
    /// `''` counts as NULL in filters (Twenty's null-equivalence for text sub-fields).
    pub empty_is_null: bool,
    /// `[]` counts as NULL (array-like sub-fields).
    pub empty_array_is_null: bool,
}

const fn text(name: &'static str) -> SubField {
    SubField {
        name,
        field_type: FieldType::Text,
        is_required: false,
        hidden: Hidden::No,
        empty_is_null: true,
        empty_array_is_null: false,
    }
}

const fn json_list(name: &'static str) -> SubField {
    SubField {
        name,
        field_type: FieldType::RawJson,
        is_required: false,
        hidden: Hidden::No,
        empty_is_null: false,
        empty_array_is_null: true,
    }
}

const fn of(name: &'static str, field_type: FieldType) -> SubField {
    SubField {
        name,
        field_type,
        is_required: false,
        hidden: Hidden::No,
        empty_is_null: false,
        empty_array_is_null: false,
    }
}

const FULL_NAME: &[SubField] = &[text("firstName"), text("lastName")];
const LINKS: &[SubField] = &[
    text("primaryLinkLabel"),
    text("primaryLinkUrl"),
    json_list("secondaryLinks"),
];
const EMAILS: &[SubField] = &[text("primaryEmail"), json_list("additionalEmails")];
const PHONES: &[SubField] = &[
    text("primaryPhoneNumber"),
    text("primaryPhoneCountryCode"),
    text("primaryPhoneCallingCode"),
    json_list("additionalPhones"),
];
const CURRENCY: &[SubField] = &[
    of("amountMicros", FieldType::Numeric),
    SubField {
        empty_is_null: false,
        ..text("currencyCode")
    },
];
const ADDRESS: &[SubField] = &[
    text("addressStreet1"),
    text("addressStreet2"),
    text("addressCity"),
    text("addressPostcode"),
    text("addressState"),
    text("addressCountry"),
    of("addressLat", FieldType::Numeric),
    of("addressLng", FieldType::Numeric),
];
const ACTOR: &[SubField] = &[
    SubField {
        is_required: true,
        ..of("source", FieldType::Select)
    },
    SubField {
        hidden: Hidden::Input,
        ..of("workspaceMemberId", FieldType::Uuid)
    },
    SubField {
        is_required: true,
        hidden: Hidden::Input,
        ..text("name")
    },
    of("context", FieldType::RawJson),
];
const RICH_TEXT: &[SubField] = &[
    SubField {
        empty_is_null: false,
        ..text("blocknote")
    },
    text("markdown"),
];

/// The sub-fields of a composite type, or `None` for other types.
pub fn subfields(t: FieldType) -> Option<&'static [SubField]> {
    Some(match t {
        FieldType::FullName => FULL_NAME,
        FieldType::Links => LINKS,
        FieldType::Emails => EMAILS,
        FieldType::Phones => PHONES,
        FieldType::Currency => CURRENCY,
        FieldType::Address => ADDRESS,
        FieldType::Actor => ACTOR,
        FieldType::RichText => RICH_TEXT,
        _ => return None,
    })
}

pub fn subfield(t: FieldType, name: &str) -> Option<&'static SubField> {
    subfields(t)?.iter().find(|s| s.name == name)
}

/// GraphQL type-name stem of a composite type (`FullName`, `RichText`, ...).
pub fn type_name(t: FieldType) -> &'static str {
    match t {
        FieldType::FullName => "FullName",
        FieldType::Links => "Links",
        FieldType::Emails => "Emails",
        FieldType::Phones => "Phones",
        FieldType::Currency => "Currency",
        FieldType::Address => "Address",
        FieldType::Actor => "Actor",
        FieldType::RichText => "RichText",
        _ => "",
    }
}

/// `ActorSourceEnum` values.
pub const ACTOR_SOURCES: &[&str] = &[
    "EMAIL",
    "CALENDAR",
    "WORKFLOW",
    "AGENT",
    "API",
    "IMPORT",
    "MANUAL",
    "SYSTEM",
    "WEBHOOK",
    "APPLICATION",
];

/// The sub-fields that make up a phone's number (without `additionalPhones`).
pub const PHONE_NUMBER: &[&str] = &[
    "primaryPhoneNumber",
    "primaryPhoneCountryCode",
    "primaryPhoneCallingCode",
];

/// Sub-fields whose concatenation an aggregate counts as "the value" of the composite
/// (`getSubfieldsForAggregateOperation`).
pub fn aggregate_subfields(t: FieldType) -> &'static [&'static str] {
    match t {
        FieldType::Currency => &["amountMicros", "currencyCode"],
        FieldType::FullName => &["firstName", "lastName"],
        FieldType::Address => &[
            "addressStreet1",
            "addressStreet2",
            "addressCity",
            "addressPostcode",
            "addressState",
            "addressCountry",
            "addressLat",
            "addressLng",
        ],
        FieldType::Links => &["primaryLinkUrl"],
        FieldType::Actor => &["workspaceMemberId", "source"],
        FieldType::Emails => &["primaryEmail"],
        FieldType::Phones => PHONE_NUMBER,
        FieldType::RichText => &["blocknote", "markdown"],
        _ => &[],
    }
}
