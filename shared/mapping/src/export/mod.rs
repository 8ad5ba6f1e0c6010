//! The daily export, the pure part.
