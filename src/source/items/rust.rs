//! How Rust syntax nodes are classified: `fn`, `struct`, `enum`, `union`, `trait`, `type`, `const`,
//! `static`, `mod`, `macro`; impl blocks named `impl Type` or `impl Trait for Type` (generic
//! arguments dropped), their members qualified by the type with `::`; braced macro bodies parsed
//! again as items.

use tree_sitter::Node;

use super::{Class, Kind, Src, bare_type, named_children, qualify, with_body, with_members};

pub(super) fn classify<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
    let name = |n: Node| src.field(n, "name").unwrap_or_default();
    let named = |kind: Kind, kw: &str, n: Node| {
        let mut c = Class::new(kind);
        c.symbols
            .push(format!("{kw} {}", qualify(owner, &name(n), "::")));
        c
    };
    let body = node.child_by_field_name("body");
    match node.kind() {
        "attribute_item" | "inner_attribute_item" => Class::new(Kind::Attribute),
        "use_declaration" | "extern_crate_declaration" => Class::new(Kind::Import),
        "function_item" => with_body(named(Kind::Function, "fn", node), src, body),
        "function_signature_item" => named(Kind::Value, "fn", node),
        "struct_item" => with_members(named(Kind::Record, "struct", node), src, body),
        "enum_item" => with_members(named(Kind::Record, "enum", node), src, body),
        "union_item" => with_members(named(Kind::Record, "union", node), src, body),
        "type_item" => named(Kind::Value, "type", node),
        "const_item" => named(Kind::Value, "const", node),
        "static_item" => named(Kind::Value, "static", node),
        "macro_definition" => {
            let mut c = Class::new(Kind::Macro);
            c.symbols.push(format!("macro {}!", name(node)));
            c
        }
        "trait_item" => {
            let mut c = with_members(named(Kind::Container, "trait", node), src, body);
            c.owner = Some(qualify(owner, &name(node), "::"));
            c
        }
        "mod_item" if body.is_some() => {
            let mut c = with_members(named(Kind::Container, "mod", node), src, body);
            c.owner = Some(qualify(owner, &name(node), "::"));
            c
        }
        "mod_item" => named(Kind::Value, "mod", node),
        "foreign_mod_item" => with_members(Class::new(Kind::Container), src, body),
        "impl_item" => {
            let ty = bare_type(&src.field(node, "type").unwrap_or_default());
            let symbol = match src.field(node, "trait") {
                Some(tr) => format!("impl {} for {ty}", bare_type(&tr)),
                None => format!("impl {ty}"),
            };
            let mut c = with_members(Class::new(Kind::Container), src, body);
            c.symbols.push(symbol);
            c.owner = Some(ty.rsplit("::").next().unwrap_or(&ty).to_string());
            c
        }
        "macro_invocation" => {
            let tt = named_children(node)
                .into_iter()
                .find(|n| n.kind() == "token_tree");
            match tt {
                Some(tt)
                    if src.of(tt).starts_with('{')
                        && tt.end_position().row > tt.start_position().row =>
                {
                    let mut c = Class::new(Kind::Container);
                    let a = src.abs(tt) + 1;
                    let b = (src.base + tt.end_byte()).saturating_sub(1).max(a);
                    c.body_byte = Some(src.abs(tt));
                    c.reparse = Some((a, b));
                    c
                }
                _ => Class::new(Kind::Other),
            }
        }
        _ => Class::new(Kind::Other),
    }
}
