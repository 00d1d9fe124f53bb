//! `docs/safety-rules.md`.
