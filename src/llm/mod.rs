//! llm (see DESIGN).
