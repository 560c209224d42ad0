//! Claiming a job row, renewing its lease and writing it only while the claim holds.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, UpdateMany,
};

/// A table whose rows are jobs: each has an id, a claim token and a lease end, and says which
/// of its rows may be claimed now.
pub trait JobTable: EntityTrait {
    /// The `i64` primary key.
    const ID: Self::Column;
    /// Set to a fresh token by each claim; every write of a claimed row filters on it.
    const CLAIM_TOKEN: Self::Column;
    /// Until when the claim holds; a row past it is claimable again.
    const LEASE_UNTIL: Self::Column;
    /// Claims are taken oldest first by this column.
    const ORDER: Self::Column;
    /// Counted up by each claim, when the table counts claims (a job that counts its own
    /// attempts leaves it to its `run`).
    const CLAIMS: Option<Self::Column>;

    /// The rows that may be claimed at `now`: due, or claimed with a lease that lapsed.
    fn claimable(now: DateTime<Utc>) -> Condition;

    /// What a claim sets besides the token, the lease and the count (a status, the replica).
    fn mark_claimed(
        update: UpdateMany<Self>,
        replica: &str,
        now: DateTime<Utc>,
    ) -> UpdateMany<Self>;

    /// A row's id.
    fn id_of(model: &Self::Model) -> i64;
}

/// A claimed row and the token that proves the claim.
#[derive(Clone, Debug)]
pub struct Claimed<T: JobTable> {
    /// The row as claimed (the claim's own count included).
    pub job: T::Model,
    token: String,
    lease: Duration,
}

/// Claims the oldest claimable row of `T` for `replica`, for `lease`; `None` when none is.
pub async fn claim_next<T: JobTable>(
    db: &impl ConnectionTrait,
    replica: &str,
    lease: Duration,
) -> Result<Option<Claimed<T>>, DbErr> {
    let now = Utc::now();
    let candidate = Query::select()
        .column((T::default(), T::ID))
        .from(T::default())
        .cond_where(T::claimable(now))
        .order_by((T::default(), T::ORDER), Order::Asc)
        .limit(1)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .to_owned();
    let token = uuid::Uuid::new_v4().to_string();
    let mut update = T::update_many()
        .col_expr(T::CLAIM_TOKEN, Expr::value(token.clone()))
        .col_expr(T::LEASE_UNTIL, Expr::value(now + lease));
    if let Some(claims) = T::CLAIMS {
        update = update.col_expr(claims, Expr::col(claims).add(1));
    }
    let claimed = T::mark_claimed(update, replica, now)
        .filter(Expr::col((T::default(), T::ID)).in_subquery(candidate))
        .exec(db)
        .await?;
    if claimed.rows_affected == 0 {
        return Ok(None);
    }
    Ok(T::find()
        .filter(T::CLAIM_TOKEN.eq(token.clone()))
        .one(db)
        .await?
        .map(|job| Claimed { job, token, lease }))
}

impl<T: JobTable> Claimed<T> {
    /// The claimed row's id.
    pub fn id(&self) -> i64 {
        T::id_of(&self.job)
    }

    /// Applies `update` to the claimed row if the claim still holds; false when another
    /// replica took the row over (nothing was written then).
    pub async fn finish_if_claimed(
        &self,
        conn: &impl ConnectionTrait,
        update: UpdateMany<T>,
    ) -> Result<bool, DbErr> {
        let written = update
            .filter(T::ID.eq(self.id()))
            .filter(T::CLAIM_TOKEN.eq(self.token.clone()))
            .exec(conn)
            .await?;
        Ok(written.rows_affected == 1)
    }

    /// `update` that also gives the claim back: no token, no lease.
    pub fn released(update: UpdateMany<T>) -> UpdateMany<T> {
        update
            .col_expr(T::CLAIM_TOKEN, Expr::value(Option::<String>::None))
            .col_expr(T::LEASE_UNTIL, Expr::value(Option::<DateTime<Utc>>::None))
    }

    /// Extends the lease from now, if the claim still holds (inside a write's transaction,
    /// this fences the write: it commits only while the claim is ours).
    pub async fn renew(&self, conn: &impl ConnectionTrait) -> Result<bool, DbErr> {
        let update =
            T::update_many().col_expr(T::LEASE_UNTIL, Expr::value(Utc::now() + self.lease));
        self.finish_if_claimed(conn, update).await
    }

    /// Renews the lease every third of it until the claim is lost, and then answers why;
    /// raced against the job's work by jobs that do not renew inside their writes.
    pub async fn keep_lease(&self, conn: &impl ConnectionTrait) -> String {
        let every = (self.lease / 3)
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1));
        loop {
            tokio::time::sleep(every).await;
            match self.renew(conn).await {
                Ok(true) => {}
                Ok(false) => return "the claim was taken over".into(),
                Err(err) => {
                    tracing::warn!(job = self.id(), error = %err, "renewing a lease failed; trying again")
                }
            }
        }
    }
}

/// Pauses between a job's failed attempts; after the last the job is given up.
#[derive(Clone, Copy, Debug)]
pub struct Backoff(pub &'static [std::time::Duration]);

impl Backoff {
    /// The pause after `attempts` failed attempts, or `None` when that was the last.
    pub fn after(&self, attempts: i32) -> Option<Duration> {
        let done = usize::try_from(attempts).ok()?.checked_sub(1)?;
        self.0
            .get(done)
            .map(|pause| Duration::from_std(*pause).unwrap_or(Duration::MAX))
    }

    /// How many attempts the schedule allows.
    pub fn attempts(&self) -> i32 {
        i32::try_from(self.0.len() + 1).unwrap_or(i32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::Backoff;
    use std::time::Duration;

    const SCHEDULE: Backoff = Backoff(&[Duration::from_secs(2), Duration::from_secs(10)]);

    #[test]
    fn each_failed_attempt_waits_its_pause_and_the_last_gives_up() {
        assert_eq!(SCHEDULE.after(1), Some(chrono::Duration::seconds(2)));
        assert_eq!(SCHEDULE.after(2), Some(chrono::Duration::seconds(10)));
        assert_eq!(SCHEDULE.after(3), None);
        assert_eq!(SCHEDULE.after(0), None);
        assert_eq!(SCHEDULE.attempts(), 3);
    }
}
