//! source (see DESIGN).
