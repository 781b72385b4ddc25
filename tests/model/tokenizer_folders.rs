//! Model folders as the hub and other exporters lay them out: where special ids, flags and chat
//! templates come from, and how templates run.

use crate::tokenizer_data;

use std::path::Path;

use isg::convert::tokenizer_files::write_tokenizer_files_from_metadata;
use isg::llm::{CHATML_TEMPLATE, ChatError, ChatMessage, TextTokenizer, TextTokenizerError};
use serde_json::json;

/// A folder with the synthetic SentencePiece tokenizer and nothing else but `tokenizer.json`.
fn bare_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tokenizer_files_from_metadata(&tokenizer_data::spm_metadata(), dir.path()).unwrap();
    std::fs::remove_file(dir.path().join("tokenizer_config.json")).unwrap();
    dir
}

fn write(dir: &Path, name: &str, value: serde_json::Value) {
    std::fs::write(dir.join(name), serde_json::to_string(&value).unwrap()).unwrap();
}

#[test]
fn eos_ids_are_collected_from_every_config_file() {
    let dir = bare_folder();
    write(
        dir.path(),
        "tokenizer_config.json",
        json!({"eos_token": {"content": "</s>"}}),
    );
    write(
        dir.path(),
        "config.json",
        json!({"eos_token_id": [2, 5], "bos_token_id": 1}),
    );
    write(
        dir.path(),
        "generation_config.json",
        json!({"eos_token_id": 6}),
    );
    write(
        dir.path(),
        "genai_config.json",
        json!({"model": {"eos_token_id": [7, 2], "context_length": 4096, "pad_token_id": 0}}),
    );
    let tok = TextTokenizer::load(dir.path()).unwrap();
    assert_eq!(tok.eos_ids(), &[2, 5, 6, 7]);
    assert!(tok.is_eos(6) && !tok.is_eos(1));
    assert_eq!(tok.bos_id(), Some(1));
    assert_eq!(tok.pad_id(), Some(0));
    assert_eq!(tok.model_max_length(), Some(4096));
    assert_eq!(tok.eos_token(), Some("</s>"));
}

#[test]
fn bos_follows_the_flag_else_the_post_processor() {
    let dir = bare_folder();
    // No tokenizer_config.json: the post-processor in tokenizer.json adds <s>.
    write(
        dir.path(),
        "config.json",
        json!({"bos_token_id": 1, "eos_token_id": 2}),
    );
    let tok = TextTokenizer::load(dir.path()).unwrap();
    assert!(tok.add_bos());
    assert_eq!(tok.encode("hello", true).unwrap()[0], 1);
    assert_ne!(tok.encode("hello", false).unwrap()[0], 1);

    write(
        dir.path(),
        "tokenizer_config.json",
        json!({"bos_token": "<s>", "add_bos_token": false}),
    );
    let tok = TextTokenizer::load(dir.path()).unwrap();
    assert!(!tok.add_bos());
    assert_ne!(tok.encode("hello", true).unwrap()[0], 1);
}

#[test]
fn a_template_that_writes_bos_gets_no_second_one() {
    let dir = bare_folder();
    write(
        dir.path(),
        "tokenizer_config.json",
        json!({
            "bos_token": "<s>", "eos_token": "</s>", "add_bos_token": true,
            "chat_template": "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}{{ eos_token }}{% endfor %}"
        }),
    );
    let tok = TextTokenizer::load(dir.path()).unwrap();
    let ids = tok.encode_chat(&[ChatMessage::user("hello")]).unwrap();
    assert_eq!(ids[0], 1);
    assert_ne!(ids[1], 1);
    assert_eq!(ids.iter().filter(|&&i| i == 1).count(), 1);
    assert_eq!(
        *ids.last().unwrap(),
        2,
        "</s> written by the template is parsed as its id"
    );

    // A template without BOS still gets exactly one when the model wants it.
    std::fs::write(
        dir.path().join("chat_template.jinja"),
        "{{ messages[0]['content'] }}",
    )
    .unwrap();
    let tok = TextTokenizer::load(dir.path()).unwrap();
    let ids = tok.encode_chat(&[ChatMessage::user("hello")]).unwrap();
    assert_eq!(ids.iter().filter(|&&i| i == 1).count(), 1);
    assert_eq!(ids[0], 1);
}

#[test]
fn chatml_is_used_when_the_folder_has_no_template() {
    let dir = bare_folder();
    let tok = TextTokenizer::load(dir.path()).unwrap();
    assert!(tok.uses_fallback_chat_template());
    let text = tok
        .apply_chat_template(&[ChatMessage::system("S"), ChatMessage::user("U")], true)
        .unwrap();
    assert_eq!(
        text,
        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    );
    assert!(CHATML_TEMPLATE.contains("add_generation_prompt"));
}

#[test]
fn hub_template_idioms_render() {
    let dir = bare_folder();
    let template = r#"{%- if messages[0]['role'] == 'system' %}{%- set sys = messages[0]['content'].strip() %}{%- set rest = messages[1:] %}{%- else %}{%- set sys = 'default' %}{%- set rest = messages %}{%- endif %}
[{{ sys }}]
{% for m in rest %}
{%- if m['role'] not in ['user', 'assistant'] %}{{ raise_exception('Unknown role: ' + m['role']) }}{% endif %}
{%- if m['content'].startswith('STOP') %}{% break %}{% endif %}
{{ m['role'].upper() }} {{ m['content'] | tojson }}
{% endfor %}
{%- if add_generation_prompt %}ASSISTANT{% endif %}
{{ {'a': [1, 'é<b>'], 'n': none} | tojson }}"#;
    std::fs::write(dir.path().join("chat_template.jinja"), template).unwrap();
    let tok = TextTokenizer::load(dir.path()).unwrap();
    let text = tok
        .apply_chat_template(
            &[
                ChatMessage::system("  be brief  "),
                ChatMessage::user("say \"hi\""),
                ChatMessage::assistant("hi"),
                ChatMessage::user("STOP here"),
                ChatMessage::user("never shown"),
            ],
            true,
        )
        .unwrap();
    assert_eq!(
        text,
        "[be brief]\nUSER \"say \\\"hi\\\"\"\nASSISTANT \"hi\"\nASSISTANT{\"a\": [1, \"é<b>\"], \"n\": null}"
    );

    let err = tok
        .apply_chat_template(&[ChatMessage::new("tool", "x")], false)
        .unwrap_err();
    assert!(matches!(err, ChatError::Render(_)));
    assert!(err.to_string().contains("Unknown role: tool"), "{err}");
}

#[test]
fn broken_folders_are_typed_errors() {
    let empty = tempfile::tempdir().unwrap();
    match TextTokenizer::load(empty.path()) {
        Err(TextTokenizerError::Missing(p)) => assert!(p.ends_with("tokenizer.json")),
        other => panic!("{other:?}"),
    }

    let dir = bare_folder();
    std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
    assert!(matches!(
        TextTokenizer::load(dir.path()),
        Err(TextTokenizerError::Json { .. })
    ));

    let dir = bare_folder();
    std::fs::write(dir.path().join("tokenizer.json"), "{}").unwrap();
    assert!(matches!(
        TextTokenizer::load(dir.path()),
        Err(TextTokenizerError::Load { .. })
    ));

    let dir = bare_folder();
    std::fs::write(dir.path().join("chat_template.jinja"), "{% for %}").unwrap();
    let tok = TextTokenizer::load(dir.path()).unwrap();
    assert!(matches!(
        tok.apply_chat_template(&[], true),
        Err(ChatError::Syntax(_))
    ));
}
