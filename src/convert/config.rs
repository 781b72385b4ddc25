//! `config.json` (Hugging Face style) and `genai_config.json` (ONNX Runtime GenAI) for a
//! converted model.

use serde_json::{Value, json};

use super::spec::ModelSpec;

/// `config.json`: the model's hyperparameters under the Hugging Face names.
pub fn hf_config(spec: &ModelSpec) -> Value {
    let arch = match spec.family {
        super::spec::Family::Llama => "LlamaForCausalLM",
        super::spec::Family::Qwen2 => "Qwen2ForCausalLM",
    };
    json!({
        "architectures": [arch],
        "model_type": spec.family.name(),
        "hidden_size": spec.hidden,
        "intermediate_size": spec.intermediate,
        "num_hidden_layers": spec.n_layers,
        "num_attention_heads": spec.n_heads,
        "num_key_value_heads": spec.n_kv_heads,
        "head_dim": spec.head_dim,
        "vocab_size": spec.vocab,
        "max_position_embeddings": spec.context_length,
        "rope_theta": spec.rope_theta,
        "rms_norm_eps": spec.rms_eps,
        "bos_token_id": spec.bos_token_id,
        "eos_token_id": spec.eos_token_id,
        "pad_token_id": spec.pad_token_id,
        "tie_word_embeddings": spec.tied_embeddings,
        "hidden_act": "silu",
    })
}

/// `genai_config.json`: what ONNX Runtime GenAI needs to run the decoder.
pub fn genai_config(spec: &ModelSpec) -> Value {
    let eos = spec.eos_token_id.unwrap_or(0);
    json!({
        "model": {
            "bos_token_id": spec.bos_token_id.unwrap_or(eos),
            "context_length": spec.context_length,
            "decoder": {
                "session_options": { "log_id": "onnxruntime-genai", "provider_options": [] },
                "filename": "model.onnx",
                "head_size": spec.head_dim,
                "hidden_size": spec.hidden,
                "inputs": {
                    "input_ids": "input_ids",
                    "attention_mask": "attention_mask",
                    "past_key_names": "past_key_values.%d.key",
                    "past_value_names": "past_key_values.%d.value"
                },
                "outputs": {
                    "logits": "logits",
                    "present_key_names": "present.%d.key",
                    "present_value_names": "present.%d.value"
                },
                "num_attention_heads": spec.n_heads,
                "num_hidden_layers": spec.n_layers,
                "num_key_value_heads": spec.n_kv_heads
            },
            "eos_token_id": eos,
            "pad_token_id": spec.pad_token_id.unwrap_or(eos),
            "type": spec.family.name(),
            "vocab_size": spec.vocab
        },
        "search": {
            "diversity_penalty": 0.0,
            "do_sample": false,
            "early_stopping": true,
            "length_penalty": 1.0,
            "max_length": spec.context_length,
            "min_length": 0,
            "no_repeat_ngram_size": 0,
            "num_beams": 1,
            "num_return_sequences": 1,
            "past_present_share_buffer": true,
            "repetition_penalty": 1.0,
            "temperature": 1.0,
            "top_k": 1,
            "top_p": 1.0
        }
    })
}
