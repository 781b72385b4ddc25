//! What a syntax node is, per language: its [`Kind`], the names it defines, where its body
//! starts, and its members.
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
use super::outline::{Kind, is_comment_node, is_doc_syntax, named_children};

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
        Language::Rust => rust(node, &src, owner),
        Language::Python => python(node, &src, owner),
        Language::Go => go(node, &src, owner),
        Language::JavaScript | Language::TypeScript | Language::Tsx => js(node, &src, owner),
        Language::C | Language::Cpp => c(node, &src, owner, language == Language::Cpp),
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
    let t = t.strip_prefix("mut ").unwrap_or(t);
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

fn rust<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
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

fn python<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
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

fn go<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
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

fn js<'t>(node: Node<'t>, src: &Src, owner: Option<&str>) -> Class<'t> {
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

fn c<'t>(node: Node<'t>, src: &Src, owner: Option<&str>, cpp: bool) -> Class<'t> {
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
                Some(i) => c(i, src, owner, cpp),
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
                    let mut inner = self::c(t, src, owner, cpp);
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
