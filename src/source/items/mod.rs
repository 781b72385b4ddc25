//! What a syntax node is, per language: its [`Kind`], the names it defines, where its body
//! starts, and its members. [`classify`] takes a tree-sitter node and returns a [`Class`]; the
//! rules of each language family live in a file of their own (`rust.rs`, `python.rs`, `go.rs`,
//! `js.rs` for JavaScript, TypeScript and TSX, `c.rs` for C and C++), and the node helpers the
//! outline shares with them ([`named_children`], [`is_comment_node`], [`is_doc_syntax`]) here.
//!
//! Item names read `<keyword> <name>`, with the language's own keyword (`fn`, `struct`, `enum`,
//! `union`, `trait`, `type`, `const`, `static`, `mod`, `macro` in Rust; `def`, `class` in
//! Python; `func`, `type`, `const`, `var` in Go; `function`, `class`, `method`, `interface`,
//! `type`, `enum`, `namespace`, `const`/`let`/`var` in JavaScript and TypeScript; `function`,
//! `struct`, `union`, `enum`, `typedef`, `#define`, `class`, `namespace` in C and C++). Members
//! are qualified by their owner: `fn JoinHandle::poll` (Rust and C++ use `::`), `def
//! Runtime.close` (the others use `.`). A Rust impl block is named `impl Type` or `impl Trait for
//! Type`, generic arguments dropped (`impl<T> Future for JoinHandle<T>` is
//! `impl Future for JoinHandle`), and its members are qualified by the type (`JoinHandle`).

use tree_sitter::Node;

use super::Language;

mod c;
mod go;
mod js;
mod python;
mod rust;

/// What an outline item is, as far as chunking and the views care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A comment that is not documentation.
    Comment,
    /// A doc comment (or a Python docstring).
    DocComment,
    /// An attribute or decorator standing before an item.
    Attribute,
    /// `use`, `import`, `#include`: dropped from the interface view.
    Import,
    /// An item whose members are items: impl, trait, mod, class, namespace, macro body.
    Container,
    /// An item with a body that the interface view elides.
    Function,
    /// A struct, enum, union or interface whose fields the interface view keeps compactly.
    Record,
    /// A type alias, constant, static, declaration: shown whole when short.
    Value,
    /// A macro definition.
    Macro,
    /// Anything else (statements, expressions, fields).
    Other,
}

/// What [`classify`] found out about a node.
pub(crate) struct Class<'t> {
    pub kind: Kind,
    pub symbols: Vec<String>,
    /// Absolute byte where the body starts.
    pub body_byte: Option<usize>,
    /// Member nodes (containers, records).
    pub members: Option<Vec<Node<'t>>>,
    /// An absolute byte range to parse again as items (macro bodies).
    pub reparse: Option<(usize, usize)>,
    /// The owner name that qualifies members.
    pub owner: Option<String>,
    /// A Python docstring node inside the body.
    pub docstring: Option<Node<'t>>,
}

impl<'t> Class<'t> {
    fn new(kind: Kind) -> Class<'t> {
        Class {
            kind,
            symbols: Vec::new(),
            body_byte: None,
            members: None,
            reparse: None,
            owner: None,
            docstring: None,
        }
    }
}

/// Node text, with `base` the absolute byte where the node's tree starts.
struct Src<'s> {
    text: &'s str,
    base: usize,
}

impl Src<'_> {
    fn of(&self, node: Node) -> &str {
        self.text
            .get(self.base + node.start_byte()..self.base + node.end_byte())
            .unwrap_or("")
    }
    fn field(&self, node: Node, field: &str) -> Option<String> {
        node.child_by_field_name(field)
            .map(|n| self.of(n).split_whitespace().collect::<Vec<_>>().join(" "))
    }
    fn abs(&self, node: Node) -> usize {
        self.base + node.start_byte()
    }
}

/// Classifies `node`; `owner` qualifies the names of members.
pub(crate) fn classify<'t>(
    language: Language,
    node: Node<'t>,
    text: &str,
    base: usize,
    owner: Option<&str>,
) -> Class<'t> {
    let src = Src { text, base };
    if is_comment_node(node.kind()) {
        let doc = language != Language::Python && is_doc_syntax(src.of(node));
        return Class::new(if doc { Kind::DocComment } else { Kind::Comment });
    }
    match language {
        Language::Rust => rust::classify(node, &src, owner),
        Language::Python => python::classify(node, &src, owner),
        Language::Go => go::classify(node, &src, owner),
        Language::JavaScript | Language::TypeScript | Language::Tsx => {
            js::classify(node, &src, owner)
        }
        Language::C | Language::Cpp => c::classify(node, &src, owner, language == Language::Cpp),
        Language::Text => Class::new(Kind::Other),
    }
}

fn qualify(owner: Option<&str>, name: &str, sep: &str) -> String {
    match owner {
        Some(o) if !o.is_empty() => format!("{o}{sep}{name}"),
        _ => name.to_string(),
    }
}

/// A type name without generic arguments, references or pointers.
fn bare_type(t: &str) -> String {
    let t = t.trim_start_matches(['&', '*', ' ']);
    // A reference's lifetime (`&'a mut T`) is not part of the type's name.
    let t = match t.strip_prefix('\'') {
        Some(rest) => rest
            .split_once(' ')
            .map_or(t, |(_, after)| after.trim_start()),
        None => t,
    };
    let t = t.strip_prefix("mut ").unwrap_or(t);
    let t = t.strip_prefix("const ").unwrap_or(t);
    let t = t.strip_prefix("dyn ").unwrap_or(t);
    let cut = t.find(['<', '[', '(']).unwrap_or(t.len());
    t[..cut].trim().to_string()
}

fn with_body<'t>(mut class: Class<'t>, src: &Src, body: Option<Node<'t>>) -> Class<'t> {
    if let Some(b) = body {
        class.body_byte = Some(src.abs(b));
    }
    class
}

fn with_members<'t>(mut class: Class<'t>, src: &Src, body: Option<Node<'t>>) -> Class<'t> {
    if let Some(b) = body {
        class.body_byte = Some(src.abs(b));
        class.members = Some(named_children(b));
    }
    class
}

/// The named children of a node.
pub(crate) fn named_children(node: Node) -> Vec<Node> {
    let mut cursor = node.walk();
    node.named_children(&mut cursor).collect()
}

/// Whether a node kind is a comment in any supported grammar.
pub(crate) fn is_comment_node(kind: &str) -> bool {
    matches!(kind, "comment" | "line_comment" | "block_comment")
}

/// Whether comment text is documentation by its syntax alone.
pub(crate) fn is_doc_syntax(text: &str) -> bool {
    let t = text.trim_start();
    (t.starts_with("///") && !t.starts_with("////"))
        || t.starts_with("//!")
        || (t.starts_with("/**") && !t.starts_with("/***") && !t.starts_with("/**/"))
        || t.starts_with("/*!")
}

#[cfg(test)]
mod tests {
    use super::bare_type;

    #[test]
    fn a_type_name_loses_references_lifetimes_and_generics() {
        assert_eq!(bare_type("&'a mut Serializer<W, F>"), "Serializer");
        assert_eq!(bare_type("&'static str"), "str");
        assert_eq!(bare_type("&mut Vec<u8>"), "Vec");
        assert_eq!(bare_type("*const Header"), "Header");
        assert_eq!(bare_type("dyn Fn(u8)"), "Fn");
        assert_eq!(bare_type("JoinHandle<T>"), "JoinHandle");
    }
}
