//! Clean e-mail addresses up (workflow 3, step 1: transforming existing data).
//!
//! Sign-ups kept addresses as typed: `Ada@Example.com ` and `ada@example.com` are one person.
//! The fix is code, not SQL: Rust reads every user through a typed sea-query `SELECT`, trims
//! and lowercases the address, and writes back only the rows that change, with bound values.
//! It runs inside the migration's transaction (MySQL/MariaDB: a transaction of its own), so
//! two addresses that collide on the unique index make the whole migration fail and roll back,
//! rather than half of the users being cleaned. `sql` and `up --dry-run` show it as a named
//! step: what the code will write cannot be known before it runs.

use godwit::prelude::*;

pub struct NormalizeUserEmails;

impl Migration for NormalizeUserEmails {
    fn up(&self, s: &mut Schema) {
        s.run("trim and lowercase user emails", |db| {
            Box::pin(async move {
                let select = Query::select()
                    .columns(["id", "email"])
                    .from("users")
                    .to_owned();
                for user in db.fetch_all(&select).await? {
                    let id: i64 = user.get("id")?;
                    let email: String = user.get("email")?;
                    let clean = email.trim().to_lowercase();
                    if clean != email {
                        let update = Query::update()
                            .table("users")
                            .value("email", clean)
                            .and_where(Expr::col("id").eq(id))
                            .to_owned();
                        db.execute(&update).await?;
                    }
                }
                Ok(())
            })
        });
    }

    /// Clean addresses stay clean: rolling back has nothing to undo. (Without this `down`, the
    /// migration could not be rolled back: Rust code has no derived inverse.)
    fn down(&self, _s: &mut Schema) {}
}

godwit::register!(NormalizeUserEmails);
