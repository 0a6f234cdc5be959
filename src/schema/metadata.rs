//! Object and field metadata: the workspace's data model, as Twenty describes it.
//!
//! A workspace's model lives in its actor (tables `_object_metadata`, `_field_metadata`)
//! and is loaded into a [`WorkspaceModel`] from which the `/graphql` schema, SQL and
//! validation are derived.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Twenty's `FieldMetadataType` (twenty-client-sdk 2.43).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FieldType {
    Uuid,
    Text,
    Phones,
    Emails,
    DateTime,
    Date,
    Boolean,
    Number,
    Numeric,
    Links,
    Currency,
    FullName,
    Rating,
    Select,
    MultiSelect,
    Position,
    Address,
    RawJson,
    /// Twenty 2.43's name for what older releases called `RICH_TEXT_V2`.
    #[serde(alias = "RICH_TEXT_V2")]
    RichText,
    Actor,
    Array,
    Relation,
    MorphRelation,
    TsVector,
    Files,
}

impl FieldType {
    pub fn is_composite(self) -> bool {
        crate::schema::composite::subfields(self).is_some()
    }

    /// A relation field: many-to-one ones store `<name>Id`, one-to-many ones store nothing.
    pub fn is_relation(self) -> bool {
        matches!(self, FieldType::Relation | FieldType::MorphRelation)
    }

    /// Types whose values are one of the field's options (a GraphQL enum).
    pub fn is_enum(self) -> bool {
        matches!(
            self,
            FieldType::Select | FieldType::MultiSelect | FieldType::Rating
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FieldType::Uuid => "UUID",
            FieldType::Text => "TEXT",
            FieldType::Phones => "PHONES",
            FieldType::Emails => "EMAILS",
            FieldType::DateTime => "DATE_TIME",
            FieldType::Date => "DATE",
            FieldType::Boolean => "BOOLEAN",
            FieldType::Number => "NUMBER",
            FieldType::Numeric => "NUMERIC",
            FieldType::Links => "LINKS",
            FieldType::Currency => "CURRENCY",
            FieldType::FullName => "FULL_NAME",
            FieldType::Rating => "RATING",
            FieldType::Select => "SELECT",
            FieldType::MultiSelect => "MULTI_SELECT",
            FieldType::Position => "POSITION",
            FieldType::Address => "ADDRESS",
            FieldType::RawJson => "RAW_JSON",
            FieldType::RichText => "RICH_TEXT",
            FieldType::Actor => "ACTOR",
            FieldType::Array => "ARRAY",
            FieldType::Relation => "RELATION",
            FieldType::MorphRelation => "MORPH_RELATION",
            FieldType::TsVector => "TS_VECTOR",
            FieldType::Files => "FILES",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RelationType {
    ManyToOne,
    OneToMany,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OnDelete {
    Cascade,
    SetNull,
    Restrict,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Relation {
    pub relation_type: RelationType,
    pub target_object_id: String,
    /// The inverse field on the target object.
    pub target_field_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_delete: Option<OnDelete>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectOption {
    pub id: String,
    pub label: String,
    pub value: String,
    pub color: String,
    pub position: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    pub id: String,
    pub object_id: String,
    pub name: String,
    pub label: String,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub description: Option<String>,
    pub icon: Option<String>,
    pub is_nullable: bool,
    #[serde(default)]
    pub is_unique: bool,
    #[serde(default)]
    pub is_custom: bool,
    #[serde(default)]
    pub is_system: bool,
    #[serde(default = "yes")]
    pub is_active: bool,
    /// Twenty's defaultValue (JSON; strings are quoted SQL-style in Twenty, e.g. `"'NEW'"`,
    /// and kept that way here for the metadata API; [`FieldMetadata::default_json`] gives
    /// the record value).
    pub default_value: Option<Value>,
    pub options: Option<Vec<SelectOption>>,
    pub settings: Option<Value>,
    pub relation: Option<Relation>,
    pub created_at: String,
    pub updated_at: String,
}

fn yes() -> bool {
    true
}

impl FieldMetadata {
    /// Many-to-one relation (a stored foreign key `<name>Id`).
    pub fn is_many_to_one(&self) -> bool {
        self.field_type.is_relation()
            && self
                .relation
                .as_ref()
                .is_some_and(|r| r.relation_type == RelationType::ManyToOne)
    }

    pub fn is_one_to_many(&self) -> bool {
        self.field_type.is_relation()
            && self
                .relation
                .as_ref()
                .is_some_and(|r| r.relation_type == RelationType::OneToMany)
    }

    /// The key under which the record stores this field (`companyId` for `company`).
    pub fn storage_key(&self) -> String {
        if self.is_many_to_one() {
            format!("{}Id", self.name)
        } else {
            self.name.clone()
        }
    }

    /// The default as a record value: Twenty writes string defaults SQL-quoted (`"'NEW'"`),
    /// composite defaults as objects of such strings, and `"uuid"`/`"now"` as generators.
    pub fn default_json(&self) -> Option<Value> {
        self.default_value.as_ref().map(unquote_default)
    }

    pub fn option_values(&self) -> Vec<&str> {
        self.options
            .iter()
            .flatten()
            .map(|o| o.value.as_str())
            .collect()
    }
}

fn unquote_default(v: &Value) -> Value {
    match v {
        Value::String(s) if s.len() >= 2 && s.starts_with('\'') && s.ends_with('\'') => {
            Value::String(s[1..s.len() - 1].to_string())
        }
        Value::Array(items) => Value::Array(items.iter().map(unquote_default).collect()),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), unquote_default(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMetadata {
    pub id: String,
    pub name_singular: String,
    pub name_plural: String,
    pub label_singular: String,
    pub label_plural: String,
    pub description: Option<String>,
    pub icon: Option<String>,
    #[serde(default = "yes")]
    pub is_active: bool,
    #[serde(default)]
    pub is_custom: bool,
    #[serde(default)]
    pub is_system: bool,
    #[serde(default)]
    pub is_searchable: bool,
    pub label_identifier_field_name: Option<String>,
    pub image_identifier_field_name: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub fields: Vec<FieldMetadata>,
}

impl ObjectMetadata {
    pub fn field(&self, name: &str) -> Option<&FieldMetadata> {
        self.fields.iter().find(|f| f.name == name && f.is_active)
    }

    pub fn field_by_id(&self, id: &str) -> Option<&FieldMetadata> {
        self.fields.iter().find(|f| f.id == id)
    }

    /// The field stored under `key` (`companyId` finds the `company` relation).
    pub fn field_by_storage_key(&self, key: &str) -> Option<&FieldMetadata> {
        self.fields
            .iter()
            .filter(|f| f.is_active)
            .find(|f| f.storage_key() == key)
    }

    pub fn active_fields(&self) -> impl Iterator<Item = &FieldMetadata> {
        self.fields.iter().filter(|f| f.is_active)
    }

    /// The SQLite table holding this object's records.
    pub fn table(&self) -> String {
        table_name(&self.id)
    }
}

/// Tables are named after the object's id, so renaming an object never touches storage.
pub fn table_name(object_id: &str) -> String {
    format!("rec_{}", object_id.replace('-', ""))
}

/// A workspace's whole data model.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceModel {
    pub objects: Vec<ObjectMetadata>,
}

impl WorkspaceModel {
    pub fn object(&self, name_singular: &str) -> Option<&ObjectMetadata> {
        self.objects
            .iter()
            .find(|o| o.name_singular == name_singular && o.is_active)
    }

    pub fn object_by_plural(&self, name_plural: &str) -> Option<&ObjectMetadata> {
        self.objects
            .iter()
            .find(|o| o.name_plural == name_plural && o.is_active)
    }

    pub fn object_by_id(&self, id: &str) -> Option<&ObjectMetadata> {
        self.objects.iter().find(|o| o.id == id)
    }

    pub fn active_objects(&self) -> impl Iterator<Item = &ObjectMetadata> {
        self.objects.iter().filter(|o| o.is_active)
    }

    /// The object a relation field points to.
    pub fn target_of(&self, field: &FieldMetadata) -> Option<&ObjectMetadata> {
        field
            .relation
            .as_ref()
            .and_then(|r| self.object_by_id(&r.target_object_id))
    }

    /// The inverse of a relation field.
    pub fn inverse_of(&self, field: &FieldMetadata) -> Option<(&ObjectMetadata, &FieldMetadata)> {
        let r = field.relation.as_ref()?;
        let target = self.object_by_id(&r.target_object_id)?;
        let inverse = target.field_by_id(&r.target_field_id)?;
        Some((target, inverse))
    }
}

/// Valid names for objects and fields: Twenty's rule (camelCase, starting with a letter,
/// letters and digits only). Names end up in GraphQL, JSON paths and SQL, so this is also
/// what keeps them safe to embed.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_alphanumeric())
        && name.len() <= 63
}

/// `capitalize` as Twenty's name helpers do it (first letter up, the rest untouched).
pub fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_types_use_twentys_names() {
        for (t, s) in [
            (FieldType::DateTime, "DATE_TIME"),
            (FieldType::RawJson, "RAW_JSON"),
            (FieldType::TsVector, "TS_VECTOR"),
            (FieldType::MultiSelect, "MULTI_SELECT"),
            (FieldType::Uuid, "UUID"),
            (FieldType::RichText, "RICH_TEXT"),
        ] {
            assert_eq!(serde_json::to_value(t).unwrap(), s);
            assert_eq!(t.as_str(), s);
        }
        let legacy: FieldType = serde_json::from_value("RICH_TEXT_V2".into()).unwrap();
        assert_eq!(legacy, FieldType::RichText);
    }

    #[test]
    fn defaults_are_unquoted() {
        let check = |raw: Value, expected: Value| assert_eq!(unquote_default(&raw), expected);
        check("'NEW'".into(), "NEW".into());
        check("now".into(), "now".into());
        check(
            serde_json::json!({"firstName": "''", "lastName": "'x'"}),
            serde_json::json!({"firstName": "", "lastName": "x"}),
        );
        check(7.into(), 7.into());
    }

    #[test]
    fn names() {
        for ok in ["person", "myObject2", "a"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "Person", "my_object", "a-b", "1a", "a\"b", "a.b"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        assert_eq!(capitalize("noteTarget"), "NoteTarget");
    }
}
