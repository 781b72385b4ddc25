//! pipeline (see DESIGN).
