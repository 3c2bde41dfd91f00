use super::*;

fn kind_str(k: PrincipalKind) -> &'static str {
    k.as_str()
}

const SUBJECT_COLS: &str = "id, kind, name, display_name, email, password_hash, totp_secret, totp_enrolled, \
     totp_last_step, failed_attempts, locked_until, disabled, oidc_issuer, oidc_subject, created_at";

fn subject(row: &dyn Columns) -> Result<SubjectRecord> {
    let id: String = row.col("id")?;
    let kind: String = row.col("kind")?;
    Ok(SubjectRecord {
        id: SubjectId::parse(&id).map_err(|e| bad("subject", e))?,
        kind: if kind == "service" { PrincipalKind::Service } else { PrincipalKind::Human },
        name: row.col("name")?,
        display_name: row.col("display_name")?,
        email: row.col("email")?,
        password_hash: row.col("password_hash")?,
        totp_secret: row.col("totp_secret")?,
        totp_enrolled: row.col("totp_enrolled")?,
        totp_last_step: row.col("totp_last_step")?,
        failed_attempts: row.col("failed_attempts")?,
        locked_until: row.col("locked_until")?,
        disabled: row.col("disabled")?,
        oidc_issuer: row.col("oidc_issuer")?,
        oidc_subject: row.col("oidc_subject")?,
        created_at: row.col("created_at")?,
    })
}

const TOKEN_COLS: &str =
    "id, subject_id, name, hash, project_id, role, mfa, created_at, expires_at, revoked_at, last_used_at, data_class, zone, parent_id";

fn token(row: &dyn Columns) -> Result<TokenRecord> {
    let id: String = row.col("id")?;
    let subject: String = row.col("subject_id")?;
    let project: Option<String> = row.col("project_id")?;
    let role: Option<String> = row.col("role")?;
    let parent: Option<String> = row.col("parent_id")?;
    Ok(TokenRecord {
        id: TokenId::parse(&id).map_err(|e| bad("token", e))?,
        subject: SubjectId::parse(&subject).map_err(|e| bad("token", e))?,
        name: row.col("name")?,
        hash: row.col("hash")?,
        project: project.map(|p| ProjectId::parse(&p)).transpose().map_err(|e| bad("token", e))?,
        role: role.map(|r| Role::from_str(&r)).transpose().map_err(|e| bad("token", e))?,
        mfa: row.col("mfa")?,
        created_at: row.col("created_at")?,
        expires_at: row.col("expires_at")?,
        revoked_at: row.col("revoked_at")?,
        last_used_at: row.col("last_used_at")?,
        data_class: row.col("data_class")?,
        zone: row.col("zone")?,
        parent: parent.map(|p| TokenId::parse(&p)).transpose().map_err(|e| bad("token", e))?,
    })
}

const PROJECT_COLS: &str = "id, name, description, cost_centre, created_at, created_by";

fn project(row: &dyn Columns) -> Result<ProjectRecord> {
    let id: String = row.col("id")?;
    let by: String = row.col("created_by")?;
    Ok(ProjectRecord {
        id: ProjectId::parse(&id).map_err(|e| bad("project", e))?,
        name: row.col("name")?,
        description: row.col("description")?,
        cost_centre: row.col("cost_centre")?,
        created_at: row.col("created_at")?,
        created_by: SubjectId::parse(&by).map_err(|e| bad("project", e))?,
    })
}

fn group(row: &dyn Columns) -> Result<GroupRecord> {
    let id: String = row.col("id")?;
    Ok(GroupRecord {
        id: GroupId::parse(&id).map_err(|e| bad("group", e))?,
        name: row.col("name")?,
        description: row.col("description")?,
        created_at: row.col("created_at")?,
    })
}

fn member_ref(s: &str) -> Result<MemberRef> {
    MemberRef::parse(s).ok_or_else(|| bad("membership", format!("member id `{s}`")))
}

fn role(s: &str) -> Result<Role> {
    Role::from_str(s).map_err(|e| bad("role", e))
}

fn membership(row: &dyn Columns) -> Result<MembershipRecord> {
    let project: String = row.col("project_id")?;
    let member: String = row.col("member_id")?;
    let r: String = row.col("role")?;
    let by: String = row.col("added_by")?;
    Ok(MembershipRecord {
        project: ProjectId::parse(&project).map_err(|e| bad("membership", e))?,
        member: member_ref(&member)?,
        role: role(&r)?,
        added_at: row.col("added_at")?,
        added_by: SubjectId::parse(&by).map_err(|e| bad("membership", e))?,
    })
}

fn grant(row: &dyn Columns) -> Result<RoleGrantRecord> {
    let member: String = row.col("member_id")?;
    let r: String = row.col("role")?;
    let by: Option<String> = row.col("granted_by")?;
    Ok(RoleGrantRecord {
        member: member_ref(&member)?,
        role: role(&r)?,
        granted_at: row.col("granted_at")?,
        granted_by: by.map(|b| SubjectId::parse(&b)).transpose().map_err(|e| bad("role grant", e))?,
    })
}

fn roles<R: Columns>(rows: Vec<R>) -> Result<BTreeSet<Role>> {
    rows.iter()
        .map(|r| {
            let s: String = r.col("role")?;
            role(&s)
        })
        .collect()
}

impl<E, DB> SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn insert_subject<'e>(ex: impl Into<On<'e, DB>>, s: &SubjectRecord) -> Result<()> {
        sqlx::query::<DB>(&format!(
            "INSERT INTO subjects ({SUBJECT_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15)"
        ))
        .arg(s.id.as_str())
        .arg(kind_str(s.kind))
        .arg(&s.name)
        .arg(&s.display_name)
        .arg(&s.email)
        .arg(&s.password_hash)
        .arg(&s.totp_secret)
        .arg(s.totp_enrolled)
        .arg(s.totp_last_step)
        .arg(s.failed_attempts)
        .arg(s.locked_until.map(|t| t.0))
        .arg(s.disabled)
        .arg(&s.oidc_issuer)
        .arg(&s.oidc_subject)
        .arg(s.created_at.0)
        .run(ex)
        .await
        .map_err(map_err(&format!("a user or service named `{}`", s.name)))?;
        Ok(())
    }

    async fn insert_token<'e>(ex: impl Into<On<'e, DB>>, t: &TokenRecord) -> Result<()> {
        sqlx::query::<DB>(&format!(
            "INSERT INTO tokens ({TOKEN_COLS}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)"
        ))
        .arg(t.id.as_str())
        .arg(t.subject.as_str())
        .arg(&t.name)
        .arg(&t.hash)
        .arg(t.project.as_ref().map(|p| p.as_str()))
        .arg(t.role.map(|r| r.as_str()))
        .arg(t.mfa)
        .arg(t.created_at.0)
        .arg(t.expires_at.map(|x| x.0))
        .arg(t.revoked_at.map(|x| x.0))
        .arg(t.last_used_at.map(|x| x.0))
        .arg(t.data_class.as_deref())
        .arg(t.zone.as_deref())
        .arg(t.parent.as_ref().map(|p| p.as_str()))
        .run(ex)
        .await
        .map_err(map_err("a token with this value"))?;
        Ok(())
    }

    async fn insert_grant(tx: &mut sqlx::Transaction<'_, DB>, g: &RoleGrantRecord) -> Result<()> {
        sqlx::query::<DB>("INSERT INTO role_grants (member_id, role, granted_at, granted_by) VALUES ($1,$2,$3,$4)")
            .arg(g.member.as_str())
            .arg(g.role.as_str())
            .arg(g.granted_at.0)
            .arg(g.granted_by.as_ref().map(|s| s.as_str()))
            .run(&mut **tx)
            .await
            .map_err(map_err(&format!("the grant of `{}` to `{}`", g.role, g.member.as_str())))?;
        let by = g.granted_by.as_ref().map(|s| s.as_str());
        Self::open_access(tx, crate::ORGANISATION_SCOPE, g.member.as_str(), g.role.as_str(), g.granted_at, by).await
    }

    /// Starts a stretch of access in its history.
    async fn open_access(
        tx: &mut sqlx::Transaction<'_, DB>,
        scope: &str,
        member: &str,
        role: &str,
        at: Timestamp,
        by: Option<&str>,
    ) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO access_history (scope, member_id, role, granted_at, granted_by) VALUES ($1,$2,$3,$4,$5)",
        )
        .arg(scope)
        .arg(member)
        .arg(role)
        .arg(at.0)
        .arg(by)
        .run(&mut **tx)
        .await
        .map_err(map_err("access history"))?;
        Ok(())
    }

    /// Ends the open stretch of access in its history.
    async fn close_access(
        tx: &mut sqlx::Transaction<'_, DB>,
        scope: &str,
        member: &str,
        role: &str,
        at: Timestamp,
        by: &SubjectId,
    ) -> Result<()> {
        sqlx::query::<DB>(
            "UPDATE access_history SET revoked_at = $1, revoked_by = $2 \
             WHERE scope = $3 AND member_id = $4 AND role = $5 AND revoked_at IS NULL",
        )
        .arg(at.0)
        .arg(by.as_str())
        .arg(scope)
        .arg(member)
        .arg(role)
        .run(&mut **tx)
        .await
        .map_err(map_err("access history"))?;
        Ok(())
    }

    async fn insert_membership(tx: &mut sqlx::Transaction<'_, DB>, m: &MembershipRecord) -> Result<()> {
        sqlx::query::<DB>(
            "INSERT INTO project_members (project_id, member_id, role, added_at, added_by) VALUES ($1,$2,$3,$4,$5)",
        )
        .arg(m.project.as_str())
        .arg(m.member.as_str())
        .arg(m.role.as_str())
        .arg(m.added_at.0)
        .arg(m.added_by.as_str())
        .run(&mut **tx)
        .await
        .map_err(map_err(&format!("the membership of `{}` as `{}`", m.member.as_str(), m.role)))?;
        let (scope, member, role) = (m.project.as_str(), m.member.as_str(), m.role.as_str());
        Self::open_access(tx, scope, member, role, m.added_at, Some(m.added_by.as_str())).await
    }
}

#[async_trait]
impl<E, DB> crate::IdentityStore for SqlStore<E>
where
    E: Engine<Db = DB>,
    DB: SqlDb,
{
    async fn count_subjects(&self) -> Result<i64> {
        let row =
            sqlx::query::<DB>("SELECT COUNT(*) AS n FROM subjects").one(&self.pool).await.map_err(map_err("count"))?;
        row.col("n")
    }

    async fn bootstrap(&self, admin: &SubjectRecord, grant: &RoleGrantRecord, token: &TokenRecord) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let row =
            sqlx::query::<DB>("SELECT COUNT(*) AS n FROM subjects").one(&mut *tx).await.map_err(map_err("count"))?;
        let n: i64 = row.col("n")?;
        if n > 0 {
            return Ok(false);
        }
        Self::insert_subject(&mut *tx, admin).await?;
        Self::insert_grant(&mut tx, grant).await?;
        Self::insert_token(&mut *tx, token).await?;
        tx.commit().await.map_err(map_err("bootstrap"))?;
        Ok(true)
    }

    async fn create_subject(&self, s: &SubjectRecord) -> Result<()> {
        Self::insert_subject(&self.pool, s).await
    }

    async fn get_subject(&self, id: &SubjectId) -> Result<Option<SubjectRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {SUBJECT_COLS} FROM subjects WHERE id = $1"),
            id.as_str(),
            subject,
            "subject",
        )
        .await
    }

    async fn get_subject_by_name(&self, name: &str) -> Result<Option<SubjectRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {SUBJECT_COLS} FROM subjects WHERE name = $1"),
            name,
            subject,
            "subject",
        )
        .await
    }

    async fn get_subject_by_oidc(&self, issuer: &str, sub: &str) -> Result<Option<SubjectRecord>> {
        sqlx::query::<DB>(&format!("SELECT {SUBJECT_COLS} FROM subjects WHERE oidc_issuer = $1 AND oidc_subject = $2"))
            .arg(issuer)
            .arg(sub)
            .maybe(&self.pool)
            .await
            .map_err(map_err("subject"))?
            .as_ref()
            .map(|r| subject(r))
            .transpose()
    }

    async fn list_subjects(&self, kind: Option<PrincipalKind>, page: &Page) -> Result<Vec<SubjectRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {SUBJECT_COLS} FROM subjects WHERE id > $1 AND (CAST($2 AS TEXT) IS NULL OR kind = $2) \
             ORDER BY id LIMIT $3"
        ))
        .arg(page.after_str())
        .arg(kind.map(kind_str))
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("subjects"))?;
        collect(rows, subject)
    }

    async fn set_disabled(&self, id: &SubjectId, disabled: bool) -> Result<bool> {
        let r = sqlx::query::<DB>("UPDATE subjects SET disabled = $2 WHERE id = $1")
            .arg(id.as_str())
            .arg(disabled)
            .run(&self.pool)
            .await
            .map_err(map_err("subject"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn set_totp_pending(&self, id: &SubjectId, secret: &str) -> Result<bool> {
        let r = sqlx::query::<DB>(
            "UPDATE subjects SET totp_secret = $2, totp_enrolled = $3, totp_last_step = NULL WHERE id = $1",
        )
        .arg(id.as_str())
        .arg(secret)
        .arg(false)
        .run(&self.pool)
        .await
        .map_err(map_err("subject"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn totp_secrets_in_clear(&self) -> Result<Vec<(SubjectId, String)>> {
        let rows = sqlx::query::<DB>(
            "SELECT id, totp_secret FROM subjects WHERE totp_secret IS NOT NULL AND totp_secret NOT LIKE 'sealed:%' ORDER BY id",
        )
        .all(&self.pool)
        .await
        .map_err(map_err("subjects"))?;
        rows.iter()
            .map(|r| {
                let id: String = r.col("id")?;
                let secret: String = r.col("totp_secret")?;
                Ok((SubjectId::parse(&id).map_err(|e| bad("subject", e))?, secret))
            })
            .collect()
    }

    async fn replace_totp_secret(&self, id: &SubjectId, old: &str, new: &str) -> Result<bool> {
        let r = sqlx::query::<DB>("UPDATE subjects SET totp_secret = $3 WHERE id = $1 AND totp_secret = $2")
            .arg(id.as_str())
            .arg(old)
            .arg(new)
            .run(&self.pool)
            .await
            .map_err(map_err("subject"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn confirm_totp(&self, id: &SubjectId, step: i64) -> Result<bool> {
        let r = sqlx::query::<DB>(
            "UPDATE subjects SET totp_enrolled = $2, totp_last_step = $3 \
             WHERE id = $1 AND totp_secret IS NOT NULL",
        )
        .arg(id.as_str())
        .arg(true)
        .arg(step)
        .run(&self.pool)
        .await
        .map_err(map_err("subject"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn use_totp_step(&self, id: &SubjectId, step: i64) -> Result<bool> {
        let r = sqlx::query::<DB>(
            "UPDATE subjects SET totp_last_step = $2 \
             WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)",
        )
        .arg(id.as_str())
        .arg(step)
        .run(&self.pool)
        .await
        .map_err(map_err("subject"))?;
        Ok(E::rows_affected(&r) == 1)
    }

    async fn record_failure(&self, id: &SubjectId, max_attempts: i64, lock_until: Timestamp) -> Result<i64> {
        let row = sqlx::query::<DB>(
            "UPDATE subjects SET failed_attempts = failed_attempts + 1, \
             locked_until = CASE WHEN failed_attempts + 1 >= $2 THEN $3 ELSE locked_until END \
             WHERE id = $1 RETURNING failed_attempts",
        )
        .arg(id.as_str())
        .arg(max_attempts)
        .arg(lock_until.0)
        .maybe(&self.pool)
        .await
        .map_err(map_err("subject"))?;
        match row {
            Some(r) => r.col("failed_attempts"),
            None => Ok(0),
        }
    }

    async fn reset_failures(&self, id: &SubjectId) -> Result<()> {
        sqlx::query::<DB>(
            "UPDATE subjects SET failed_attempts = 0, locked_until = NULL \
             WHERE id = $1 AND (failed_attempts <> 0 OR locked_until IS NOT NULL)",
        )
        .arg(id.as_str())
        .run(&self.pool)
        .await
        .map_err(map_err("subject"))?;
        Ok(())
    }

    async fn create_token(&self, t: &TokenRecord) -> Result<()> {
        Self::insert_token(&self.pool, t).await
    }

    async fn get_token(&self, id: &TokenId) -> Result<Option<TokenRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {TOKEN_COLS} FROM tokens WHERE id = $1"),
            id.as_str(),
            token,
            "token",
        )
        .await
    }

    async fn find_token_by_hash(&self, hash: &str) -> Result<Option<TokenRecord>> {
        Self::optional(&self.pool, &format!("SELECT {TOKEN_COLS} FROM tokens WHERE hash = $1"), hash, token, "token")
            .await
    }

    async fn list_tokens(&self, subject_id: &SubjectId, page: &Page) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE subject_id = $1 AND id > $2 ORDER BY id LIMIT $3"
        ))
        .arg(subject_id.as_str())
        .arg(page.after_str())
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("tokens"))?;
        collect(rows, token)
    }

    async fn revoke_token(&self, id: &TokenId, at: Timestamp) -> Result<u64> {
        // The token and every token minted from it, transitively, in one statement.
        let r = sqlx::query::<DB>(
            "WITH RECURSIVE minted(id) AS (SELECT id FROM tokens WHERE id = $1 \
             UNION SELECT t.id FROM tokens t JOIN minted m ON t.parent_id = m.id) \
             UPDATE tokens SET revoked_at = $2 WHERE id IN (SELECT id FROM minted) AND revoked_at IS NULL",
        )
        .arg(id.as_str())
        .arg(at.0)
        .run(&self.pool)
        .await
        .map_err(map_err("token"))?;
        Ok(E::rows_affected(&r))
    }

    async fn touch_token(&self, id: &TokenId, at: Timestamp) -> Result<()> {
        sqlx::query::<DB>("UPDATE tokens SET last_used_at = $2 WHERE id = $1")
            .arg(id.as_str())
            .arg(at.0)
            .run(&self.pool)
            .await
            .map_err(map_err("token"))?;
        Ok(())
    }

    async fn create_project(&self, p: &ProjectRecord, members: &[MembershipRecord]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query::<DB>(&format!("INSERT INTO projects ({PROJECT_COLS}) VALUES ($1,$2,$3,$4,$5,$6)"))
            .arg(p.id.as_str())
            .arg(&p.name)
            .arg(&p.description)
            .arg(&p.cost_centre)
            .arg(p.created_at.0)
            .arg(p.created_by.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err(&format!("a project named `{}`", p.name)))?;
        for m in members {
            Self::insert_membership(&mut tx, m).await?;
        }
        tx.commit().await.map_err(map_err("project"))?;
        Ok(())
    }

    async fn get_project(&self, id: &ProjectId) -> Result<Option<ProjectRecord>> {
        Self::optional(
            &self.pool,
            &format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1"),
            id.as_str(),
            project,
            "project",
        )
        .await
    }

    async fn list_projects(&self, page: &Page) -> Result<Vec<ProjectRecord>> {
        let rows =
            sqlx::query::<DB>(&format!("SELECT {PROJECT_COLS} FROM projects WHERE id > $1 ORDER BY id LIMIT $2"))
                .arg(page.after_str())
                .arg(page.limit_i64())
                .all(&self.pool)
                .await
                .map_err(map_err("projects"))?;
        collect(rows, project)
    }

    async fn list_projects_of(&self, s: &SubjectId, page: &Page) -> Result<Vec<ProjectRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {PROJECT_COLS} FROM projects p WHERE p.id > $2 AND EXISTS ( \
               SELECT 1 FROM project_members m WHERE m.project_id = p.id AND (m.member_id = $1 \
               OR m.member_id IN (SELECT group_id FROM group_members WHERE subject_id = $1))) \
             ORDER BY p.id LIMIT $3"
        ))
        .arg(s.as_str())
        .arg(page.after_str())
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("projects"))?;
        collect(rows, project)
    }

    async fn add_member(&self, m: &MembershipRecord) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::insert_membership(&mut tx, m).await?;
        tx.commit().await.map_err(map_err("membership"))
    }

    async fn remove_member(
        &self,
        p: &ProjectId,
        member: &MemberRef,
        r: Role,
        at: Timestamp,
        by: &SubjectId,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let res =
            sqlx::query::<DB>("DELETE FROM project_members WHERE project_id = $1 AND member_id = $2 AND role = $3")
                .arg(p.as_str())
                .arg(member.as_str())
                .arg(r.as_str())
                .run(&mut *tx)
                .await
                .map_err(map_err("membership"))?;
        if E::rows_affected(&res) != 1 {
            return Ok(false);
        }
        Self::close_access(&mut tx, p.as_str(), member.as_str(), r.as_str(), at, by).await?;
        tx.commit().await.map_err(map_err("membership"))?;
        Ok(true)
    }

    async fn list_members(&self, p: &ProjectId) -> Result<Vec<MembershipRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT project_id, member_id, role, added_at, added_by FROM project_members \
             WHERE project_id = $1 ORDER BY member_id, role",
        )
        .arg(p.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("members"))?;
        collect(rows, membership)
    }

    async fn project_roles(&self, p: &ProjectId, s: &SubjectId) -> Result<BTreeSet<Role>> {
        let rows = sqlx::query::<DB>(
            "SELECT role FROM project_members WHERE project_id = $1 AND (member_id = $2 \
             OR member_id IN (SELECT group_id FROM group_members WHERE subject_id = $2))",
        )
        .arg(p.as_str())
        .arg(s.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("members"))?;
        roles(rows)
    }

    async fn create_group(&self, g: &GroupRecord) -> Result<()> {
        sqlx::query::<DB>("INSERT INTO subject_groups (id, name, description, created_at) VALUES ($1,$2,$3,$4)")
            .arg(g.id.as_str())
            .arg(&g.name)
            .arg(&g.description)
            .arg(g.created_at.0)
            .run(&self.pool)
            .await
            .map_err(map_err(&format!("a group named `{}`", g.name)))?;
        Ok(())
    }

    async fn get_group(&self, id: &GroupId) -> Result<Option<GroupRecord>> {
        Self::optional(
            &self.pool,
            "SELECT id, name, description, created_at FROM subject_groups WHERE id = $1",
            id.as_str(),
            group,
            "group",
        )
        .await
    }

    async fn get_group_by_name(&self, name: &str) -> Result<Option<GroupRecord>> {
        Self::optional(
            &self.pool,
            "SELECT id, name, description, created_at FROM subject_groups WHERE name = $1",
            name,
            group,
            "group",
        )
        .await
    }

    async fn list_groups(&self, page: &Page) -> Result<Vec<GroupRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT id, name, description, created_at FROM subject_groups WHERE id > $1 \
             ORDER BY id LIMIT $2",
        )
        .arg(page.after_str())
        .arg(page.limit_i64())
        .all(&self.pool)
        .await
        .map_err(map_err("groups"))?;
        collect(rows, group)
    }

    async fn add_group_member(&self, g: &GroupId, s: &SubjectId, at: Timestamp, by: &SubjectId) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query::<DB>("INSERT INTO group_members (group_id, subject_id, added_at) VALUES ($1,$2,$3)")
            .arg(g.as_str())
            .arg(s.as_str())
            .arg(at.0)
            .run(&mut *tx)
            .await
            .map_err(map_err(&format!("membership of `{s}` in `{g}`")))?;
        Self::open_access(&mut tx, g.as_str(), s.as_str(), "member", at, Some(by.as_str())).await?;
        tx.commit().await.map_err(map_err("group membership"))
    }

    async fn remove_group_member(&self, g: &GroupId, s: &SubjectId, at: Timestamp, by: &SubjectId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let r = sqlx::query::<DB>("DELETE FROM group_members WHERE group_id = $1 AND subject_id = $2")
            .arg(g.as_str())
            .arg(s.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("group membership"))?;
        if E::rows_affected(&r) != 1 {
            return Ok(false);
        }
        Self::close_access(&mut tx, g.as_str(), s.as_str(), "member", at, by).await?;
        tx.commit().await.map_err(map_err("group membership"))?;
        Ok(true)
    }

    async fn list_group_members(&self, g: &GroupId) -> Result<Vec<SubjectId>> {
        let rows = sqlx::query::<DB>("SELECT subject_id FROM group_members WHERE group_id = $1 ORDER BY subject_id")
            .arg(g.as_str())
            .all(&self.pool)
            .await
            .map_err(map_err("group members"))?;
        rows.iter()
            .map(|r| {
                let s: String = r.col("subject_id")?;
                SubjectId::parse(&s).map_err(|e| bad("group member", e))
            })
            .collect()
    }

    async fn grant_role(&self, g: &RoleGrantRecord) -> Result<()> {
        let mut tx = self.begin_write().await?;
        Self::insert_grant(&mut tx, g).await?;
        tx.commit().await.map_err(map_err("role grant"))
    }

    async fn revoke_role(&self, member: &MemberRef, r: Role, at: Timestamp, by: &SubjectId) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let res = sqlx::query::<DB>("DELETE FROM role_grants WHERE member_id = $1 AND role = $2")
            .arg(member.as_str())
            .arg(r.as_str())
            .run(&mut *tx)
            .await
            .map_err(map_err("role grant"))?;
        if E::rows_affected(&res) != 1 {
            return Ok(false);
        }
        Self::close_access(&mut tx, crate::ORGANISATION_SCOPE, member.as_str(), r.as_str(), at, by).await?;
        tx.commit().await.map_err(map_err("role grant"))?;
        Ok(true)
    }

    async fn access_as_of(&self, scope: &str, at: Timestamp) -> Result<Vec<AccessRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT scope, member_id, role, granted_at, granted_by, revoked_at, revoked_by FROM access_history \
             WHERE scope = $1 AND granted_at <= $2 AND (revoked_at IS NULL OR revoked_at > $2) \
             ORDER BY member_id, role, granted_at",
        )
        .arg(scope)
        .arg(at.0)
        .all(&self.pool)
        .await
        .map_err(map_err("access history"))?;
        collect(rows, |r| {
            Ok(AccessRecord {
                scope: r.col("scope")?,
                member: r.col("member_id")?,
                role: r.col("role")?,
                granted_at: Timestamp(r.col("granted_at")?),
                granted_by: r.col("granted_by")?,
                revoked_at: r.col::<Option<i64>>("revoked_at")?.map(Timestamp),
                revoked_by: r.col("revoked_by")?,
            })
        })
    }

    async fn tokens_live_at(&self, subject: &SubjectId, at: Timestamp) -> Result<Vec<TokenRecord>> {
        let rows = sqlx::query::<DB>(&format!(
            "SELECT {TOKEN_COLS} FROM tokens WHERE subject_id = $1 AND created_at <= $2 \
             AND (revoked_at IS NULL OR revoked_at > $2) AND (expires_at IS NULL OR expires_at > $2) \
             ORDER BY id LIMIT 1000"
        ))
        .arg(subject.as_str())
        .arg(at.0)
        .all(&self.pool)
        .await
        .map_err(map_err("tokens"))?;
        collect(rows, token)
    }

    async fn org_roles(&self, s: &SubjectId) -> Result<BTreeSet<Role>> {
        let rows = sqlx::query::<DB>(
            "SELECT role FROM role_grants WHERE member_id = $1 \
             OR member_id IN (SELECT group_id FROM group_members WHERE subject_id = $1)",
        )
        .arg(s.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("role grants"))?;
        roles(rows)
    }

    async fn list_role_grants(&self, member: &MemberRef) -> Result<Vec<RoleGrantRecord>> {
        let rows = sqlx::query::<DB>(
            "SELECT member_id, role, granted_at, granted_by FROM role_grants WHERE member_id = $1 ORDER BY role",
        )
        .arg(member.as_str())
        .all(&self.pool)
        .await
        .map_err(map_err("role grants"))?;
        collect(rows, grant)
    }
}
