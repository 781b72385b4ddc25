//! gguf (see DESIGN).
