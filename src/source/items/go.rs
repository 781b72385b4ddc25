//! How Go syntax nodes are classified: `func` (methods qualified by their receiver type with `.`),
//! `type`, `const` and `var`.

use tree_sitter::Node;

use super::{Class, Kind, Src, bare_type, named_children, qualify, with_body};

pub(super) fn classify<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
    let name = src.field(node, "name").unwrap_or_default();
    let body = node.child_by_field_name("body");
    match node.kind() {
        "import_declaration" => Class::new(Kind::Import),
        "package_clause" => Class::new(Kind::Value),
        "function_declaration" => {
            let mut c = with_body(Class::new(Kind::Function), src, body);
            c.symbols
                .push(format!("func {}", qualify(owner, &name, ".")));
            c
        }
        "method_declaration" => {
            let recv = node
                .child_by_field_name("receiver")
                .map(|r| src.of(r).trim_matches(['(', ')']).to_string())
                .unwrap_or_default();
            let ty = bare_type(recv.split_whitespace().last().unwrap_or(""));
            let mut c = with_body(Class::new(Kind::Function), src, body);
            c.symbols
                .push(format!("func {}", qualify(Some(&ty), &name, ".")));
            c
        }
        "type_declaration" => {
            let specs: Vec<Node> = named_children(node)
                .into_iter()
                .filter(|n| matches!(n.kind(), "type_spec" | "type_alias"))
                .collect();
            let mut c = Class::new(Kind::Value);
            for s in &specs {
                let n = src.field(*s, "name").unwrap_or_default();
                c.symbols.push(format!("type {}", qualify(owner, &n, ".")));
            }
            if let [spec] = specs.as_slice() {
                let ty = spec.child_by_field_name("type");
                let fields = ty.and_then(|t| match t.kind() {
                    "struct_type" => named_children(t)
                        .into_iter()
                        .find(|k| k.kind() == "field_declaration_list"),
                    "interface_type" => Some(t),
                    _ => None,
                });
                if let Some(f) = fields {
                    c.kind = Kind::Record;
                    c.body_byte = Some(src.abs(f));
                    c.members = Some(named_children(f));
                }
            }
            c
        }
        "const_declaration" | "var_declaration" => {
            let kw = if node.kind() == "const_declaration" {
                "const"
            } else {
                "var"
            };
            let mut c = Class::new(Kind::Value);
            let mut specs = named_children(node);
            if let Some(list) = specs.iter().find(|n| n.kind() == "var_spec_list") {
                specs = named_children(*list);
            }
            for s in specs {
                if matches!(s.kind(), "const_spec" | "var_spec") {
                    for n in named_children(s) {
                        if n.kind() == "identifier" {
                            c.symbols.push(format!("{kw} {}", src.of(n)));
                        }
                    }
                }
            }
            c
        }
        _ => Class::new(Kind::Other),
    }
}
