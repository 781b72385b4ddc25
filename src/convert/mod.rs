//! convert (see DESIGN).
