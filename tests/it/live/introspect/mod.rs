//! Reading a live schema back into a [`Shape`](super::shape::Shape)'s tables, per backend.

pub mod mysql;
pub mod postgres;
pub mod sqlite;
