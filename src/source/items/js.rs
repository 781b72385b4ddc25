//! How JavaScript, TypeScript and TSX syntax nodes are classified: `function`, `class`, `method`,
//! `interface`, `type`, `enum`, `namespace` and `const`/`let`/`var`, members qualified with `.`.

use tree_sitter::Node;

use super::{Class, Kind, Src, named_children, qualify, with_body, with_members};

pub(super) fn classify<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
    let inner = match node.kind() {
        "export_statement" => match node.child_by_field_name("declaration") {
            Some(d) => d,
            None => {
                return Class::new(if src.of(node).contains(" from ") {
                    Kind::Import
                } else {
                    Kind::Other
                });
            }
        },
        "ambient_declaration" => named_children(node).into_iter().next().unwrap_or(node),
        _ => node,
    };
    let name = src.field(inner, "name").unwrap_or_default();
    let body = inner.child_by_field_name("body");
    let named = |kind: Kind, kw: &str| {
        let mut c = Class::new(kind);
        c.symbols
            .push(format!("{kw} {}", qualify(owner, &name, ".")));
        c
    };
    match inner.kind() {
        "import_statement" => Class::new(Kind::Import),
        "function_declaration" | "generator_function_declaration" => {
            with_body(named(Kind::Function, "function"), src, body)
        }
        "function_signature" => named(Kind::Value, "function"),
        "class_declaration" | "abstract_class_declaration" | "class" => {
            let mut c = with_members(named(Kind::Container, "class"), src, body);
            c.owner = Some(qualify(owner, &name, "."));
            c
        }
        "method_definition" => with_body(named(Kind::Function, "method"), src, body),
        "method_signature" | "abstract_method_signature" => named(Kind::Value, "method"),
        "interface_declaration" => with_members(named(Kind::Record, "interface"), src, body),
        "enum_declaration" => with_members(named(Kind::Record, "enum"), src, body),
        "type_alias_declaration" => named(Kind::Value, "type"),
        "internal_module" | "module" => {
            let mut c = with_members(named(Kind::Container, "namespace"), src, body);
            c.owner = Some(qualify(owner, &name, "."));
            c
        }
        "lexical_declaration" | "variable_declaration" => {
            let kw = src
                .of(inner)
                .split_whitespace()
                .next()
                .unwrap_or("var")
                .to_string();
            let declarators: Vec<Node> = named_children(inner)
                .into_iter()
                .filter(|n| n.kind() == "variable_declarator")
                .collect();
            let mut c = Class::new(Kind::Value);
            for d in &declarators {
                if let Some(n) = d
                    .child_by_field_name("name")
                    .filter(|n| n.kind() == "identifier")
                {
                    c.symbols
                        .push(format!("{kw} {}", qualify(owner, src.of(n), ".")));
                }
            }
            if let [d] = declarators.as_slice() {
                let value = d.child_by_field_name("value");
                let fbody = value.and_then(|v| match v.kind() {
                    "arrow_function"
                    | "function_expression"
                    | "function"
                    | "generator_function" => v.child_by_field_name("body"),
                    _ => None,
                });
                if let Some(b) = fbody.filter(|b| b.kind() == "statement_block") {
                    c.kind = Kind::Function;
                    c.body_byte = Some(src.abs(b));
                }
            }
            c
        }
        "public_field_definition" | "field_definition" => Class::new(Kind::Other),
        _ => Class::new(Kind::Other),
    }
}
