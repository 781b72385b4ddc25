//! How C and C++ syntax nodes are classified: `function`, `struct`, `union`, `enum`, `typedef`,
//! `#define`, and in C++ `class` and `namespace`, members qualified with `::`.

use tree_sitter::Node;

use super::{Class, Kind, Src, named_children, qualify, with_body, with_members};

/// The declared name under a C declarator (`*f(int)` is `f`).
fn c_declarator_name<'n>(mut node: Node<'n>, src: &'n Src) -> Option<(String, bool)> {
    let mut is_function = false;
    for _ in 0..16 {
        if node.kind() == "function_declarator" {
            is_function = true;
        }
        match node.child_by_field_name("declarator") {
            Some(d) => node = d,
            None => {
                let t = src.of(node);
                return (!t.is_empty()).then(|| (t.split_whitespace().collect(), is_function));
            }
        }
    }
    None
}

pub(super) fn classify<'t>(node: Node<'t>, src: &Src, owner: Option<&str>, cpp: bool) -> Class<'t> {
    let body = node.child_by_field_name("body");
    match node.kind() {
        "preproc_include" | "using_declaration" => Class::new(Kind::Import),
        "preproc_def" | "preproc_function_def" => {
            let mut c = Class::new(Kind::Value);
            c.symbols.push(format!(
                "#define {}",
                src.field(node, "name").unwrap_or_default()
            ));
            c
        }
        "preproc_ifdef" | "preproc_if" | "preproc_else" | "preproc_elif" | "preproc_elifdef" => {
            let skip: Vec<Node> = ["name", "condition"]
                .iter()
                .filter_map(|f| node.child_by_field_name(f))
                .collect();
            let members: Vec<Node> = named_children(node)
                .into_iter()
                .filter(|n| !skip.contains(n))
                .collect();
            let mut c = Class::new(Kind::Container);
            c.body_byte = members.first().map(|m| src.abs(*m));
            c.members = Some(members);
            c
        }
        "linkage_specification" => with_members(Class::new(Kind::Container), src, body),
        "namespace_definition" => {
            let name = src.field(node, "name").unwrap_or_default();
            let mut c = with_members(Class::new(Kind::Container), src, body);
            c.symbols
                .push(format!("namespace {}", qualify(owner, &name, "::")));
            c.owner = Some(qualify(owner, &name, "::"));
            c
        }
        "template_declaration" => {
            let inner = named_children(node)
                .into_iter()
                .rfind(|n| n.kind() != "template_parameter_list");
            match inner {
                Some(i) => classify(i, src, owner, cpp),
                None => Class::new(Kind::Other),
            }
        }
        "function_definition" => {
            let mut c = with_body(Class::new(Kind::Function), src, body);
            if let Some(d) = node.child_by_field_name("declarator")
                && let Some((name, _)) = c_declarator_name(d, src)
            {
                c.symbols
                    .push(format!("function {}", qualify(owner, &name, "::")));
            }
            c
        }
        "struct_specifier" | "union_specifier" | "enum_specifier" | "class_specifier" => {
            let kw = node.kind().trim_end_matches("_specifier");
            let name = src.field(node, "name").unwrap_or_default();
            let container = cpp && kw != "enum";
            let mut c = with_members(
                Class::new(if container {
                    Kind::Container
                } else {
                    Kind::Record
                }),
                src,
                body,
            );
            if !name.is_empty() {
                c.symbols
                    .push(format!("{kw} {}", qualify(owner, &name, "::")));
                if container {
                    c.owner = Some(qualify(owner, &name, "::"));
                }
            }
            c
        }
        "declaration" | "type_definition" | "field_declaration" => {
            let ty = node.child_by_field_name("type");
            let with_body_type = ty.filter(|t| t.child_by_field_name("body").is_some());
            let mut c = match with_body_type {
                Some(t) if node.kind() != "field_declaration" || cpp => {
                    let mut inner = classify(t, src, owner, cpp);
                    if node.kind() == "type_definition" {
                        inner.symbols.clear();
                    }
                    inner
                }
                _ => Class::new(Kind::Value),
            };
            let mut cursor = node.walk();
            for d in node.children_by_field_name("declarator", &mut cursor) {
                if let Some((name, is_fn)) = c_declarator_name(d, src) {
                    if node.kind() == "type_definition" {
                        c.symbols.push(format!("typedef {name}"));
                    } else if is_fn {
                        c.symbols
                            .push(format!("function {}", qualify(owner, &name, "::")));
                    }
                }
            }
            c
        }
        _ => Class::new(Kind::Other),
    }
}
