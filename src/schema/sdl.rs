//! Builds an executable async-graphql dynamic schema from SDL text.
//!
//! Both GraphQL endpoints are SDL-first: `/metadata` from Twenty's published schema
//! (`generated/twenty-metadata.graphql`), `/graphql` from SDL generated per workspace
//! out of its object metadata. Root fields (of `Query`, `Mutation`) call one
//! [`RootResolver`] that returns JSON; every nested field is read from its parent's value by
//! name (or alias), so a root resolver computes the whole answer in one go (no N+1).

use async_graphql::dynamic::{
    Enum, EnumItem, Field, FieldFuture, FieldValue, InputObject, InputValue, Interface,
    InterfaceField, Object, ResolverContext, Scalar, Schema, SchemaBuilder, Subscription,
    SubscriptionField, SubscriptionFieldFuture, TypeRef, Union,
};
use async_graphql::parser::types::{
    BaseType, ConstDirective, FieldDefinition, InputValueDefinition, Type, TypeKind,
    TypeSystemDefinition,
};
use async_graphql::{Name, Value};
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::StreamExt;
use std::collections::HashSet;
use std::sync::Arc;

/// Resolves one root field. Gets the field's context (arguments, selection, request data)
/// and returns the field's whole value as GraphQL value.
pub type RootResolver = Arc<
    dyn for<'a> Fn(&'a ResolverContext<'a>) -> BoxFuture<'a, async_graphql::Result<Value>>
        + Send
        + Sync,
>;

/// Resolves one root field of `Subscription`: the stream of the field's values (each one
/// answered through the field's selection like a root field's answer). An `Err` before the
/// stream starts is the subscription's one error response.
pub type SubscriptionResolver = Arc<
    dyn for<'a> Fn(
            ResolverContext<'a>,
        ) -> BoxFuture<
            'a,
            async_graphql::Result<BoxStream<'a, async_graphql::Result<Value>>>,
        > + Send
        + Sync,
>;

/// Parses `sdl` and builds a schema whose root fields call `root`, and whose
/// `Subscription` fields (if `subscription` is given; otherwise the type is left out) call
/// `subscription`.
///
/// Returns the builder so callers can add limits and data before `finish()`.
pub fn build(
    sdl: &str,
    root: RootResolver,
    subscription_resolver: Option<SubscriptionResolver>,
) -> Result<SchemaBuilder, String> {
    let doc = async_graphql::parser::parse_schema(sdl).map_err(|e| format!("SDL: {e}"))?;
    let mut query = "Query".to_string();
    let mut mutation = None;
    let mut subscription_type = None;
    let mut roots_declared = false;
    for def in &doc.definitions {
        if let TypeSystemDefinition::Schema(s) = def {
            roots_declared = true;
            if let Some(q) = &s.node.query {
                query = q.node.to_string();
            }
            mutation = s.node.mutation.as_ref().map(|m| m.node.to_string());
            subscription_type = s.node.subscription.as_ref().map(|m| m.node.to_string());
        }
    }
    let type_names: HashSet<String> = doc
        .definitions
        .iter()
        .filter_map(|d| match d {
            TypeSystemDefinition::Type(t) => Some(t.node.name.node.to_string()),
            _ => None,
        })
        .collect();
    if !roots_declared && type_names.contains("Mutation") {
        mutation = Some("Mutation".to_string());
    }
    if !roots_declared && type_names.contains("Subscription") {
        subscription_type = Some("Subscription".to_string());
    }
    // Without a resolver, subscriptions are left out of the schema.
    let subscription = subscription_type.zip(subscription_resolver);
    // Fields of these types answer their value as-is: a JSON scalar holding a list or an
    // object is still one value, not a list of objects to resolve.
    let mut leaf_types: HashSet<String> = ["String", "Int", "Float", "Boolean", "ID"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for def in &doc.definitions {
        if let TypeSystemDefinition::Type(t) = def {
            if matches!(t.node.kind, TypeKind::Scalar | TypeKind::Enum(_)) {
                leaf_types.insert(t.node.name.node.to_string());
            }
        }
    }
    let roots: HashSet<String> = [Some(query.clone()), mutation.clone()]
        .into_iter()
        .flatten()
        .collect();

    let mut builder = Schema::build(
        &query,
        mutation.as_deref(),
        subscription.as_ref().map(|(name, _)| name.as_str()),
    );
    for def in &doc.definitions {
        let TypeSystemDefinition::Type(t) = def else {
            continue;
        };
        let t = &t.node;
        let name = t.name.node.to_string();
        if let TypeKind::Object(o) = &t.kind {
            if let Some((sub_name, resolver)) = subscription.as_ref().filter(|(n, _)| *n == name) {
                let mut sub = Subscription::new(sub_name);
                for f in &o.fields {
                    sub = sub.field(subscription_field(&f.node, resolver, &leaf_types));
                }
                builder = builder.register(sub);
                continue;
            }
            if name == "Subscription" {
                continue;
            }
        }
        let description = node_text(&t.description);
        builder = match &t.kind {
            TypeKind::Scalar => builder.register(described(
                Scalar::new(&name),
                description,
                Scalar::description,
            )),
            TypeKind::Enum(e) => {
                let mut en = Enum::new(&name);
                for v in &e.values {
                    let item = EnumItem::new(v.node.value.node.to_string());
                    en = en.item(deprecated(item, &v.node.directives, EnumItem::deprecation));
                }
                builder.register(described(en, description, Enum::description))
            }
            TypeKind::InputObject(io) => {
                let mut obj = InputObject::new(&name);
                for f in &io.fields {
                    obj = obj.field(input_value(&f.node));
                }
                builder.register(described(obj, description, InputObject::description))
            }
            TypeKind::Object(o) => {
                let is_root = roots.contains(&name);
                let mut obj = Object::new(&name);
                for f in &o.fields {
                    obj = obj.field(output_field(&f.node, is_root, &root, &leaf_types));
                }
                for i in &o.implements {
                    obj = obj.implement(i.node.to_string());
                }
                builder.register(described(obj, description, Object::description))
            }
            TypeKind::Interface(i) => {
                let mut iface = Interface::new(&name);
                for f in &i.fields {
                    let mut field = InterfaceField::new(
                        f.node.name.node.to_string(),
                        type_ref(&f.node.ty.node),
                    );
                    for a in &f.node.arguments {
                        field = field.argument(input_value(&a.node));
                    }
                    iface = iface.field(field);
                }
                builder.register(iface)
            }
            TypeKind::Union(u) => {
                let mut un = Union::new(&name);
                for m in &u.members {
                    un = un.possible_type(m.node.to_string());
                }
                builder.register(un)
            }
        };
    }
    Ok(builder)
}

/// `t` with `description` set, when the definition has one (`set` is the type's
/// `description` builder method).
fn described<T>(t: T, description: Option<String>, set: fn(T, String) -> T) -> T {
    match description {
        Some(d) => set(t, d),
        None => t,
    }
}

/// `t` marked deprecated (`set` is the type's `deprecation` builder method) when the
/// definition carries `@deprecated`.
fn deprecated<T>(
    t: T,
    directives: &[async_graphql::Positioned<ConstDirective>],
    set: fn(T, Option<&str>) -> T,
) -> T {
    match deprecation(directives) {
        Some(reason) => set(t, Some(&reason)),
        None => t,
    }
}

fn deprecation(directives: &[async_graphql::Positioned<ConstDirective>]) -> Option<String> {
    directives
        .iter()
        .find(|d| d.node.name.node == "deprecated")
        .map(|d| {
            d.node
                .get_argument("reason")
                .and_then(|r| match &r.node {
                    Value::String(s) => Some(s.clone()),
                    _ => None,
                })
                .unwrap_or_else(|| "No longer supported".to_string())
        })
}

pub fn type_ref(ty: &Type) -> TypeRef {
    let base = match &ty.base {
        BaseType::Named(name) => TypeRef::Named(name.to_string().into()),
        BaseType::List(inner) => TypeRef::List(Box::new(type_ref(inner))),
    };
    if ty.nullable {
        base
    } else {
        TypeRef::NonNull(Box::new(base))
    }
}

fn input_value(def: &InputValueDefinition) -> InputValue {
    let mut v = InputValue::new(def.name.node.to_string(), type_ref(&def.ty.node));
    if let Some(default) = &def.default_value {
        v = v.default_value(default.node.clone());
    }
    described(v, node_text(&def.description), InputValue::description)
}

fn node_text(text: &Option<async_graphql::Positioned<String>>) -> Option<String> {
    text.as_ref().map(|d| d.node.clone())
}

fn output_field(
    def: &FieldDefinition,
    is_root: bool,
    root: &RootResolver,
    leaf_types: &HashSet<String>,
) -> Field {
    let name = def.name.node.to_string();
    let ty = type_ref(&def.ty.node);
    let leaf = leaf_types.contains(base_name(&def.ty.node));
    let mut field = if is_root {
        let root = root.clone();
        // A failed nullable root field answers null beside its error, leaving the other
        // root fields' data in place (`{"data": {"person": null}, "errors": [...]}`).
        let nullable = !matches!(ty, TypeRef::NonNull(_));
        Field::new(name, ty, move |ctx| {
            let root = root.clone();
            FieldFuture::new(async move {
                match root(&ctx).await {
                    Ok(value) => Ok(into_field_value(value, leaf)),
                    Err(e) if nullable => {
                        let err = ctx.set_error_path(e.into_server_error(ctx.item.pos));
                        ctx.add_error(err);
                        Ok(None)
                    }
                    Err(e) => Err(e),
                }
            })
        })
    } else {
        Field::new(name.clone(), ty, move |ctx| {
            FieldFuture::Value(read_from_parent(&ctx, &name, leaf))
        })
    };
    for a in &def.arguments {
        field = field.argument(input_value(&a.node));
    }
    let field = deprecated(field, &def.directives, Field::deprecation);
    described(field, node_text(&def.description), Field::description)
}

/// A root field of `Subscription`: every value of the resolver's stream is answered
/// through the field's selection, like a root field's JSON answer.
fn subscription_field(
    def: &FieldDefinition,
    resolver: &SubscriptionResolver,
    leaf_types: &HashSet<String>,
) -> SubscriptionField {
    let leaf = leaf_types.contains(base_name(&def.ty.node));
    let resolver = resolver.clone();
    let mut field = SubscriptionField::new(
        def.name.node.to_string(),
        type_ref(&def.ty.node),
        move |ctx| {
            let values = resolver(ctx);
            SubscriptionFieldFuture::new(async move {
                let values = values.await?;
                Ok(values.map(move |v| v.map(|v| subscription_value(v, leaf))))
            })
        },
    );
    for a in &def.arguments {
        field = field.argument(input_value(&a.node));
    }
    field
}

/// A subscription's value as the field value its selection reads (the same conversion as
/// root fields' answers).
fn subscription_value<'a>(value: Value, leaf: bool) -> FieldValue<'a> {
    into_field_value(value, leaf).unwrap_or(FieldValue::NULL)
}

/// The default resolver: the parent's entry for this field's response key (alias, so one
/// root resolver can answer the same field twice with different arguments), else its name.
/// Objects and lists are lent to the children, not copied: a 60-row connection would
/// otherwise be deep-copied once per level of nesting.
fn read_from_parent<'a>(
    ctx: &ResolverContext<'a>,
    name: &str,
    leaf: bool,
) -> Option<FieldValue<'a>> {
    let parent: &'a FieldValue<'a> = ctx.parent_value;
    let Some(Value::Object(parent)) = parent.as_value().or_else(|| parent.downcast_ref::<Value>())
    else {
        return None;
    };
    let alias = ctx.ctx.item.node.alias.as_ref().map(|a| a.node.as_str());
    let value = alias
        .and_then(|a| parent.get(a))
        .or_else(|| parent.get(name))?;
    lend_field_value(value, leaf)
}

/// [`into_field_value`] for a value the parent owns: leaves are copied (they are what the
/// response is made of), objects are borrowed.
fn lend_field_value<'a>(value: &'a Value, leaf: bool) -> Option<FieldValue<'a>> {
    match value {
        Value::Null => None,
        v if leaf => Some(FieldValue::value(v.clone())),
        Value::Object(map) => {
            let fv = FieldValue::borrowed_any(value);
            Some(match map.get("__typename") {
                Some(Value::String(t)) => fv.with_type(t.clone()),
                _ => fv,
            })
        }
        Value::List(items) => {
            Some(FieldValue::list(items.iter().map(|v| {
                lend_field_value(v, false).unwrap_or(FieldValue::NULL)
            })))
        }
        other => Some(FieldValue::value(other.clone())),
    }
}

/// The named type at the bottom of list and non-null wrappers.
fn base_name(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => base_name(inner),
    }
}

/// `null` is "no value" (the executor reports a non-null violation if the type forbids it);
/// a leaf (scalar or enum) value is answered whole; an object carrying `__typename`
/// resolves as that concrete type (unions, interfaces).
fn into_field_value<'a>(value: Value, leaf: bool) -> Option<FieldValue<'a>> {
    match value {
        Value::Null => None,
        v if leaf => Some(FieldValue::value(v)),
        Value::Object(ref map) => {
            let ty = match map.get("__typename") {
                Some(Value::String(t)) => Some(t.clone()),
                _ => None,
            };
            let fv = FieldValue::value(value);
            Some(match ty {
                Some(t) => fv.with_type(t),
                None => fv,
            })
        }
        Value::List(items) => {
            Some(FieldValue::list(items.into_iter().map(|v| {
                into_field_value(v, false).unwrap_or(FieldValue::NULL)
            })))
        }
        other => Some(FieldValue::value(other)),
    }
}

/// A JSON value as a GraphQL value (objects keep their key order).
pub fn from_json(v: serde_json::Value) -> Value {
    Value::from_json(v).unwrap_or(Value::Null)
}

/// Convenience for resolvers: the JSON object `v` with `name` set.
pub fn name(s: &str) -> Name {
    Name::new(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::FutureExt;
    use serde_json::json;

    const SDL: &str = r#"
        schema { query: Query mutation: Mutation }
        scalar UUID
        enum Color { RED GREEN }
        input Paint { color: Color! }
        scalar JSON
        type Pet { id: UUID! name: String color: Color tags: [String!]! friends: [Pet!] extra: JSON }
        type Query { pet(id: UUID!): Pet  pets: [Pet!]! }
        type Mutation { paint(input: Paint!, shade: Int = 3): Pet! }
    "#;

    fn schema() -> Schema {
        let root: RootResolver = Arc::new(|ctx| {
            async move {
                let field = ctx.field().name();
                let pet = json!({"id": "p1", "name": "Rex", "color": "RED", "tags": ["a"],
                                 "extra": [{"k": 1}, 2],
                                 "friends": [{"id": "p2", "name": null, "color": "GREEN", "tags": [],
                                              "extra": {"deep": [true]}}]});
                Ok(match field {
                    "pet" => {
                        let id = ctx.args.try_get("id")?.string()?.to_string();
                        if id == "p1" { from_json(pet) } else { Value::Null }
                    }
                    "pets" => from_json(json!([pet])),
                    "paint" => {
                        let input = ctx.args.try_get("input")?.object()?;
                        let color = input.try_get("color")?.enum_name()?.to_string();
                        let shade = ctx.args.try_get("shade")?.i64()?;
                        from_json(json!({"id": "p1", "name": format!("{color}{shade}"), "tags": []}))
                    }
                    _ => Value::Null,
                })
            }
            .boxed()
        });
        build(SDL, root, None).unwrap().finish().unwrap()
    }

    fn run(q: &str) -> serde_json::Value {
        let resp = futures::executor::block_on(schema().execute(q));
        serde_json::to_value(resp).unwrap()
    }

    #[test]
    fn nested_values_come_from_the_root_answer() {
        let r = run(r#"{ pet(id: "p1") { name color tags friends { id name color } } }"#);
        assert_eq!(
            r["data"],
            json!({"pet": {"name": "Rex", "color": "RED", "tags": ["a"],
                           "friends": [{"id": "p2", "name": null, "color": "GREEN"}]}})
        );
        // JSON scalars answer lists and objects whole.
        let r = run(r#"{ pet(id: "p1") { extra friends { extra } } }"#);
        assert_eq!(
            r["data"],
            json!({"pet": {"extra": [{"k": 1}, 2], "friends": [{"extra": {"deep": [true]}}]}}),
            "{r}"
        );
        let r = run(r#"{ pet(id: "nope") { name } }"#);
        assert_eq!(r["data"], json!({"pet": null}));
        let r = run(r#"{ pet(id: 5) { name } pets { name } }"#);
        assert!(r["errors"].is_array(), "{r}");
    }

    #[test]
    fn arguments_enums_and_defaults() {
        let r = run(r#"mutation { paint(input: {color: GREEN}) { name } }"#);
        assert_eq!(r["data"]["paint"]["name"], "GREEN3", "{r}");
    }

    #[test]
    fn validation_uses_the_sdl() {
        let r = run(r#"{ pet(id: "p1") { nope } }"#);
        assert!(
            r["errors"][0]["message"].as_str().unwrap().contains("nope"),
            "{r}"
        );
        let r = run(r#"mutation { paint(input: {color: BLUE}) { name } }"#);
        assert!(r["errors"].is_array(), "{r}");
    }
}
