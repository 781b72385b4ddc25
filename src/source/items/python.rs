//! How Python syntax nodes are classified: `def` and `class`, members qualified with `.`; a body's
//! first bare string is its docstring.

use tree_sitter::Node;

use super::{Class, Kind, Src, is_comment_node, named_children, qualify, with_body, with_members};

/// The docstring node of a Python body (its first statement, if a bare string).
fn py_docstring(body: Node) -> Option<Node> {
    let first = named_children(body)
        .into_iter()
        .find(|n| !is_comment_node(n.kind()))?;
    is_py_docstring(first).then_some(first)
}

fn is_py_docstring(node: Node) -> bool {
    node.kind() == "expression_statement"
        && node.named_child_count() == 1
        && node
            .named_child(0)
            .is_some_and(|c| matches!(c.kind(), "string" | "concatenated_string"))
}

pub(super) fn classify<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
    let def = if node.kind() == "decorated_definition" {
        node.child_by_field_name("definition").unwrap_or(node)
    } else {
        node
    };
    let name = src.field(def, "name").unwrap_or_default();
    let body = def.child_by_field_name("body");
    match def.kind() {
        "import_statement" | "import_from_statement" | "future_import_statement" => {
            Class::new(Kind::Import)
        }
        "function_definition" => {
            let mut c = with_body(Class::new(Kind::Function), src, body);
            c.symbols
                .push(format!("def {}", qualify(owner, &name, ".")));
            c.docstring = body.and_then(py_docstring);
            c
        }
        "class_definition" => {
            let mut c = with_members(Class::new(Kind::Container), src, body);
            c.symbols
                .push(format!("class {}", qualify(owner, &name, ".")));
            c.owner = Some(qualify(owner, &name, "."));
            c
        }
        "decorator" => Class::new(Kind::Attribute),
        _ if is_py_docstring(def) => Class::new(Kind::DocComment),
        _ => Class::new(Kind::Other),
    }
}
