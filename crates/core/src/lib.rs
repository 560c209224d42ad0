//! securescore's core: the vocabulary every layer shares (`domain`) and the scoring rules
//! (`scoring`). It reads no database, runs nothing async and knows no HTTP; the crates above
//! it load, store and serve. See `docs/design.md`, "Crates and layers".

pub mod domain;
pub mod scoring;
