//! Delete the comments whose body is blank (workflow 4: a migration that cannot be rolled back).
//!
//! An old form accepted comments made of spaces. They carry nothing, and are deleted. Deleted
//! rows cannot be brought back by code, so the migration says so: `down` refuses with this
//! reason, and `plan` and `status` show it before anyone deploys it. To undo it, restore the
//! rows from the backup taken before the deploy.

use godwit::prelude::*;

pub struct DeleteEmptyComments;

impl Migration for DeleteEmptyComments {
    fn up(&self, s: &mut Schema) {
        s.delete("comments")
            .filter(Func::cust("TRIM").arg(col("body")).eq(""));
        s.irreversible(
            "deleted comments cannot be recreated; restore them from the backup taken before the deploy",
        );
    }
}

godwit::register!(DeleteEmptyComments);
